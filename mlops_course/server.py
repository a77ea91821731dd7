"""The course's local MLflow server: start, reuse, health-check and stop a real ``mlflow server``.

One lean server per course home: SQLite backend and a proxied artifact store under the home,
bound to 127.0.0.1 on a free port (never assume 5000: macOS AirPlay takes it), one worker and
no job runner (a learner's laptop needs a tenth of the default's memory). Its PID and URI are
recorded in ``<home>/server.json`` so every notebook, test and command reuses it.

``MLFLOW_TRACKING_URI`` set by the user always wins: that is how a workshop's shared server is
used, and then no local server is started.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import requests

from mlops_course.paths import course_home
from mlops_course.proc import LOOPBACK, free_port, port_is_free, tail

STATE_FILE = "server.json"
PORT_FILE = "server.port"  # the last port used: the next start takes it again when it is free
LOG_FILE = "server.log"
HOST = LOOPBACK
START_TIMEOUT = float(os.environ.get("MLOPS_COURSE_SERVER_START_TIMEOUT", "120"))


class ServerError(RuntimeError):
    """The local server could not be started or reached; the message says what to do."""


@dataclass
class ServerInfo:
    """Where the tracking server is, and whether the course manages it."""

    uri: str
    pid: int | None = None
    port: int | None = None
    home: str | None = None
    external: bool = False  # True when it came from MLFLOW_TRACKING_URI
    started: bool = False  # True when this call started it
    started_at: float | None = None


def env_tracking_uri(home: Path | None = None) -> str | None:
    """The user's ``MLFLOW_TRACKING_URI``, or None when unset or when it is just the course's
    own local server (``mlflow.set_tracking_uri`` exports it to the environment)."""
    if home is None:
        from mlops_course.workshop import apply_joined

        apply_joined()  # a joined workshop's connection (`mlops-course workshop join`)
    uri = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    if not uri:
        return None
    state = read_state(home)
    return None if state and state.uri == uri else uri


def is_healthy(uri: str, timeout: float = 2.0) -> bool:
    """True when ``<uri>/health`` answers 200."""
    if not uri.startswith(("http://", "https://")):
        return True  # a local file or database store needs no server
    try:
        return requests.get(uri.rstrip("/") + "/health", timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


def _last_port(home: Path) -> int | None:
    """The port this home's server used last time, when it is free now (so an open UI tab
    keeps working after a restart)."""
    try:
        port = int((home / PORT_FILE).read_text().strip())
    except (OSError, ValueError):
        return None
    return port if 0 < port < 65536 and port_is_free(port) else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped) is not alive for our purposes.
    try:
        import psutil

        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except Exception:
        return True


def _db_uri(home: Path) -> str:
    return f"sqlite:///{home / 'mlflow.db'}"


def _serves_home(proc, home: Path) -> bool:
    """True when a process serves this home's database: the ``mlflow server`` names it on its
    command line, its uvicorn worker in ``_MLFLOW_SERVER_FILE_STORE``."""
    import psutil

    uri = _db_uri(home)
    try:
        if uri in proc.cmdline():
            return True
        return proc.environ().get("_MLFLOW_SERVER_FILE_STORE") == uri
    except (psutil.Error, OSError):
        return False


def home_processes(home: Path) -> list:
    """Every live process serving this home's database (a server, its worker, a survivor of a
    killed server), as ``psutil.Process`` objects."""
    import psutil

    found = []
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        try:
            if proc.status() != psutil.STATUS_ZOMBIE and _serves_home(proc, home):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def _listening_port(procs) -> int | None:
    """The 127.0.0.1 port one of these processes listens on, if any."""
    import psutil

    for proc in procs:
        try:
            for conn in proc.net_connections(kind="tcp"):
                if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.ip == HOST:
                    return conn.laddr.port
        except psutil.Error:
            continue
    return None


def _is_our_server(pid: int, home: Path, port: int | None) -> bool:
    """Guard against a recycled PID or another home's server: the process must serve this
    home's database, and on the recorded port (its command line, or the socket it listens on)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        if not _serves_home(proc, home):
            return False
        cmd = proc.cmdline()
        if port is None or ("--port" in cmd and cmd[cmd.index("--port") + 1 :][:1] == [str(port)]):
            return True
        return _listening_port([proc, *proc.children(recursive=True)]) == port
    except (psutil.Error, ValueError):
        return False


def _state_path(home: Path) -> Path:
    return home / STATE_FILE


def read_state(home: Path | None = None) -> ServerInfo | None:
    """The recorded server of a course home, or None (no file, or an unreadable one)."""
    path = _state_path(home or course_home())
    try:
        data = json.loads(path.read_text())
        return ServerInfo(**{k: v for k, v in data.items() if k in ServerInfo.__dataclass_fields__})
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def _write_state(home: Path, info: ServerInfo) -> None:
    tmp = _state_path(home).with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(info) | {"started": False}, indent=2))
    tmp.replace(_state_path(home))


@contextlib.contextmanager
def _locked(home: Path) -> Iterator[None]:
    """One starter at a time per home (two notebooks opened at once must not start two).

    ``fcntl`` exists on Linux and macOS (and WSL2); on a platform without it (native Windows)
    ``msvcrt`` locks the file instead, so importing the course never fails there."""
    with open(home / "server.lock", "a+b") as fh:
        try:
            import fcntl
        except ImportError:  # native Windows
            import msvcrt

            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)  # type: ignore[attr-defined]
            try:
                yield
            finally:
                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
            return
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def status(home: Path | None = None) -> tuple[ServerInfo | None, str]:
    """The server of a course home and a one-line verdict: running, unhealthy, stale, orphaned
    (a killed server's worker still serves the database), foreign (the recorded PID is some
    other process) or not running."""
    home = home or course_home()
    info = read_state(home)
    if info is not None and info.pid and _pid_alive(info.pid):
        if not _is_our_server(info.pid, home, info.port):
            return info, (
                f"foreign: the recorded PID {info.pid} is not this home's MLflow server "
                "(it serves another database or port)"
            )
        if not is_healthy(info.uri):
            return info, f"unhealthy: PID {info.pid} is alive but {info.uri}/health does not answer"
        return info, "running"
    survivors = home_processes(home)
    if survivors:
        port = _listening_port(survivors)
        where = f" on port {port}" if port else ""
        pids = ", ".join(str(p.pid) for p in survivors)
        return info, f"orphaned: PID {pids} still serves this home's database{where}"
    if info is None:
        return None, "not running"
    return info, f"stale: the recorded server (PID {info.pid}) is gone"


def ensure_server(
    home: Path | None = None, *, use_env: bool = True, tied: bool = False
) -> ServerInfo:
    """Return a healthy tracking server, starting the course's local one only if needed.

    Order: ``MLFLOW_TRACKING_URI`` (if set and ``use_env``), then the server recorded in the
    course home (reused when healthy), then a server of this home found running without a
    record (adopted when healthy, stopped when not: never two servers on one database), then a
    new local server. With ``tied``, a server started here dies with this process even if it is
    killed (Linux).

    Raises:
        ServerError: with what to do, when the server cannot be reached or started.
    """
    if use_env and (uri := env_tracking_uri(home)):
        if not is_healthy(uri, timeout=5):
            raise ServerError(
                f"MLFLOW_TRACKING_URI={uri} does not answer on /health. Start that server, "
                "or `unset MLFLOW_TRACKING_URI` (after a `workshop join`: `mlops-course "
                "workshop leave`) to use the course's local server."
            )
        return ServerInfo(uri=uri, external=True)
    home = home or course_home()
    home.mkdir(parents=True, exist_ok=True)
    with _locked(home):
        info, verdict = status(home)
        if verdict == "running" and info is not None:
            return info
        if info is not None and verdict.startswith("unhealthy"):
            # Maybe still starting (another process just launched it): give it a moment.
            if _wait_healthy(info.uri, info.pid, timeout=15):
                return info
            _terminate(info.pid)
        adopted = _adopt_or_stop_survivors(home)
        if adopted is not None:
            return adopted
        _state_path(home).unlink(missing_ok=True)
        return _start(home, tied=tied)


def _adopt_or_stop_survivors(home: Path) -> ServerInfo | None:
    """A server of this home running without a (readable) record: adopt it when it answers,
    else stop it, so a new one never shares the database with it."""
    survivors = home_processes(home)
    if not survivors:
        return None
    port = _listening_port(survivors)
    uri = f"http://{HOST}:{port}" if port else ""
    if port and is_healthy(uri):
        leader = next((p for p in survivors if "server" in " ".join(_cmdline(p))), survivors[0])
        info = ServerInfo(uri=uri, pid=leader.pid, port=port, home=str(home))
        _write_state(home, info)
        return info
    _stop_processes(survivors)
    return None


def _cmdline(proc) -> list[str]:
    import psutil

    try:
        return proc.cmdline()
    except psutil.Error:
        return []


def _server_command(port: int, home: Path) -> list[str]:
    return [
        sys.executable, "-m", "mlflow", "server",
        "--host", HOST,
        "--port", str(port),
        "--workers", "1",
        "--backend-store-uri", f"sqlite:///{home / 'mlflow.db'}",
        "--artifacts-destination", str(home / "artifacts"),
    ]  # fmt: skip


def _server_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("MLFLOW_TRACKING_URI", None)
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"  # no job runner: 2 processes, not 16
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env.setdefault("MLFLOW_ALLOW_FILE_STORE", "false")
    # The server may shell out to tools installed beside this Python (uvicorn).
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def _start(home: Path, attempts: int = 3, *, tied: bool = False) -> ServerInfo:
    from mlops_course.proc import die_with_parent

    artifacts = home / "artifacts"
    if not (home / "mlflow.db").exists() and artifacts.is_dir() and any(artifacts.iterdir()):
        raise ServerError(
            f"The course's database {home / 'mlflow.db'} is missing, but its artifacts are "
            f"still in {artifacts}: a new empty database would orphan them. Put the database "
            "back (from a backup), or start afresh with `make clean` (this deletes every run)."
        )

    log_path = home / LOG_FILE
    last_error = ""
    for attempt in range(attempts):
        port = (_last_port(home) if attempt == 0 else None) or free_port()
        with open(log_path, "ab") as log:
            log.write(f"\n--- mlops-course starting mlflow server on port {port}\n".encode())
            log.flush()
            proc = subprocess.Popen(
                _server_command(port, home),
                cwd=home,
                env=_server_env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends it and its workers
                preexec_fn=die_with_parent if tied else None,
            )
        uri = f"http://{HOST}:{port}"
        if _wait_healthy(uri, proc.pid, timeout=START_TIMEOUT, proc=proc):
            info = ServerInfo(
                uri=uri, pid=proc.pid, port=port, home=str(home), started=True,
                started_at=time.time(),
            )  # fmt: skip
            _write_state(home, info)
            with contextlib.suppress(OSError):
                (home / PORT_FILE).write_text(f"{port}\n")
            return info
        last_lines = tail(log_path)
        _terminate(proc.pid)
        proc.wait(timeout=10)
        if "address already in use" in last_lines.lower():
            last_error = f"port {port} was taken by another program; trying another port"
            continue  # the port was taken between our check and the server's bind
        last_error = last_lines
        break
    raise ServerError(
        "The local MLflow server did not start. Last lines of "
        f"{log_path}:\n{last_error}\nFix what it says, then run `mlops-course server start`."
    )


def _wait_healthy(
    uri: str, pid: int | None, *, timeout: float, proc: subprocess.Popen | None = None
) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False  # exited (an MLflow server on a taken port exits with code 0)
        if proc is None and pid and not _pid_alive(pid):
            return False
        if is_healthy(uri, timeout=1):
            return True
        time.sleep(0.2)
    return False


def _terminate(pid: int | None, timeout: float = 10.0) -> None:
    """Stop a server we started and everything under it: its process group when it leads one
    (``start_new_session``), and its children found by parentage (a worker survives its
    parent's SIGKILL otherwise)."""
    import psutil

    if not pid:
        return
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        procs = []
    with contextlib.suppress(OSError):
        if os.getpgid(pid) == pid and pid != os.getpgrp():
            os.killpg(pid, signal.SIGTERM)
    _stop_processes(procs, timeout=timeout)


def _stop_processes(procs: list, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL whatever is still alive after ``timeout`` seconds."""
    import psutil

    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.terminate()
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(alive, timeout=5)


def stop(home: Path | None = None) -> str:
    """Stop the course home's server (and any survivor serving its database) if it runs;
    returns what happened, in words. A recorded PID that is not this home's server is never
    touched: the message starts with "Refused"."""
    home = home or course_home()
    with _locked(home):
        info, verdict = status(home)
        survivors = home_processes(home)
        if verdict.startswith("foreign") and info is not None:
            _state_path(home).unlink(missing_ok=True)
            _stop_processes(survivors)
            return (
                f"Refused to stop PID {info.pid}: {verdict.split(': ', 1)[1]}. Removed the "
                "record of this home; that process was left alone."
            )
        if info is None and not survivors:
            return "No course server was running."
        if verdict.startswith("stale"):
            _state_path(home).unlink(missing_ok=True)
            return f"Removed a stale record ({verdict})."
        if info is not None and info.pid and (verdict == "running" or "unhealthy" in verdict):
            _terminate(info.pid)
        _stop_processes(home_processes(home))
        _state_path(home).unlink(missing_ok=True)
        if info is None or verdict.startswith("orphaned"):
            return f"Stopped what was left of this home's MLflow server ({verdict})."
        return f"Stopped the MLflow server at {info.uri} (PID {info.pid})."


def write_probe(uri: str, timeout: float = 10.0) -> str | None:
    """None when the server can write to its database, else what is wrong (a read-only or
    vanished SQLite file answers writes with a server error). Writes one tag on the Default
    experiment; creates nothing."""
    try:
        response = requests.post(
            uri.rstrip("/") + "/api/2.0/mlflow/experiments/set-experiment-tag",
            json={"experiment_id": "0", "key": "mlops_course.write_probe", "value": "ok"},
            timeout=timeout,
        )
    except requests.RequestException as exc:
        return f"{uri} does not answer ({type(exc).__name__})"
    if response.status_code >= 500:
        detail = response.text[:200].replace("\n", " ")
        return f"{uri} cannot write to its database ({detail})"
    return None
