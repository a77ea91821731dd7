"""A warm launcher for the grader's pytest children, so ``check()`` answers in seconds.

Importing MLflow, scikit-learn and pandas costs several seconds in every new process. A notebook
calls ``check()`` many times, so one helper process (the "zygote") imports them once and then
forks a fresh child per grading round. The child is an ordinary, isolated process: its own
session (killed as a group on timeout), its own output file, the learner's files read afresh.

Protocol on the zygote's stdin/stdout, one JSON object per line:
``{"args", "env", "cwd", "log"}`` -> ``{"pid": N}``, later ``{"exit": N, "code": C}``.
The zygote is single-threaded and writes with ``os.write``, so a fork never inherits a held lock.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import threading
import time

PRELOAD = (
    "pytest",
    "numpy",
    "pandas",
    "sklearn.base",
    "sklearn.linear_model",
    "sklearn.ensemble",
    "sklearn.metrics",
    "sklearn.model_selection",
    "matplotlib.pyplot",
    "mlflow",
    "mlflow.sklearn",
    "mlflow.pyfunc",
    "mlflow.data",
    "mlflow.models",
    "sklearn.datasets",
    "sklearn.inspection",
    "scipy.io",
    "pyarrow.pandas_compat",
    "git",  # MLflow records the source's git commit with each run
    "IPython.display",
    "logging.handlers",
    "mlops_course.grading.plugin",
    "mlops_course.target",
    "mlops_course.data",
    "mlops_course.plots",
)


# ----------------------------------------------------------------------------- in the zygote
def _zygote() -> None:
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # a missing optional import only costs speed
            pass
    _warm_caches()
    out = sys.stdout.fileno()

    def send(obj: dict) -> None:
        os.write(out, (json.dumps(obj) + "\n").encode())

    send({"ready": True})
    buffer = b""
    stdin = sys.stdin.fileno()
    while True:
        readable, _, _ = select.select([stdin], [], [], 0.05)
        if readable:
            chunk = os.read(stdin, 65536)
            if not chunk:
                return  # the parent went away
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if line.strip():
                    send({"pid": _fork_child(json.loads(line))})
        _reap(send)


def _warm_caches() -> None:
    """Fill caches MLflow builds lazily on a process's first logged model; a forked child
    inherits them instead of rebuilding them each time (the module-to-package map scans every
    installed file: about a second)."""
    try:
        from mlflow.utils import requirements_utils

        requirements_utils._init_packages_to_modules_map()
    except Exception:  # a private MLflow helper: only speed is at stake
        pass


def _reap(send) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        send({"exit": pid, "code": os.waitstatus_to_exitcode(status)})


def _fork_child(req: dict) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 3
    try:
        os.setsid()
        fd = os.open(req["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # fresh objects, no inherited locks
        sys.stderr = open(2, "w", buffering=1, closefd=False)
        os.chdir(req["cwd"])
        os.environ.clear()
        os.environ.update(req["env"])
        import pytest

        code = int(pytest.main(req["args"]))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


# ----------------------------------------------------------------------------- in the runner
# An environment problem found before the tests run (no server): the plugin reports it.
ENV_ERROR_VAR = "MLOPS_COURSE_ENV_ERROR"


def child_env(target: str) -> dict[str, str]:
    """The environment a graded pytest process runs in, for ``target``."""
    env = dict(os.environ)
    env.pop(ENV_ERROR_VAR, None)
    env["MLOPS_COURSE_TARGET"] = target
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["MPLBACKEND"] = "Agg"
    env["PYTHONUNBUFFERED"] = "1"
    # Only our plugin: scanning every installed package for pytest plugins costs time, and
    # the graded run needs no other.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    # Fail fast when the server goes away instead of retrying for minutes.
    env.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    env.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
    # Small models on a laptop: BLAS thread pools only add start-up and contention.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    return env


class WarmChild:
    """A forked pytest child, with the part of ``subprocess.Popen`` the runner uses."""

    def __init__(self, server: Zygote, pid: int):
        self._server, self.pid = server, pid

    @property
    def returncode(self) -> int | None:
        return self._server.exits.get(self.pid)

    def poll(self) -> int | None:
        if self.returncode is None and not self._server.alive():
            self._server.exits[self.pid] = -9  # the zygote died; treat its child as gone
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if timeout is not None and deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("pytest", timeout)
            time.sleep(0.02)
        return code


class Zygote:
    """The pre-importing helper process (one per Python process that grades)."""

    def __init__(self, env: dict[str, str]):
        self.exits: dict[int, int] = {}
        self._pids: list[int] = []
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from mlops_course.grading.warm import _zygote; _zygote()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env, start_new_session=True,
        )  # fmt: skip
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None  # opened with stdout=PIPE
        for raw in self.proc.stdout:
            try:
                msg = json.loads(raw)
            except ValueError:
                continue
            if msg.get("ready"):
                self._ready.set()
            elif "pid" in msg:
                self._pids.append(msg["pid"])
            elif "exit" in msg:
                self.exits[msg["exit"]] = msg["code"]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def ready(self, timeout: float = 0) -> bool:
        return self._ready.wait(timeout) and self.alive()

    def spawn(self, args: list[str], env: dict, cwd: str, log: str) -> WarmChild:
        with self._lock:
            n = len(self._pids)
            req = {"args": args, "env": env, "cwd": cwd, "log": log}
            assert self.proc.stdin is not None  # opened with stdin=PIPE
            self.proc.stdin.write((json.dumps(req) + "\n").encode())
            self.proc.stdin.flush()
            deadline = time.monotonic() + 10
            while len(self._pids) == n:
                if time.monotonic() > deadline or not self.alive():
                    raise RuntimeError("the warm grader did not answer")
                time.sleep(0.005)
            return WarmChild(self, self._pids[n])

    def close(self) -> None:
        if self.alive():
            self.proc.kill()
            self.proc.wait(timeout=5)


_ZYGOTE: Zygote | None = None


def zygote(env: dict[str, str], wait: float = 0) -> Zygote | None:
    """The process's zygote, started on first use; None when it is not ready after ``wait``."""
    global _ZYGOTE
    if _ZYGOTE is None or not _ZYGOTE.alive():
        _ZYGOTE = Zygote(env)
        atexit.register(_ZYGOTE.close)
    return _ZYGOTE if _ZYGOTE.ready(wait) else None


def prewarm() -> None:
    """Start the zygote in the background (``mlops_course.setup()`` calls this)."""
    zygote(child_env("exercises"), wait=0)
