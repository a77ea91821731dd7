"""``mlops-course course``: the local MLflow server and JupyterLab, together; Ctrl-C stops both.

JupyterLab serves the repository root, so ``exercises/*.py`` open in its editor beside the
notebooks, and opens on ``notebooks/``. Its file browser lists only what a learner uses (the
notebooks, ``exercises/``, the README): the reference solutions, tests and authoring sources are
hidden from the listing. Its terminals get the course's virtualenv on ``PATH``, so every command
a notebook prints (``mlops-course grade 1.1``) works as printed. The token travels through the
environment, never the command line (``ps`` shows command lines to every local user).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

from mlops_course.cli.args import Subparsers, port


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "course", help="start the MLflow server and JupyterLab (what `make course` runs)"
    )
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("--port", type=port, help="JupyterLab port (default: a free one)")
    p.set_defaults(func=run)


FIRST_NOTEBOOK = "notebooks/00_setup_and_tour.ipynb"
# What the learner does not use, hidden from JupyterLab's file browser (still on disk).
HIDDEN_FROM_LEARNERS = [
    "__pycache__", "*.pyc", "*.pyo", ".DS_Store", "*~",  # JupyterLab's own defaults
    "solutions", "tests", "bench", "authors", "mlops_course", "build", "*.egg-info",
    "Makefile", "pyproject.toml", "environment.yml",
]  # fmt: skip


def lab_command(port: int, root: Path, *, no_browser: bool) -> list[str]:
    """The JupyterLab command line (no secret in it: the token is passed in JUPYTER_TOKEN)."""
    cmd = [
        sys.executable, "-m", "jupyterlab",
        "--ip", "127.0.0.1", "--port", str(port),
        "--ServerApp.port_retries=0",  # the port we print is the port it binds, or it fails
        f"--ServerApp.root_dir={root}",
        f"--LabApp.default_url=/lab/tree/{FIRST_NOTEBOOK}",
        f"--ContentsManager.hide_globs={json.dumps(HIDDEN_FROM_LEARNERS)}",
        # Jupytext is for authors: without its contents manager a .py file is plain text, so
        # exercises/*.py open and save in the editor exactly as they are on disk.
        "--ServerApp.jpserver_extensions=jupyterlab_jupytext=False",
        "--LabApp.news_url=None",  # offline after install: no "Jupyter news?" prompt
    ]  # fmt: skip
    if no_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers and CI machines often run as root
    return cmd


def run(args: argparse.Namespace) -> int:
    from mlops_course import server
    from mlops_course.paths import repo_root
    from mlops_course.proc import die_with_parent, stop_group, stop_on_hangup

    if args.port and not server.port_is_free(args.port):
        print(
            f"error: port {args.port} is in use on 127.0.0.1; choose another with --port, "
            "or leave it out to take a free one.",
            file=sys.stderr,
        )
        return 2
    stop_on_hangup()  # SIGTERM and a closed terminal stop everything, as Ctrl-C does
    try:
        info = server.ensure_server(tied=True)
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
    env = dict(
        os.environ,
        PATH=bindir + os.pathsep + os.environ.get("PATH", ""),
        VIRTUAL_ENV=str(Path(sys.prefix)),
        JUPYTER_TOKEN=token,
    )
    cmd = lab_command(port, repo_root(), no_browser=args.no_browser)
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
            preexec_fn=die_with_parent,  # even a SIGKILL of this process ends JupyterLab
        )
    print(f"JupyterLab: http://127.0.0.1:{port}/lab/tree/{FIRST_NOTEBOOK}?token={token}")
    print(
        "Start with 00_setup_and_tour.ipynb; your exercises are in exercises/ (left sidebar). "
        "Press Ctrl-C here to stop "
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
