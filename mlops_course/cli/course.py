"""``mlops-course course``: the local MLflow server and JupyterLab, together; Ctrl-C stops both."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser(
        "course", help="start the MLflow server and JupyterLab (what `make course` runs)"
    )
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("--port", type=int, help="JupyterLab port (default: a free one)")
    p.set_defaults(func=run)


def run(args) -> int:
    from mlops_course import server
    from mlops_course.paths import repo_root
    from mlops_course.proc import stop_group

    try:
        info = server.ensure_server()
    except server.ServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if info.external:
        print(f"MLflow:     {info.uri}  (your MLFLOW_TRACKING_URI; no local server started)")
    else:
        state = "started" if info.started else "already running, reused"
        print(f"MLflow:     {info.uri}  ({state}, data in {info.home})")

    port = args.port or server.free_port()
    token = secrets.token_hex(16)
    bindir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    cmd = [
        sys.executable, "-m", "jupyterlab",
        "--ip", "127.0.0.1", "--port", str(port),
        f"--ServerApp.root_dir={repo_root() / 'notebooks'}",
        f"--IdentityProvider.token={token}",
    ] + (["--no-browser"] if args.no_browser else [])  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers and CI machines often run as root
    log_path = Path(info.home or repo_root() / ".mlops-course") / "jupyter.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        # Its own session: Ctrl-C reaches only us, and we shut Jupyter down without its prompt.
        lab = subprocess.Popen(
            cmd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    print(f"JupyterLab: http://127.0.0.1:{port}/lab?token={token}")
    print(
        "Start with 00_setup_and_tour.ipynb. Press Ctrl-C here to stop "
        + ("JupyterLab and the MLflow server." if info.started else "JupyterLab.")
    )
    print(f"(logs: {log_path})")
    try:
        while lab.poll() is None:
            time.sleep(0.5)
        print(f"JupyterLab exited (code {lab.returncode}); see {log_path}.")
    except KeyboardInterrupt:
        print("\nStopping…")
    finally:
        stop_group(lab, grace=15)
        if info.started:
            print(server.stop())
        elif not info.external:
            print(
                f"The MLflow server at {info.uri} was already running before; left running "
                "(`mlops-course server stop` stops it)."
            )
    return 0
