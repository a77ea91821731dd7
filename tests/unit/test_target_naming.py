"""The target switch and per-learner names."""

from __future__ import annotations

import pytest

from mlops_course import naming, target


def test_default_target_is_exercises(monkeypatch):
    monkeypatch.delenv("MLOPS_COURSE_TARGET", raising=False)
    assert target.current() == "exercises"


@pytest.mark.parametrize("name", ["exercises", "solutions"])
def test_named_targets(fake_course, monkeypatch, name):
    monkeypatch.setenv("MLOPS_COURSE_TARGET", name)
    mod = target.load("fake")
    assert mod.__file__ == str(fake_course / name / "fake.py")


def test_path_target_and_fresh_reload(tmp_path):
    (tmp_path / "m.py").write_text("VALUE = 1\n")
    assert target.load("m", tmp_path).VALUE == 1
    (tmp_path / "m.py").write_text("VALUE = 2\n")
    assert target.load("m", tmp_path).VALUE == 2, "a learner's saved edit is what runs"


def test_missing_target_and_module(tmp_path):
    with pytest.raises(target.TargetLoadError, match="not a folder"):
        target.resolve(tmp_path / "nope")
    with pytest.raises(target.TargetLoadError, match="does not exist"):
        target.load("nope", tmp_path)


def test_error_at_import_names_the_line(tmp_path):
    (tmp_path / "m.py").write_text("x = 1\ny = 1 / 0\n")
    with pytest.raises(
        target.TargetLoadError, match=r"m.py, line 2 failed: ZeroDivisionError"
    ) as exc:
        target.load("m", tmp_path)
    assert exc.value.lineno == 2


@pytest.mark.parametrize(
    "raw, expected",
    [("Alice", "alice"), ("Jean Dupont", "jean-dupont"), ("a/b:c", "a-b-c"), ("***", "learner")],
)
def test_student_namespace(monkeypatch, raw, expected):
    monkeypatch.setenv("MLOPS_COURSE_STUDENT", raw)
    assert naming.student() == expected
    assert naming.experiment_name("tracking") == f"{expected}/tracking"
    assert naming.model_name("iris") == f"{expected}.iris"


def test_student_defaults_to_os_user(monkeypatch):
    monkeypatch.delenv("MLOPS_COURSE_STUDENT", raising=False)
    assert naming.student()
