"""``mlops-course grade`` and ``mlops-course progress``."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("grade", help="grade exercises and print the scoreboard")
    p.add_argument("ids", nargs="*", metavar="ID", help="exercise ids (e.g. 1.1 1.2); default all")
    p.add_argument("--target", help="exercises (default), solutions, or a folder of modules")
    p.add_argument("--timeout", type=float, help="seconds allowed per test (default 120)")
    p.add_argument("--report", type=Path, help="JSON report path (default .mlops-course/reports/)")
    p.add_argument("--junit", type=Path, help="also write JUnit XML here")
    p.add_argument("--quiet", action="store_true", help="only the summary line")
    p.set_defaults(func=run_grade)

    p = sub.add_parser("progress", help="show which exercises are done, from your reports")
    p.set_defaults(func=run_progress)

    p = sub.add_parser("gradebook", help="(instructors) many learners' reports -> one CSV")
    p.add_argument("reports", nargs="+", type=Path, help="JSON reports (e.g. reports/*.json)")
    p.add_argument("--output", type=Path, default=Path("gradebook.csv"), help="CSV to write")
    p.add_argument("--plot", type=Path, help="also save a pass-rate bar chart (PNG) here")
    p.set_defaults(func=run_gradebook)


def run_grade(args) -> int:
    from rich.console import Console

    from mlops_course.grading import report as report_mod
    from mlops_course.grading.runner import GradingError, default_report_path, grade

    console = Console()
    try:
        with console.status("Grading…"):
            report = grade(args.ids, target=args.target, timeout=args.timeout)
    except GradingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    path = report_mod.write_json(report, args.report or default_report_path())
    if args.junit:
        report_mod.write_junit(report, args.junit)
    if not args.quiet:
        console.print(report_mod.scoreboard(report))
    s = report["summary"]
    code = report_mod.exit_code(report)
    console.print(f"{s['points']:g}/{s['max_points']:g} points · report: {path}", highlight=False)
    if code == 2:
        console.print(
            "[yellow]MLflow is not reachable: run `mlops-course server start` "
            "(or check MLFLOW_TRACKING_URI), then grade again.[/]"
        )
    return code


def run_progress(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from mlops_course.grading.catalog import catalog
    from mlops_course.grading.report import STATUS_STYLE
    from mlops_course.paths import course_home

    latest: dict[str, tuple[str, dict]] = {}
    for path in sorted((course_home() / "reports").glob("*.json")):
        try:
            report = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if report.get("schema") != 1 or report.get("target") not in (None, "exercises"):
            continue  # progress is about the learner's own work
        for ex in report.get("exercises", []):
            if report["created"] >= latest.get(ex["id"], ("", {}))[0]:
                latest[ex["id"]] = (report["created"], ex)
    table = Table(title="Your progress")
    for col in ("Exercise", "Title", "Module", "Status", "Points", "Last graded"):
        table.add_column(col)
    done = 0
    known = catalog()
    for ex_id, ex in known.items():
        when, entry = latest.get(ex_id, ("", None))
        status = entry["status"] if entry else "not graded yet"
        done += status == "passed"
        label, style = STATUS_STYLE.get(status, (status, "dim"))
        points = f"{entry['points']:g}/{entry['max_points']:g}" if entry else ""
        table.add_row(ex_id, ex.title, ex.module, f"[{style}]{label}[/]", points, when[:16])
    console = Console()
    console.print(table)
    console.print(f"{done}/{len(known)} exercises done. Grade with `mlops-course grade`.")
    return 0


def run_gradebook(args) -> int:
    from mlops_course.grading.gradebook import gradebook, load_reports, pass_rate_figure

    latest, skipped = load_reports(args.reports)
    for line in skipped:
        print(f"skipped {line}", file=sys.stderr)
    if latest.empty:
        print("error: no readable schema-1 report among the files given.", file=sys.stderr)
        return 2
    table = gradebook(latest)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.output, index=False)
    print(f"{len(table)} students, {latest['exercise'].nunique()} exercises -> {args.output}")
    if args.plot:
        pass_rate_figure(latest).savefig(args.plot, dpi=120)
        print(f"pass-rate plot -> {args.plot}")
    return 0
