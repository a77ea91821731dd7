"""One source for every pair: solutions -> exercises, text -> notebook.

* ``exercises/<m>.py`` is generated from ``solutions/<m>.py``: each block between
  ``# BEGIN SOLUTION`` and ``# END SOLUTION`` becomes ``raise NotImplementedError("Exercise M.N:
  ...")``; signatures and docstrings stay. A learner's edited file is never overwritten without a
  backup beside it (``<file>.bak-<timestamp>``).
* ``notebooks/NN_topic.ipynb`` is generated from ``authors/notebooks/NN_topic.py``
  (Jupytext py:percent) with no outputs: the sources live in the authors' folder, out of the
  learner's way in JupyterLab.
"""

from __future__ import annotations

import ast
import hashlib
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from mlops_course.grading.catalog import graded_functions
from mlops_course.paths import repo_root

BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
_STAMP = re.compile(r"^# generated-from: (\S+) sha256:([0-9a-f]{12})\n", re.M)
HEADER = (
    "# Your exercises for {module}: write each function where it says NotImplementedError.\n"
    '# Check one with `mlops_course.check("M.N")` in a notebook or `mlops-course grade M.N`.\n'
    "# Start one again with `mlops-course reset M.N` (your current file is backed up first).\n"
    "# generated-from: solutions/{module}.py sha256:{digest}\n"
)


class AuthoringError(ValueError):
    """A solutions file is malformed (markers unbalanced, a marker outside an exercise)."""


# ----------------------------------------------------------------------------- exercises
def _exercise_of(tree: ast.Module) -> dict[int, tuple[str, str]]:
    """Line number -> (exercise id, function name), for every line of a graded function."""
    lines = {}
    for node, ex_id, _ in graded_functions(tree):
        for ln in range(node.lineno, (node.end_lineno or node.lineno) + 1):
            lines[ln] = (ex_id, node.name)
    return lines


def generate_exercise(solution_source: str, module: str) -> str:
    """The learner's stub file for one solutions file."""
    tree = ast.parse(solution_source)
    owner = _exercise_of(tree)
    out: list[str] = []
    inside = None
    for lineno, line in enumerate(solution_source.splitlines(keepends=True), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside is not None:
                raise AuthoringError(f"{module}.py:{lineno}: nested {BEGIN}")
            if lineno not in owner:
                raise AuthoringError(f"{module}.py:{lineno}: {BEGIN} outside an exercise")
            inside = lineno
            ex_id, func = owner[lineno]
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f'{indent}raise NotImplementedError("Exercise {ex_id}: write {func}()")\n')
        elif stripped == END:
            if inside is None:
                raise AuthoringError(f"{module}.py:{lineno}: {END} without {BEGIN}")
            inside = None
        elif inside is None:
            out.append(line)
    if inside is not None:
        raise AuthoringError(f"{module}.py:{inside}: {BEGIN} is never closed")
    body = "".join(out)
    return HEADER.format(module=module, digest=_digest(body)) + body


def _digest(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()[:12]


def is_pristine(text: str) -> bool:
    """True when a stub file is exactly as generated (its recorded digest still matches)."""
    match = _STAMP.search(text)
    if not match:
        return False
    body = text[match.end() :]
    return match[2] == _digest(body)


@dataclass
class SyncResult:
    module: str
    path: Path
    status: str  # "in sync", "written", "backed up and written", "out of sync"
    backup: Path | None = None


def _backup(path: Path) -> Path:
    backup = path.with_name(f"{path.name}.bak-{time.strftime('%Y%m%d-%H%M%S')}")
    n = 1
    while backup.exists():
        backup = path.with_name(f"{path.name}.bak-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
        n += 1
    shutil.copy2(path, backup)
    return backup


def sync_exercises(*, check: bool = False, root: Path | None = None) -> list[SyncResult]:
    """Generate (or with ``check``, only compare) every ``exercises/<m>.py``."""
    root = root or repo_root()
    results = []
    for sol in sorted((root / "solutions").glob("*.py")):
        if sol.name.startswith("_"):
            continue
        expected = generate_exercise(sol.read_text(encoding="utf-8"), sol.stem)
        path = root / "exercises" / sol.name
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == expected:
            results.append(SyncResult(sol.stem, path, "in sync"))
        elif check:
            results.append(SyncResult(sol.stem, path, "out of sync"))
        else:
            backup = _backup(path) if current is not None and not is_pristine(current) else None
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(expected, encoding="utf-8")
            status = "backed up and written" if backup else "written"
            results.append(SyncResult(sol.stem, path, status, backup))
    return results


def reset_exercise(ex_id: str, *, root: Path | None = None) -> tuple[Path, Path]:
    """Put one exercise's function back to its stub in ``exercises/``, keeping a backup.

    Returns:
        (the exercise file, the backup of it as it was).

    Raises:
        KeyError: for an unknown exercise id.
    """
    from mlops_course.grading.catalog import catalog

    root = root or repo_root()
    known = catalog(root / "solutions")
    if ex_id not in known:
        raise KeyError(f"Unknown exercise {ex_id}. Known: {', '.join(known)}.")
    ex = known[ex_id]
    fresh = generate_exercise((root / "solutions" / f"{ex.module}.py").read_text(), ex.module)
    path = root / "exercises" / f"{ex.module}.py"
    if not path.exists():
        path.write_text(fresh, encoding="utf-8")
        return path, path
    current = path.read_text(encoding="utf-8")
    backup = _backup(path)
    new_func = _function_source(fresh, ex.function)
    try:
        start, end = _function_span(current, ex.function)
    except (SyntaxError, KeyError):
        # The learner's file does not parse or lost the function: start the whole file again.
        path.write_text(fresh, encoding="utf-8")
        return path, backup
    lines = current.splitlines(keepends=True)
    lines[start:end] = [new_func]
    path.write_text("".join(lines), encoding="utf-8")
    return path, backup


def _function_span(source: str, name: str) -> tuple[int, int]:
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            return first - 1, node.end_lineno or node.lineno
    raise KeyError(name)


def _function_source(source: str, name: str) -> str:
    start, end = _function_span(source, name)
    text = "".join(source.splitlines(keepends=True)[start:end])
    return text if text.endswith("\n") else text + "\n"


# ----------------------------------------------------------------------------- notebooks
def notebook_from_source(src: Path):
    """The notebook (nbformat node) for a Jupytext py:percent source, with no outputs."""
    import jupytext

    nb = jupytext.read(src, fmt="py:percent")
    for index, cell in enumerate(nb.cells):
        cell.id = f"cell-{index:03d}"  # stable ids: regeneration must not be a diff
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    nb.metadata.pop("jupytext", None)  # the .ipynb is not paired: src/ is the one source
    return nb


def _notebook_text(nb) -> str:
    import nbformat

    return nbformat.writes(nb) + "\n"


NOTEBOOK_SOURCES = Path("authors") / "notebooks"


def notebook_sources(root: Path | None = None) -> list[Path]:
    """The lesson sources (``authors/notebooks/NN_topic.py``), in course order."""
    return sorted(((root or repo_root()) / NOTEBOOK_SOURCES).glob("[0-9][0-9]_*.py"))


def sync_notebooks(
    *, check: bool = False, root: Path | None = None, only: list[str] | None = None
) -> list[SyncResult]:
    """Generate (or with ``check``, compare) ``notebooks/NN_topic.ipynb`` from their sources;
    ``only`` limits it to the notebooks whose names start with one of these (``["05"]``)."""
    root = root or repo_root()
    results = []
    for src in notebook_sources(root):
        if only and not any(src.stem.startswith(o) for o in only):
            continue
        path = root / "notebooks" / f"{src.stem}.ipynb"
        expected = _notebook_text(notebook_from_source(src))
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == expected:
            results.append(SyncResult(src.stem, path, "in sync"))
        elif check:
            results.append(SyncResult(src.stem, path, "out of sync"))
        else:
            backup = _backup(path) if current is not None else None
            path.write_text(expected, encoding="utf-8")
            results.append(
                SyncResult(src.stem, path, "backed up and written" if backup else "written", backup)
            )
    if only:
        return results
    orphans = {p.stem for p in (root / "notebooks").glob("*.ipynb")} - {r.module for r in results}
    results += [
        SyncResult(o, root / "notebooks" / f"{o}.ipynb", "no source") for o in sorted(orphans)
    ]
    return results
