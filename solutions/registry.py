"""Module 02, the model registry: give models names, versions and movable aliases.

Each function under "exercises" below is one graded exercise; the helpers above them
(``_get_model``, ``_get_version``, ``_run_metric``) are given, use them. The exercises receive
their MLflow context as arguments:
``tracking_uri`` (when given, call ``mlflow.set_tracking_uri(tracking_uri)`` first; when None,
keep the tracking URI already in use) and the registered model's name, ``model_name``.

Bad input must change NOTHING in the registry: check that the model, the version, the run or
the metric exists BEFORE you write anything, and raise a ``ValueError`` whose message says what
was not found. ``MlflowClient`` raises ``mlflow.exceptions.MlflowException`` when something does
not exist (for instance ``get_registered_model`` of an unknown name): catch it and raise the
``ValueError`` from it.

Versions are strings in MLflow (``"1"``, ``"2"``); accept ``int`` or ``str`` and return ``str``.

Run the checks of one exercise from a notebook with ``mlops_course.check("2.1")`` or from a
terminal with ``mlops-course grade 2.1``.
"""

from __future__ import annotations

import math

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion, RegisteredModel
from mlflow.exceptions import MlflowException

from mlops_course import naming

# The version tags written by promote_to_alias (2.2) and read by rollback (2.5).
PROMOTED_BY, PROMOTION_REASON, PREVIOUS_VERSION = (
    "promoted_by",
    "promotion_reason",
    "previous_version",
)
ROLLED_BACK_BY, ROLLBACK_REASON = "rolled_back_by", "rollback_reason"
NO_PREVIOUS = "none"


# ----------------------------------------------------------------------------- helpers (given)
def _get_model(client: MlflowClient, model_name: str) -> RegisteredModel:
    """The registered model ``model_name``, or a ``ValueError`` saying it does not exist."""
    try:
        return client.get_registered_model(model_name)
    except MlflowException as exc:
        raise ValueError(f"There is no registered model named {model_name!r}.") from exc


def _get_version(client: MlflowClient, model_name: str, version: int | str) -> ModelVersion:
    """Version ``version`` of ``model_name``, or a ``ValueError`` naming the versions there are."""
    try:
        return client.get_model_version(model_name, str(version))
    except MlflowException as exc:
        existing = sorted(
            (v.version for v in client.search_model_versions(f"name = '{model_name}'")), key=int
        )
        raise ValueError(
            f"Registered model {model_name!r} has no version {version}; "
            f"its versions are: {', '.join(existing) or 'none'}."
        ) from exc


def _run_metric(client: MlflowClient, model_version: ModelVersion, metric: str) -> float | None:
    """The value of ``metric`` in the run that produced a model version (None when absent)."""
    if not model_version.run_id:
        return None
    value = client.get_run(model_version.run_id).data.metrics.get(metric)
    return None if value is None or math.isnan(value) else value


# ----------------------------------------------------------------------------- exercises
def register_model_version(
    run_id: str,
    model_name: str,
    *,
    description: str = "",
    tags: dict[str, str] | None = None,
    artifact_path: str = "model",
    tracking_uri: str | None = None,
) -> str:
    """Exercise 2.1: Register a run's model.

    Register the model that the run ``run_id`` logged under the name ``artifact_path`` as a new
    version of the registered model ``model_name`` (created if it does not exist yet):

    * first check that the run exists (``MlflowClient().get_run`` raises ``MlflowException``
      for an unknown id) and that it logged a model called ``artifact_path``: search the run's
      experiment with ``client.search_logged_models([experiment_id], filter_string=
      f"source_run_id = '{run_id}' AND name = '{artifact_path}'")``. When either is missing,
      raise a ``ValueError`` naming what is missing, and register nothing
      (``mlflow.register_model`` would create an empty registered model before failing);
    * register ``f"runs:/{run_id}/{artifact_path}"`` with ``mlflow.register_model(...,
      tags=tags)``, so every entry of ``tags`` is a tag of the new version;
    * set the version's description (``client.update_model_version``) when ``description`` is
      not empty.

    Args:
        run_id: the run that logged the model.
        model_name: the registered model's name, e.g. ``naming.model_name("iris")``.
        description: what this version is, in a sentence (markdown is fine).
        tags: tags of the new version, e.g. ``{"dataset": "iris"}``.
        artifact_path: the ``name=`` the model was logged with.
        tracking_uri: the tracking server, or None to keep the current one.

    Returns:
        The new version, as a string (``"1"`` for the first one).

    Raises:
        ValueError: when the run does not exist or logged no model called ``artifact_path``.
    """
    # BEGIN SOLUTION
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient()
    try:
        run = client.get_run(run_id)
    except MlflowException as exc:
        raise ValueError(f"There is no run with id {run_id!r}.") from exc
    logged = client.search_logged_models(
        [run.info.experiment_id],
        filter_string=f"source_run_id = '{run_id}' AND name = '{artifact_path}'",
    )
    if not logged:
        raise ValueError(f"Run {run_id} logged no model called {artifact_path!r}.")

    model_version = mlflow.register_model(
        f"runs:/{run_id}/{artifact_path}", model_name, tags=tags or None
    )
    if description:
        client.update_model_version(model_name, model_version.version, description=description)
    return str(model_version.version)
    # END SOLUTION


def promote_to_alias(
    model_name: str,
    version: int | str,
    *,
    alias: str = "champion",
    promoted_by: str | None = None,
    reason: str = "",
    tracking_uri: str | None = None,
) -> str | None:
    """Exercise 2.2: Promote a version to an alias.

    Point the alias ``alias`` of ``model_name`` at ``version`` (a promotion), and record on that
    version who did it, why, and which version held the alias before, so that it can be rolled
    back:

    * raise a ``ValueError`` when the model or the version does not exist
      (see the helpers ``_get_model`` and ``_get_version`` above);
    * the version that holds the alias now is ``client.get_registered_model(model_name)
      .aliases.get(alias)`` (a dict alias -> version, or None);
    * when ``version`` already holds the alias, change nothing and return it;
    * otherwise move the alias with ``client.set_registered_model_alias(model_name, alias,
      version)`` FIRST (MLflow refuses some alias names, such as ``latest`` or ``v2``: then
      nothing else must have changed), then set three tags on ``version``:
      ``promoted_by`` (``promoted_by``, or ``naming.student()`` when None),
      ``promotion_reason`` (``reason``) and ``previous_version`` (the version that held the
      alias before, or ``"none"`` when no version did).

    Args:
        model_name: the registered model.
        version: the version to promote.
        alias: the alias to move, e.g. ``champion`` or ``challenger``.
        promoted_by: who promotes; None means the learner, ``naming.student()``.
        reason: why, in a sentence.
        tracking_uri: the tracking server, or None to keep the current one.

    Returns:
        The version that held the alias before (a string), or None when no version did.

    Raises:
        ValueError: when the model or the version does not exist.
    """
    # BEGIN SOLUTION
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient()
    registered = _get_model(client, model_name)
    version = str(_get_version(client, model_name, version).version)
    previous = registered.aliases.get(alias)
    if previous == version:
        return previous

    client.set_registered_model_alias(model_name, alias, version)
    tags = {
        PROMOTED_BY: promoted_by or naming.student(),
        PROMOTION_REASON: reason,
        PREVIOUS_VERSION: previous or NO_PREVIOUS,
    }
    for key, value in tags.items():
        client.set_model_version_tag(model_name, version, key, value)
    return previous
    # END SOLUTION


def auto_promote(
    model_name: str,
    version: int | str,
    *,
    metric: str,
    threshold: float,
    alias: str = "champion",
    greater_is_better: bool = True,
    promoted_by: str | None = None,
    tracking_uri: str | None = None,
) -> bool:
    """Exercise 2.3: Promote automatically when a metric is good enough.

    An approval gate: promote ``version`` to ``alias`` only when the value of ``metric`` logged
    by the run that produced it (``client.get_run(model_version.run_id).data.metrics``; the
    helper ``_run_metric`` does it)

    1. meets ``threshold``: ``value >= threshold`` (``value <= threshold`` when
       ``greater_is_better`` is False, e.g. for an error such as ``rmse``), AND
    2. beats the version that holds ``alias`` now, strictly: ``value > champion's value``
       (``<`` when lower is better). A model without a champion, or whose champion's run did
       not log ``metric``, only needs the threshold.

    When both hold, promote exactly as ``promote_to_alias`` does (you may call it), with a
    ``reason`` that names the metric and its value, e.g. ``"accuracy=0.95 >= 0.9, beats v1
    (0.93)"``. Otherwise change nothing.

    Args:
        model_name: the registered model.
        version: the candidate version.
        metric: the metric to judge by, as logged in the version's run.
        threshold: the minimum (or maximum, when lower is better) acceptable value.
        alias: the alias to move when the candidate wins.
        greater_is_better: True for scores (accuracy), False for errors (rmse).
        promoted_by: who promotes; None means the learner, ``naming.student()``.
        tracking_uri: the tracking server, or None to keep the current one.

    Returns:
        True when the version was promoted; False when it was not (threshold not met, does not
        beat the current holder, or already holds the alias).

    Raises:
        ValueError: when the model or the version does not exist, or when the version's run did
            not log ``metric``; nothing is changed then.
    """
    # BEGIN SOLUTION
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient()
    registered = _get_model(client, model_name)
    candidate = _get_version(client, model_name, version)
    value = _run_metric(client, candidate, metric)
    if value is None:
        raise ValueError(
            f"The run of version {candidate.version} of {model_name!r} did not log {metric!r}."
        )
    current = registered.aliases.get(alias)
    if current == str(candidate.version):
        return False

    def better(a: float, b: float, *, strict: bool) -> bool:
        if greater_is_better:
            return a > b if strict else a >= b
        return a < b if strict else a <= b

    if not better(value, threshold, strict=False):
        return False
    op = ">=" if greater_is_better else "<="
    reason = f"{metric}={value:.4g} {op} {threshold:g}"
    if current is not None:
        champion_value = _run_metric(client, _get_version(client, model_name, current), metric)
        if champion_value is not None:
            if not better(value, champion_value, strict=True):
                return False
            reason += f", beats v{current} ({champion_value:.4g})"
    promote_to_alias(
        model_name, candidate.version, alias=alias, promoted_by=promoted_by, reason=reason
    )
    return True
    # END SOLUTION


def compare_versions(
    model_name: str,
    versions: list[int | str],
    *,
    metrics: list[str] | None = None,
    tracking_uri: str | None = None,
) -> pd.DataFrame:
    """Exercise 2.4: Compare versions side by side.

    Build a table of the metrics logged by the runs that produced the given versions:

    * one column per version, labelled with the version as a string (``"1"``, ``"3"``), in the
      order of ``versions``;
    * one row per metric, the index named ``"metric"``: the metrics in ``metrics``, in that
      order; when ``metrics`` is None, every metric logged by any of the runs, sorted by name;
    * the values are floats; NaN where a version's run did not log that metric.

    Args:
        model_name: the registered model.
        versions: the versions to compare (at least one).
        metrics: the metrics to show, or None for all of them.
        tracking_uri: the tracking server, or None to keep the current one.

    Returns:
        The table, a ``pandas.DataFrame``.

    Raises:
        ValueError: when the model or a version does not exist, or when a metric of ``metrics``
            was logged by none of the versions' runs.
    """
    # BEGIN SOLUTION
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient()
    _get_model(client, model_name)
    logged: dict[str, dict[str, float]] = {}
    for version in versions:
        model_version = _get_version(client, model_name, version)
        run_metrics = (
            client.get_run(model_version.run_id).data.metrics if model_version.run_id else {}
        )
        logged[str(model_version.version)] = dict(run_metrics)
    everything = sorted({name for values in logged.values() for name in values})
    if metrics is None:
        metrics = everything
    missing = [m for m in metrics if m not in everything]
    if missing:
        raise ValueError(
            f"No version logged {', '.join(map(repr, missing))}; "
            f"the metrics logged are: {', '.join(everything) or 'none'}."
        )
    table = pd.DataFrame(
        {v: [values.get(m, math.nan) for m in metrics] for v, values in logged.items()},
        index=pd.Index(list(metrics), name="metric"),
        dtype=float,
    )
    return table
    # END SOLUTION


def rollback(
    model_name: str,
    *,
    alias: str = "champion",
    to_version: int | str | None = None,
    rolled_back_by: str | None = None,
    reason: str = "",
    tracking_uri: str | None = None,
) -> str:
    """Exercise 2.5: Roll back to the previous champion.

    Move ``alias`` back to the version that held it before the last promotion:

    * the version holding ``alias`` now must exist (``ValueError`` otherwise: nothing to roll
      back);
    * the target is ``to_version`` when given, otherwise the current holder's
      ``previous_version`` tag (written by ``promote_to_alias``); raise a ``ValueError`` when
      there is none (missing, or ``"none"``) or when the target version does not exist (it may
      have been deleted). Nothing may change then;
    * when the target already holds the alias, change nothing and return it;
    * otherwise move the alias to the target, and tag the version you moved it FROM with
      ``rolled_back_by`` (``rolled_back_by``, or ``naming.student()`` when None) and
      ``rollback_reason`` (``reason``). Do not touch the target's tags: its own
      ``previous_version`` lets a second rollback go one step further back.

    Args:
        model_name: the registered model.
        alias: the alias to move back.
        to_version: a version to roll back to, or None for the previous holder.
        rolled_back_by: who rolls back; None means the learner, ``naming.student()``.
        reason: why, in a sentence.
        tracking_uri: the tracking server, or None to keep the current one.

    Returns:
        The version that holds ``alias`` afterwards, as a string.

    Raises:
        ValueError: when the model does not exist, no version holds ``alias``, or there is no
            (existing) version to roll back to.
    """
    # BEGIN SOLUTION
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient()
    registered = _get_model(client, model_name)
    current = registered.aliases.get(alias)
    if current is None:
        raise ValueError(f"No version of {model_name!r} has the alias {alias!r}.")
    if to_version is None:
        previous = _get_version(client, model_name, current).tags.get(PREVIOUS_VERSION)
        if not previous or previous == NO_PREVIOUS:
            raise ValueError(
                f"Version {current} of {model_name!r} records no previous {alias}: pass to_version."
            )
        to_version = previous
    target = str(_get_version(client, model_name, to_version).version)
    if target == current:
        return current

    client.set_registered_model_alias(model_name, alias, target)
    client.set_model_version_tag(
        model_name, current, ROLLED_BACK_BY, rolled_back_by or naming.student()
    )
    client.set_model_version_tag(model_name, current, ROLLBACK_REASON, reason)
    return target
    # END SOLUTION


def find_versions(
    model_name: str,
    *,
    tags: dict[str, str] | None = None,
    tracking_uri: str | None = None,
) -> list[str]:
    """Exercise 2.6: Find versions by tag.

    Return the versions of ``model_name`` whose tags include every ``key: value`` of ``tags``
    (all versions when ``tags`` is empty or None), letting the server filter:
    ``client.search_model_versions(filter_string)`` with ``name = '<model_name>'`` and one
    ``tags.`<key>` = '<value>'`` clause per tag, joined with `` AND `` (the backquotes allow
    keys with dots).

    Args:
        model_name: the registered model.
        tags: tag key -> value that every returned version must have.
        tracking_uri: the tracking server, or None to keep the current one.

    Returns:
        The matching versions as strings, in increasing numeric order (``["2", "10"]``); an
        empty list when none match or the model does not exist.
    """
    # BEGIN SOLUTION
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient()
    clauses = [f"name = '{model_name}'"]
    clauses += [f"tags.`{key}` = '{value}'" for key, value in (tags or {}).items()]
    found = client.search_model_versions(" AND ".join(clauses))
    return sorted((str(v.version) for v in found), key=int)
    # END SOLUTION
