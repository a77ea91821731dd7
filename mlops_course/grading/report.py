"""The grading report: a versioned JSON document, a scoreboard, and JUnit XML on request.

Schema 1::

    {"schema": 1, "created": ISO-8601, "student": str, "target": str, "tracking_uri": str,
     "summary": {"points", "max_points", "passed", "tests", "status"},
     "exercises": [{"id", "title", "points", "max_points", "status",
                    "tests": [{"name", "outcome", "points", "max_points", "message", "hint",
                               "duration", "hints", "hint_level"}]}]}

``hints`` are a check's three levels (idea, where to look, nearly the code); ``hint`` is the one
this run shows and ``hint_level`` its number (or ``"all"``; see :mod:`hints`). Both keys were
added to schema 1; readers of older reports must not require them.
"""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path
from xml.etree import ElementTree as ET

from mlops_course.grading import hints as hints_mod

SCHEMA = 1
# Worst first: an exercise's status is its worst test outcome.
_SEVERITY = ["env_unavailable", "crashed", "timeout", "error", "failed", "not_started", "passed"]
STATUS_STYLE = {
    "passed": ("✔ passed", "green"),
    "failed": ("✘ failed", "red"),
    "not_started": ("· not started", "dim"),
    "timeout": ("⏱ timeout", "magenta"),
    "crashed": ("💥 crashed", "magenta"),
    "error": ("! error", "red"),
    "env_unavailable": ("⚠ MLflow unavailable", "yellow"),
}


def exercise_status(outcomes: list[str]) -> str:
    """One status for an exercise: passed when all passed, not_started when none was tried."""
    if not outcomes:
        return "not_started"
    if all(o == "passed" for o in outcomes):
        return "passed"
    if all(o == "not_started" for o in outcomes):
        return "not_started"
    failing = [o for o in outcomes if o not in ("passed", "not_started")]
    return min(failing or ["failed"], key=_SEVERITY.index)


def build(exercises: list[dict], *, student: str, target: str, tracking_uri: str | None) -> dict:
    """Assemble a schema-1 report from exercises whose ``tests`` are filled in."""
    for ex in exercises:
        ex["points"] = round(sum(t["points"] for t in ex["tests"]), 3)
        ex["max_points"] = round(sum(t["max_points"] for t in ex["tests"]), 3)
        ex["status"] = exercise_status([t["outcome"] for t in ex["tests"]])
    tests = [t for ex in exercises for t in ex["tests"]]
    statuses = [ex["status"] for ex in exercises]
    return {
        "schema": SCHEMA,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "student": student,
        "target": target,
        "tracking_uri": tracking_uri,
        "summary": {
            "points": round(sum(ex["points"] for ex in exercises), 3),
            "max_points": round(sum(ex["max_points"] for ex in exercises), 3),
            "passed": sum(t["outcome"] == "passed" for t in tests),
            "tests": len(tests),
            "status": exercise_status(statuses) if statuses else "error",
        },
        "exercises": exercises,
    }


def exit_code(report: dict) -> int:
    """0 all passed, 1 some failed, 2 environment error (MLflow unavailable, nothing to grade)."""
    outcomes = [t["outcome"] for ex in report["exercises"] for t in ex["tests"]]
    if not outcomes or "env_unavailable" in outcomes:
        return 2
    return 0 if all(o == "passed" for o in outcomes) else 1


def write_json(report: dict, path: Path) -> Path:
    """Write a report where the caller asked (its folder must exist), replacing atomically."""
    text = json.dumps(report, indent=2, ensure_ascii=False)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


KEEP_VAR = "MLOPS_COURSE_KEEP_REPORTS"
DEFAULT_KEEP = 20


def reports_dir() -> Path:
    from mlops_course.paths import course_home

    return course_home() / "reports"


def save(report: dict, folder: Path | None = None, *, keep: int | None = None) -> Path:
    """Save a report in the course's reports folder under a name of its own (two grades in the
    same second never collide), then keep only the newest ``keep`` reports of this learner
    (``MLOPS_COURSE_KEEP_REPORTS``, default 20; 0 keeps all)."""
    folder = folder or reports_dir()
    folder.mkdir(parents=True, exist_ok=True)
    student = report.get("student") or "learner"
    now = time.time()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + f"-{int(now % 1 * 1e6):06d}"
    text = json.dumps(report, indent=2, ensure_ascii=False)
    for n in range(1000):
        path = folder / f"grade-{student}-{stamp}{f'-{n}' if n else ''}.json"
        try:
            with open(path, "x", encoding="utf-8") as fh:  # never overwrite another report
                fh.write(text)
            break
        except FileExistsError:
            continue
    _prune(folder, student, keep)
    return path


def _prune(folder: Path, student: str, keep: int | None) -> None:
    if keep is None:
        try:
            keep = int(os.environ.get(KEEP_VAR, DEFAULT_KEEP))
        except ValueError:
            keep = DEFAULT_KEEP
    if keep <= 0:
        return
    mine = sorted(folder.glob(f"grade-{student}-*.json"))  # names sort by time
    for old in mine[:-keep]:
        old.unlink(missing_ok=True)


def write_junit(report: dict, path: Path) -> Path:
    """JUnit XML, one testsuite per exercise (for CI dashboards and LMS imports)."""
    suites = ET.Element("testsuites", name="mlops-course")
    for ex in report["exercises"]:
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"Exercise {ex['id']}: {ex['title']}",
            tests=str(len(ex["tests"])),
            failures=str(sum(t["outcome"] in ("failed", "not_started") for t in ex["tests"])),
            errors=str(sum(t["outcome"] not in ("passed", "failed", "not_started") for t in ex["tests"])),
        )  # fmt: skip
        for t in ex["tests"]:
            case = ET.SubElement(
                suite, "testcase", classname=f"exercise_{ex['id']}", name=t["name"],
                time=f"{t['duration']:.3f}",
            )  # fmt: skip
            if t["outcome"] in ("failed", "not_started"):
                ET.SubElement(case, "failure", message=t["outcome"]).text = t["message"]
            elif t["outcome"] != "passed":
                ET.SubElement(case, "error", message=t["outcome"]).text = t["message"]
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    ET.ElementTree(suites).write(tmp, encoding="utf-8", xml_declaration=True)
    tmp.replace(path)
    return path


def scoreboard(report: dict, *, messages: bool = True, notes: bool = True):
    """What a learner reads after a grade, complete at 80 columns (rich renderables).

    A summary table (exercise, title, points, status), then, for each exercise with a failed
    check: every failed check by its readable name, its hint in full (wrapped, never cut), the
    learner's value against the expected one, and where in their file it happened. A module
    that does not import is reported once, at the top. ``notes`` of the report (a server
    started, where a failed check's objects are kept in MLflow) come last.
    """
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    s = report["summary"]
    table = Table(
        title=f"mlops-course · {report['student']} · target {report['target']}",
        caption=f"{_fmt(s['points'])} / {_fmt(s['max_points'])} points · "
        f"{s['passed']}/{s['tests']} checks passed",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("Exercise", no_wrap=True)
    table.add_column("Title", overflow="fold")
    table.add_column("Points", justify="right", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    for ex in report["exercises"]:
        label, style = STATUS_STYLE.get(ex["status"], (ex["status"], ""))
        points = f"{_fmt(ex['points'])}/{_fmt(ex['max_points'])}"
        table.add_row(ex["id"], ex["title"], points, Text(label, style=style))
    parts: list = []
    broken = import_errors(report)
    for message in broken:
        parts.append(Text("Your file does not import; fix this first:", style="bold red"))
        parts.append(_indented(message, 2))
    parts.append(table)
    for ex in report["exercises"]:
        if ex["status"] not in ("passed", "not_started"):
            parts.extend(feedback(ex, messages=messages, imports_reported=bool(broken)))
    shown = [
        t
        for ex in report["exercises"]
        if ex["status"] not in ("passed", "not_started")
        for t in ex["tests"]
        if t["outcome"] != "passed" and t.get("hint")
    ]
    if any(
        isinstance(t.get("hint_level"), int) and t["hint_level"] < len(t["hints"]) for t in shown
    ):
        parts.append(
            Text(
                "A check that fails again shows a closer hint; `mlops-course grade --hints all "
                'ID` (or check(ID, hints="all")) shows every level now.',
                style="dim",
            )
        )
    waiting = [ex["id"] for ex in report["exercises"] if ex["status"] == "not_started"]
    if waiting and len(waiting) < len(report["exercises"]):
        parts.append(
            Text(
                f"Not started: {', '.join(waiting)}. Write the function in exercises/, then "
                f'check("{waiting[0]}").',
                style="dim",
            )
        )
    elif waiting:
        parts.append(
            Text(f'Write the function in exercises/, then run check("{waiting[0]}").', style="dim")
        )
    if notes:
        parts.extend(Text(note, style="cyan") for note in report.get("notes", []))
    return Group(*parts)


MESSAGE_LINES = 12  # of a failed check's message; `grade --verbose` shows everything


def feedback(ex: dict, *, messages: bool = True, imports_reported: bool = False) -> list:
    """The renderables explaining one exercise's failed checks (see :func:`scoreboard`)."""
    from rich.text import Text

    failed = [t for t in ex["tests"] if t["outcome"] != "passed"]
    label, style = STATUS_STYLE.get(ex["status"], (ex["status"], ""))
    parts: list = [
        Text(
            f"{ex['id']} {ex['title']}: {len(failed)} of {len(ex['tests'])} checks did not pass",
            style=f"bold {style}",
        )
    ]
    shown_hints: set[str] = set()
    for t in failed:
        mark = STATUS_STYLE.get(t["outcome"], (t["outcome"], ""))[0].split(" ")[0]
        parts.append(_indented(f"{mark} {t.get('title') or t['name']}", 2, style="bold"))
        if t.get("import_error") and imports_reported:
            parts.append(_indented("(your file does not import: see above)", 4))
            continue
        if t["hint"]:
            repeated = t["hint"] in shown_hints
            shown_hints.add(t["hint"])
            text = "same as above" if repeated else t["hint"]
            parts.append(_indented(f"{hints_mod.label(t)}: {text}", 4))
        if messages and t["message"].strip():
            lines = t["message"].strip().splitlines()
            if len(lines) > MESSAGE_LINES and not t.get("detail"):
                lines = lines[:MESSAGE_LINES] + [f"(more: mlops-course grade --verbose {ex['id']})"]
            parts.append(_indented("\n".join(lines), 4, style="yellow"))
        if t.get("detail"):
            parts.append(_indented(t["detail"], 4, style="dim"))
    return parts


def import_errors(report: dict) -> list[str]:
    """The distinct "does not import" messages of a report (each shown once, at the top)."""
    seen = [
        t["message"] for ex in report["exercises"] for t in ex["tests"] if t.get("import_error")
    ]
    return list(dict.fromkeys(seen))


def _indented(text: str, left: int, style: str = ""):
    from rich.padding import Padding
    from rich.text import Text

    return Padding(Text(text, style=style), (0, 0, 0, left))


def render(renderable, width: int = 80) -> str:
    """Plain text of a renderable at ``width`` columns (for tests and plain logs)."""
    from rich.console import Console

    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.export_text()


def _fmt(x: float) -> str:
    return f"{x:g}"
