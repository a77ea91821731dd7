"""The catalogue of exercises, read from ``solutions/`` (their single source).

A graded function's docstring starts with ``Exercise M.N: Title.``; nothing else lists them.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
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


def graded_functions(
    tree: ast.Module,
) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef, str, str]]:
    """``(function node, exercise id, title)`` for every graded function of a parsed module:
    those whose docstring starts with ``Exercise M.N: Title.``."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            doc = (ast.get_docstring(node) or "").strip()
            match = _HEADING.match(doc.splitlines()[0]) if doc else None
            if match:
                yield node, match[1], match[2]


def exercises_in(path: Path) -> list[Exercise]:
    """The exercises defined in one solutions (or exercises) file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        Exercise(ex_id, title, path.stem, node.name)
        for node, ex_id, title in graded_functions(tree)
    ]


def catalog(folder: Path | None = None) -> dict[str, Exercise]:
    """Every exercise of the course, by id, in course order."""
    folder = folder or repo_root() / "solutions"
    items = [ex for path in sorted(folder.glob("*.py")) for ex in exercises_in(path)]
    return {ex.id: ex for ex in sorted(items, key=lambda e: exercise_key(e.id))}
