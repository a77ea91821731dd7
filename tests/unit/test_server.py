"""The course's local MLflow server: start, reuse, stale records, taken ports, stop."""

from __future__ import annotations

import json
import os
import socket

import pytest
import requests

from mlops_course import server


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    yield tmp_path
    server.stop(tmp_path)


def test_start_reuse_status_stop(home):
    info = server.ensure_server(home)
    assert info.started and info.uri.startswith("http://127.0.0.1:")
    assert requests.get(info.uri + "/health", timeout=5).status_code == 200
    state = json.loads((home / "server.json").read_text())
    assert state["pid"] == info.pid and state["uri"] == info.uri
    assert (home / "mlflow.db").exists()

    again = server.ensure_server(home)  # reused, not a second server
    assert again.pid == info.pid and not again.started
    assert server.status(home)[1] == "running"

    assert "Stopped" in server.stop(home)
    assert not server._pid_alive(info.pid)
    assert server.status(home) == (None, "not running")
    assert "No course server" in server.stop(home)


def test_stale_record_is_replaced(home):
    (home / "server.json").write_text(
        json.dumps({"uri": "http://127.0.0.1:9", "pid": 999_999, "port": 9})
    )
    info, verdict = server.status(home)
    assert verdict.startswith("stale")
    fresh = server.ensure_server(home)
    assert fresh.started and fresh.pid != 999_999 and server.is_healthy(fresh.uri)


def test_garbage_record_is_ignored(home):
    (home / "server.json").write_text("{not json")
    assert server.status(home) == (None, "not running")


def test_a_taken_port_is_never_used(home, monkeypatch):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    ports = iter([port])
    real_free_port = server.free_port
    monkeypatch.setattr(server, "free_port", lambda: next(ports, None) or real_free_port())
    try:
        info = server.ensure_server(home)
    finally:
        taken.close()
    assert info.port != port and server.is_healthy(info.uri)
    assert "address already in use" in (home / "server.log").read_text().lower()


def test_env_tracking_uri_wins_and_starts_nothing(home, monkeypatch, mlflow_tracking_uri):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_tracking_uri)
    info = server.ensure_server(home)
    assert info.external and info.uri == mlflow_tracking_uri and info.pid is None
    assert not (home / "server.json").exists()


def test_unreachable_env_server_says_what_to_do(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    with pytest.raises(server.ServerError, match="unset MLFLOW_TRACKING_URI"):
        server.ensure_server()


def test_server_is_lean(home):
    import psutil

    info = server.ensure_server(home)
    proc = psutil.Process(info.pid)
    cmd = proc.cmdline()
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--workers") + 1] == "1"
    assert len(proc.children(recursive=True)) <= 2, "one worker, no job runner"
    assert os.getpgid(info.pid) == info.pid, "own process group, so stop() ends all of it"
