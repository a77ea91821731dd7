"""``mlops-course author exercises|notebooks [--check]`` and ``mlops-course reset ID``."""

from __future__ import annotations

import argparse
import sys

from mlops_course.cli.args import CliError, Subparsers


def register(sub: Subparsers) -> None:
    p = sub.add_parser("author", help="(course authors) regenerate exercises/ or notebooks/")
    p.add_argument("what", choices=["exercises", "notebooks"])
    p.add_argument("--check", action="store_true", help="only report drift; exit 1 if any")
    p.add_argument(
        "only", nargs="*", metavar="NN", help="notebooks only: just these (e.g. 05); default all"
    )
    p.set_defaults(func=run_author)

    p = sub.add_parser("reset", help="start an exercise again (your file is backed up first)")
    p.add_argument("id", help="exercise id, e.g. 1.2")
    p.set_defaults(func=run_reset)


def _cannot_write(exc: OSError, what: str) -> CliError:
    where = exc.filename or what
    return CliError(
        f"cannot write {where} ({exc.strerror or exc}): make {what} a folder you can write to "
        f"(e.g. `chmod u+w {what}`) and run again; your edited files are backed up before any "
        "change."
    )


def run_author(args: argparse.Namespace) -> int:
    from mlops_course import authoring

    if args.only and args.what != "notebooks":
        raise CliError("only `author notebooks` takes notebook numbers (e.g. 05).")
    try:
        if args.what == "exercises":
            results = authoring.sync_exercises(check=args.check)
        else:
            results = authoring.sync_notebooks(check=args.check, only=args.only)
    except OSError as exc:
        raise _cannot_write(exc, f"{args.what}/") from exc
    bad = 0
    for r in results:
        extra = f" (backup: {r.backup.name})" if r.backup else ""
        print(f"{r.path.relative_to(r.path.parent.parent)}: {r.status}{extra}")
        bad += r.status in ("out of sync", "no source")
    if bad and args.check:
        print(f"{bad} file(s) out of sync: run `make {args.what}`.", file=sys.stderr)
        return 1
    return 0


def run_reset(args: argparse.Namespace) -> int:
    from mlops_course import authoring

    try:
        path, backup = authoring.reset_exercise(args.id)
    except KeyError as exc:
        raise CliError(exc.args[0]) from exc
    except OSError as exc:
        raise _cannot_write(exc, "exercises/") from exc
    print(f"Exercise {args.id} is a fresh stub again in {path}.")
    if backup != path:
        print(f"Your previous file is kept as {backup}.")
    return 0
