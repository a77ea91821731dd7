"""``mlops-course doctor``: check the environment, `[ OK ]`/`[FAIL]` with the fix."""

from __future__ import annotations

import argparse

from mlops_course.cli.args import Subparsers


def register(sub: Subparsers) -> None:
    p = sub.add_parser("doctor", help="check Python, packages, disk and the MLflow server")
    p.add_argument("--no-server", action="store_true", help="skip the server check")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mlops_course.doctor import run_checks

    checks = run_checks(server=not args.no_server)
    for c in checks:
        print(c.line())
    failed = sum(not c.ok for c in checks)
    print(
        "All good: you are ready for the course." if not failed else f"{failed} problem(s) to fix."
    )
    return 0 if not failed else 1
