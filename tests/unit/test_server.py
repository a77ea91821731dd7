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


# ---------------------------------------------------------------- a server knows its own home
def test_stop_refuses_a_pid_that_is_another_homes_server(home, tmp_path_factory):
    other = tmp_path_factory.mktemp("other-home")
    theirs = server.ensure_server(other)
    try:
        (home / "server.json").write_text(
            json.dumps({"uri": theirs.uri, "pid": theirs.pid, "port": theirs.port})
        )
        assert server.status(home)[1].startswith("foreign")
        message = server.stop(home)
        assert message.startswith("Refused") and str(theirs.pid) in message
        assert server.is_healthy(theirs.uri), "another home's server is never stopped"
    finally:
        server.stop(other)


def test_a_survivor_of_kill_9_is_adopted_never_doubled_and_stopped(home):
    import signal
    import time

    import psutil

    info = server.ensure_server(home)
    worker = psutil.Process(info.pid).children()[0]
    os.kill(info.pid, signal.SIGKILL)  # the uvicorn worker lives on, serving the database
    time.sleep(1)
    assert worker.is_running() and server.is_healthy(info.uri)
    assert server.status(home)[1].startswith("orphaned")
    again = server.ensure_server(home)
    assert not again.started and again.uri == info.uri, "adopted, not a second server"
    assert len(server.home_processes(home)) == 1
    assert "Stopped" in server.stop(home)
    assert not worker.is_running() or worker.status() == psutil.STATUS_ZOMBIE
    assert server.home_processes(home) == []


@pytest.mark.parametrize("garbage", ["", "{not json", "[]"])
def test_an_unreadable_record_never_starts_a_second_server(home, garbage):
    info = server.ensure_server(home)
    (home / "server.json").write_text(garbage)
    again = server.ensure_server(home)
    assert again.uri == info.uri and not again.started
    assert len(server.home_processes(home)) == 2, "one server: the mlflow process and its worker"


def test_a_database_that_cannot_be_written_is_env_unavailable(fake_course, monkeypatch):
    from mlops_course import doctor
    from mlops_course.grading import report as report_mod
    from mlops_course.grading.runner import grade
    from mlops_course.paths import course_home

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    info = server.ensure_server()
    try:
        assert server.write_probe(info.uri) is None
        (course_home() / "mlflow.db").unlink()  # SQLite now answers every write "readonly"
        assert "cannot write" in server.write_probe(info.uri)
        failed = [c for c in doctor.run_checks() if not c.ok]
        assert any("cannot write" in c.what for c in failed), [c.line() for c in failed]
        report = grade(target="solutions")
        assert report_mod.exit_code(report) == 2
        outcomes = {t["outcome"] for ex in report["exercises"] for t in ex["tests"]}
        assert "env_unavailable" in outcomes and "error" not in outcomes
    finally:
        server.stop()


def test_a_database_that_vanished_while_stopped_is_reported(home):
    server.ensure_server(home)
    (home / "artifacts" / "1").mkdir(parents=True, exist_ok=True)
    (home / "artifacts" / "1" / "model.pkl").write_bytes(b"x")
    server.stop(home)
    (home / "mlflow.db").unlink()
    with pytest.raises(server.ServerError, match="is missing"):
        server.ensure_server(home)
    assert not (home / "mlflow.db").exists(), "never silently recreated empty"
