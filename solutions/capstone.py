"""Module 06, the capstone: the whole lifecycle, end to end, built from your own functions.

Each exercise is one workflow a team runs in production. None of them needs a new idea: they
put together what modules 01 to 05 taught, and the grader checks only the OUTCOME in MLflow
(runs, versions, aliases, tags, files), so any correct composition passes. Your functions of
the earlier modules are at hand, loaded from the same place as this file (your exercises, or
the reference when the grader runs with ``--target solutions``)::

    tracking = target.load("tracking")        # 1.1 log_training_run, 1.4 log_grid_search, ...
    registry = target.load("registry")        # 2.1 register_model_version, 2.2, 2.5 rollback
    serving = target.load("serving")          # 3.5 predict_csv
    validation = target.load("validation")    # 4.5 validate_challenger
    monitoring = target.load("monitoring")    # 5.3 degradation, 5.4 track_batch, 5.5 report

A mistake in one of them shows up here too: fix it where it was taught (its own checks say
what is wrong), then come back. ``tracking_uri`` works as everywhere else in the course:
``@with_tracking_uri`` makes it the server for the call, so pass nothing further down.

The names a workflow leaves behind are the interface, as in every module: the aliases
``champion`` and ``challenger``, and the version tags of modules 02 and 04 (``previous_version``,
``promotion_reason``, ``rollback_reason``, ``validation_decision``...) plus the few this
module adds, listed in each docstring.

Run the checks of one exercise from a notebook with ``mlops_course.check("6.1")`` or from a
terminal with ``mlops-course grade 6.1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import mlflow
import mlflow.sklearn
import pandas as pd
from mlflow import MlflowClient
from sklearn.base import clone

from mlops_course import target
from mlops_course.capstone_tools import best_combination
from mlops_course.tracking_uri import with_tracking_uri

CHAMPION, CHALLENGER = "champion", "challenger"
CANDIDATE_TAG = "capstone.candidate"  # on a registered version: which candidate it was
UPDATE_DECISION_TAG = "update_decision"  # on a tuned challenger: the validation's decision
UPDATE_REASON_TAG = "update_reason"  # ... and the reason, promoted or not
SERVED_VERSION_TAG = "model_version"  # on a monitoring day's run: the version that predicted


@with_tracking_uri
def challenge(
    model_name: str,
    version: str | int,
    X_test: pd.DataFrame,
    y_test: pd.Series,
    *,
    experiment_name: str,
    confidence: float = 0.95,
    tracking_uri: str | None = None,
) -> dict:
    """Exercise 6.1: Challenge the champion.

    The step every workflow below ends with: a new version asks to go to production, and the
    evidence decides.

    1. Point the alias ``challenger`` at ``version`` (a label, not a promotion: no promotion
       tags on it).
    2. Validate it against ``@champion`` on ``X_test, y_test`` with your exercise 4.5, at
       ``confidence``, the validation run in ``experiment_name``. Do not let 4.5 move aliases
       itself.
    3. When the recommendation says promote, promote ``version`` to ``champion`` with your
       exercise 2.2, the recommendation's reason as the reason (so ``previous_version`` says
       where a rollback goes). Otherwise the champion stays and ``version`` keeps
       ``@challenger``. Without any champion yet, 4.5 recommends promoting the first model.

    Args:
        model_name: the registered model.
        version: the new version.
        X_test: hold-out features.
        y_test: hold-out labels.
        experiment_name: where the validation run goes.
        confidence: passed to the validation.
        tracking_uri: the tracking server, or None to keep the current one.

    Returns:
        ``{"decision", "reason", "promoted", "validation_run_id"}``: the recommendation's
        decision and reason, whether ``version`` became champion, and 4.5's run.
    """
    # BEGIN SOLUTION
    registry = target.load("registry")
    validation = target.load("validation")
    MlflowClient().set_registered_model_alias(model_name, CHALLENGER, str(version))
    result = validation.validate_challenger(
        model_name,
        X_test,
        y_test,
        challenger_version=version,
        confidence=confidence,
        auto_promote=False,
        experiment_name=experiment_name,
    )
    recommendation = result.recommendation
    if recommendation.promote:
        registry.promote_to_alias(model_name, version, alias=CHAMPION, reason=recommendation.reason)
    return {
        "decision": recommendation.decision,
        "reason": recommendation.reason,
        "promoted": bool(recommendation.promote),
        "validation_run_id": result.run_id,
    }
    # END SOLUTION


@with_tracking_uri
def train_to_production(
    model_name: str,
    candidates: Mapping[str, object],
    X_train: pd.DataFrame,
    y_train: pd.Series,
    X_test: pd.DataFrame,
    y_test: pd.Series,
    *,
    experiment_name: str,
    metric: str = "f1_macro",
    confidence: float = 0.95,
    tracking_uri: str | None = None,
) -> dict:
    """Exercise 6.2: From training to production.

    The first workflow: train several models, keep the best, and let the evidence decide
    whether it replaces the champion.

    1. Train every candidate (``name -> unfitted scikit-learn estimator``) and log it as one
       run of ``experiment_name`` named ``name``, with your exercise 1.1.
    2. The best of THESE runs (not of older runs in the experiment) is the one with the highest
       ``metric`` on the test set; on a tie, the first in ``candidates``' order.
    3. Register the best run's model as a new version of ``model_name`` (2.1), tagged
       ``capstone.candidate`` = its candidate's name.
    4. Let it challenge the champion with your exercise 6.1 (at ``confidence``, the validation
       run in ``experiment_name``): the evidence decides whether it goes to production.

    Args:
        model_name: the registered model.
        candidates: the models to train, by name (the run names).
        X_train: training features.
        y_train: training labels.
        X_test: hold-out features (scoring, validation).
        y_test: hold-out labels.
        experiment_name: where the training and validation runs go.
        metric: the test metric that ranks the runs (1.1 logs ``accuracy`` and ``f1_macro``).
        confidence: passed to the validation.
        tracking_uri: the tracking server, or None to keep the current one.

    Returns:
        ``{"runs": {name: run_id}, "best_run_id", "version", "decision", "promoted"}``:
        the version as a string, the validation's decision, and whether it became champion.

    Raises:
        ValueError: when ``candidates`` is empty (nothing is logged).
    """
    # BEGIN SOLUTION
    if not candidates:
        raise ValueError("No candidates to train: give at least one model.")
    tracking = target.load("tracking")
    registry = target.load("registry")
    client = MlflowClient()

    runs = {
        name: tracking.log_training_run(
            model, X_train, y_train, X_test, y_test, experiment_name=experiment_name, run_name=name
        )
        for name, model in candidates.items()
    }
    scores = {name: client.get_run(run_id).data.metrics[metric] for name, run_id in runs.items()}
    best = max(scores, key=lambda name: scores[name])  # max keeps the first of equal scores

    version = registry.register_model_version(runs[best], model_name, tags={CANDIDATE_TAG: best})
    verdict = challenge(
        model_name, version, X_test, y_test, experiment_name=experiment_name, confidence=confidence
    )
    return {
        "runs": runs,
        "best_run_id": runs[best],
        "version": str(version),
        "decision": verdict["decision"],
        "promoted": verdict["promoted"],
    }
    # END SOLUTION


@with_tracking_uri
def update_with_tuning(
    model_name: str,
    estimator,
    param_grid: Mapping[str, list],
    X_train: pd.DataFrame,
    y_train: pd.Series,
    X_test: pd.DataFrame,
    y_test: pd.Series,
    *,
    experiment_name: str,
    cv: int = 3,
    scoring: str = "f1_macro",
    confidence: float = 0.95,
    tracking_uri: str | None = None,
) -> dict:
    """Exercise 6.3: A model update, decided by McNemar's test.

    The second workflow: tune a challenger, and promote it only if it really is better.

    1. Search ``param_grid`` for ``estimator`` with your exercise 1.4 (``cv`` folds,
       ``scoring``, runs in ``experiment_name``). Its parent run names the best child (tag
       ``best_run_id``); ``best_combination`` (given, imported above from
       ``mlops_course.capstone_tools``) turns that child's params back into values.
    2. Train a clone of ``estimator`` with that combination on ``X_train`` and log it with
       1.1 as a run named ``"tuned"``, tagged ``tuning_run_id`` = the search's parent run.
    3. Register it (2.1) and let it challenge the champion with your exercise 6.1 (at
       ``confidence``, in ``experiment_name``).
    4. Promoted or not, record why on the new version: tags ``update_decision`` (the
       decision) and ``update_reason`` (the recommendation's reason), so that anyone reading
       the registry later knows why this challenger did or did not win.

    Args:
        model_name: the registered model (it has a champion already).
        estimator: an unfitted scikit-learn estimator; it is left unfitted.
        param_grid: the search space, as for ``ParameterGrid``.
        X_train: training features (search and final fit).
        y_train: training labels.
        X_test: hold-out features (scoring, validation).
        y_test: hold-out labels.
        experiment_name: where every run goes.
        cv: cross-validation folds of the search.
        scoring: the search's scorer.
        confidence: passed to the validation.
        tracking_uri: the tracking server, or None to keep the current one.

    Returns:
        ``{"parent_run_id", "run_id", "version", "best_params", "decision", "promoted"}``:
        the search's parent run, the tuned run, the new version (a string), the best
        combination (a dict of real values, e.g. ``{"C": 10}``), the decision and whether the
        version became champion.
    """
    # BEGIN SOLUTION
    tracking = target.load("tracking")
    registry = target.load("registry")
    client = MlflowClient()

    parent = tracking.log_grid_search(
        estimator, dict(param_grid), X_train, y_train,
        experiment_name=experiment_name, cv=cv, scoring=scoring,
    )  # fmt: skip
    best_child = client.get_run(parent).data.tags["best_run_id"]
    best_params = best_combination(param_grid, client.get_run(best_child).data.params)
    tuned = clone(estimator).set_params(**best_params)
    run_id = tracking.log_training_run(
        tuned, X_train, y_train, X_test, y_test, experiment_name=experiment_name, run_name="tuned"
    )
    client.set_tag(run_id, "tuning_run_id", parent)

    version = registry.register_model_version(run_id, model_name)
    verdict = challenge(
        model_name, version, X_test, y_test, experiment_name=experiment_name, confidence=confidence
    )
    client.set_model_version_tag(model_name, version, UPDATE_DECISION_TAG, verdict["decision"])
    client.set_model_version_tag(model_name, version, UPDATE_REASON_TAG, verdict["reason"])
    return {
        "parent_run_id": parent,
        "run_id": run_id,
        "version": str(version),
        "best_params": best_params,
        "decision": verdict["decision"],
        "promoted": verdict["promoted"],
    }
    # END SOLUTION


@with_tracking_uri
def score_day(
    model_name: str,
    input_csv: str | Path,
    output_csv: str | Path,
    *,
    day: int,
    experiment_name: str,
    y_true: pd.Series | None = None,
    alias: str = CHAMPION,
    tracking_uri: str | None = None,
) -> dict:
    """Exercise 6.4: The batch prediction pipeline, one day.

    The third workflow, run once a day by a scheduler: score the day's file with the model in
    production, and leave what monitoring needs.

    1. Score ``input_csv`` with ``models:/<model_name>@<alias>`` into ``output_csv`` with your
       exercise 3.5 (the same columns and guarantees: nothing half-written).
    2. Track the day with 5.4: the model is the version that predicted (3.5 says which), ``X``
       the input's model columns only (the signature's input names: an id column is not a
       feature), ``y_true`` passed on when given (labels that arrive later are tracked by a
       second call for the same day, exactly as 5.4 allows).
    3. Tag the day's run ``model_version`` = that version, so a report can tell which
       version was in production on which day.

    Args:
        model_name: the registered model.
        input_csv: the day's rows (the model's columns, maybe more).
        output_csv: where the predictions go.
        day: the day number (the monitoring step).
        experiment_name: the monitoring experiment.
        y_true: the day's labels, in the rows' order, when known.
        alias: the alias in production.
        tracking_uri: the tracking server, or None to keep the current one.

    Returns:
        ``{"rows", "model_version", "run_id"}``: rows scored, the version (a string) and the
        day's monitoring run.
    """
    # BEGIN SOLUTION
    serving = target.load("serving")
    monitoring = target.load("monitoring")
    model_uri = f"models:/{model_name}@{alias}"
    summary = serving.predict_csv(model_uri, input_csv, output_csv)
    version = str(summary["model_version"])

    versioned_uri = f"models:/{model_name}/{version}"
    columns = mlflow.models.get_model_info(versioned_uri).signature.inputs.input_names()
    X = pd.read_csv(input_csv)[columns]
    model = mlflow.sklearn.load_model(versioned_uri)
    run_id = monitoring.track_batch(
        model, X, day=day, experiment_name=experiment_name, y_true=y_true
    )
    MlflowClient().set_tag(run_id, SERVED_VERSION_TAG, version)
    return {"rows": int(summary["rows"]), "model_version": version, "run_id": run_id}
    # END SOLUTION


@with_tracking_uri
def rollback_if_degraded(
    model_name: str,
    *,
    experiment_name: str,
    metric: str = "accuracy",
    window: int = 3,
    threshold: float = 0.05,
    alias: str = CHAMPION,
    tracking_uri: str | None = None,
) -> dict:
    """Exercise 6.5: Roll back when production degrades.

    The fourth workflow: the data drifted, the labels came in, the numbers fell. Decide from
    the monitoring experiment alone, and leave a registry that explains itself.

    1. Read ``metric`` day by day from ``experiment_name`` with 5.5 (days without labels have
       no value: leave them out).
    2. Ask 5.3 whether it degraded: the last ``window`` labelled days against the ``window``
       before them (``baseline="preceding"``), at ``threshold``. With fewer than
       ``2 * window`` labelled days there is no verdict yet: nothing changes.
    3. When it degraded, roll ``alias`` back with your exercise 2.5 to the version that held
       it before; the reason names the metric and says by how much it fell, e.g.
       ``"accuracy fell 12.3% (0.93 -> 0.82) over the last 3 labelled days"``. When it did
       not, nothing changes.

    Afterwards the registry alone tells the story: the rolled-back version carries
    ``rollback_reason`` and ``rolled_back_by`` (2.5), the restored one its own
    ``previous_version`` for a further step back.

    Args:
        model_name: the registered model.
        experiment_name: the monitoring experiment (what 5.4 tracked).
        metric: the metric watched.
        window: labelled days in each mean.
        threshold: the relative drop that counts as degraded.
        alias: the alias in production.
        tracking_uri: the tracking server, or None to keep the current one.

    Returns:
        ``{"degraded", "rolled_back", "champion_version", "relative_drop"}``: two bools, the
        version holding ``alias`` afterwards (a string), and the drop (None without a verdict).
    """
    # BEGIN SOLUTION
    registry = target.load("registry")
    monitoring = target.load("monitoring")
    client = MlflowClient()

    report = monitoring.monitoring_report(experiment_name, days=10_000, metrics=[metric])
    history = report["history"][metric].dropna().tolist() if report["n_batches"] else []
    current = client.get_model_version_by_alias(model_name, alias).version
    if len(history) < 2 * window:
        return {
            "degraded": False,
            "rolled_back": False,
            "champion_version": str(current),
            "relative_drop": None,
        }
    verdict = monitoring.degradation(
        history, window=window, baseline="preceding", threshold=threshold
    )
    if not verdict["degraded"]:
        return {
            "degraded": False,
            "rolled_back": False,
            "champion_version": str(current),
            "relative_drop": float(verdict["relative_drop"]),
        }
    reason = (
        f"{metric} fell {verdict['relative_drop']:.1%} ({verdict['baseline_mean']:.3f} -> "
        f"{verdict['recent_mean']:.3f}) over the last {window} labelled days"
    )
    restored = registry.rollback(model_name, alias=alias, reason=reason)
    return {
        "degraded": True,
        "rolled_back": True,
        "champion_version": str(restored),
        "relative_drop": float(verdict["relative_drop"]),
    }
    # END SOLUTION
