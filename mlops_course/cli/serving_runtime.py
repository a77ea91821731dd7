"""What ``mlops-course serve`` wraps around the learner's app (module 03's graded ``create_app``).

* :func:`guarded_server_config`, :func:`slow_sender_protocol`, :class:`BodyDeadline`: a client
  gets a bounded time to send a request's headers and its body (no connection held open by a
  half-sent request).
* :func:`follow_alias` and :class:`ModelVersionHeader`: the app switches when its alias moves,
  and every answer says which version gave it (``X-Model-Version``, ``X-Request-ID``).
* :class:`PredictionLog`: every answered row kept in a bounded CSV that ``monitor track`` reads.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import json
import os
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlops_course.cli.args import CliError

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from mlops_course.serving_tools import ServedModel

HEADER_TIMEOUT = 10.0  # seconds a client has to send a request's headers (slow senders)
BODY_TIMEOUT = 30.0  # seconds a client has to send a request's body, once its headers are in


def slow_sender_protocol(header_timeout: float = HEADER_TIMEOUT) -> type:
    """uvicorn's h11 protocol, closing a connection whose request headers are not complete
    within ``header_timeout`` seconds of its first byte (or of the connection, for a client
    that sends nothing). uvicorn itself only times out idle keep-alive connections between
    requests: a half-sent request would hold its connection open forever.

    Pass the class as ``uvicorn.Config(..., http=slow_sender_protocol(10))``.
    """
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class SlowSenderGuard(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._watch_headers()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            self._watch_headers()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_watching()
            super().connection_lost(exc)

        def _watch_headers(self) -> None:
            # IDLE: waiting for (the rest of) a request line and headers. The deadline is set
            # once per request, so trickling a byte at a time does not extend it.
            waiting = self.conn.their_state is h11.IDLE and not self.transport.is_closing()
            if waiting and self._header_timer is None:
                self._header_timer = self.loop.call_later(header_timeout, self._too_slow)
            elif not waiting:
                self._stop_watching()

        def _stop_watching(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _too_slow(self) -> None:
            self._header_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

    return SlowSenderGuard


class BodyDeadline:
    """ASGI middleware: a request's body must arrive within ``seconds`` of the app's first read,
    or the client gets ``408 Request Timeout`` and the connection is closed. The app sees a
    disconnect; what it then raises or sends is dropped."""

    def __init__(self, app: ASGIApp, seconds: float = BODY_TIMEOUT) -> None:
        self.app = app
        self.seconds = seconds

    def __getattr__(self, name: str) -> Any:  # app.state, app.routes…: the wrapped app's
        if name == "app":
            raise AttributeError(name)
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline: list[float] = []
        state = {"body_done": False, "timed_out": False, "responded": False}

        async def receive_in_time() -> Message:
            if state["timed_out"]:
                return {"type": "http.disconnect"}
            if state["body_done"]:  # later reads wait for a disconnect: no deadline then
                return await receive()
            if not deadline:
                deadline.append(loop.time() + self.seconds)
            try:
                message = await asyncio.wait_for(receive(), max(deadline[0] - loop.time(), 0))
            except asyncio.TimeoutError:  # not the builtin before Python 3.11
                state["timed_out"] = True
                if not state["responded"]:
                    state["responded"] = True
                    await _send_408(send, self.seconds)
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                state["body_done"] = True
            return message

        async def send_unless_timed_out(message: Message) -> None:
            if state["timed_out"]:
                return
            if message["type"] == "http.response.start":
                state["responded"] = True
            await send(message)

        try:
            await self.app(scope, receive_in_time, send_unless_timed_out)
        except Exception:
            if not state["timed_out"]:
                raise


async def _send_408(send: Send, seconds: float) -> None:
    body = json.dumps({"detail": f"the request body did not arrive within {seconds:g} s"})
    await send(
        {
            "type": "http.response.start",
            "status": 408,
            "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": body.encode()})


# ----------------------------------------------------------------------------- following an alias
FOLLOW_SECONDS = 5.0  # how often `mlops-course serve` looks for a moved alias, by default
VERSION_HEADER = "X-Model-Version"
REQUEST_ID_HEADER = "X-Request-ID"
# The request being answered, for the prediction log (set by the middleware below).
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def follow_alias(
    app: FastAPI, announce: Callable[[str], object] = print, *, log: PredictionLog | None = None
) -> None:
    """Make ``app`` say which version answers, and optionally keep what it answered.

    Every HTTP response carries ``X-Model-Version`` and ``X-Request-ID`` (the client's, or a
    new one); ``announce`` is called with one line whenever the served model is replaced (the
    graded app's poll or ``POST /reload`` sets ``app.state.served``); with ``log``, every row
    a model predicts is appended to it, with the time, the version and the request id.
    """
    from starlette.datastructures import State

    def logged(served: ServedModel | None) -> ServedModel | None:
        if log is None or served is None:
            return served
        return dataclasses.replace(served, pyfunc=_LoggedPredictions(served.pyfunc, served, log))

    class AnnouncingState(State):
        def __setattr__(self, key: str, value: Any) -> None:
            old = self._state.get(key) if key == "served" else None
            if key == "served":
                value = logged(value)
            super().__setattr__(key, value)
            if old is not None and getattr(old, "version", None) != getattr(value, "version", None):
                where = f"@{value.alias}" if getattr(value, "alias", None) else value.model_uri
                announce(f"{where} moved: now serving version {value.version} (was {old.version})")

    state = dict(app.state._state)
    app.state = AnnouncingState()
    for key, value in state.items():
        setattr(app.state, key, value)
    app.add_middleware(ModelVersionHeader)


class ModelVersionHeader:
    """ASGI middleware: the ``X-Model-Version`` header on every HTTP response, read from
    ``app.state.served`` when the request arrives (the version the handler uses), and the
    ``X-Request-ID`` (the client's when it sent one, else a new one), which the prediction log
    records."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        served = getattr(scope["app"].state, "served", None)
        version = str(getattr(served, "version", None) or "")
        sent = dict(scope.get("headers") or []).get(REQUEST_ID_HEADER.lower().encode(), b"")
        request_id = sent.decode("latin-1")[:100] or uuid.uuid4().hex
        token = _request_id.set(request_id)

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                if version:
                    headers.append((b"x-model-version", version.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_version)
        finally:
            _request_id.reset(token)


# ----------------------------------------------------------------------------- the prediction log
LOG_MAX_ROWS = 100_000
LOG_COLUMNS = ("logged_at", "request_id", "model_version")  # before the features; then prediction


def is_prediction_log(columns: Sequence[str]) -> bool:
    """Whether a CSV with these columns is a :class:`PredictionLog`."""
    columns = [str(c) for c in columns]
    return tuple(columns[: len(LOG_COLUMNS)]) == LOG_COLUMNS and columns[-1:] == ["prediction"]


class PredictionLog:
    """What a served model answered, as CSV rows ``logged_at, request_id, model_version,
    <the model's columns>, prediction``: the file ``mlops-course monitor track --input`` reads.

    Bounded: when ``max_rows`` rows are in the file (or the columns change, a new version with
    another signature), it becomes ``<file>.1`` (replacing the older one) and a new file starts,
    so the log never holds more than twice ``max_rows`` rows. Safe to call from many threads.
    """

    def __init__(self, path: str | os.PathLike[str], *, max_rows: int = LOG_MAX_ROWS) -> None:
        self.path = Path(path)
        self.max_rows = max_rows
        self._lock = threading.Lock()
        for existing in (self.path, self.rotated()):
            header = self._read_header(existing)
            if header is not None and not is_prediction_log(header):
                raise CliError(
                    f"{existing} exists and is not a prediction log (its columns: "
                    f"{', '.join(header[:5])}...): give --log-predictions a new file."
                )
        self._rows = self._count(self.path)
        self._header = self._read_header(self.path)

    @staticmethod
    def _count(path: Path) -> int:
        if not path.exists():
            return 0
        with path.open("rb") as fh:
            return max(sum(1 for _ in fh) - 1, 0)

    @staticmethod
    def _read_header(path: Path) -> list[str] | None:
        if not path.exists() or path.stat().st_size == 0:
            return None
        try:
            return [str(c) for c in pd.read_csv(path, nrows=0).columns]
        except (ValueError, UnicodeDecodeError):  # not a CSV at all
            return ["(not a CSV)"]

    def rotated(self) -> Path:
        return self.path.with_name(self.path.name + ".1")

    def append(
        self, frame: pd.DataFrame, predictions: Any, *, version: str | None, request_id: str
    ) -> None:
        rows = frame.reset_index(drop=True).copy()
        rows.insert(0, "model_version", version or "")
        rows.insert(0, "request_id", request_id)
        rows.insert(0, "logged_at", datetime.now(UTC).isoformat(timespec="milliseconds"))
        rows["prediction"] = list(np.asarray(predictions).ravel())[: len(rows)]
        header = [str(c) for c in rows.columns]
        with self._lock:
            if self._header not in (None, header) or self._rows + len(rows) > self.max_rows:
                if self.path.exists():
                    os.replace(self.path, self.rotated())
                self._rows, self._header = 0, None
            rows.to_csv(self.path, mode="a", header=self._header is None, index=False)
            self._rows += len(rows)
            self._header = header


class _LoggedPredictions:
    """A pyfunc whose ``predict`` also appends what it answered to a :class:`PredictionLog`
    (a row that fails to log never fails the answer: the API keeps serving)."""

    def __init__(self, pyfunc: Any, served: ServedModel, log: PredictionLog) -> None:
        self._pyfunc, self._served, self._log = pyfunc, served, log

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pyfunc, name)

    def predict(self, frame: pd.DataFrame, *args: Any, **kwargs: Any) -> Any:
        predictions = self._pyfunc.predict(frame, *args, **kwargs)
        try:
            self._log.append(
                frame, predictions, version=self._served.version, request_id=_request_id.get()
            )
        except OSError as exc:  # a full disk: say so once per failure, keep answering
            print(f"prediction log {self._log.path}: not written ({exc})", file=sys.stderr)
        return predictions


def guarded_server_config(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    header_timeout: float = HEADER_TIMEOUT,
    body_timeout: float = BODY_TIMEOUT,
    **kwargs: Any,
) -> uvicorn.Config:
    """A ``uvicorn.Config`` for ``app`` with the slow-sender bounds: headers within
    ``header_timeout`` seconds, the body within ``body_timeout`` seconds."""
    import uvicorn

    return uvicorn.Config(
        BodyDeadline(app, body_timeout),
        host=host,
        port=port,
        http=slow_sender_protocol(header_timeout),
        **kwargs,
    )
