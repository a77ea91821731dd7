"""What graded checks leave in MLflow: one spelling, found by name, cleaned after each check.

The checks run the learner's functions for real against the learner's own server, so they
create experiments and registered models. Every such object is named inside ONE grading folder
of the learner's namespace, with the exercise it belongs to:

* experiments ``<you>/grading/<exercise>/<label>-<8 hex>``;
* registered models ``<you>.grading.<exercise>.<label>-<8 hex>`` (model names refuse ``/``).

The runner removes them (:func:`remove`): before exercise M.N is graded, whatever an earlier
check of M.N left; after it, everything of M.N unless one of its checks failed: then it stays,
for the learner to inspect in the UI, until the next check of M.N replaces it. Experiments are
deleted the way the UI deletes them (moved to MLflow's trash), registered models for good.
``mlops-course clean`` removes all of them, including names from older course versions
(``<you>/grading/...`` without an exercise, ``<you>.grading-...``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from mlops_course import naming

_current: dict[str, str | None] = {"exercise": None}


def set_current_exercise(exercise: str | None) -> None:
    """Record which exercise the running check grades (the pytest plugin calls this)."""
    _current["exercise"] = exercise


def current_exercise() -> str:
    return _current["exercise"] or "misc"


def experiment_prefix(exercise: str | None = None) -> str:
    """``<you>/grading/`` or, for one exercise, ``<you>/grading/<exercise>/``."""
    base = f"{naming.student()}/grading/"
    return base + f"{exercise}/" if exercise else base


def model_prefix(exercise: str | None = None) -> str:
    """``<you>.grading`` (also matching older ``<you>.grading-...``) or ``<you>.grading.M.N.``."""
    base = f"{naming.student()}.grading"
    return base + f".{exercise}." if exercise else base


def _suffix(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:8]}"


def experiment_name(label: str, exercise: str | None = None) -> str:
    """A new experiment name for a check: ``<you>/grading/<exercise>/<label>-<hex>``."""
    return experiment_prefix(exercise or current_exercise()) + _suffix(label)


def model_name(label: str, exercise: str | None = None) -> str:
    """A new registered-model name for a check: ``<you>.grading.<exercise>.<label>-<hex>``."""
    return model_prefix(exercise or current_exercise()) + _suffix(label)


@dataclass
class Found:
    """Grading objects on the server: experiment (id, name) pairs and model names."""

    experiments: list[tuple[str, str]] = field(default_factory=list)
    models: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.experiments or self.models)

    def describe(self) -> str:
        return f"{len(self.experiments)} experiment(s) and {len(self.models)} registered model(s)"


def _matches(name: str, prefixes: list[str]) -> bool:
    return any(name.startswith(p) for p in prefixes)


def _all_pages(search, filter_string: str) -> list:
    """Every result of an MLflow ``search_*`` call, page after page."""
    results, token = [], None
    while True:
        page = search(filter_string=filter_string, max_results=1000, page_token=token)
        results += list(page)
        token = page.token
        if not token:
            return results


def find(client, exercises: Iterable[str] | None = None) -> Found:
    """The grading experiments (active ones) and registered models, of these exercises or all."""
    exercises = list(exercises) if exercises is not None else None
    exp_prefixes = [experiment_prefix(e) for e in exercises] if exercises else [experiment_prefix()]
    model_prefixes = [model_prefix(e) for e in exercises] if exercises else [model_prefix()]
    found = Found()
    if exercises == []:
        return found
    # LIKE narrows the search on the server; `_` is a LIKE wildcard, so match exactly here.
    found.experiments = [
        (e.experiment_id, e.name)
        for e in _all_pages(client.search_experiments, f"name LIKE '{experiment_prefix()}%'")
        if _matches(e.name, exp_prefixes)
    ]
    found.models = [
        m.name
        for m in _all_pages(client.search_registered_models, f"name LIKE '{model_prefix()}%'")
        if _matches(m.name, model_prefixes)
    ]
    return found


def remove(client, exercises: Iterable[str] | None = None) -> Found:
    """Delete what :func:`find` finds; returns what was removed. Objects that vanish in between
    (another check removed them) are skipped."""
    from mlflow.exceptions import MlflowException

    found = find(client, exercises)
    removed = Found()
    for name in found.models:
        try:
            client.delete_registered_model(name)
            removed.models.append(name)
        except MlflowException:
            pass
    for experiment_id, name in found.experiments:
        try:
            client.delete_experiment(experiment_id)
            removed.experiments.append((experiment_id, name))
        except MlflowException:
            pass
    return removed
