"""The grading report: a versioned JSON document, a scoreboard, and JUnit XML on request.

Schema 1::

    {"schema": 1, "created": ISO-8601, "student": str, "target": str, "tracking_uri": str,
     "summary": {"points", "max_points", "passed", "tests", "status"},
     "exercises": [{"id", "title", "points", "max_points", "status",
                    "tests": [{"name", "outcome", "points", "max_points", "message", "hint",
                               "duration"}]}]}
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from xml.etree import ElementTree as ET

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
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


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
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
    return path


def scoreboard(report: dict, *, messages: bool = True):
    """A rich Table: exercise, title, points, status, and the hint of each failed check."""
    from rich.table import Table
    from rich.text import Text

    s = report["summary"]
    table = Table(
        title=f"mlops-course · {report['student']} · target {report['target']}",
        caption=f"{_fmt(s['points'])} / {_fmt(s['max_points'])} points · "
        f"{s['passed']}/{s['tests']} checks passed",
        show_lines=True,
    )
    table.add_column("Exercise", no_wrap=True)
    table.add_column("Title")
    table.add_column("Points", justify="right", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("What to do")
    for ex in report["exercises"]:
        label, style = STATUS_STYLE.get(ex["status"], (ex["status"], ""))
        table.add_row(
            ex["id"],
            ex["title"],
            f"{_fmt(ex['points'])}/{_fmt(ex['max_points'])}",
            Text(label, style=style),
            Text(advice(ex, messages=messages)),
        )
    return table


def advice(ex: dict, *, messages: bool = True, limit: int = 600) -> str:
    """What a learner should do next for one exercise, from its failed checks."""
    if ex["status"] == "passed":
        return ""
    if ex["status"] == "not_started":
        return f'Write the function in exercises/, then run check("{ex["id"]}").'
    by_hint: dict[str, list[dict]] = {}
    for t in ex["tests"]:
        if t["outcome"] != "passed":
            by_hint.setdefault(t["hint"] or t["name"], []).append(t)
    lines = []
    for hint, failed in by_hint.items():
        line = f"• {hint}"
        first = failed[0]["message"].strip().splitlines() if messages else []
        if first:
            line += f"\n  {first[0][:200]}"
            line += "".join(f"\n  {ln[:200]}" for ln in first[1:] if ln.strip().startswith("(at "))
        if len(failed) > 1:
            line += f"\n  (and {len(failed) - 1} more check(s) with this hint)"
        lines.append(line)
    text = "\n".join(dict.fromkeys(lines))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fmt(x: float) -> str:
    return f"{x:g}"
