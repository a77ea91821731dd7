"""The ``mlops-course`` command: one thin module per command group (parse, call, print)."""

from __future__ import annotations

import argparse
import sys

from mlops_course.cli import author, course, doctor, grade, server

GROUPS = (course, server, grade, doctor, author)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlops-course",
        description="The MLOps course: local MLflow server, grading and reference tools.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
