"""`make course` runs `mlops-course course`: both servers up, JupyterLab is the learner's editor
(the repository root, opened on notebooks/, solutions hidden), and Ctrl-C, SIGTERM or a closed
terminal (SIGHUP) leave no process behind."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import psutil
import pytest
import requests


def _start_course(tmp_path, *extra):
    env = dict(os.environ, MLOPS_COURSE_HOME=str(tmp_path / "home"))
    env.pop("MLFLOW_TRACKING_URI", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlops_course.cli", "course", "--no-browser", *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith(("JupyterLab:", "error:")):
            break
    return proc, "".join(lines)


def _wait_for(url: str, timeout: float = 90) -> requests.Response:
    deadline = time.monotonic() + timeout
    while True:  # JupyterLab takes a few seconds to listen
        try:
            response = requests.get(url, timeout=5)
            if response.status_code == 200:
                return response
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, f"{url} never answered"
        time.sleep(0.5)


@pytest.mark.parametrize("stop_signal", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_course_starts_mlflow_and_jupyterlab_and_a_signal_stops_both(tmp_path, stop_signal):
    proc, out = _start_course(tmp_path)
    try:
        mlflow_uri = re.search(r"MLflow:\s+(http://127\.0\.0\.1:\d+)", out)[1]
        lab = re.search(
            r"JupyterLab: (http://127\.0\.0\.1:\d+)/lab/tree/notebooks/00_setup_and_tour\.ipynb"
            r"\?token=(\w+)",
            out,
        )
        assert lab, out
        base, token = lab[1], lab[2]
        server_pid = json.loads((tmp_path / "home" / "server.json").read_text())["pid"]
        assert requests.get(mlflow_uri + "/health", timeout=5).status_code == 200
        _wait_for(f"{base}/lab?token={token}")
        lab_pids = [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
        assert lab_pids
        for pid in lab_pids:  # the token is a secret: never on a command line
            assert token not in " ".join(psutil.Process(pid).cmdline())
        if stop_signal == "SIGINT":
            api = f"{base}/api/contents"
            headers = {"Authorization": f"token {token}"}
            exercise = requests.get(f"{api}/exercises/tracking.py", headers=headers, timeout=10)
            assert exercise.status_code == 200, "exercises/ must open in JupyterLab's editor"
            assert "NotImplementedError" in exercise.json()["content"]
            listing = requests.get(api, headers=headers, timeout=10).json()["content"]
            names = {entry["name"] for entry in listing}
            assert {"notebooks", "exercises", "README.md"} <= names
            assert not names & {"solutions", "tests", "authors", "mlops_course", "bench"}, names
        proc.send_signal(getattr(signal, stop_signal))
        rest = proc.communicate(timeout=60)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, rest
    assert "Stopped the MLflow server" in rest
    time.sleep(0.5)
    for pid in [server_pid, *lab_pids]:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_course_refuses_a_busy_port_before_starting_anything(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc, out = _start_course(tmp_path, "--port", str(port))
        rest = proc.communicate(timeout=60)[0]
    assert proc.returncode == 2
    assert f"port {port} is in use" in out + rest
    assert "Traceback" not in out + rest
    assert not (tmp_path / "home" / "server.json").exists(), "nothing may start"
