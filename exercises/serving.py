# Your exercises for serving: write each function where it says NotImplementedError.
# Check one with `mlops_course.check("M.N")` in a notebook or `mlops-course grade M.N`.
# Start one again with `mlops-course reset M.N` (your current file is backed up first).
# generated-from: solutions/serving.py sha256:69c749ee7b9a
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

    raise NotImplementedError("Exercise 3.1: write validate_rows()")


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

    raise NotImplementedError("Exercise 3.2: write create_app()")


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
    raise NotImplementedError("Exercise 3.3: write parse_scoring_payload()")


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
    raise NotImplementedError("Exercise 3.4: write reload_if_moved()")


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
    raise NotImplementedError("Exercise 3.5: write predict_csv()")
