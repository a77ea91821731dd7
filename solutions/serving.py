"""Module 03, model serving: answer predictions over HTTP, safely, and in batch.

You build the course's own prediction API for a registered model, one piece per exercise:

* 3.1 check a request's rows against the model's signature (the contract of its inputs);
* 3.2 the FastAPI app: ``/health``, ``/model/info``, ``/predict``, ``/predict/batch``;
* 3.3 MLflow's scoring protocol (``/invocations``), so clients of ``mlflow models serve`` work;
* 3.4 hot reload: follow the alias when it moves to another version, without a restart;
* 3.5 batch prediction of a CSV file in chunks, whatever its size.

Loading a model is done for you by :func:`mlops_course.serving_tools.load_served_model`: it
returns a :class:`~mlops_course.serving_tools.ServedModel` with the loaded ``pyfunc`` model,
its ``raw`` scikit-learn estimator, ``name``, ``version``, ``alias``, ``columns`` and ``types``
(from the signature), ``classes`` (None for a regressor) and ``info()`` (for ``/model/info``).

Every bad request must get a 4xx answer with a message naming the problem, never a 500:
raise :class:`InvalidInput` (from :mod:`mlops_course.serving_tools`) with the right status code; :func:`create_app` turns it
into a JSON answer ``{"detail": "<message>"}``.

Check one exercise with ``mlops_course.check("3.1")`` in a notebook or
``mlops-course grade 3.1`` in a terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from mlflow import MlflowClient

from mlops_course.serving_tools import (
    DTYPES,
    InvalidInput,
    ServedModel,
    load_served_model,
    model_predict,
    predict_frame,
    read_json,
)

SCORING_FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")


def validate_rows(
    rows, columns: list[str], types: list[str], *, batch_limit: int = 1000
) -> pd.DataFrame:
    """Exercise 3.1: Validate request rows against the model's signature.

    ``rows`` is what a client sent: a list of rows, each row either a list of values in the
    order of ``columns`` or a dict ``{column: value}``. Check, in this order, and raise
    ``InvalidInput(message, status_code)`` at the first problem:

    * ``rows`` is not a list -> 422, message containing ``"list of rows"``;
    * the list is empty -> 422, message containing ``"empty"``;
    * more rows than ``batch_limit`` -> 413, message containing the number of rows sent and the
      limit (e.g. ``"batch of 1001 rows is over the limit of 1000"``);
    * for each row ``i`` (0-based), a list with the wrong number of values -> 422, message with
      the count sent and the count expected; a dict with missing names or unknown names -> 422,
      message naming every missing and every unknown column; anything else -> 422;
    * for each value, by its column's type (``types[j]`` is ``"double"``, ``"float"``,
      ``"long"``, ``"integer"``, ``"boolean"`` or ``"string"``): numeric columns take ``int`` or
      ``float`` values but never ``bool``, ``None``, NaN or infinity; ``"long"``/``"integer"``
      columns take only whole numbers; ``"boolean"`` takes ``bool``; ``"string"`` takes
      ``str``. A bad value -> 422, message naming the column (``repr`` of its name, e.g.
      ``'petal_width'``) and the row number.

    Args:
        rows: the rows as decoded from JSON.
        columns: the model's input column names (``ServedModel.columns``).
        types: their MLflow types, same order (``ServedModel.types``).
        batch_limit: the largest number of rows accepted in one request.

    Returns:
        A DataFrame with exactly ``columns`` (in that order), one row per input row, each
        column of the pandas dtype ``mlops_course.serving_tools.DTYPES[type]`` (``"string"``
        columns may be ``object`` or pandas' ``str`` dtype).

    Raises:
        InvalidInput: at the first problem found, as described above.
    """

    # BEGIN SOLUTION
    def column_ok(kind: str, cells: list) -> bool:
        """True when every value of a column fits MLflow type ``kind`` (fast, vectorised)."""
        if kind in ("double", "float", "long", "integer"):
            # type() rather than isinstance(): bool is a subclass of int, and must be refused.
            if not all(type(v) is float or type(v) is int for v in cells):
                return False
            try:
                numbers = np.asarray(cells, dtype="float64")
            except OverflowError:  # an integer too large for any float
                return False
            if not np.isfinite(numbers).all():
                return False
            if kind in ("double", "float"):
                return True
            return bool((numbers == np.floor(numbers)).all() and (np.abs(numbers) < 2**62).all())
        if kind == "boolean":
            return all(type(v) is bool for v in cells)
        if kind == "string":
            return all(type(v) is str for v in cells)
        return True

    def value_problem(kind: str, value) -> str | None:
        """Why ``value`` does not fit a column of MLflow type ``kind``, or None when it does."""
        if kind in ("double", "float", "long", "integer"):
            if value is None:
                return "missing value (null) is not allowed"
            if isinstance(value, bool) or not isinstance(value, int | float):
                return f"expected a number, got {type(value).__name__} {value!r}"
            if isinstance(value, float) and not math.isfinite(value):
                return f"{value} is not allowed"
            if abs(value) >= (2**62 if kind in ("long", "integer") else 1e308):
                return f"{repr(value)[:30]} is out of range"
            if kind in ("long", "integer") and not float(value).is_integer():
                return f"expected a whole number, got {value!r}"
            return None
        if kind == "boolean":
            return None if isinstance(value, bool) else f"expected true or false, got {value!r}"
        if kind == "string":
            return None if isinstance(value, str) else f"expected a string, got {value!r}"
        return None

    if not isinstance(rows, list):
        raise InvalidInput(f"expected a list of rows, got {type(rows).__name__}")
    if not rows:
        raise InvalidInput("empty batch: send at least one row")
    if len(rows) > batch_limit:
        raise InvalidInput(
            f"batch of {len(rows)} rows is over the limit of {batch_limit}", status_code=413
        )
    expected = ", ".join(columns)
    values: list[list] = []
    for i, row in enumerate(rows):
        if isinstance(row, dict):
            missing = [c for c in columns if c not in row]
            unknown = [k for k in row if k not in columns]
            if missing or unknown:
                parts = []
                if missing:
                    parts.append(f"missing {', '.join(map(repr, missing))}")
                if unknown:
                    parts.append(f"unknown {', '.join(map(repr, map(str, unknown)))}")
                raise InvalidInput(f"row {i}: {'; '.join(parts)} (expected: {expected})")
            row = [row[c] for c in columns]
        elif isinstance(row, list):
            if len(row) != len(columns):
                raise InvalidInput(
                    f"row {i} has {len(row)} values, the model expects {len(columns)} ({expected})"
                )
        else:
            raise InvalidInput(
                f"row {i} is a {type(row).__name__}: send a list of values or an object "
                f"with the columns {expected}"
            )
        values.append(row)
    # Column by column: one fast check of the whole column, the detailed one only on failure.
    data = {}
    for j, (column, kind) in enumerate(zip(columns, types, strict=True)):
        cells = [row[j] for row in values]
        if not column_ok(kind, cells):
            i, problem = next(
                ((i, p) for i, v in enumerate(cells) if (p := value_problem(kind, v))),
                (0, f"values do not fit the type {kind}"),
            )
            raise InvalidInput(f"row {i}, column {column!r}: {problem}")
        data[column] = np.asarray(cells, dtype=DTYPES.get(kind, "object"))
    return pd.DataFrame(data, columns=columns)
    # END SOLUTION


def create_app(
    model_uri: str,
    *,
    tracking_uri: str | None = None,
    batch_limit: int = 1000,
    max_body_bytes: int = 1_000_000,
    poll_seconds: float | None = None,
) -> FastAPI:
    """Exercise 3.2: Build the prediction API.

    Load the model once with ``load_served_model(model_uri, tracking_uri=tracking_uri)`` and
    keep it in ``app.state.served`` (exercise 3.4 swaps it there). Register an exception handler
    so that ``InvalidInput`` becomes ``JSONResponse({"detail": exc.message},
    status_code=exc.status_code)``. Then add these routes, each reading ``app.state.served``
    once per request:

    * ``GET /health`` -> ``{"status": "ok", "model_loaded": True, "model_version": <version>}``;
    * ``GET /model/info`` -> ``served.info()``;
    * ``POST /predict``: the body (read it with ``await read_json(request, max_body_bytes)``,
      which raises the 400/413/415 errors for you) is ``{"features": [v1, v2, ...]}`` or
      ``{"features": {"name": v, ...}}`` or directly ``{"name": v, ...}``: ONE row. Validate
      it with ``validate_rows([row], served.columns, served.types, batch_limit=batch_limit)``,
      predict with ``predict_frame(served, frame)`` and answer ``{"prediction": <the one
      prediction>, "probabilities": <its dict, or None>, "model_version": ...,
      "model_name": ...}``. A body that is not a JSON object -> ``InvalidInput`` 422;
    * ``POST /predict/batch``: the body is ``{"instances": [row, row, ...]}`` (rows as lists or
      dicts); answer ``predict_frame(served, frame)`` as is. A body without ``"instances"``
      -> ``InvalidInput`` 422 naming the key ``instances``;
    * ``GET /ping`` -> status 200, and ``POST /invocations`` -> the body read with
      ``read_json``, turned into a frame by :func:`parse_scoring_payload` (exercise 3.3), and
      the answer ``{"predictions": model_predict(served, frame)}`` (MLflow's own format,
      nothing else);
    * ``POST /reload`` -> calls :func:`reload_if_moved` (exercise 3.4); when it returns a new
      ``ServedModel``, put it in ``app.state.served``; answer ``{"reloaded": <bool>,
      "model_version": <the version now served>}``.

    When ``poll_seconds`` is set, also check for a moved alias every ``poll_seconds`` seconds in
    the background while the app runs (an ``asyncio`` task started by the app's ``lifespan``,
    calling ``reload_if_moved`` through ``asyncio.to_thread``; a failed check is skipped, the
    next one retries).

    Args:
        model_uri: ``models:/name@alias``, ``models:/name/<version>`` or ``runs:/<id>/model``.
        tracking_uri: the tracking server, or None to keep the current one.
        batch_limit: the most rows accepted in one request (413 beyond).
        max_body_bytes: the largest request body accepted (413 beyond).
        poll_seconds: how often to look for a moved alias, or None for no polling.

    Returns:
        The FastAPI application (serve it with uvicorn, test it with ``TestClient``).
    """

    # BEGIN SOLUTION
    async def poll(app: FastAPI) -> None:
        while True:
            await asyncio.sleep(poll_seconds)
            try:
                new = await asyncio.to_thread(
                    reload_if_moved, app.state.served, tracking_uri=tracking_uri
                )
            except Exception:  # the registry may be briefly unreachable: try next time
                continue
            if new is not None:
                app.state.served = new

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        task = asyncio.create_task(poll(app)) if poll_seconds else None
        yield
        if task:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(title="mlops-course prediction API", lifespan=lifespan)
    app.state.served = load_served_model(model_uri, tracking_uri=tracking_uri)

    @app.exception_handler(InvalidInput)
    async def invalid_input(request: Request, exc: InvalidInput) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.status_code)

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "model_loaded": True, "model_version": app.state.served.version}

    @app.get("/model/info")
    def model_info() -> dict:
        return app.state.served.info()

    @app.post("/predict")
    async def predict(request: Request) -> dict:
        served = app.state.served
        body = await read_json(request, max_body_bytes)
        if not isinstance(body, dict):
            raise InvalidInput('send a JSON object: {"features": [...]} or {"name": value, ...}')
        row = body["features"] if set(body) == {"features"} else body
        frame = validate_rows([row], served.columns, served.types, batch_limit=batch_limit)
        out = predict_frame(served, frame)
        return {
            "prediction": out["predictions"][0],
            "probabilities": out["probabilities"][0] if out["probabilities"] else None,
            "model_version": out["model_version"],
            "model_name": out["model_name"],
        }

    @app.post("/predict/batch")
    async def predict_batch(request: Request) -> dict:
        served = app.state.served
        body = await read_json(request, max_body_bytes)
        if not isinstance(body, dict) or "instances" not in body:
            raise InvalidInput('send a JSON object {"instances": [row, row, ...]}')
        frame = validate_rows(
            body["instances"], served.columns, served.types, batch_limit=batch_limit
        )
        return predict_frame(served, frame)

    @app.get("/ping")
    def ping() -> dict:
        return {"status": "ok"}

    @app.post("/invocations")
    async def invocations(request: Request) -> dict:
        served = app.state.served
        body = await read_json(request, max_body_bytes)
        frame = parse_scoring_payload(body, served.columns, served.types, batch_limit=batch_limit)
        return {"predictions": model_predict(served, frame)}

    @app.post("/reload")
    def reload() -> dict:
        new = reload_if_moved(app.state.served, tracking_uri=tracking_uri)
        if new is not None:
            app.state.served = new
        return {"reloaded": new is not None, "model_version": app.state.served.version}

    return app
    # END SOLUTION


def parse_scoring_payload(
    body, columns: list[str], types: list[str], *, batch_limit: int = 1000
) -> pd.DataFrame:
    """Exercise 3.3: Read MLflow's scoring protocol.

    ``mlflow models serve`` accepts a JSON object with exactly ONE of these keys; support all
    four, so that the same payload gives the same predictions from both servers:

    * ``{"dataframe_split": {"columns": [...], "data": [[...], ...]}}`` (both keys required, as
      in MLflow: the columns may come in any order, names decide);
    * ``{"dataframe_records": [{"col": v, ...}, ...]}``;
    * ``{"instances": [...]}`` and ``{"inputs": [...]}``: a list of records ``[{"col": v, ...},
      ...]``, or a dict of columns ``{"col": [v, v, ...], ...}``. Rows as bare lists (no names)
      are refused with 400, as MLflow does for a model whose signature names its columns.

    Turn the payload into a list of dict rows and return
    ``validate_rows(rows, columns, types, batch_limit=batch_limit)``.

    Args:
        body: the decoded JSON body.
        columns: the model's input column names.
        types: their MLflow types.
        batch_limit: the most rows accepted.

    Returns:
        The validated DataFrame to pass to the model.

    Raises:
        InvalidInput: 400 when ``body`` is not an object with exactly one of the four keys
            (the message lists the four), or when the content under the key has the wrong
            shape (e.g. ``dataframe_split`` without ``columns`` or ``data``); otherwise whatever
            ``validate_rows`` raises.
    """
    # BEGIN SOLUTION
    keys = [k for k in SCORING_FORMATS if isinstance(body, dict) and k in body]
    if len(keys) != 1:
        raise InvalidInput(
            f"send a JSON object with exactly one of the keys {', '.join(SCORING_FORMATS)}",
            status_code=400,
        )
    fmt, content = keys[0], body[keys[0]]
    if fmt == "dataframe_split":
        if (
            not isinstance(content, dict)
            or not isinstance(content.get("data"), list)
            or not isinstance(content.get("columns"), list)
        ):
            raise InvalidInput(
                'dataframe_split needs {"columns": [...], "data": [[...], ...]}', status_code=400
            )
        names = content["columns"]
        if not all(isinstance(r, list) and len(r) == len(names) for r in content["data"]):
            raise InvalidInput(f"dataframe_split: every row of data needs {len(names)} values", 400)
        if names == columns:  # the usual case: already in the signature's order
            rows = content["data"]
        else:
            rows = [dict(zip(map(str, names), r, strict=True)) for r in content["data"]]
    elif fmt == "dataframe_records":
        rows = content
    elif isinstance(content, dict):  # columnar instances/inputs
        lengths = {len(v) if isinstance(v, list) else -1 for v in content.values()}
        if len(lengths) != 1 or -1 in lengths:
            raise InvalidInput(f"{fmt} as columns needs lists of the same length", 400)
        n = lengths.pop()
        rows = [{name: values[i] for name, values in content.items()} for i in range(n)]
    elif isinstance(content, list) and any(not isinstance(r, dict) for r in content):
        raise InvalidInput(
            f"{fmt}: send records [{{column: value, ...}}, ...] or columns {{column: [...]}}: "
            f"the model needs the names {', '.join(columns)}",
            status_code=400,
        )
    else:
        rows = content
    return validate_rows(rows, columns, types, batch_limit=batch_limit)
    # END SOLUTION


def reload_if_moved(served: ServedModel, *, tracking_uri: str | None = None) -> ServedModel | None:
    """Exercise 3.4: Follow the alias when it moves.

    A server started on ``models:/<name>@<alias>`` keeps the version it loaded; when someone
    moves the alias (``set_registered_model_alias``), it should serve the new version without
    a restart. Ask the registry which version the alias points to NOW
    (``MlflowClient(tracking_uri).get_model_version_by_alias(served.name, served.alias)``);
    if that is ``served.version``, return None (nothing to do, nothing loaded); else load it with
    ``load_served_model(served.model_uri, tracking_uri=tracking_uri)`` and return the new
    ``ServedModel``. A model served by version or run (``served.alias`` is None) never moves:
    return None without asking the registry.

    Args:
        served: the model served now.
        tracking_uri: the tracking server, or None to keep the current one.

    Returns:
        The newly loaded model, or None when the alias has not moved.
    """
    # BEGIN SOLUTION
    if not served.alias or not served.name:
        return None
    client = MlflowClient(tracking_uri) if tracking_uri else MlflowClient()
    current = client.get_model_version_by_alias(served.name, served.alias)
    if str(current.version) == str(served.version):
        return None
    return load_served_model(served.model_uri, tracking_uri=tracking_uri)
    # END SOLUTION


def predict_csv(
    model_uri: str,
    input_path: str | Path,
    output_path: str | Path,
    *,
    chunk_size: int = 10_000,
    tracking_uri: str | None = None,
    chunks=None,
) -> dict:
    """Exercise 3.5: Predict a CSV file in chunks.

    Load the model once (``load_served_model``), then read ``input_path`` ``chunk_size`` rows
    at a time (``pd.read_csv(input_path, chunksize=chunk_size)``, or iterate ``chunks`` when it
    is given: an iterable of DataFrames such as the CLI's progress-bar reader). Never hold the
    whole file in memory. For each chunk: predict on the signature's columns
    (``chunk[served.columns]``, extra columns are kept in the output but not given to the model),
    and append to ``output_path`` the chunk's columns plus:

    * ``prediction``: the model's prediction;
    * ``predicted_at``: ONE timestamp for the whole job (UTC, ISO 8601, taken before the first
      chunk), the same on every row;
    * ``model_version``: ``served.version``.

    Write the header once (first chunk), no index. An input with no rows gives an output with
    the header only.

    Args:
        model_uri: the model to use (``models:/name@alias`` …).
        input_path: the CSV to read; it must hold the signature's columns.
        output_path: the CSV to write (replaced if it exists).
        chunk_size: rows per chunk.
        tracking_uri: the tracking server, or None to keep the current one.
        chunks: optional iterable of DataFrames to use instead of reading ``input_path``.

    Returns:
        ``{"rows": <rows written>, "model_version": ..., "distribution": {<prediction as str>:
        <count>, ...}, "seconds": <duration>}``.

    Raises:
        InvalidInput: 422 naming the missing columns when the file lacks some of them.
    """
    # BEGIN SOLUTION
    start = time.perf_counter()
    served = load_served_model(model_uri, tracking_uri=tracking_uri)
    predicted_at = datetime.now(UTC).isoformat(timespec="seconds")
    if chunks is None:
        chunks = pd.read_csv(input_path, chunksize=chunk_size)
    rows, counts, header = 0, {}, True
    Path(output_path).unlink(missing_ok=True)
    for chunk in chunks:
        if chunk.empty:
            continue
        missing = [c for c in served.columns if c not in chunk.columns]
        if missing:
            raise InvalidInput(f"{input_path} lacks the columns {', '.join(map(repr, missing))}")
        features = chunk[served.columns].astype(
            {c: DTYPES.get(t, "object") for c, t in zip(served.columns, served.types, strict=True)}
        )
        predictions = np.asarray(served.pyfunc.predict(features))
        out = chunk.assign(
            prediction=predictions, predicted_at=predicted_at, model_version=served.version
        )
        out.to_csv(output_path, mode="w" if header else "a", header=header, index=False)
        header = False
        rows += len(out)
        labels, n = np.unique(predictions.astype(str), return_counts=True)
        for label, count in zip(labels.tolist(), n.tolist(), strict=True):
            counts[label] = counts.get(label, 0) + count
    if header:  # no rows at all: write the header only
        columns = [*served.columns, "prediction", "predicted_at", "model_version"]
        pd.DataFrame(columns=columns).to_csv(output_path, index=False)
    return {
        "rows": rows,
        "model_version": served.version,
        "distribution": counts,
        "seconds": time.perf_counter() - start,
    }
    # END SOLUTION
