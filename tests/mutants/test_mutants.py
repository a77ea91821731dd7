"""Each mutant, applied to a copy of ``solutions/``, loses points on its own exercise (see
conftest.py). A surviving mutant fails here, naming the mistake the graded tests let through."""

from __future__ import annotations

import re
import shutil

import pytest
from mutantlib import KILLED, Mutant, load_mutants

from mlops_course.grading.catalog import catalog
from mlops_course.grading.runner import grade
from mlops_course.paths import repo_root

MUTANTS = load_mutants()
EXERCISES = catalog()
MIN_PER_EXERCISE = 2


def _copy_solutions(tmp_path):
    copy = tmp_path / "mutant"
    shutil.copytree(repo_root() / "solutions", copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _score(report: dict, exercise: str) -> tuple[float, float, list[str]]:
    (ex,) = [e for e in report["exercises"] if e["id"] == exercise]
    passed = [t["name"] for t in ex["tests"] if t["outcome"] == "passed"]
    return ex["points"], ex["max_points"], passed


def _returns_none(source: str, function: str) -> str:
    """``source`` with ``function``'s solution (BEGIN to END SOLUTION) replaced by ``return
    None``: the laziest answer, which no check may accept."""
    pattern = re.compile(
        rf"(def {function}\(.*?\n)(\s*)# BEGIN SOLUTION\n.*?# END SOLUTION\n", re.S
    )
    changed, count = pattern.subn(
        lambda m: f"{m[1]}{m[2]}# BEGIN SOLUTION\n{m[2]}return None\n{m[2]}# END SOLUTION\n",
        source,
        count=1,
    )
    assert count == 1, f"no solution block in {function}"
    return changed


@pytest.mark.parametrize(
    "module, mutant",
    MUTANTS,
    ids=[f"{m.exercise}: {m.mistake}" for _, m in MUTANTS],
)
def test_the_grader_catches_the_mistake(module: str, mutant: Mutant, tmp_path, mlflow_tracking_uri):
    copy = _copy_solutions(tmp_path)
    path = copy / f"{module}.py"
    source = path.read_text(encoding="utf-8")
    assert source.count(mutant.find) == 1, (
        f"`find` must occur exactly once in solutions/{module}.py (found "
        f"{source.count(mutant.find)} times): {mutant.find!r}"
    )
    path.write_text(source.replace(mutant.find, mutant.replace), encoding="utf-8")
    points, max_points, _ = _score(
        grade([mutant.exercise], target=str(copy), warm=True), mutant.exercise
    )
    KILLED[f"{mutant.exercise}: {mutant.mistake}"] = points < max_points
    assert points < max_points, f"survived: {mutant.mistake} scores {points:g}/{max_points:g}"


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_a_function_that_returns_none_scores_nothing(exercise, tmp_path, mlflow_tracking_uri):
    ex = EXERCISES[exercise]
    copy = _copy_solutions(tmp_path)
    path = copy / f"{ex.module}.py"
    path.write_text(_returns_none(path.read_text(encoding="utf-8"), ex.function))
    points, _, passed = _score(grade([exercise], target=str(copy), warm=True), exercise)
    KILLED[f"{exercise}: returns None"] = not passed
    assert not passed, f"these checks of {exercise} pass on `return None`: {', '.join(passed)}"


def test_every_exercise_has_its_mutants():
    counts = {ex: 0 for ex in EXERCISES}
    for _, mutant in MUTANTS:
        assert mutant.exercise in counts, f"a mutant of an unknown exercise {mutant.exercise}"
        counts[mutant.exercise] += 1
    short = {ex: n for ex, n in counts.items() if n < MIN_PER_EXERCISE}
    assert not short, f"exercises with fewer than {MIN_PER_EXERCISE} mutants: {short}"
