"""An instructor's gradebook: many learners' JSON reports -> one CSV (and a plot)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from mlops_course.grading.catalog import exercise_key


def load_reports(paths: list[Path]) -> tuple[pd.DataFrame, list[str]]:
    """One row per (student, exercise): the latest graded points of each. Also returns the
    files that were skipped (unreadable, or not a schema-1 report), in words."""
    rows, skipped = [], []
    for path in paths:
        try:
            report = json.loads(Path(path).read_text(encoding="utf-8"))
            if report.get("schema") != 1:
                raise ValueError(f"schema {report.get('schema')!r}, expected 1")
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
        except (OSError, ValueError, KeyError, TypeError) as exc:
            skipped.append(f"{path}: {exc}")
    frame = pd.DataFrame(
        rows, columns=["student", "created", "exercise", "points", "max_points", "status"]
    )
    latest = frame.sort_values("created").groupby(["student", "exercise"], as_index=False).last()
    return latest, skipped


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
