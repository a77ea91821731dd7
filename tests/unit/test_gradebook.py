"""The instructor's gradebook refuses forged reports and writes cells a spreadsheet never runs."""

from __future__ import annotations

import csv
import json

import pytest

from mlops_course.cli import main
from mlops_course.grading import report as report_mod


def _report(student="ann", ex_id="1.1", points=1.0, max_points=1.0) -> dict:
    test = {"name": "t", "title": "t", "outcome": "passed" if points == max_points else "failed",
            "points": points, "max_points": max_points, "message": "", "hint": "",
            "duration": 0.1}  # fmt: skip
    return report_mod.build(
        [{"id": ex_id, "title": "T", "tests": [test]}],
        student=student, target="exercises", tracking_uri=None,
    )  # fmt: skip


@pytest.mark.parametrize(
    "forge, why",
    [
        (lambda r: r["exercises"][0].update(points=99.0), "do not add up"),
        (lambda r: r["exercises"][0]["tests"][0].update(points=5.0), "not consistent"),
        (lambda r: r["exercises"][0].update(id="9.99"), "not in this course"),
        (lambda r: r.update(student='=HYPERLINK("http://evil")'), "namespace"),
        (lambda r: r.update(schema=2), "schema"),
    ],
)
def test_forged_reports_are_skipped_with_the_reason(tmp_path, capsys, forge, why):
    good, bad = _report("ann"), _report("bob")
    forge(bad)
    paths = []
    for name, rep in (("good", good), ("bad", bad)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(rep))
        paths.append(str(path))
    out = tmp_path / "class.csv"
    assert main(["gradebook", *paths, "--output", str(out)]) == 0
    err = capsys.readouterr().err
    assert "bad.json" in err and why in err
    rows = list(csv.DictReader(out.open()))
    assert [r["student"] for r in rows] == ["ann"]


def test_cells_that_look_like_formulas_are_written_as_text(tmp_path):
    import pandas as pd

    from mlops_course.grading.gradebook import write_csv

    path = write_csv(
        pd.DataFrame({"student": ["=1+1", "ann"], "total": [1, 2]}), tmp_path / "c.csv"
    )
    assert path.read_text().splitlines()[1].startswith("'=1+1")


def test_gradebook_output_that_is_a_folder_is_refused(tmp_path, capsys):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_report()))
    assert main(["gradebook", str(path), "--output", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
