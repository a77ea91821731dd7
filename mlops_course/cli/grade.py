"""``mlops-course grade``, ``progress``, ``clean`` and (for instructors) ``gradebook``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_course.cli.args import (
    CliError,
    Subparsers,
    input_file,
    one_line,
    output_file,
    positive_float,
)

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console


def register(sub: Subparsers) -> None:
    p = sub.add_parser("grade", help="grade exercises and print the scoreboard")
    p.add_argument("ids", nargs="*", metavar="ID", help="exercise ids (e.g. 1.1 1.2); default all")
    p.add_argument("--target", help="exercises (default), solutions, or a folder of modules")
    p.add_argument("--timeout", type=positive_float, help="seconds allowed per test (default 120)")
    p.add_argument(
        "--report", type=output_file, help="JSON report path (default .mlops-course/reports/)"
    )
    p.add_argument("--junit", type=output_file, help="also write JUnit XML here")
    p.add_argument("--quiet", action="store_true", help="only the summary line")
    p.add_argument(
        "--verbose", "-v", action="store_true", help="add each failed check's full assertion"
    )
    p.add_argument(
        "--hints",
        choices=("escalate", "all"),
        default="escalate",
        help="escalate (default): one hint level per failure of a check, closer each time; "
        "all: every level now",
    )
    p.add_argument(
        "--submit",
        action="store_true",
        help="also send the report to the tracking server (a workshop's: your submissions "
        "experiment, where the instructor's gradebook reads it)",
    )
    p.set_defaults(func=run_grade)

    p = sub.add_parser("progress", help="show which exercises are done, from your reports")
    p.set_defaults(func=run_progress)

    p = sub.add_parser("clean", help="remove what grading left in MLflow (never your own work)")
    p.add_argument(
        "--all", action="store_true", help="also delete your grading reports (asks first)"
    )
    p.add_argument("--yes", "-y", action="store_true", help="do not ask")
    p.set_defaults(func=run_clean)

    p = sub.add_parser("gradebook", help="(instructors) many learners' reports -> one CSV")
    p.add_argument("reports", nargs="*", type=Path, help="JSON reports (e.g. reports/*.json)")
    p.add_argument(
        "--server",
        action="store_true",
        help="read the class's submitted reports from the tracking server instead of files",
    )
    p.add_argument(
        "--env",
        type=input_file,
        metavar="FILE",
        help="with --server: the connection to use (a workshop's admin.env)",
    )
    p.add_argument("--output", type=output_file, default=Path("gradebook.csv"), help="CSV to write")
    p.add_argument("--plot", type=output_file, help="also save a pass-rate bar chart (PNG) here")
    p.set_defaults(func=run_gradebook)


def run_grade(args: argparse.Namespace) -> int:
    from rich.console import Console

    from mlops_course.grading import report as report_mod
    from mlops_course.grading.runner import GradingError, grade

    console = Console()
    try:
        with console.status("Grading…") as status:

            def note(text: str) -> None:
                status.console.print(text, style="cyan", highlight=False)

            report = grade(
                args.ids, target=args.target, timeout=args.timeout, verbose=args.verbose,
                on_note=note, hints=args.hints,
            )  # fmt: skip
    except GradingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        if args.report:
            path = report_mod.write_json(report, args.report)
        else:
            path = report_mod.save(report)
        if args.junit:
            report_mod.write_junit(report, args.junit)
    except OSError as exc:
        print(f"error: could not write the report: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        console.print(report_mod.scoreboard(report))
    s = report["summary"]
    code = report_mod.exit_code(report)
    console.print(f"{s['points']:g}/{s['max_points']:g} points · report: {path}", highlight=False)
    if args.submit and code != 2:
        return _submit(report, console) or code
    if code == 2:
        console.print(
            "[yellow]MLflow is not reachable: run `mlops-course server start` "
            "(or check MLFLOW_TRACKING_URI), then grade again.[/]"
        )
    return code


def _submit(report: dict, console: Console) -> int:
    """Send the report to the server; 0 when it is there, 2 (one line) when it is not."""
    from mlflow.exceptions import MlflowException

    from mlops_course.grading.submissions import submit

    uri = report.get("tracking_uri")
    if not uri or not str(uri).startswith(("http://", "https://")):
        print("error: --submit needs a tracking server; none was reached.", file=sys.stderr)
        return 2
    try:
        run_id, experiment = submit(report, uri)
    except MlflowException as exc:
        print(
            f"error: the report was not submitted ({one_line(exc, 200)}); it is kept locally: "
            "grade again with --submit.",
            file=sys.stderr,
        )
        return 2
    console.print(f"Submitted to {experiment} (run {run_id}) at {uri}.", highlight=False)
    return 0


def run_progress(args: argparse.Namespace) -> int:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from mlops_course.grading.catalog import catalog
    from mlops_course.grading.report import STATUS_STYLE, reports_dir

    latest: dict[str, tuple[str, dict]] = {}
    for path in sorted(reports_dir().glob("*.json")):
        try:
            report = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if report.get("schema") != 1 or report.get("target") not in (None, "exercises"):
            continue  # progress is about the learner's own work
        for ex in report.get("exercises", []):
            if report["created"] >= latest.get(ex["id"], ("", {}))[0]:
                latest[ex["id"]] = (report["created"], ex)
    # One line per exercise, 80 columns: the title gives way, the numbers never do.
    table = Table(title="Your progress", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("ID", width=4, no_wrap=True)
    table.add_column("Title", width=29, no_wrap=True, overflow="ellipsis")
    table.add_column("Status", width=20, no_wrap=True)
    table.add_column("Points", width=6, justify="right", no_wrap=True)
    table.add_column("Graded", width=11, no_wrap=True)
    done = points = max_points = 0.0
    known = catalog()
    for ex_id, ex in known.items():
        when, entry = latest.get(ex_id, ("", None))
        status = entry["status"] if entry else "not graded yet"
        done += status == "passed"
        label, style = STATUS_STYLE.get(status, (status, "dim"))
        shown = f"{entry['points']:g}/{entry['max_points']:g}" if entry else ""
        if entry:
            points += entry["points"]
            max_points += entry["max_points"]
        table.add_row(ex_id, ex.title, f"[{style}]{label}[/]", shown, when[5:16].replace("T", " "))
    console = Console()
    console.print(table)
    console.print(
        f"{done:g}/{len(known)} exercises done · {points:g}/{max_points:g} points in what you "
        "graded. Grade with `mlops-course grade`.",
        highlight=False,
    )
    return 0


def run_clean(args: argparse.Namespace) -> int:
    from mlflow import MlflowClient

    from mlops_course import server
    from mlops_course.grading import debris
    from mlops_course.grading.report import reports_dir

    try:
        info = server.ensure_server()
    except server.ServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    removed = debris.remove(MlflowClient(info.uri))
    where = f"{debris.experiment_prefix()}… and {debris.model_prefix()}…"
    print(f"Removed {removed.describe()} left by grading ({where}) from {info.uri}.")
    print("Your own experiments and models were not touched.")
    if args.all:
        reports = sorted(reports_dir().glob("*.json"))
        if not reports:
            print("No grading reports to delete.")
            return 0
        if not args.yes:
            try:
                answer = input(
                    f"Also delete your {len(reports)} grading report(s) in {reports_dir()} "
                    "(`progress` starts from zero)? [y/N] "
                )
            except EOFError:  # no terminal to ask: the safe answer
                answer = ""
            if answer.strip().lower() not in ("y", "yes"):
                print("Reports kept.")
                return 0
        for path in reports:
            path.unlink(missing_ok=True)
        print(f"Deleted {len(reports)} grading report(s).")
    return 0


def run_gradebook(args: argparse.Namespace) -> int:
    from mlops_course.grading.gradebook import gradebook, load_reports, pass_rate_figure, write_csv

    if args.server == bool(args.reports):
        raise CliError("give report files, or --server to read the submitted ones (not both).")
    if args.env and not args.server:
        raise CliError("--env goes with --server.")
    if args.server:
        latest, skipped, source = _server_gradebook(args.env)
    else:
        latest, skipped = load_reports(args.reports)
        source = "the files given"
    for line in skipped:
        print(f"skipped {line}", file=sys.stderr)
    if latest.empty:
        print(f"error: no readable schema-1 report in {source}.", file=sys.stderr)
        return 2
    table = gradebook(latest)
    write_csv(table, args.output)
    print(f"{len(table)} students, {latest['exercise'].nunique()} exercises -> {args.output}")
    if args.plot:
        pass_rate_figure(latest).savefig(args.plot, dpi=120)
        print(f"pass-rate plot -> {args.plot}")
    return 0


def _server_gradebook(env_file: Path | None) -> tuple[pd.DataFrame, list[str], str]:
    """The submitted reports' latest rows, read with the ``env_file`` connection (or the
    current one)."""
    import contextlib

    from mlops_course.cli.args import no_artifact_progress_bars
    from mlops_course.grading.gradebook import collect
    from mlops_course.grading.submissions import server_reports
    from mlops_course.workshop import WorkshopError, read_env_file, using_env

    no_artifact_progress_bars()  # one line per class, not one bar per report
    values: dict[str, str] = {}
    if env_file:
        try:
            values = read_env_file(env_file)
        except WorkshopError as exc:
            raise CliError(str(exc)) from exc
    with using_env(values) if values else contextlib.nullcontext():
        from mlops_course.cli.args import course_tracking_uri

        uri = values.get("MLFLOW_TRACKING_URI") or course_tracking_uri()
        latest, skipped = collect(server_reports(uri))
    return latest, skipped, f"the submissions at {uri}"
