"""The `mlops-course` command: exit codes and what a learner reads."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess

import pytest

import mlops_course
from mlops_course.cli import main


def test_grade_writes_report_and_junit(fake_course, tmp_path, capsys, mlflow_tracking_uri):
    report, junit = tmp_path / "r.json", tmp_path / "j.xml"
    code = main(
        ["grade", "9.1", "--target", "solutions", "--report", str(report), "--junit", str(junit)]
    )
    assert code == 0
    assert json.loads(report.read_text())["summary"]["points"] == 3
    assert junit.exists()
    assert "Add two numbers" in capsys.readouterr().out


def test_grade_exit_codes(fake_course, monkeypatch, tmp_path, mlflow_tracking_uri):
    assert main(["grade", "--target", "exercises", "--quiet"]) == 1
    assert main(["grade", "1.99"]) == 2  # unknown id
    assert main(["grade", "--target", str(tmp_path / "nowhere")]) == 2
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    assert main(["grade", "9.3", "--target", "solutions", "--quiet"]) == 2


def test_default_report_location_and_progress(fake_course, capsys, mlflow_tracking_uri):
    assert main(["grade", "9.2", "--target", "exercises", "--quiet"]) == 1
    reports = list((fake_course.parent / "home" / "reports").glob("grade-*.json"))
    assert len(reports) == 1
    assert main(["progress"]) == 0
    out = capsys.readouterr().out
    assert "not started" in out and "not graded yet" in out and "0/2 exercises done" in out


def test_reset_command(fake_course, capsys):
    assert main(["reset", "9.1"]) == 0
    assert "fresh stub" in capsys.readouterr().out
    assert main(["reset", "4.4"]) == 2


def test_author_check_detects_drift(fake_course, capsys):
    assert main(["author", "exercises", "--check"]) == 0
    (fake_course / "exercises" / "fake.py").write_text("# edited\n")
    assert main(["author", "exercises", "--check"]) == 1


def test_doctor_lines(capsys):
    main(["doctor", "--no-server"])
    out = capsys.readouterr().out
    assert "[ OK ] Python" in out and "mlflow 3." in out


def test_server_status_with_unreachable_env(monkeypatch, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    assert main(["server", "status"]) == 1
    assert "NOT reachable" in capsys.readouterr().out


@pytest.mark.parametrize("ids", [("9.1",), ("nope",)])
def test_check_never_raises(fake_course, monkeypatch, mlflow_tracking_uri, ids):
    monkeypatch.setenv("MLOPS_COURSE_TARGET", "solutions")
    result = mlops_course.check(*ids)
    assert result.passed is (ids == ("9.1",))
    assert "check" in repr(result)


def test_gradebook_from_many_reports(tmp_path, capsys):
    from mlops_course.grading import report as report_mod

    def one(student, points, created):
        test = {"name": "t", "outcome": "passed" if points else "failed", "points": points,
                "max_points": 2.0, "message": "", "hint": "", "duration": 0.1}  # fmt: skip
        rep = report_mod.build([{"id": "1.1", "title": "T", "tests": [test]}],
                               student=student, target="exercises", tracking_uri=None)  # fmt: skip
        rep["created"] = created
        return report_mod.write_json(rep, tmp_path / f"{student}-{created}.json")

    paths = [
        one("ann", 0.0, "2026-01-01"),
        one("ann", 2.0, "2026-01-02"),
        one("bob", 0.0, "2026-01-01"),
    ]
    (tmp_path / "junk.json").write_text("{")
    out, plot = tmp_path / "book.csv", tmp_path / "rates.png"
    code = main(["gradebook", *map(str, paths), str(tmp_path / "junk.json"),
                 "--output", str(out), "--plot", str(plot)])  # fmt: skip
    assert code == 0 and plot.stat().st_size > 1000
    import pandas as pd

    book = pd.read_csv(out).set_index("student")
    assert book.loc["ann", "total"] == 2.0, "the latest report of a student counts"
    assert book.loc["bob", "total"] == 0.0 and book.loc["bob", "max"] == 2.0
    assert "skipped" in capsys.readouterr().err
    assert main(["gradebook", str(tmp_path / "junk.json")]) == 2


@contextlib.contextmanager
def read_only(folder):
    """``folder`` made unwritable: chmod for a user, the immutable flag for root (who ignores
    permissions); skips the test where neither works."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    if (
        shutil.which("chattr") is None
        or subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode
    ):
        pytest.skip("cannot make a folder read-only for root here")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def assert_one_line(err: str, *fragments: str) -> None:
    line = err.strip()
    assert line.startswith("error: ") and "\n" not in line and "Traceback" not in line, err
    for fragment in fragments:
        assert fragment in line, line


def test_reset_and_author_when_exercises_cannot_be_written(fake_course, capsys):
    exercises = fake_course / "exercises"
    edited = "def add(a, b):\n    return 'mine'\n"
    (exercises / "fake.py").write_text(edited)
    with read_only(exercises):
        assert main(["reset", "9.1"]) == 2
        assert_one_line(capsys.readouterr().err, "cannot write", "exercises/")
        assert main(["author", "exercises"]) == 2
        assert_one_line(capsys.readouterr().err, "cannot write", "chmod u+w exercises/")
    assert (exercises / "fake.py").read_text() == edited, "the learner's file is untouched"
    assert sorted(p.name for p in exercises.iterdir()) == ["fake.py"]


def test_reset_and_author_when_exercises_is_not_a_folder(fake_course, capsys):
    exercises = fake_course / "exercises"
    shutil.rmtree(exercises)
    exercises.write_text("a file where the folder should be\n")
    assert main(["reset", "9.1"]) == 2
    assert_one_line(capsys.readouterr().err, "cannot write")
    assert main(["author", "exercises"]) == 2
    assert_one_line(capsys.readouterr().err, "cannot write")
    assert exercises.read_text() == "a file where the folder should be\n"
