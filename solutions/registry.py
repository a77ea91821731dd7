"""Module 02, the model registry: give models names, versions and movable aliases.

Each function below is one graded exercise. The exercises receive their MLflow context as
arguments: ``tracking_uri`` (when given, use that tracking server; when None, keep the one
already in use: ``@with_tracking_uri`` handles it, so ``MlflowClient()`` is the right client) and
the registered model's name, ``model_name``.

Bad input must change NOTHING in the registry: check that the model, the version, the run or
the metric exists BEFORE you write anything, and raise a ``ValueError`` whose message says what
was not found (MLflow's own errors are ``MlflowException``, not ``ValueError``).

Versions are strings in MLflow (``"1"``, ``"2"``); accept ``int`` or ``str`` and return ``str``.

The tag keys below are the interface: the grader, ``rollback`` (2.5) and the course's CLI read
them. Use the constants rather than retyping the strings.

Run the checks of one exercise from a notebook with ``mlops_course.check("2.1")`` or from a
terminal with ``mlops-course grade 2.1``.
"""

from __future__ import annotations

import math

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from mlops_course import naming
from mlops_course.tracking_uri import with_tracking_uri

# The version tags written by promote_to_alias (2.2) and read by rollback (2.5).
PROMOTED_BY, PROMOTION_REASON, PREVIOUS_VERSION = (
    "promoted_by",
    "promotion_reason",
    "previous_version",
)
ROLLED_BACK_BY, ROLLBACK_REASON = "rolled_back_by", "rollback_reason"
NO_PREVIOUS = "none"  # the value of previous_version when no version held the alias before


# ----------------------------------------------------------------------------- exercises
@with_tracking_uri
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
    version of the registered model ``model_name`` (created when it does not exist yet). The
    new version links back to that run, has every entry of ``tags`` as a version tag, and has
    ``description`` as its description (none when ``description`` is empty).

    Bad input creates nothing: when the run does not exist, or did not log a model called
    ``artifact_path``, raise a ``ValueError`` saying which, and leave no registered model
    behind (not even an empty one).

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


@with_tracking_uri
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
    back. Afterwards:

    * ``alias`` points at ``version``, and every other alias of the model is unchanged;
    * ``version`` has three tags: ``promoted_by`` (``promoted_by``, or ``naming.student()``
      when None), ``promotion_reason`` (``reason``) and ``previous_version`` (the version that
      held ``alias`` just before, or ``"none"`` when no version did);
    * the other versions' tags are unchanged.

    Edge cases, each of which changes nothing in the registry:

    * the model or the version does not exist: a ``ValueError``;
    * ``version`` already holds ``alias``: return it (its tags, above all ``previous_version``,
      stay as they are);
    * MLflow refuses the alias name (``latest`` and ``v<digits>`` are reserved): let its error
      through, but leave no tags behind.

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
    client = MlflowClient()
    try:
        registered = client.get_registered_model(model_name)
    except MlflowException as exc:
        raise ValueError(f"There is no registered model named {model_name!r}.") from exc
    try:
        version = str(client.get_model_version(model_name, str(version)).version)
    except MlflowException as exc:
        raise ValueError(f"Registered model {model_name!r} has no version {version}.") from exc
    previous = registered.aliases.get(alias)
    if previous == version:
        return previous

    # The alias first: when MLflow refuses its name, no tag has been written yet.
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


@with_tracking_uri
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

    An approval gate. Let ``value`` be the ``metric`` logged by the run that produced
    ``version``, and ``best`` the same metric of the version that holds ``alias`` now. Promote
    ``version`` to ``alias`` only when both hold:

    1. ``value`` meets ``threshold``: ``value >= threshold`` (``value <= threshold`` when
       ``greater_is_better`` is False, e.g. for an error such as ``rmse``);
    2. ``value`` beats ``best`` strictly: ``value > best`` (``value < best`` when lower is
       better); a tie is not an improvement. When no version holds ``alias``, or its run did
       not log ``metric``, only the threshold counts.

    A promotion leaves exactly what ``promote_to_alias`` (2.2) leaves, with a
    ``promotion_reason`` that names the metric and its value (e.g. ``"accuracy=0.95 >= 0.9,
    beats v1 (0.93)"``). When the gate says no, nothing changes.

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
    client = MlflowClient()
    try:
        registered = client.get_registered_model(model_name)
        candidate = client.get_model_version(model_name, str(version))
    except MlflowException as exc:
        raise ValueError(f"{model_name!r} has no version {version}.") from exc

    def logged_value(model_version) -> float | None:
        if not model_version.run_id:
            return None
        found = client.get_run(model_version.run_id).data.metrics.get(metric)
        return None if found is None or math.isnan(found) else found

    value = logged_value(candidate)
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
        best = logged_value(client.get_model_version(model_name, current))
        if best is not None:
            if not better(value, best, strict=True):
                return False
            reason += f", beats v{current} ({best:.4g})"
    promote_to_alias(
        model_name, candidate.version, alias=alias, promoted_by=promoted_by, reason=reason
    )
    return True
    # END SOLUTION


@with_tracking_uri
def compare_versions(
    model_name: str,
    versions: list[int | str],
    *,
    metrics: list[str] | None = None,
    tracking_uri: str | None = None,
) -> pd.DataFrame:
    """Exercise 2.4: Compare versions side by side.

    A table of the metrics logged by the runs that produced the given versions:

    * one column per version, labelled with the version as a string (``"1"``, ``"3"``), in the
      order of ``versions``;
    * one row per metric, the index named ``"metric"``: the metrics in ``metrics``, in that
      order; when ``metrics`` is None, every metric logged by any of the runs, sorted by name;
    * the values are floats, each the value the run logged; NaN where a version's run did not
      log that metric.

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
    client = MlflowClient()
    logged: dict[str, dict[str, float]] = {}
    for version in versions:
        try:
            model_version = client.get_model_version(model_name, str(version))
        except MlflowException as exc:
            raise ValueError(f"{model_name!r} has no version {version}.") from exc
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


@with_tracking_uri
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

    Move ``alias`` back to the version that held it before the last promotion. The target is
    ``to_version`` when given, otherwise the ``previous_version`` tag of the version holding
    ``alias`` now (as ``promote_to_alias`` wrote it). Afterwards:

    * ``alias`` points at the target; the model's other aliases are unchanged;
    * the version it was moved FROM has the tags ``rolled_back_by`` (``rolled_back_by``, or
      ``naming.student()`` when None) and ``rollback_reason`` (``reason``);
    * the target's tags are unchanged: its own ``previous_version`` lets a second rollback go
      one step further back.

    Edge cases, each of which changes nothing in the registry:

    * the model does not exist, or no version holds ``alias``: a ``ValueError`` (nothing to
      roll back);
    * no target: ``previous_version`` is missing or ``"none"``, and ``to_version`` is None: a
      ``ValueError``;
    * the target version does not exist (never created, or deleted since): a ``ValueError``;
    * the target already holds ``alias``: return it.

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
    client = MlflowClient()
    try:
        current = client.get_registered_model(model_name).aliases.get(alias)
    except MlflowException as exc:
        raise ValueError(f"There is no registered model named {model_name!r}.") from exc
    if current is None:
        raise ValueError(f"No version of {model_name!r} has the alias {alias!r}.")
    if to_version is None:
        previous = client.get_model_version(model_name, current).tags.get(PREVIOUS_VERSION)
        if not previous or previous == NO_PREVIOUS:
            raise ValueError(
                f"Version {current} of {model_name!r} records no previous {alias}: pass to_version."
            )
        to_version = previous
    try:
        target = str(client.get_model_version(model_name, str(to_version)).version)
    except MlflowException as exc:
        raise ValueError(
            f"{model_name!r} has no version {to_version} to roll back to (deleted?)."
        ) from exc
    if target == current:
        return current

    client.set_registered_model_alias(model_name, alias, target)
    client.set_model_version_tag(
        model_name, current, ROLLED_BACK_BY, rolled_back_by or naming.student()
    )
    client.set_model_version_tag(model_name, current, ROLLBACK_REASON, reason)
    return target
    # END SOLUTION


@with_tracking_uri
def find_versions(
    model_name: str,
    *,
    tags: dict[str, str] | None = None,
    tracking_uri: str | None = None,
) -> list[str]:
    """Exercise 2.6: Find versions by tag.

    The versions of ``model_name`` whose tags include every ``key: value`` of ``tags`` (all its
    versions when ``tags`` is empty or None), found by the server's search rather than by
    reading every version one by one. Keys may contain dots (``data.source``) and values any
    text, quotes included (``O'Brien``, ``say "hi"``).

    Args:
        model_name: the registered model.
        tags: tag key -> value that every returned version must have.
        tracking_uri: the tracking server, or None to keep the current one.

    Returns:
        The matching versions as strings, in increasing numeric order (``["2", "10"]``); an
        empty list when none match or the model does not exist.
    """
    # BEGIN SOLUTION
    client = MlflowClient()
    tags = tags or {}

    # MLflow's filter strings have no escape character: a text with ' goes between double
    # quotes; one with both kinds of quote cannot be written, and is matched below instead.
    def literal(text: str) -> str | None:
        if "'" not in text:
            return f"'{text}'"
        return f'"{text}"' if '"' not in text else None

    name = literal(model_name)
    clauses = [f"name = {name}"] if name else []
    unwritten = {}  # the tags the filter cannot say: compared on what comes back
    for key, value in tags.items():
        if "`" in key or literal(value) is None:
            unwritten[key] = value
        else:
            clauses.append(f"tags.`{key}` = {literal(value)}")
    found = client.search_model_versions(" AND ".join(clauses))
    matching = [
        v
        for v in found
        if (name or v.name == model_name)
        and all(v.tags.get(key) == value for key, value in unwritten.items())
    ]
    return sorted((str(v.version) for v in matching), key=int)
    # END SOLUTION


@with_tracking_uri
def set_up_flowers_champion(
    model_name: str | None = None,
    *,
    experiment_name: str | None = None,
    tracking_uri: str | None = None,
) -> str:
    """Exercise 2.7: Set up a champion you can trust, and a way back.

    An open exercise: how you get there is yours to decide (your functions of 2.1 to 2.5 may
    help). When this function returns, the registry must hold:

    * at least two versions of ``model_name``, each a scikit-learn classifier of the iris
      flowers (``data.load_classification("iris")``), loadable with
      ``mlflow.pyfunc.load_model`` and predicting from the iris feature columns; at least two
      of them must predict differently (comparing copies proves nothing);
    * the alias ``champion`` on the version with the best accuracy on held-out data, among all
      the versions of ``model_name`` (ties allowed). The grader scores every version on the test
      part of ``data.split(X, y)`` (the course's default split): train on the training part only;
    * a rollback target: the champion's ``previous_version`` tag names another existing version
      of ``model_name``, so that ``rollback`` (2.5) would succeed.

    Calling it again (a notebook re-run) must leave the same guarantees.

    Args:
        model_name: the registered model; None means ``naming.model_name("flowers")``.
        experiment_name: where to log the training runs; None means
            ``naming.experiment_name("registry")``.
        tracking_uri: the tracking server, or None to keep the current one.

    Returns:
        The registered model's name.
    """
    # BEGIN SOLUTION
    import tempfile

    import cloudpickle
    import sklearn
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    from mlops_course import data

    model_name = model_name or naming.model_name("flowers")
    mlflow.set_experiment(experiment_name or naming.experiment_name("registry"))
    X_train, X_test, y_train, y_test = data.split(*data.load_classification("iris"))
    candidates = {
        "stump": DecisionTreeClassifier(max_depth=1, random_state=0),
        "logreg": LogisticRegression(max_iter=500),
    }
    held_out = {}  # version -> accuracy on the test part
    for label, model in candidates.items():
        model.fit(X_train, y_train)
        with mlflow.start_run(run_name=f"flowers-{label}") as run:
            mlflow.log_metric("test_accuracy", model.score(X_test, y_test))
            mlflow.sklearn.log_model(
                model,
                name="model",
                input_example=X_train.head(2),
                serialization_format="cloudpickle",
                pip_requirements=[
                    f"scikit-learn=={sklearn.__version__}",
                    f"cloudpickle=={cloudpickle.__version__}",
                ],
            )
        version = register_model_version(run.info.run_id, model_name, tags={"candidate": label})
        held_out[version] = model.score(X_test, y_test)

    # Every version counts, also those of an earlier call: score each one as the grader will.
    client = MlflowClient()
    for mv in client.search_model_versions(f"name = '{model_name}'"):
        if mv.version not in held_out:
            with tempfile.TemporaryDirectory() as tmp:
                loaded = mlflow.pyfunc.load_model(
                    f"models:/{model_name}/{mv.version}", dst_path=tmp
                )
            held_out[mv.version] = float((loaded.predict(X_test) == y_test.to_numpy()).mean())
    ranked = sorted(held_out, key=lambda v: (held_out[v], int(v)))  # worst first
    best, fallback = ranked[-1], ranked[0]
    champion = client.get_registered_model(model_name).aliases.get("champion")
    previous = client.get_model_version(model_name, best).tags.get(PREVIOUS_VERSION)
    if champion != best or previous not in set(held_out) - {best}:
        promote_to_alias(model_name, fallback, reason="fallback: the rollback target")
        promote_to_alias(model_name, best, reason=f"best held-out accuracy {held_out[best]:.3f}")
    return model_name
    # END SOLUTION
