"""Hints that escalate: each graded check carries three levels, shown one at a time.

A graded test declares them on its marker::

    @pytest.mark.exercise("1.1", points=2, hints=(
        "the idea: metrics must describe data the model never saw",
        "where to look: notebook 01, 'Evaluating on held-out data'; mlflow.log_metrics",
        "nearly the code: compute both metrics on X_test, y_test, after fitting on X_train",
    ))

The first failure of a check shows level 1 (:data:`LEVELS`), the second level 2, the third and
later level 3. A passed check starts again at level 1. The counts live in the course home
(``hints.json``), per check, for the learner's own files only (the ``exercises`` target): the
reference, a folder of mutants or a copy graded in a test never move them. ``mode="all"``
(``mlops-course grade --hints all``, ``check(..., hints="all")``) shows every level at once.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

LEVELS = ("the idea", "where to look", "nearly the code")
MODES = ("escalate", "all")
FILE_VAR = "MLOPS_COURSE_HINTS_FILE"  # another counter file (tests)
# A check that did not run the learner's code says nothing about it: no step up.
NOT_COUNTED = ("passed", "not_started", "env_unavailable", "skipped")


def counter_file(target: str) -> Path | None:
    """Where the failures of ``target``'s checks are counted, or None (not the learner's)."""
    override = os.environ.get(FILE_VAR, "").strip()
    if override:
        return Path(override).expanduser()
    from mlops_course import target as target_mod
    from mlops_course.paths import course_home, repo_root

    try:
        if target_mod.resolve(target) != (repo_root() / "exercises").resolve():
            return None
    except target_mod.TargetLoadError:
        return None
    return course_home() / "hints.json"


def _load(path: Path | None) -> dict[str, int]:
    if path is None or not path.exists():
        return {}
    try:
        counts = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # a damaged file: start again rather than fail grading
        return {}
    return {str(k): int(v) for k, v in counts.items() if isinstance(v, int) and v > 0}


def _save(path: Path, counts: dict[str, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(counts, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


def key(exercise_id: str, test_name: str) -> str:
    return f"{exercise_id}::{test_name}"


def apply(exercises: list[dict], *, target: str, mode: str = "escalate") -> None:
    """Choose the hint each check shows (``hint``, ``hint_level``) from its ``hints``, counting
    this run's failures; what was passed starts again."""
    if mode not in MODES:
        raise ValueError(f"hints: {mode!r} is not one of {', '.join(MODES)}")
    path = counter_file(target)
    counts = _load(path)
    before = dict(counts)
    for ex in exercises:
        for test in ex["tests"]:
            levels = [h for h in test.get("hints") or [] if h]
            name = key(ex["id"], test["name"])
            if test["outcome"] == "passed":
                counts.pop(name, None)
            elif test["outcome"] not in NOT_COUNTED:
                counts[name] = counts.get(name, 0) + 1
            if not levels:
                test.setdefault("hint", "")
                test["hint_level"] = None
                continue
            if mode == "all":
                test["hint"] = "\n".join(
                    f"{i}. {LEVELS[i - 1]}: {h}" if i <= len(LEVELS) else f"{i}. {h}"
                    for i, h in enumerate(levels, 1)
                )
                test["hint_level"] = "all"
                continue
            level = min(max(counts.get(name, 0), 1), len(levels))
            test["hint"] = levels[level - 1]
            test["hint_level"] = level
    if path is not None and counts != before:
        try:
            _save(path, counts)
        except OSError:  # a read-only home: the hints stay at their level, grading goes on
            pass


def label(test: dict) -> str:
    """``Hint 2 of 3 (where to look)`` for a check's shown hint."""
    level, total = test.get("hint_level"), len([h for h in test.get("hints") or [] if h])
    if level == "all" or not isinstance(level, int) or total <= 1:
        return "Hints" if level == "all" else "Hint"
    name = LEVELS[level - 1] if level <= len(LEVELS) else ""
    return f"Hint {level} of {total}" + (f" ({name})" if name else "")
