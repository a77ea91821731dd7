"""CI's proof that the graded tests mean something: the untouched stubs score 0, every check
"not started". (That the reference solutions score 100% is proven by running tests/graded
directly against `solutions` in the same `make test`.)"""

from __future__ import annotations

from mlops_course.grading import report as report_mod
from mlops_course.grading.catalog import catalog
from mlops_course.grading.runner import grade


def test_untouched_exercises_score_zero_and_are_all_not_started(mlflow_tracking_uri):
    report = grade(target="exercises")
    outcomes = {t["name"]: t["outcome"] for ex in report["exercises"] for t in ex["tests"]}
    assert outcomes, "no graded test was collected"
    assert report["summary"]["points"] == 0
    not_started = {name: o for name, o in outcomes.items() if o != "not_started"}
    assert not not_started, (
        f"these checks did not fail with the stub's NotImplementedError: {not_started}"
    )
    assert {ex["id"] for ex in report["exercises"]} == set(catalog()), "every exercise is graded"
    assert report_mod.exit_code(report) == 1
