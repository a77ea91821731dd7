"""Where the course lives on disk: the repository root and the course home."""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The course repository (holding ``exercises/``, ``solutions/``, ``tests/``)."""
    env = os.environ.get("MLOPS_COURSE_ROOT")
    return Path(env).resolve() if env else Path(__file__).resolve().parent.parent


def course_home() -> Path:
    """The course's working folder (server database, artifacts, reports): ``MLOPS_COURSE_HOME``
    or ``.mlops-course/`` in the repository. Created on first use, never at import."""
    env = os.environ.get("MLOPS_COURSE_HOME")
    home = Path(env).expanduser().resolve() if env else repo_root() / ".mlops-course"
    home.mkdir(parents=True, exist_ok=True)
    return home
