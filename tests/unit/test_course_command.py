"""`make course` runs `mlops-course course`: both servers up, Ctrl-C leaves no process behind."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import psutil
import requests


def test_course_starts_mlflow_and_jupyterlab_and_ctrl_c_stops_both(tmp_path):
    env = dict(os.environ, MLOPS_COURSE_HOME=str(tmp_path / "home"))
    env.pop("MLFLOW_TRACKING_URI", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlops_course.cli", "course", "--no-browser"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("JupyterLab:"):
                break
        out = "".join(lines)
        mlflow_uri = re.search(r"MLflow:\s+(http://127\.0\.0\.1:\d+)", out)[1]
        lab_url = re.search(r"JupyterLab: (http://127\.0\.0\.1:\d+/lab\?token=\w+)", out)[1]
        server_pid = json.loads((tmp_path / "home" / "server.json").read_text())["pid"]
        assert requests.get(mlflow_uri + "/health", timeout=5).status_code == 200
        deadline = time.monotonic() + 90
        while True:  # JupyterLab takes a few seconds to listen
            try:
                if requests.get(lab_url, timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "JupyterLab never answered"
            time.sleep(0.5)
        lab_pids = [
            p.pid for p in psutil.process_iter(["cmdline"])
            if "jupyterlab" in " ".join(p.info["cmdline"] or []) and lab_url.split("token=")[1] in " ".join(p.info["cmdline"] or [])
        ]  # fmt: skip
        assert lab_pids
        proc.send_signal(signal.SIGINT)  # what Ctrl-C does
        rest = proc.communicate(timeout=60)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, rest
    assert "Stopped the MLflow server" in rest
    time.sleep(0.5)
    for pid in [server_pid, *lab_pids]:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
