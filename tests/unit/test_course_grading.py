"""CI's proof that the graded tests mean something: the untouched stubs score 0, every check
"not started". (That the reference solutions score 100% is proven by running tests/graded
directly against `solutions` in the same `make test`.)

The stubs are generated afresh into a temporary folder, so a learner who did some exercises
in ``exercises/`` still gets a green ``make test``: it checks the course, not their work."""

from __future__ import annotations

from mlflow import MlflowClient

from mlops_course import authoring
from mlops_course.grading import debris
from mlops_course.grading import report as report_mod
from mlops_course.grading.catalog import catalog
from mlops_course.grading.runner import grade
from mlops_course.paths import repo_root


def fresh_stubs(folder):
    """Every exercises/<module>.py as generated from solutions/, in ``folder``."""
    folder.mkdir()
    for solution in sorted((repo_root() / "solutions").glob("*.py")):
        stub = authoring.generate_exercise(solution.read_text(encoding="utf-8"), solution.stem)
        (folder / solution.name).write_text(stub, encoding="utf-8")
    return folder


def test_untouched_stubs_score_zero_and_are_all_not_started(
    mlflow_tracking_uri, tmp_path, monkeypatch
):
    monkeypatch.setenv("MLOPS_COURSE_STUB_SHORTCUT", "0")  # run every check for real
    monkeypatch.setenv("MLOPS_COURSE_STUDENT", "stub-proof")
    report = grade(target=str(fresh_stubs(tmp_path / "stubs")))
    outcomes = {t["name"]: t["outcome"] for ex in report["exercises"] for t in ex["tests"]}
    assert outcomes, "no graded test was collected"
    assert report["summary"]["points"] == 0
    not_started = {name: o for name, o in outcomes.items() if o != "not_started"}
    assert not not_started, (
        f"these checks did not fail with the stub's NotImplementedError: {not_started}"
    )
    assert {ex["id"] for ex in report["exercises"]} == set(catalog()), "every exercise is graded"
    assert report_mod.exit_code(report) == 1
    left = debris.find(MlflowClient(mlflow_tracking_uri))
    assert not left, f"checks of exercises not started left {left}"
