"""The target switch: which implementation of the graded functions is in use.

``MLOPS_COURSE_TARGET`` (or the ``--target`` option of ``mlops-course grade`` and of pytest)
is ``exercises`` (the default: the learner's files), ``solutions`` (the reference), or a path to
a folder holding the same module files. Notebooks, tests and the CLI all call graded code
through :func:`load`, never by importing ``exercises`` or ``solutions`` directly.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import traceback
from pathlib import Path
from types import ModuleType

from mlops_course.paths import repo_root

NAMED_TARGETS = ("exercises", "solutions")
DEFAULT_TARGET = "exercises"


class TargetLoadError(ImportError):
    """A graded module could not be imported (missing file, syntax error, error at import)."""

    def __init__(self, message: str, *, path: Path | None = None, lineno: int | None = None):
        super().__init__(message)
        self.path = path  # type: ignore[assignment]  # ImportError's is a str; ours a Path
        self.lineno = lineno


def current() -> str:
    """The selected target's name or path (``MLOPS_COURSE_TARGET``, default ``exercises``)."""
    return os.environ.get("MLOPS_COURSE_TARGET", "").strip() or DEFAULT_TARGET


def resolve(target: str | os.PathLike | None = None) -> Path:
    """The folder that holds the target's modules.

    Raises:
        TargetLoadError: when the target names no existing folder.
    """
    target = str(target) if target is not None else current()
    folder = repo_root() / target if target in NAMED_TARGETS else Path(target).expanduser()
    if not folder.is_dir():
        raise TargetLoadError(
            f"Target {target!r} is not a folder of graded modules. Use 'exercises', "
            "'solutions' or the path of a folder holding the same files."
        )
    return folder.resolve()


def load(module: str, target: str | os.PathLike | None = None) -> ModuleType:
    """Import ``<target>/<module>.py`` afresh, so a learner's latest edit is what runs.

    Args:
        module: the graded module's name, e.g. ``"tracking"``.
        target: ``exercises``, ``solutions`` or a folder; default :func:`current`.

    Raises:
        TargetLoadError: with the file and line when the module is missing or fails to import.
    """
    folder = resolve(target)
    path = folder / f"{module}.py"
    if not path.is_file():
        raise TargetLoadError(f"{path} does not exist.", path=path)
    name = f"mlops_course_target_{abs(hash(str(folder)))}.{module}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # not a Python file importlib can load
        raise TargetLoadError(f"{path} cannot be imported as a module.", path=path)
    mod = importlib.util.module_from_spec(spec)
    # Registered so that pickling and dataclasses defined in the module work.
    sys.modules[name] = mod
    try:
        spec.loader.exec_module(mod)
    except SyntaxError as exc:
        sys.modules.pop(name, None)
        raise TargetLoadError(
            f"Syntax error in {exc.filename or path}, line {exc.lineno}: {exc.msg}" + _caret(exc),
            path=path,
            lineno=exc.lineno,
        ) from exc
    except Exception as exc:
        sys.modules.pop(name, None)
        lineno = _line_in(path, exc)
        where = f"{path}, line {lineno}" if lineno else str(path)
        raise TargetLoadError(
            f"Importing {where} failed: {type(exc).__name__}: {exc}", path=path, lineno=lineno
        ) from exc
    return mod


def _caret(exc: SyntaxError) -> str:
    """The offending line and a caret under the column, as Python prints them."""
    if not exc.text:
        return ""
    line = exc.text.rstrip("\n")
    stripped = line.lstrip()
    column = max((exc.offset or 1) - 1 - (len(line) - len(stripped)), 0)
    return f"\n    {stripped}\n    {' ' * column}^"


def _line_in(path: Path, exc: BaseException) -> int | None:
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if Path(frame.filename).resolve() == path.resolve():
            return frame.lineno
    return None
