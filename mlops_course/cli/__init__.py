"""The ``mlops-course`` command: one thin module per command group (parse, call, print).

Each module in this package with a ``register(subparsers)`` function is a command group; they
reach graded logic only through :mod:`mlops_course.target` (the reference tools use the
``solutions`` target).

One error path for all of them (:mod:`mlops_course.cli.args`): a parsing mistake, bad input or
an error a command raises is one line on stderr (``error: ...``) and exit code 2, never a
traceback (``MLOPS_COURSE_DEBUG=1`` shows it).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING

from mlops_course.cli.args import CliError, CourseArgumentParser, dispatch, fail

if TYPE_CHECKING:
    from types import ModuleType

# Modules in course order, named by lifecycle stage (each registers its commands: `serving`
# registers `serve`, `validation` registers `validate`...); a module not written yet is not offered.
GROUPS = (
    "course", "server", "workshop", "grade", "doctor", "author",
    "tracking", "registry", "serving", "serving_predict", "validation", "monitoring",
)  # fmt: skip


def _groups() -> Iterator[ModuleType]:
    for name in GROUPS:
        qualified = f"{__name__}.{name}"
        try:
            yield importlib.import_module(qualified)
        except ModuleNotFoundError as exc:
            if exc.name != qualified:
                raise  # a real missing dependency inside the module: do not hide it


def build_parser() -> argparse.ArgumentParser:
    parser = CourseArgumentParser(
        prog="mlops-course",
        description="The MLOps course: local MLflow server, grading and reference tools.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in _groups():
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    # MLflow prints "View run ... at ..." links to stdout; a command's output is ours (--json).
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except CliError as exc:
        return fail(exc)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return dispatch(args.func, args)


if __name__ == "__main__":
    sys.exit(main())
