"""Real servers for tests, benchmarks and notebooks, and a load test to hit them with.

* :class:`BackgroundServer`: a real uvicorn server for an ASGI app, in a thread, on a free
  127.0.0.1 port, ready when the ``with`` block starts.
* :func:`mlflow_scoring_server`: MLflow's own ``mlflow models serve`` as a subprocess.
* :func:`load_test` (also ``python -m mlops_course.serving_harness URL PATH PAYLOAD CLIENTS
  SECONDS``): concurrent keep-alive clients for a bounded time, latencies and statuses counted.

Nothing runs at import time.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from mlops_course.proc import free_port, stop_group

__all__ = ["BackgroundServer", "free_port", "load_test", "mlflow_scoring_server", "venv_env"]


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
    """``python -m mlops_course.serving_harness URL PATH PAYLOAD_JSON CLIENTS SECONDS``: run
    :func:`load_test` from another process and print its result as JSON."""
    url, path, payload, clients, seconds = (argv or sys.argv[1:])[:5]
    print(
        json.dumps(
            load_test(url, path, json.loads(payload), clients=int(clients), seconds=float(seconds))
        )
    )


if __name__ == "__main__":
    _load_test_main()
