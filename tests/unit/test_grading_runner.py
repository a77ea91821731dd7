"""The grader survives whatever a learner's code does, and reports it precisely."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from mlops_course.grading import report as report_mod
from mlops_course.grading.runner import GradingError, grade
from mlops_course.target import resolve


def _write_target(tmp_path, body: str):
    folder = tmp_path / "learner"
    folder.mkdir()
    (folder / "fake.py").write_text(body)
    return folder


def _outcomes(report: dict) -> dict[str, str]:
    return {t["name"]: t["outcome"] for ex in report["exercises"] for t in ex["tests"]}


def test_solutions_score_full_points(fake_course, mlflow_tracking_uri):
    report = grade(target="solutions")
    assert report["summary"]["points"] == report["summary"]["max_points"] == 5
    assert report_mod.exit_code(report) == 0
    assert {ex["id"]: ex["title"] for ex in report["exercises"]}["9.1"] == "Add two numbers"


def test_untouched_stubs_are_not_started(fake_course, mlflow_tracking_uri):
    report = grade(target="exercises")
    outcomes = _outcomes(report)
    assert outcomes["test_add"] == outcomes["test_shout"] == "not_started"
    assert report_mod.exit_code(report) == 1
    assert "write add()" in report["exercises"][0]["tests"][0]["message"]


def test_select_one_exercise(fake_course, mlflow_tracking_uri):
    report = grade(["9.2"], target="solutions")
    assert [ex["id"] for ex in report["exercises"]] == ["9.2"]


def test_unknown_exercise_is_a_clear_error(fake_course):
    with pytest.raises(GradingError, match="Unknown exercise 7.7. Known: 9.1, 9.2"):
        grade(["7.7"])


def test_wrong_answer_fails_with_message_and_location(fake_course, tmp_path, mlflow_tracking_uri):
    folder = _write_target(
        tmp_path, "def add(a, b):\n    return a - b\n\ndef shout(t):\n    return t.nope()\n"
    )
    report = grade(target=str(folder))
    outcomes = _outcomes(report)
    assert outcomes["test_add"] == "failed" and outcomes["test_shout"] == "failed"
    shout = [t for ex in report["exercises"] for t in ex["tests"] if t["name"] == "test_shout"][0]
    assert "AttributeError" in shout["message"] and "learner/fake.py, line 5" in shout["message"]


def test_syntax_error_is_error_with_file_and_line(fake_course, tmp_path, mlflow_tracking_uri):
    folder = _write_target(tmp_path, "def add(a, b):\n    return a +\n")
    report = grade(target=str(folder))
    assert set(_outcomes(report).values()) - {"passed"} == {"error"}
    msg = report["exercises"][0]["tests"][0]["message"]
    assert "fake.py, line 2" in msg and "Syntax error" in msg


def test_hang_times_out_and_the_rest_still_run(fake_course, tmp_path, mlflow_tracking_uri):
    folder = _write_target(
        tmp_path,
        "import time\n\ndef add(a, b):\n    while True:\n        time.sleep(0.1)\n\n"
        "def shout(t):\n    return t.upper()\n",
    )
    report = grade(target=str(folder), timeout=3)
    outcomes = _outcomes(report)
    assert outcomes["test_add"] == outcomes["test_add_negative"] == "timeout"
    assert outcomes["test_shout"] == "passed"


@pytest.mark.parametrize(
    "body, signal_word",
    [
        ("import os\n\ndef add(a, b):\n    os._exit(3)\n", "code 3"),
        ("import ctypes\n\ndef add(a, b):\n    return ctypes.string_at(0)\n", "SIGSEGV"),
    ],
    ids=["os-exit", "segfault"],
)
def test_crash_is_reported_and_the_rest_still_run(
    fake_course, tmp_path, mlflow_tracking_uri, body, signal_word
):
    folder = _write_target(tmp_path, body + "\ndef shout(t):\n    return t.upper()\n")
    report = grade(target=str(folder))
    outcomes = _outcomes(report)
    assert outcomes["test_add"] == outcomes["test_add_negative"] == "crashed"
    assert outcomes["test_shout"] == "passed"
    crashed = [t for ex in report["exercises"] for t in ex["tests"] if t["outcome"] == "crashed"]
    assert signal_word in crashed[0]["message"]


def test_huge_output_is_capped(fake_course, tmp_path, mlflow_tracking_uri):
    folder = _write_target(
        tmp_path,
        "def add(a, b):\n    print('x' * 50_000_000)\n    raise ValueError('y' * 100_000)\n\n"
        "def shout(t):\n    return t.upper()\n",
    )
    report = grade(target=str(folder))
    assert _outcomes(report)["test_add"] == "failed"
    assert len(json.dumps(report)) < 20_000
    shown = report_mod.render(report_mod.scoreboard(report))
    assert len(shown) < 8_000, "a flood of output never floods the scoreboard"


def test_mlflow_unavailable_is_never_a_silent_zero(fake_course, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")  # nothing listens there
    report = grade(target="solutions")
    assert _outcomes(report)["test_needs_server"] == "env_unavailable"
    assert report_mod.exit_code(report) == 2
    needs = report["exercises"][-1]["tests"][0]
    assert "MLFLOW_TRACKING_URI" in needs["message"]


def test_report_files_json_and_junit(fake_course, tmp_path, mlflow_tracking_uri):
    report = grade(target="exercises")
    (tmp_path / "r").mkdir()
    path = report_mod.write_json(report, tmp_path / "r" / "report.json")
    data = json.loads(path.read_text())
    assert data["schema"] == 1
    ex = data["exercises"][0]
    assert set(ex) >= {"id", "title", "points", "max_points", "tests"}
    assert set(ex["tests"][0]) == {
        "name", "title", "outcome", "points", "max_points", "message", "hint", "duration",
        "hints", "hint_level",
    }  # fmt: skip
    junit = ET.parse(report_mod.write_junit(report, tmp_path / "junit.xml")).getroot()
    assert junit.tag == "testsuites" and len(junit.findall("testsuite")) == len(data["exercises"])
    assert junit.find(".//failure") is not None


@pytest.mark.parametrize(
    "outcomes, status",
    [
        (["passed", "passed"], "passed"),
        (["not_started", "not_started"], "not_started"),
        (["passed", "not_started"], "failed"),
        (["passed", "timeout", "failed"], "timeout"),
        (["failed", "env_unavailable"], "env_unavailable"),
        ([], "not_started"),
    ],
)
def test_exercise_status(outcomes, status):
    assert report_mod.exercise_status(outcomes) == status


def test_fake_course_target_resolves(fake_course):
    assert resolve("solutions") == (fake_course / "solutions").resolve()


def test_warm_launcher_grades_like_a_fresh_process(fake_course, tmp_path, mlflow_tracking_uri):
    """check() forks from a pre-imported process: same outcomes, crash and hang included."""
    folder = _write_target(
        tmp_path,
        "import os, time\n\ndef add(a, b):\n    os._exit(3)\n\n"
        "def shout(t):\n    while True:\n        time.sleep(0.1)\n",
    )
    report = grade(target=str(folder), timeout=3, warm=True)
    outcomes = _outcomes(report)
    assert outcomes["test_add"] == outcomes["test_add_negative"] == "crashed"
    assert outcomes["test_shout"] == "timeout"
    assert outcomes["test_needs_server"] == "passed"
    again = grade(target="solutions", warm=True)
    assert report_mod.exit_code(again) == 0, "the warm process is reused after a crash and a hang"


def test_a_server_that_died_mid_session_is_env_unavailable(monkeypatch):
    """A connection error while the server is down is the environment, not the learner."""
    import requests

    from mlops_course.grading import plugin

    monkeypatch.setattr(plugin._SessionServer, "uri", "http://127.0.0.1:9")
    try:
        raise requests.exceptions.ConnectionError("Max retries exceeded with url: /api/2.0/…")
    except requests.exceptions.ConnectionError:
        excinfo = pytest.ExceptionInfo.from_current()
    assert plugin.classify(excinfo, "call") == "env_unavailable"
    try:
        raise AssertionError("wrong value")
    except AssertionError:
        excinfo = pytest.ExceptionInfo.from_current()
    assert plugin.classify(excinfo, "call") == "failed"


def test_hints_escalate_with_each_failure_and_start_again_once_passed(
    course_factory, fake_tests, tmp_path, monkeypatch, mlflow_tracking_uri
):
    from mlops_course.grading import hints

    course_factory(
        tests=fake_tests.replace(
            '@pytest.mark.exercise("9.1", points=2, hint="a + b")',
            '@pytest.mark.exercise("9.1", points=2, hints=("idea-1", "where-2", "nudge-3"))',
        )
    )
    wrong = _write_target(
        tmp_path, "def add(a, b):\n    return a - b\n\ndef shout(t):\n    return t\n"
    )
    monkeypatch.setenv(hints.FILE_VAR, str(tmp_path / "hints.json"))

    def shown(report) -> tuple:
        (test,) = [t for ex in report["exercises"] for t in ex["tests"] if t["name"] == "test_add"]
        return test["hint"], test["hint_level"]

    first = grade(["9.1"], target=str(wrong))
    assert shown(first) == ("idea-1", 1)
    text = report_mod.render(report_mod.scoreboard(first), 80)
    assert "Hint 1 of 3 (the idea): idea-1" in text and "--hints all" in text
    assert shown(grade(["9.1"], target=str(wrong))) == ("where-2", 2)
    assert shown(grade(["9.1"], target=str(wrong))) == ("nudge-3", 3)
    assert shown(grade(["9.1"], target=str(wrong))) == ("nudge-3", 3)  # the closest stays
    every, level = shown(grade(["9.1"], target=str(wrong), hints="all"))
    assert level == "all" and every.splitlines() == [
        "1. the idea: idea-1", "2. where to look: where-2", "3. nearly the code: nudge-3"
    ]  # fmt: skip
    assert shown(grade(["9.1"], target="solutions"))[1] == 1  # passed: the count is gone
    assert shown(grade(["9.1"], target=str(wrong))) == ("idea-1", 1)
    # A one-level hint (the older `hint=`) is shown as it is, without a level.
    shout = grade(["9.2"], target=str(wrong))["exercises"][0]["tests"][0]
    assert shout["hint"] == "use str.upper" and shout["hint_level"] == 1
    assert hints.label(shout) == "Hint"


def test_only_the_learners_own_files_move_the_hint_counts(fake_course, monkeypatch):
    from mlops_course.grading import hints

    monkeypatch.delenv(hints.FILE_VAR, raising=False)
    assert hints.counter_file("exercises").name == "hints.json"
    assert hints.counter_file("solutions") is None
    with pytest.raises(GradingError, match="hints: 'some' is not one of escalate, all"):
        grade(["9.1"], hints="some")
