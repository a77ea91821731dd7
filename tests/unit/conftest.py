"""Fixtures for the project's own tests: a throw-away course (root, home, solutions, tests)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

FAKE_SOLUTION = '''
"""A tiny graded module for testing the grader."""


def add(a, b):
    """Exercise 9.1: Add two numbers.

    Returns:
        a + b
    """
    # BEGIN SOLUTION
    return a + b
    # END SOLUTION


def shout(text):
    """Exercise 9.2: Shout.

    Returns:
        The text in capitals.
    """
    # BEGIN SOLUTION
    return text.upper()
    # END SOLUTION


def helper_not_graded():
    return 42
'''

FAKE_TESTS = """
import pytest

from mlops_course import target


@pytest.fixture
def fake():
    return target.load("fake")


@pytest.mark.exercise("9.1", points=2, hint="a + b")
def test_add(fake):
    assert fake.add(2, 3) == 5


@pytest.mark.exercise("9.1", points=1, hint="works for negatives too")
def test_add_negative(fake):
    assert fake.add(-2, -3) == -5


@pytest.mark.exercise("9.2", points=1, hint="use str.upper")
def test_shout(fake):
    assert fake.shout("hi") == "HI"


@pytest.mark.exercise("9.3", points=1, hint="needs the MLflow server")
def test_needs_server(mlflow_tracking_uri):
    assert mlflow_tracking_uri
"""


def make_course(root: Path, solution: str = FAKE_SOLUTION, tests: str = FAKE_TESTS) -> Path:
    (root / "solutions").mkdir(parents=True)
    (root / "exercises").mkdir()
    (root / "tests" / "graded").mkdir(parents=True)
    (root / "solutions" / "fake.py").write_text(textwrap.dedent(solution))
    (root / "tests" / "graded" / "test_fake.py").write_text(textwrap.dedent(tests))
    return root


@pytest.fixture
def course_factory(tmp_path, monkeypatch):
    """Make a throw-away course (solutions/fake.py, generated exercises/, graded tests) the
    current one: ``course_factory(tests=...)`` returns its root."""
    from mlops_course import authoring

    def make(solution: str = FAKE_SOLUTION, tests: str = FAKE_TESTS) -> Path:
        root = make_course(tmp_path / "course", solution, tests)
        monkeypatch.setenv("MLOPS_COURSE_ROOT", str(root))
        monkeypatch.setenv("MLOPS_COURSE_HOME", str(tmp_path / "home"))
        authoring.sync_exercises(root=root)
        return root

    return make


@pytest.fixture
def fake_course(course_factory) -> Path:
    """A course root with solutions/fake.py, generated exercises/ and graded tests."""
    return course_factory()


@pytest.fixture
def fake_tests() -> str:
    """The throw-away course's graded tests, as text (to make variants of)."""
    return FAKE_TESTS
