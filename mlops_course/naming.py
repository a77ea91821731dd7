"""Per-learner names, so 30 learners can share one MLflow server without collisions.

Experiments are ``<student>/<topic>`` and registered models ``<student>.<name>``, where the
student comes from ``MLOPS_COURSE_STUDENT`` or the operating-system user.
"""

from __future__ import annotations

import getpass
import os
import re

_UNSAFE = re.compile(r"[^a-z0-9_-]+")


def student() -> str:
    """The learner's namespace: lower-case letters, digits, ``-`` and ``_`` only."""
    raw = os.environ.get("MLOPS_COURSE_STUDENT") or _os_user()
    name = _UNSAFE.sub("-", raw.strip().lower()).strip("-")
    return name or "learner"


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "learner"


def experiment_name(topic: str) -> str:
    """The learner's experiment for a topic, e.g. ``alice/tracking``."""
    return f"{student()}/{topic}"


def model_name(name: str) -> str:
    """The learner's registered-model name, e.g. ``alice.iris-classifier``."""
    return f"{student()}.{name}"
