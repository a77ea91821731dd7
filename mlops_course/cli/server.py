"""``mlops-course server start|status|stop``."""

from __future__ import annotations

import argparse
import sys

from mlops_course import server
from mlops_course.cli.args import Subparsers


def register(sub: Subparsers) -> None:
    p = sub.add_parser("server", help="start, inspect or stop the course's local MLflow server")
    p.add_argument("action", choices=["start", "status", "stop"])
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "start":
        if server.env_tracking_uri():
            print(
                f"MLFLOW_TRACKING_URI is set ({server.env_tracking_uri()}): the course uses that "
                "server and starts none. `unset MLFLOW_TRACKING_URI` to use a local one."
            )
        try:
            info = server.ensure_server()
        except server.ServerError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        verb = "Started" if info.started else "Already running:"
        print(f"{verb} MLflow server at {info.uri}" + (f" (PID {info.pid})" if info.pid else ""))
        return 0
    if args.action == "status":
        if uri := server.env_tracking_uri():
            ok = server.is_healthy(uri)
            print(f"Using MLFLOW_TRACKING_URI={uri}: {'healthy' if ok else 'NOT reachable'}")
            return 0 if ok else 1
        found, verdict = server.status()
        where = f" at {found.uri} (PID {found.pid}, home {found.home})" if found else ""
        print(f"Course MLflow server: {verdict}{where}")
        if verdict != "running":
            print("Start it with `mlops-course server start`.")
        return 0 if verdict == "running" else 1
    message = server.stop()
    print(message)
    return 1 if message.startswith("Refused") else 0
