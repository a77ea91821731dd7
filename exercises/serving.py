# Your exercises for serving: write each function where it says NotImplementedError.
# Check one with `mlops_course.check("M.N")` in a notebook or `mlops-course grade M.N`.
# Start one again with `mlops-course reset M.N` (your current file is backed up first).
# generated-from: solutions/serving.py sha256:3a1e85d227c0
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
    raise NotImplementedError("Exercise 3.3: write parse_scoring_payload()")


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
    raise NotImplementedError("Exercise 3.5: write predict_csv()")


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
    raise NotImplementedError("Exercise 3.6: write create_ab_app()")
