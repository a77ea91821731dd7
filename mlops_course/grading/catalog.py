"""The catalogue of exercises, read from ``solutions/`` (their single source).

A graded function's docstring starts with ``Exercise M.N: Title.``; nothing else lists them.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from mlops_course.paths import repo_root

_HEADING = re.compile(r"^Exercise (\d+\.\d+):\s*(.+?)\.?\s*$")


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    module: str
    function: str


def exercise_key(ex_id: str) -> tuple[int, ...]:
    """Sort key for ids like ``1.10`` (after ``1.9``)."""
    return tuple(int(p) for p in ex_id.split(".") if p.isdigit())


def exercises_in(path: Path) -> list[Exercise]:
    """The exercises defined in one solutions (or exercises) file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            doc = ast.get_docstring(node) or ""
            match = _HEADING.match(doc.strip().splitlines()[0]) if doc.strip() else None
            if match:
                found.append(Exercise(match[1], match[2], path.stem, node.name))
    return found


def catalog(folder: Path | None = None) -> dict[str, Exercise]:
    """Every exercise of the course, by id, in course order."""
    folder = folder or repo_root() / "solutions"
    items = [ex for path in sorted(folder.glob("*.py")) for ex in exercises_in(path)]
    return {ex.id: ex for ex in sorted(items, key=lambda e: exercise_key(e.id))}
