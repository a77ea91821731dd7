"""The learner's loop: check, read feedback that says what is wrong, a clean MLflow UI.

* grading leaves the learner's experiments and models alone, keeps what a FAILED check made
  (under one spelling, `<you>/grading/<exercise>/...`) until the next check of that exercise,
  and creates nothing for an exercise that is not started;
* the scoreboard and `progress` are complete at 80 columns, a broken file is reported once;
* reports have names of their own and only the newest N are kept.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.entities import ViewType

from mlops_course.cli import main
from mlops_course.grading import report as report_mod
from mlops_course.grading.runner import grade
from mlops_course.paths import repo_root

# A graded module whose checks create an experiment and a registered model, as real ones do.
MAKER_TESTS = """
import mlflow
import pytest
from mlflow import MlflowClient

from mlops_course import target
from mlops_course.grading import debris


@pytest.fixture
def fake():
    return target.load("fake")


@pytest.fixture
def made(mlflow_tracking_uri):
    client = MlflowClient(mlflow_tracking_uri)
    experiment_id = client.create_experiment(debris.experiment_name("made"))
    client.create_registered_model(debris.model_name("made"))
    return experiment_id


@pytest.mark.exercise("9.1", points=2, hint="Add the two numbers; the hint is long enough to wrap twice at eighty columns, and every word of it must be shown, never cut.")
def test_add(fake, made):
    assert fake.add(2, 3) == 5


@pytest.mark.exercise("9.2", points=1, hint="use str.upper")
def test_shout(fake, made):
    assert fake.shout("hi") == "HI"
"""


@pytest.fixture
def maker_course(course_factory, monkeypatch):
    monkeypatch.setenv("MLOPS_COURSE_STUDENT", f"loop-{uuid.uuid4().hex[:6]}")
    return course_factory(tests=MAKER_TESTS)


def _target(tmp_path, add_body: str):
    """A learner's folder: the fake solution with ``add``'s body replaced."""
    folder = tmp_path / f"learner-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    source = (repo_root() / "solutions" / "fake.py").read_text()
    (folder / "fake.py").write_text(source.replace("return a + b", add_body))
    return str(folder)


def _names(client):
    experiments = sorted(e.name for e in client.search_experiments())
    models = sorted(m.name for m in client.search_registered_models())
    return experiments, models


def test_grading_leaves_the_ui_clean_and_keeps_only_failed_checks(
    maker_course, tmp_path, mlflow_tracking_uri
):
    client = MlflowClient(mlflow_tracking_uri)
    me = os.environ["MLOPS_COURSE_STUDENT"]
    own = client.create_experiment(f"{me}/my-own-work")  # the learner's: never touched

    for _ in range(3):  # any number of passing checks leaves nothing behind
        assert report_mod.exit_code(grade(target="solutions")) == 0
    experiments, models = _names(client)
    assert [e for e in experiments if e.startswith(me)] == [f"{me}/my-own-work"]
    assert not [m for m in models if m.startswith(me)]

    wrong = _target(tmp_path, "return a - b")
    report = grade(target=wrong)
    assert report["exercises"][0]["status"] == "failed"
    first_kept, models = _names(client)
    kept = [e for e in first_kept if e.startswith(f"{me}/grading/")]
    assert len(kept) == 1 and kept[0].startswith(f"{me}/grading/9.1/"), kept
    assert [m for m in models if m.startswith(me)][0].startswith(f"{me}.grading.9.1.")
    assert any(
        "kept for you to inspect" in n and f"{me}/grading/9.1/" in n for n in report["notes"]
    )

    grade(["9.1"], target=wrong)  # the next check of 9.1 replaces what the last one kept
    experiments, _ = _names(client)
    again = [e for e in experiments if e.startswith(f"{me}/grading/")]
    assert len(again) == 1 and again != kept

    assert main(["clean"]) == 0
    experiments, models = _names(client)
    assert [e for e in experiments if e.startswith(me)] == [f"{me}/my-own-work"]
    assert not [m for m in models if m.startswith(me)]
    assert client.get_experiment(own).lifecycle_stage == "active"


def test_a_check_of_an_exercise_not_started_creates_nothing(maker_course, mlflow_tracking_uri):
    client = MlflowClient(mlflow_tracking_uri)
    me = os.environ["MLOPS_COURSE_STUDENT"]
    report = grade(target="exercises")
    assert {t["outcome"] for ex in report["exercises"] for t in ex["tests"]} == {"not_started"}
    everything = client.search_experiments(view_type=ViewType.ALL)
    assert not [e.name for e in everything if e.name.startswith(me)], "not even in the trash"
    assert "write add()" in report["exercises"][0]["tests"][0]["message"]


def test_real_graded_checks_clean_up_after_themselves(tmp_path, monkeypatch, mlflow_tracking_uri):
    """The course's own graded tests (1.1 and 2.1): passed on solutions, nothing is left."""
    monkeypatch.setenv("MLOPS_COURSE_STUDENT", f"loop-{uuid.uuid4().hex[:6]}")
    me = os.environ["MLOPS_COURSE_STUDENT"]
    client = MlflowClient(mlflow_tracking_uri)
    report = grade(["1.1", "2.1"], target="solutions")
    assert report_mod.exit_code(report) == 0, report_mod.render(report_mod.scoreboard(report))
    experiments, models = _names(client)
    assert not [e for e in experiments if e.startswith(me)]
    assert not [m for m in models if m.startswith(me)]


def _report_with(tests: list[dict], notes=()) -> dict:
    report = report_mod.build(
        [{"id": "1.1", "title": "Log a training run", "tests": tests}],
        student="ann",
        target="exercises",
        tracking_uri="http://127.0.0.1:5000",
    )
    report["notes"] = list(notes)
    return report


def _test(outcome="failed", **extra) -> dict:
    return {
        "name": "test_x", "title": "training run logs test set metrics", "outcome": outcome,
        "points": 0.0, "max_points": 1.0, "message": "", "hint": "", "duration": 0.1, **extra,
    }  # fmt: skip


def test_scoreboard_is_complete_at_80_columns():
    hint = (
        "Metrics must describe data the model never saw: compute accuracy and f1_macro on the "
        "test set, after fitting on the training set only, and log both in the same run."
    )
    report = _report_with(
        [
            _test(
                hint=hint,
                message="the logged accuracy is not the test set's\n"
                "yours:    0.973214\nexpected: 0.973684 (± 1e-06)",
            ),  # fmt: skip
            _test("passed", points=1.0),
        ],
        notes=["1.1: what its checks created is kept for you to inspect in the MLflow UI."],
    )
    text = report_mod.render(report_mod.scoreboard(report), width=80)
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 80
    flat = " ".join(text.split())
    assert hint in flat, "the hint is shown in full, wrapped"
    assert "…" not in text
    assert "training run logs test set metrics" in flat
    assert "yours: 0.973214" in flat and "expected: 0.973684" in flat
    assert "kept for you to inspect" in flat


def test_a_file_that_does_not_import_is_reported_once():
    message = "Syntax error in exercises/tracking.py, line 3: invalid syntax\n    def (x\n        ^"
    report = _report_with(
        [_test("error", message=message, import_error=True, hint=f"hint {i}") for i in range(4)]
    )
    text = report_mod.render(report_mod.scoreboard(report))
    assert text.count("line 3: invalid syntax") == 1
    assert text.index("does not import") < text.index("Exercise")
    assert "^" in text


def test_syntax_error_names_file_line_and_caret(fake_course, tmp_path, mlflow_tracking_uri):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "fake.py").write_text("def add(a, b):\n    return (a +\n\ndef shout(t):\n    pass\n")
    report = grade(target=str(folder))
    messages = {
        t["message"] for ex in report["exercises"] for t in ex["tests"] if t.get("import_error")
    }
    assert len(messages) == 1
    (message,) = messages
    assert "fake.py, line" in message and "^" in message


def test_verbose_adds_the_whole_assertion(fake_course, tmp_path, mlflow_tracking_uri):
    target = _target(tmp_path, "return a - b")
    plain = grade(["9.1"], target=target)
    verbose = grade(["9.1"], target=target, verbose=True)
    assert "detail" not in plain["exercises"][0]["tests"][0]
    detail = verbose["exercises"][0]["tests"][0]["detail"]
    assert "in test_add" in detail and "assert fake.add(2, 3) == 5" in detail


def test_feedback_shows_yours_against_expected(fake_course, tmp_path, mlflow_tracking_uri):
    report = grade(["9.1"], target=_target(tmp_path, "return a - b"))
    message = report["exercises"][0]["tests"][0]["message"]
    assert "yours:    -1" in message and "expected: 5" in message
    assert " at 0x" not in message


def test_reports_have_unique_names_and_only_the_newest_are_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("MLOPS_COURSE_KEEP_REPORTS", "3")
    report = _report_with([_test("passed", points=1.0)])
    paths = [report_mod.save(report, tmp_path) for _ in range(5)]  # all in the same second
    assert len(set(paths)) == 5
    left = sorted(tmp_path.glob("grade-ann-*.json"))
    assert left == sorted(paths[-3:])
    other = dict(report, student="bob")
    report_mod.save(other, tmp_path)
    assert len(list(tmp_path.glob("grade-ann-*.json"))) == 3, "another learner's never count"
    assert json.loads(paths[-1].read_text())["student"] == "ann"


def test_progress_fits_80_columns(fake_course, monkeypatch, capsys, mlflow_tracking_uri):
    monkeypatch.setenv("COLUMNS", "80")
    report = grade(["9.1"], target="solutions")
    report["target"] = "exercises"  # as if the learner had written it
    report_mod.save(report)
    assert main(["progress"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any(line.lstrip().startswith("9.1") and "passed" in line for line in lines)
    assert "1/2 exercises done" in out


def test_grade_says_when_it_starts_a_server(fake_course, monkeypatch, capsys):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    from mlops_course import server

    try:
        assert main(["grade", "9.2", "--target", "solutions", "--quiet"]) == 0
        assert "Started the course's MLflow server at http://127.0.0.1:" in capsys.readouterr().out
    finally:
        server.stop()


def test_the_server_keeps_its_port_across_restarts(tmp_path, monkeypatch):
    from mlops_course import server

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    home = tmp_path / "home"
    try:
        first = server.ensure_server(home)
        server.stop(home)
        second = server.ensure_server(home)
        assert second.started and second.port == first.port, "an open UI tab keeps working"
    finally:
        server.stop(home)


def test_the_course_imports_without_fcntl():
    """Native Windows has no fcntl: importing the course must still work there."""
    code = (
        "import sys; sys.modules['fcntl'] = None\n"
        "import mlops_course, mlops_course.server, mlops_course.cli, mlops_course.grading.runner\n"
        "print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr


def test_make_shell_puts_the_course_command_on_path():
    done = subprocess.run(
        ["make", "-s", "shell"], cwd=repo_root(), input="command -v mlops-course\nexit\n",
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert str(repo_root() / ".venv" / "bin" / "mlops-course") in done.stdout


def _run_course_checks(root) -> subprocess.CompletedProcess:
    """The course's own sync checks (what `make test` runs) against another course root."""
    course = Path(__file__).resolve().parents[2]  # this repository, whatever the root is set to
    tests = course / "tests" / "unit" / "test_authoring.py"
    selection = [
        f"{tests}::test_repository_exercises_are_in_sync_with_solutions",
        f"{tests}::test_every_exercise_has_graded_tests_and_a_stub",
    ]
    env = dict(os.environ, MLOPS_COURSE_ROOT=str(root))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:nbval", *selection],
        cwd=course, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_make_test_passes_with_a_learners_edited_exercises(fake_course):
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(["git", "init", "-q"], cwd=fake_course, check=True)
    subprocess.run([*git, "add", "."], cwd=fake_course, check=True)
    subprocess.run([*git, "commit", "-qm", "course"], cwd=fake_course, check=True)
    stub = fake_course / "exercises" / "fake.py"
    stub.write_text(
        stub.read_text().replace(
            'raise NotImplementedError("Exercise 9.1: write add()")', "return a + b"
        )
    )
    done = _run_course_checks(fake_course)
    assert done.returncode == 0, done.stdout[-2000:]

    # An author who changed solutions/ without `make exercises` is still caught.
    solution = fake_course / "solutions" / "fake.py"
    solution.write_text(solution.read_text().replace("Shout.", "Shout loudly."))
    stub.write_text(authoring_stub_before := subprocess.run(
        ["git", "show", "HEAD:exercises/fake.py"], cwd=fake_course, capture_output=True, text=True
    ).stdout)  # fmt: skip
    assert authoring_stub_before
    done = _run_course_checks(fake_course)
    assert done.returncode != 0 and "make exercises" in done.stdout
