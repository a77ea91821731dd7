"""The mutant suite's parts: :class:`Mutant`, the mutants written, what was caught (see
conftest.py)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
KILLED: dict[str, bool] = {}  # mutant id -> caught; filled by test_mutants.py


@dataclass(frozen=True)
class Mutant:
    """A learner's mistake as a source change of ``solutions/<module>.py``.

    Attributes:
        exercise: the exercise whose points must drop, e.g. ``"1.1"``.
        mistake: the mistake in a learner's words ("fits on train + test").
        find: text of the solution, found exactly once in the module (add context if needed).
        replace: what the learner wrote instead.
    """

    exercise: str
    mistake: str
    find: str
    replace: str


def load_mutants() -> list[tuple[str, Mutant]]:
    """Every written mutant, with the module (file) it changes."""
    found = []
    for path in sorted(HERE.glob("mutants_*.py")):
        spec = importlib.util.spec_from_file_location(f"_mutants_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        found += [(path.stem.removeprefix("mutants_"), m) for m in module.MUTANTS]
    return found
