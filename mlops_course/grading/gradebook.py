"""An instructor's gradebook: many learners' JSON reports -> one CSV (and a plot)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import cast

import pandas as pd

from mlops_course.grading.catalog import exercise_key

STUDENT = re.compile(r"^[a-z0-9][a-z0-9_-]*$")  # what mlops_course.naming produces
OUTCOMES = {"passed", "failed", "not_started", "timeout", "crashed", "error", "env_unavailable"}


def validate(report: object, known: set[str]) -> None:
    """Refuse a report that the grader could not have written: wrong schema, a student name
    outside the namespace rules (``=cmd`` would run as a spreadsheet formula), an exercise not
    in the course, points that do not add up or exceed the maximum.

    Raises:
        ValueError: naming the first problem.
    """
    if not isinstance(report, dict) or report.get("schema") != 1:
        schema = report.get("schema") if isinstance(report, dict) else type(report).__name__
        raise ValueError(f"schema {schema!r}, expected 1")
    student = report.get("student")
    if not isinstance(student, str) or not STUDENT.match(student):
        raise ValueError(f"student {student!r} is not a course namespace name")
    if not isinstance(report.get("created"), str) or not isinstance(report.get("exercises"), list):
        raise ValueError("missing 'created' or 'exercises'")
    for ex in report["exercises"]:
        ex_id = ex.get("id") if isinstance(ex, dict) else None
        if ex_id not in known:
            raise ValueError(f"exercise {ex_id!r} is not in this course")
        tests = ex.get("tests")
        if not isinstance(tests, list) or not tests:
            raise ValueError(f"exercise {ex_id}: no checks")
        for t in tests:
            points, most = float(t["points"]), float(t["max_points"])
            if not (0 <= points <= most) or t["outcome"] not in OUTCOMES:
                raise ValueError(f"exercise {ex_id}: check {t.get('name')!r} is not consistent")
            if (points == most) != (t["outcome"] == "passed") and most > 0:
                raise ValueError(f"exercise {ex_id}: points do not match the outcome")
        if (
            abs(float(ex["points"]) - sum(float(t["points"]) for t in tests)) > 1e-6
            or abs(float(ex["max_points"]) - sum(float(t["max_points"]) for t in tests)) > 1e-6
        ):
            raise ValueError(f"exercise {ex_id}: points do not add up")


def load_reports(paths: list[Path]) -> tuple[pd.DataFrame, list[str]]:
    """One row per (student, exercise): the latest graded points of each. Also returns the
    files that were skipped (unreadable, not a schema-1 report, or forged), in words."""
    return collect(_read_files(paths))


def _read_files(paths: list[Path]) -> Iterator[tuple[str, object]]:
    for path in paths:
        try:
            yield str(path), json.loads(Path(path).read_text(encoding="utf-8"))
        except IsADirectoryError:
            yield str(path), "is a folder"
        except (OSError, ValueError) as exc:
            yield str(path), str(exc)


def collect(reports: Iterable[tuple[str, object]]) -> tuple[pd.DataFrame, list[str]]:
    """The gradebook's rows from ``(where, report)`` pairs (a report given as text is a
    problem found while reading it), checked with :func:`validate`; and what was skipped."""
    from mlops_course.grading.catalog import catalog

    known = set(catalog())
    rows, skipped = [], []
    for where, report in reports:
        if isinstance(report, str):
            skipped.append(f"{where}: {report}")
            continue
        try:
            validate(report, known)
            report = cast(dict, report)
            for ex in report["exercises"]:
                rows.append(
                    {
                        "student": report["student"],
                        "created": report["created"],
                        "exercise": ex["id"],
                        "points": float(ex["points"]),
                        "max_points": float(ex["max_points"]),
                        "status": ex["status"],
                    }
                )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            skipped.append(f"{where}: {exc}")
    frame = pd.DataFrame(
        rows, columns=["student", "created", "exercise", "points", "max_points", "status"]
    )
    latest = frame.sort_values("created").groupby(["student", "exercise"], as_index=False).last()
    return latest, skipped


def safe_cell(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: a leading ``= + - @`` (a formula) is quoted."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_csv(table: pd.DataFrame, path: Path) -> Path:
    """Write the gradebook with safe cells, replacing ``path`` atomically."""
    safe = table.map(safe_cell)
    safe.columns = [safe_cell(c) for c in safe.columns]
    tmp = path.with_name(f".{path.name}.tmp")
    safe.to_csv(tmp, index=False)
    tmp.replace(path)
    return path


def gradebook(latest: pd.DataFrame) -> pd.DataFrame:
    """Students as rows, exercises as columns (points), plus total and max."""
    if latest.empty:
        return pd.DataFrame(columns=["student", "total", "max"])
    table = latest.pivot(index="student", columns="exercise", values="points")
    table = table[sorted(table.columns, key=exercise_key)].fillna(0.0)
    maxima = latest.groupby("exercise")["max_points"].max()
    table["total"] = table.sum(axis=1)
    table["max"] = float(maxima.sum())
    return table.reset_index()


def pass_rate_figure(latest: pd.DataFrame):
    """Share of students who passed each exercise (a bar chart)."""
    from matplotlib.figure import Figure

    rates = latest.assign(passed=latest["status"].eq("passed")).groupby("exercise")["passed"].mean()
    rates = rates[sorted(rates.index, key=exercise_key)]
    fig = Figure(figsize=(max(4, 0.6 * len(rates)), 3.5))
    ax = fig.subplots()
    ax.bar(rates.index, rates.values * 100, color="#4c72b0")
    ax.set_ylim(0, 100)
    ax.set_ylabel("% of students passed")
    ax.set_xlabel("exercise")
    ax.set_title(f"Pass rate per exercise ({latest['student'].nunique()} students)")
    fig.tight_layout()
    return fig
