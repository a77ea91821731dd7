"""What module 03's graded code imports: loading a model and answering with it.

* :class:`ServedModel` and :func:`load_served_model`: a registered model loaded once, with what
  an API needs to describe it (name, version, alias, run id, signature, classes).
* :class:`InvalidInput`, :func:`read_json`, :func:`model_predict`, :func:`predict_frame`: a
  request's body read within bounds, and predictions as JSON-ready values.
* :func:`iter_csv_chunks`: a CSV read in chunks, with a progress bar on request.

Running servers (tests, benchmarks) is :mod:`mlops_course.serving_harness`; what the reference
``mlops-course serve`` wraps around an app is :mod:`mlops_course.cli.serving_runtime`.
Nothing runs at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException

if TYPE_CHECKING:
    from fastapi import Request

# MLflow's column types -> pandas dtypes, and the Python values JSON brings for each.
DTYPES = {
    "double": "float64",
    "float": "float32",
    "long": "int64",
    "integer": "int32",
    "boolean": "bool",
    "string": "object",
}


@dataclass
class ServedModel:
    """One loaded model and what an API says about it.

    Attributes:
        model_uri: the URI asked for (``models:/name@alias``, ``models:/name/3``, ``runs:/…``).
        pyfunc: the loaded ``mlflow.pyfunc.PyFuncModel`` (what ``mlflow models serve`` runs).
        raw: the underlying model (e.g. the scikit-learn estimator), for ``predict_proba``.
        name: the registered model's name, or None for a ``runs:/`` URI.
        version: the registered version as a string, or None.
        alias: the alias served (``champion``), or None when a version or run was asked for.
        run_id: the run that logged the model.
        input_schema: the signature's input :class:`mlflow.types.Schema`.
        columns: the input column names, in the signature's order.
        types: the input column types (``"double"``, ``"long"``…), same order.
        classes: the classifier's class labels, or None for a regressor.
        signature: the signature as plain JSON (``{"inputs": [...], "outputs": [...]}``).
        loaded_at: when it was loaded (UTC, ISO 8601).
    """

    model_uri: str
    pyfunc: Any
    raw: Any
    name: str | None
    version: str | None
    alias: str | None
    run_id: str | None
    input_schema: Any
    columns: list[str]
    types: list[str]
    classes: list | None
    signature: dict = field(default_factory=dict)
    loaded_at: str = ""

    def info(self) -> dict:
        """What ``GET /model/info`` answers."""
        return {
            "name": self.name,
            "version": self.version,
            "alias": self.alias,
            "run_id": self.run_id,
            "model_uri": self.model_uri,
            "signature": self.signature,
            "classes": self.classes,
            "loaded_at": self.loaded_at,
        }


def parse_model_uri(model_uri: str) -> tuple[str | None, str | None, str | None]:
    """``(name, version, alias)`` of a ``models:/`` URI; ``(None, None, None)`` otherwise."""
    if not model_uri.startswith("models:/") or model_uri.startswith("models:/m-"):
        return None, None, None
    rest = model_uri[len("models:/") :].strip("/")
    if "@" in rest:
        name, alias = rest.rsplit("@", 1)
        return name, None, alias
    name, _, version = rest.rpartition("/")
    return (name, version, None) if name and version.isdigit() else (rest, None, None)


def load_served_model(model_uri: str, *, tracking_uri: str | None = None) -> ServedModel:
    """Load a model once and describe it.

    For ``models:/name@alias`` the alias is resolved to its version FIRST, and that exact version
    is loaded (``models:/name/<version>``), so the version reported is the one really served even
    if the alias moves meanwhile.

    Raises:
        mlflow.exceptions.MlflowException: the model, version or alias does not exist.
        ValueError: the model has no column-based input signature.
    """
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri) if tracking_uri else MlflowClient()
    name, version, alias = parse_model_uri(model_uri)
    run_id = None
    load_uri = model_uri
    if name and alias:
        mv = client.get_model_version_by_alias(name, alias)
        version, run_id = str(mv.version), mv.run_id
        load_uri = f"models:/{name}/{version}"
    elif name and version:
        run_id = client.get_model_version(name, version).run_id
    elif name:  # "models:/name" alone: the latest version
        mv = max(client.search_model_versions(f"name='{name}'"), key=lambda v: int(v.version))
        version, run_id = str(mv.version), mv.run_id
        load_uri = f"models:/{name}/{version}"
    elif model_uri.startswith("runs:/"):
        run_id = model_uri[len("runs:/") :].split("/", 1)[0]

    previous = mlflow.get_tracking_uri()
    previous_bar = os.environ.get("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR")
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"  # no bar per (re)load
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    try:
        # Everything is read at load time: the downloaded copy can go at once.
        with tempfile.TemporaryDirectory(prefix="mlops-course-serve-") as tmp:
            pyfunc = mlflow.pyfunc.load_model(load_uri, dst_path=tmp)
    finally:
        if tracking_uri:
            mlflow.set_tracking_uri(previous)
        if previous_bar is None:
            os.environ.pop("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", None)
        else:
            os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = previous_bar
    schema = pyfunc.metadata.get_input_schema()
    if schema is None or not schema.has_input_names():
        raise ValueError(
            f"{model_uri} has no column-based input signature: log it with signature="
            "infer_signature(X_train, model.predict(X_train))."
        )
    try:
        raw = pyfunc.get_raw_model()
    except Exception:  # a flavor without a raw model: predictions only
        raw = None
    classes = getattr(raw, "classes_", None) if hasattr(raw, "predict_proba") else None
    signature = pyfunc.metadata.signature.to_dict()
    return ServedModel(
        model_uri=model_uri,
        pyfunc=pyfunc,
        raw=raw,
        name=name,
        version=version,
        alias=alias,
        run_id=run_id or pyfunc.metadata.run_id,
        input_schema=schema,
        columns=list(schema.input_names()),
        types=[t.name if hasattr(t, "name") else str(t) for t in schema.input_types()],
        classes=[_plain(c) for c in classes] if classes is not None else None,
        signature={k: json.loads(v) if isinstance(v, str) else v for k, v in signature.items()},
        loaded_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def _plain(value):
    """A numpy scalar as a plain Python value (JSON-friendly)."""
    return value.item() if hasattr(value, "item") else value


def iter_csv_chunks(path, *, chunk_size: int = 10_000, progress: bool = False, **read_csv_kwargs):
    """Read a CSV in chunks of ``chunk_size`` rows, with a tqdm progress bar (bytes) on request."""
    import pandas as pd

    total = os.path.getsize(path)
    if not progress:
        yield from pd.read_csv(path, chunksize=chunk_size, **read_csv_kwargs)
        return
    from tqdm.auto import tqdm

    with (
        open(path, "rb") as fh,
        tqdm(total=total, unit="B", unit_scale=True, desc="reading") as bar,
    ):
        last = 0
        for chunk in pd.read_csv(fh, chunksize=chunk_size, **read_csv_kwargs):
            pos = fh.tell()
            bar.update(pos - last)
            last = pos
            yield chunk


class InvalidInput(ValueError):
    """A request the model cannot answer.

    Args:
        message: what is wrong, naming the column, row or limit concerned.
        status_code: the HTTP status to answer: 400 (malformed: not JSON, unknown format),
            413 (too large: body or batch over the limit), 415 (not JSON content type) or
            422 (well-formed JSON that does not fit the model's signature).
    """

    def __init__(self, message: str, status_code: int = 422):
        super().__init__(message)
        self.message = message
        self.status_code = status_code


def model_predict(served: ServedModel, frame: pd.DataFrame) -> list:
    """``served.pyfunc.predict(frame)`` as a plain list.

    Values can fit the signature and still be refused by the model (scikit-learn's trees
    compute in float32: 1e39 overflows). That is the client's input, not a server fault:
    InvalidInput 422, not a 500.
    """
    try:
        return np.asarray(served.pyfunc.predict(frame)).tolist()
    except (ValueError, MlflowException) as exc:
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise InvalidInput(f"the model cannot score these values: {first}") from exc


def predict_frame(served: ServedModel, frame: pd.DataFrame) -> dict:
    """Predictions for a validated frame: ``predictions``, ``probabilities`` (a list of
    ``{class: probability}`` for classifiers, else None), ``model_version``, ``model_name``."""
    predictions = model_predict(served, frame)
    probabilities = None
    if served.classes is not None:
        try:
            proba = served.raw.predict_proba(frame)
        except ValueError as exc:
            raise InvalidInput(f"the model cannot score these values: {exc}") from exc
        labels = [str(c) for c in served.classes]
        probabilities = [dict(zip(labels, map(float, p), strict=True)) for p in proba]
    return {
        "predictions": predictions,
        "probabilities": probabilities,
        "model_version": served.version,
        "model_name": served.name,
    }


# A body refused as too large is still read, up to these bounds, and thrown away before the 413
# goes out: a client that writes its whole body before reading (Python's urllib, curl without
# Expect) would otherwise meet a connection reset instead of the answer (a lingering close, as
# nginx does it). Beyond the bounds the connection is closed: the reset is then the answer.
DISCARD_BYTES = 16 * 1024 * 1024
DISCARD_SECONDS = 5.0


async def _discard(request: Request, chunks: AsyncIterator[bytes] | None = None) -> None:
    """Read and drop what is left of ``request``'s body, within the bounds above."""
    stream = chunks if chunks is not None else request.stream()

    async def drain() -> None:
        read = 0
        async for chunk in stream:
            read += len(chunk)
            if read > DISCARD_BYTES:
                return

    with contextlib.suppress(Exception):  # a client gone, a timeout: the 413 is sent anyway
        await asyncio.wait_for(drain(), DISCARD_SECONDS)


async def read_json(request: Request, max_body_bytes: int):
    """The request's JSON body, or InvalidInput (415 not JSON, 413 too large, 400 malformed)."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise InvalidInput(
            f"unsupported content type {content_type or '(none)'!r}: send application/json",
            status_code=415,
        )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_body_bytes:
        await _discard(request)
        raise InvalidInput(
            f"body of {declared} bytes is over the limit of {max_body_bytes}", status_code=413
        )
    body = bytearray()
    chunks = request.stream()
    async for chunk in chunks:  # counted as it arrives: a lying client is cut off
        body.extend(chunk)
        if len(body) > max_body_bytes:
            await _discard(request, chunks)
            raise InvalidInput(f"body is over the limit of {max_body_bytes} bytes", status_code=413)
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"body is not valid JSON: {exc}", status_code=400) from exc
