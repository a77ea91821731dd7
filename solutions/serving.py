"""Module 03, model serving: answer predictions over HTTP, safely, and in batch.

You build the course's own prediction API for a registered model, one piece per exercise:

* 3.1 check a request's rows against the model's signature (the contract of its inputs);
* 3.2 the FastAPI app: ``/health``, ``/model/info``, ``/predict``, ``/predict/batch``;
* 3.3 MLflow's scoring protocol (``/invocations``), so clients of ``mlflow models serve`` work;
* 3.4 hot reload: follow the alias when it moves to another version, without a restart;
* 3.5 batch prediction of a CSV file in chunks, whatever its size;
* 3.6 (open) champion and challenger served side by side, a header choosing which answers.

Provided for you in :mod:`mlops_course.serving_tools` (notebook 03 shows each one):

* :func:`~mlops_course.serving_tools.load_served_model` loads a model once and returns a
  :class:`~mlops_course.serving_tools.ServedModel`: the loaded ``pyfunc`` model, its ``raw``
  scikit-learn estimator, ``name``, ``version``, ``alias``, ``columns`` and ``types`` (from the
  signature), ``classes`` (None for a regressor) and ``info()`` (for ``/model/info``);
* :class:`~mlops_course.serving_tools.InvalidInput` ``(message, status_code)``: a request the
  model cannot answer, and the 4xx status it deserves;
* ``read_json(request, max_body_bytes)`` reads a request's JSON body, refusing a wrong content
  type (415), a body too large (413) and malformed JSON (400) with ``InvalidInput``;
* ``model_predict(served, frame)`` (predictions as a list) and ``predict_frame(served, frame)``
  (predictions, probabilities, version and name), both turning a value the model refuses into
  ``InvalidInput``; ``DTYPES``: MLflow's column types to pandas dtypes.

Every bad request must get a 4xx answer with a message naming the problem, never a 500.

Check one exercise with ``mlops_course.check("3.1")`` in a notebook or
``mlops-course grade 3.1`` in a terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import tempfile
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
ALIAS_HEADER = "X-Model-Alias"  # exercise 3.6: the request header that picks an alias


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

    The app serves the model of ``model_uri``, loaded once when the app is created and kept in
    ``app.state.served`` (a ``ServedModel``). Exercise 3.4 and ``mlops-course serve`` replace it
    there, so each request is answered by the model found there when it arrives.

    Routes, JSON in and out:

    * ``GET /health`` -> ``{"status": "ok", "model_loaded": true, "model_version": <version>}``;
    * ``GET /model/info`` -> ``served.info()``;
    * ``POST /predict``: ONE row, sent as ``{"features": [v1, v2, ...]}`` (the signature's
      order), ``{"features": {"name": v, ...}}`` or directly ``{"name": v, ...}`` ->
      ``{"prediction": <its prediction>, "probabilities": {<class>: <p>, ...} or null,
      "model_version": ..., "model_name": ...}``;
    * ``POST /predict/batch``: ``{"instances": [row, row, ...]}``, rows as lists or objects ->
      ``{"predictions": [...], "probabilities": [{<class>: <p>}, ...] or null,
      "model_version": ..., "model_name": ...}`` (what ``predict_frame`` returns);
    * ``GET /ping`` -> 200; ``POST /invocations``: MLflow's scoring protocol (exercise 3.3) ->
      ``{"predictions": [...]}`` and nothing else, as ``mlflow models serve`` answers;
    * ``POST /reload``: look for a moved alias (exercise 3.4) and serve the new version if there
      is one -> ``{"reloaded": <bool>, "model_version": <the version served now>}``.

    A request the model cannot answer gets a 4xx, never a 500, with the body
    ``{"detail": "<what is wrong>"}``: 415 a content type other than JSON, 413 a body over
    ``max_body_bytes`` or more rows than ``batch_limit``, 400 malformed JSON (and, on
    ``/invocations``, a payload in none of MLflow's formats), 422 JSON that does not fit: a body
    that is not an object, a batch without the key ``instances`` (name it), rows that exercise
    3.1 refuses.

    With ``poll_seconds`` set, the app also looks for a moved alias by itself, every
    ``poll_seconds`` seconds while it runs, and serves the new version as ``/reload`` does. A look
    that fails (the registry briefly unreachable) is skipped; the next one tries again.

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

    The rows found are then checked exactly as exercise 3.1 checks them.

    Args:
        body: the decoded JSON body.
        columns: the model's input column names.
        types: their MLflow types.
        batch_limit: the most rows accepted.

    Returns:
        The validated DataFrame to pass to the model, as ``validate_rows`` returns it.

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

    A server started on ``models:/<name>@<alias>`` loads the version the alias points to at that
    moment and keeps it. Promotion moves the alias (module 02): this function lets the server
    notice, without a restart.

    Args:
        served: the model served now. ``served.alias`` is None when it was asked for by version
            or by run: such a model never moves.
        tracking_uri: the tracking server, or None to keep the current one.

    Returns:
        None when there is nothing to do (the model is not served by an alias, or its alias
        still points to ``served.version``): nothing is loaded then. Otherwise the version the
        alias points to now, loaded: a new ``ServedModel`` with the same ``model_uri`` and that
        ``version``.
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

    Score every row of ``input_path`` with the model of ``model_uri`` (loaded once) and write
    ``output_path``: each input row, in order, with all its columns (extra ones, such as an id,
    are kept but never given to the model), plus three columns:

    * ``prediction``: the model's prediction for the row;
    * ``predicted_at``: when the job started, in UTC, ISO 8601 with its offset
      (``2025-01-31T09:00:00+00:00``): ONE timestamp, the same on every row;
    * ``model_version``: the version that predicted.

    One header line, no index column; an input with no rows gives the header only.

    Memory stays bounded whatever the file's size: the file is never read whole, and the model
    never gets more than ``chunk_size`` rows at once. ``output_path`` is replaced only when the
    job succeeds: when it fails part-way (a missing column, a value the model refuses), an
    existing ``output_path`` is left exactly as it was and no partial file is left behind.

    Args:
        model_uri: the model to use (``models:/name@alias`` ...).
        input_path: the CSV to read; it must hold the signature's columns.
        output_path: the CSV to write (replaced if it exists).
        chunk_size: the most rows read and predicted at once.
        tracking_uri: the tracking server, or None to keep the current one.
        chunks: an iterable of DataFrames to use instead of reading ``input_path`` (the CLI
            passes one that shows a progress bar), or None.

    Returns:
        ``{"rows": <rows written>, "model_version": ..., "distribution": {<prediction as str>:
        <count>, ...}, "seconds": <duration>}``.

    Raises:
        InvalidInput: 422 naming the missing columns when the file lacks some of them.
        ValueError: a value the model cannot take (InvalidInput is a ValueError too).
    """
    # BEGIN SOLUTION
    start = time.perf_counter()
    served = load_served_model(model_uri, tracking_uri=tracking_uri)
    predicted_at = datetime.now(UTC).isoformat(timespec="seconds")
    if chunks is None:
        chunks = pd.read_csv(input_path, chunksize=chunk_size)
    output_path = Path(output_path)
    # Write beside the output, then swap it in at once: a failure leaves the old file as it was.
    handle, name = tempfile.mkstemp(
        prefix=f".{output_path.name}.", suffix=".partial", dir=output_path.parent
    )
    os.close(handle)
    partial = Path(name)
    rows, counts, header = 0, {}, True
    try:
        for chunk in chunks:
            if chunk.empty:
                continue
            missing = [c for c in served.columns if c not in chunk.columns]
            if missing:
                raise InvalidInput(
                    f"{input_path} lacks the columns {', '.join(map(repr, missing))}"
                )
            dtypes = {
                c: DTYPES.get(t, "object")
                for c, t in zip(served.columns, served.types, strict=True)
            }
            predictions = np.asarray(served.pyfunc.predict(chunk[served.columns].astype(dtypes)))
            out = chunk.assign(
                prediction=predictions, predicted_at=predicted_at, model_version=served.version
            )
            out.to_csv(partial, mode="w" if header else "a", header=header, index=False)
            header = False
            rows += len(out)
            labels, n = np.unique(predictions.astype(str), return_counts=True)
            for label, count in zip(labels.tolist(), n.tolist(), strict=True):
                counts[label] = counts.get(label, 0) + count
        if header:  # no rows at all: write the header only
            columns = [*served.columns, "prediction", "predicted_at", "model_version"]
            pd.DataFrame(columns=columns).to_csv(partial, index=False)
        partial.replace(output_path)
    finally:
        partial.unlink(missing_ok=True)
    return {
        "rows": rows,
        "model_version": served.version,
        "distribution": counts,
        "seconds": time.perf_counter() - start,
    }
    # END SOLUTION


def create_ab_app(
    model_name: str,
    *,
    aliases: tuple[str, ...] = ("champion", "challenger"),
    tracking_uri: str | None = None,
    batch_limit: int = 1000,
) -> FastAPI:
    """Exercise 3.6: Serve champion and challenger side by side (open exercise).

    Before a challenger replaces the champion, some clients can try it (a canary, an A/B test)
    while every other client keeps the champion. Build an app that serves the versions the
    ``aliases`` of the registered model ``model_name`` point to when the app is created. How is
    up to you (you may reuse your earlier exercises): the grader only sends requests.

    * ``POST /predict`` with the body ``{"instances": [row, row, ...]}`` (rows as lists in the
      signature's order, or objects ``{name: value}``) answers ``{"predictions": [...],
      "model_version": "<the version that answered>", "alias": "<its alias>"}``.
    * The request header ``X-Model-Alias`` (:data:`ALIAS_HEADER`) names the alias that answers;
      without it, the first of ``aliases`` answers.
    * A header naming an alias this app does not serve, and rows the model cannot take, get a
      4xx with ``{"detail": "<what is wrong>"}`` (for an unknown alias, name the aliases
      served), never a 500 and never another model's answer.

    Args:
        model_name: the registered model.
        aliases: the aliases to serve; the first is the default.
        tracking_uri: the tracking server, or None to keep the current one.
        batch_limit: the most rows accepted in one request.

    Returns:
        The FastAPI application.
    """
    # BEGIN SOLUTION
    models = {
        alias: load_served_model(f"models:/{model_name}@{alias}", tracking_uri=tracking_uri)
        for alias in aliases
    }
    app = FastAPI(title="mlops-course A/B prediction API")

    @app.exception_handler(InvalidInput)
    async def refuse(request: Request, exc: InvalidInput) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.status_code)

    @app.post("/predict")
    async def predict(request: Request) -> dict:
        alias = request.headers.get(ALIAS_HEADER, aliases[0])
        if alias not in models:
            raise InvalidInput(
                f"{ALIAS_HEADER}: {alias!r} is not served here; send one of {', '.join(aliases)}",
                status_code=404,
            )
        served = models[alias]
        body = await read_json(request, 1_000_000)
        if not isinstance(body, dict) or "instances" not in body:
            raise InvalidInput('send a JSON object {"instances": [row, row, ...]}')
        frame = validate_rows(
            body["instances"], served.columns, served.types, batch_limit=batch_limit
        )
        return {
            "predictions": model_predict(served, frame),
            "model_version": served.version,
            "alias": alias,
        }

    return app
    # END SOLUTION
