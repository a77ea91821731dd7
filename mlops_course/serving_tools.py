"""Helpers for module 03 (serving) that learners are not asked to write.

* :class:`ServedModel` and :func:`load_served_model`: a registered model loaded once, with what
  an API needs to describe it (name, version, alias, run id, signature, classes).
* :class:`BackgroundServer`: a real uvicorn server for an ASGI app, in a thread, on a free
  127.0.0.1 port, ready when the ``with`` block starts.
* :func:`mlflow_scoring_server`: MLflow's own ``mlflow models serve`` as a subprocess.
* :func:`slow_sender_protocol` and :class:`BodyDeadline`: a client gets a bounded time to send
  a request's headers and its body (no connection held open by a half-sent request).

Nothing runs at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException

from mlops_course.cli.args import CliError, stage_hint
from mlops_course.proc import stop_group

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


# ----------------------------------------------------------------------------- real servers
def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BackgroundServer:
    """Run an ASGI app with uvicorn in a thread on 127.0.0.1; use as a context manager.

    The socket is bound before the thread starts (no race for the port) and ``__enter__``
    returns once uvicorn accepts connections. ``url`` is ``http://127.0.0.1:<port>``.
    """

    def __init__(self, app, *, port: int = 0, log_level: str = "warning", timeout: float = 30):
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level=log_level, lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self.timeout = timeout
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + self.timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on {self.url}")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


HEADER_TIMEOUT = 10.0  # seconds a client has to send a request's headers (slow senders)
BODY_TIMEOUT = 30.0  # seconds a client has to send a request's body, once its headers are in


def slow_sender_protocol(header_timeout: float = HEADER_TIMEOUT):
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

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._watch_headers()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            self._watch_headers()

        def connection_lost(self, exc) -> None:
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

    def __init__(self, app, seconds: float = BODY_TIMEOUT):
        self.app = app
        self.seconds = seconds

    def __getattr__(self, name: str):  # app.state, app.routes…: the wrapped app's
        if name == "app":
            raise AttributeError(name)
        return getattr(self.app, name)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline: list[float] = []
        state = {"body_done": False, "timed_out": False, "responded": False}

        async def receive_in_time():
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

        async def send_unless_timed_out(message) -> None:
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


async def _send_408(send, seconds: float) -> None:
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


def follow_alias(app, announce=print, *, log: PredictionLog | None = None) -> None:
    """Make ``app`` say which version answers, and optionally keep what it answered.

    Every HTTP response carries ``X-Model-Version`` and ``X-Request-ID`` (the client's, or a
    new one); ``announce`` is called with one line whenever the served model is replaced (the
    graded app's poll or ``POST /reload`` sets ``app.state.served``); with ``log``, every row
    a model predicts is appended to it, with the time, the version and the request id.
    """
    from starlette.datastructures import State

    def logged(served):
        if log is None or served is None:
            return served
        return dataclasses.replace(served, pyfunc=_LoggedPredictions(served.pyfunc, served, log))

    class AnnouncingState(State):
        def __setattr__(self, key, value):
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

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        served = getattr(scope["app"].state, "served", None)
        version = str(getattr(served, "version", None) or "")
        sent = dict(scope.get("headers") or []).get(REQUEST_ID_HEADER.lower().encode(), b"")
        request_id = sent.decode("latin-1")[:100] or uuid.uuid4().hex
        token = _request_id.set(request_id)

        async def send_with_version(message):
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


def is_prediction_log(columns) -> bool:
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

    def __init__(self, path, *, max_rows: int = LOG_MAX_ROWS):
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

    def append(self, frame: pd.DataFrame, predictions, *, version, request_id: str) -> None:
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

    def __init__(self, pyfunc, served, log: PredictionLog):
        self._pyfunc, self._served, self._log = pyfunc, served, log

    def __getattr__(self, name):
        return getattr(self._pyfunc, name)

    def predict(self, frame, *args, **kwargs):
        predictions = self._pyfunc.predict(frame, *args, **kwargs)
        try:
            self._log.append(
                frame, predictions, version=self._served.version, request_id=_request_id.get()
            )
        except OSError as exc:  # a full disk: say so once per failure, keep answering
            print(f"prediction log {self._log.path}: not written ({exc})", file=sys.stderr)
        return predictions


def guarded_server_config(
    app,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    header_timeout: float = HEADER_TIMEOUT,
    body_timeout: float = BODY_TIMEOUT,
    **kwargs,
):
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


def venv_env(tracking_uri: str | None = None) -> dict[str, str]:
    """The environment for MLflow subprocesses: this interpreter's ``bin/`` first on PATH
    (``mlflow models serve`` starts uvicorn through a shell), telemetry off."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    if tracking_uri:
        env["MLFLOW_TRACKING_URI"] = tracking_uri
    return env


@contextlib.contextmanager
def mlflow_scoring_server(
    model_uri: str, *, tracking_uri: str | None = None, timeout: float = 120
) -> Iterator[str]:
    """``mlflow models serve -m MODEL_URI --env-manager local`` on a free loopback port.

    Yields its base URL once ``/ping`` answers 200; stops the process (and its workers) after.
    """
    import httpx

    port = free_port()
    cmd = [
        str(Path(sys.executable).parent / "mlflow"),
        "models",
        "serve",
        "-m",
        model_uri,
        "--env-manager",
        "local",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        cmd,
        env=venv_env(tracking_uri),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                log.seek(0)
                tail = log.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"mlflow models serve exited ({proc.returncode}):\n{tail}")
            try:
                if httpx.get(f"{url}/ping", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"mlflow models serve did not answer /ping within {timeout} s")
            time.sleep(0.2)
        yield url
    finally:
        stop_group(proc)
        log.close()


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


# ----------------------------------------------------------------------------- CLI support
# A command-line mistake: the message says what exists and what to run. The CLI's one error
# type (one line on stderr, exit code 2), under the name these helpers have always used.
CommandError = CliError


def add_model_arguments(parser) -> None:
    """``--model-name NAME [--alias A | --version N] | --run-id ID`` on an argparse parser."""
    parser.add_argument("--model-name", help="registered model name (as in the registry)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--alias", help="serve the version this alias points to (default champion)")
    which.add_argument("--version", help="serve this version number")
    parser.add_argument("--run-id", help="serve the model logged by this run (runs:/ID/model)")


def model_uri_from_args(args) -> str:
    """The model URI a command's ``--model-name/--alias/--version/--run-id`` ask for."""
    if args.run_id and args.model_name:
        raise CommandError("give either --model-name or --run-id, not both.")
    if args.run_id:
        if args.alias or args.version:
            raise CommandError("--alias and --version go with --model-name, not --run-id.")
        return f"runs:/{args.run_id}/model"
    if not args.model_name:
        raise CommandError(
            "say which model: --model-name NAME [--alias A | --version N], or --run-id ID "
            "(list registered models with `mlops-course registry list`)."
        )
    if args.version:
        if not str(args.version).isdigit():
            raise CommandError(f"--version must be a number, got {args.version!r}.")
        return f"models:/{args.model_name}/{args.version}"
    return f"models:/{args.model_name}@{args.alias or 'champion'}"


def tracking_uri_or_error() -> str:
    """The tracking server to use: ``MLFLOW_TRACKING_URI``, else the course's running server."""
    from mlops_course import server

    uri = server.env_tracking_uri()
    if uri:
        return uri
    info, verdict = server.status()
    if info is None or verdict != "running":
        if os.environ.get("MLFLOW_TRACKING_URI"):
            return os.environ["MLFLOW_TRACKING_URI"]
        raise CommandError(
            f"no MLflow server to read models from (the course server is {verdict}): "
            "run `mlops-course server start`, or set MLFLOW_TRACKING_URI."
        )
    return info.uri


def load_or_explain(model_uri: str, tracking_uri: str) -> ServedModel:
    """:func:`load_served_model`, turning MLflow's errors into a :class:`CommandError`."""
    from mlflow.exceptions import MlflowException

    name, version, alias = parse_model_uri(model_uri)
    try:
        return load_served_model(model_uri, tracking_uri=tracking_uri)
    except MlflowException as exc:
        text = str(exc)
        if name and alias and "alias" in text.lower():
            raise CommandError(
                f"no version of {name!r} has the alias {alias!r} (or the model does not exist): "
                f"see `mlops-course registry details {name}`, set one with "
                f"`mlops-course registry promote`, or pass --version N.{stage_hint(alias)}"
            ) from exc
        if name:
            raise CommandError(
                f"model {name!r}{f' version {version}' if version else ''} not found on "
                f"{tracking_uri}: list models with `mlops-course registry list`."
            ) from exc
        raise CommandError(f"cannot load {model_uri}: {text.splitlines()[0][:300]}") from exc
    except (ValueError, OSError) as exc:
        raise CommandError(f"cannot load {model_uri}: {exc}") from exc


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def parse_feature_line(line: str, columns: list[str]):
    """One typed-in row: ``5.1,3.5,1.4,0.2`` (values in column order) or
    ``sepal_length=5.1, ...`` (named). Values are JSON-like: numbers, true/false, text."""

    def value(text: str):
        text = text.strip()
        try:
            return json.loads(text)
        except ValueError:
            return text

    parts = [p for p in line.replace(";", ",").split(",") if p.strip()] if line.strip() else []
    if parts and all("=" in p for p in parts):
        return {k.strip(): value(v) for k, v in (p.split("=", 1) for p in parts)}
    return [value(p) for p in parts]


def demo_rows(columns: list[str], n: int = 5):
    """A few real rows for a model trained on one of the course's datasets, or None."""
    from mlops_course import data

    for name in data.CLASSIFICATION_DATASETS:
        X, _ = data.load_classification(name)
        if set(columns) <= set(X.columns):
            return X[columns].sample(n, random_state=0)
    for name in data.REGRESSION_DATASETS:
        X, _ = data.load_regression(name)
        if set(columns) <= set(X.columns):
            return X[columns].sample(n, random_state=0)
    return None


# ----------------------------------------------------------------------------- load testing
def load_test(
    url: str, path: str, payload: dict, *, clients: int = 20, seconds: float = 30.0
) -> dict:
    """Hammer ``POST url+path`` with ``clients`` concurrent keep-alive clients for ``seconds``.

    Returns:
        ``requests``, ``statuses`` (count per HTTP status), ``server_errors`` (5xx),
        ``dropped`` (connection errors and timeouts), ``p50_ms``, ``p95_ms``, ``p99_ms``,
        ``max_ms`` and ``requests_per_second``.
    """
    import httpx
    import numpy as np

    body = json.dumps(payload).encode()
    headers = {"content-type": "application/json"}
    results: list[tuple[int, float]] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker() -> None:
        local: list[tuple[int, float]] = []
        with httpx.Client(base_url=url, timeout=30) as http:
            while time.monotonic() < stop_at:
                start = time.perf_counter()
                try:
                    status = http.post(path, content=body, headers=headers).status_code
                except httpx.HTTPError:
                    status = -1  # dropped: the connection failed or timed out
                local.append((status, (time.perf_counter() - start) * 1000))
        with lock:
            results.extend(local)

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    statuses: dict[str, int] = {}
    for status, _ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    times = np.array([ms for _, ms in results]) if results else np.array([0.0])
    return {
        "requests": len(results),
        "statuses": statuses,
        "server_errors": sum(n for s, n in statuses.items() if s.startswith("5")),
        "dropped": statuses.get("-1", 0),
        "p50_ms": float(np.percentile(times, 50)),
        "p95_ms": float(np.percentile(times, 95)),
        "p99_ms": float(np.percentile(times, 99)),
        "max_ms": float(times.max()),
        "requests_per_second": len(results) / elapsed,
    }


def _load_test_main(argv: list[str] | None = None) -> None:
    """``python -m mlops_course.serving_tools URL PATH PAYLOAD_JSON CLIENTS SECONDS``: run
    :func:`load_test` from another process and print its result as JSON."""
    url, path, payload, clients, seconds = (argv or sys.argv[1:])[:5]
    print(
        json.dumps(
            load_test(url, path, json.loads(payload), clients=int(clients), seconds=float(seconds))
        )
    )


if __name__ == "__main__":
    _load_test_main()


# ----------------------------------------------------------------------------- given to module 03
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
        raise InvalidInput(
            f"body of {declared} bytes is over the limit of {max_body_bytes}", status_code=413
        )
    body = bytearray()
    async for chunk in request.stream():  # counted as it arrives: a lying client is cut off
        body.extend(chunk)
        if len(body) > max_body_bytes:
            raise InvalidInput(f"body is over the limit of {max_body_bytes} bytes", status_code=413)
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"body is not valid JSON: {exc}", status_code=400) from exc
