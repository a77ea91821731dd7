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


def test_submitted_reports_reach_the_server_gradebook_and_forgeries_are_skipped(
    mlflow_tracking_uri, tmp_path, capsys
):
    import uuid

    from mlflow import MlflowClient

    from mlops_course.grading.submissions import server_reports, submit
    from mlops_course.workshop import submissions_name

    ann, bob = f"gb-{uuid.uuid4().hex[:8]}", f"gb-{uuid.uuid4().hex[:8]}"
    first = _report(ann, "1.1", points=0.0)
    second = _report(ann, "1.1", points=1.0)
    second["created"] = "9" + second["created"][1:]  # later than the first
    client = MlflowClient(mlflow_tracking_uri)
    try:
        submit(first, mlflow_tracking_uri)
        submit(second, mlflow_tracking_uri)
        forged = _report(ann, "1.1")
        forged_run = submit({**forged, "student": bob}, mlflow_tracking_uri)[0]
        client.log_text(forged_run, json.dumps(forged), "report.json")  # bob hands in as ann
        runs = client.search_runs(
            [client.get_experiment_by_name(submissions_name(ann)).experiment_id]
        )
        assert len(runs) == 2  # a new run each time: nothing overwritten
        found = {
            where: rep
            for where, rep in server_reports(mlflow_tracking_uri)
            if ann in where or bob in where
        }
        assert sum(isinstance(r, dict) for r in found.values()) == 2
        assert any(isinstance(r, str) and "not the experiment's owner" in r for r in found.values())

        out = tmp_path / "class.csv"
        assert main(["gradebook", "--server", "--output", str(out)]) == 0
        rows = {r["student"]: r for r in csv.DictReader(out.open())}
        assert rows[ann]["1.1"] == "1.0"  # the latest submission counts
        assert bob not in rows
        assert "not the experiment's owner" in capsys.readouterr().err
    finally:
        for name in (ann, bob):
            exp = client.get_experiment_by_name(submissions_name(name))
            if exp:
                client.delete_experiment(exp.experiment_id)


def test_gradebook_wants_files_or_server_not_both(tmp_path, capsys):
    assert main(["gradebook", "--output", str(tmp_path / "x.csv")]) == 2
    assert (
        main(
            ["gradebook", str(tmp_path / "r.json"), "--server", "--output", str(tmp_path / "x.csv")]
        )
        == 2
    )
    assert "not both" in capsys.readouterr().err
