"""Module 01, experiment tracking: record what a training run did, so it can be found again.

Each function below is one graded exercise. They all receive their MLflow context as
arguments: ``experiment_name`` (create it if needed with ``mlflow.set_experiment``) and
``tracking_uri`` (when given, call ``mlflow.set_tracking_uri(tracking_uri)`` first; when None,
keep the tracking URI already in use). The grader looks in MLflow for what your code logged,
so log exactly the names the docstrings ask for.

Run the checks of one exercise from a notebook with ``mlops_course.check("1.1")`` or from a
terminal with ``mlops-course grade 1.1``.
"""

from __future__ import annotations

import math

import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
import sklearn
from mlflow import MlflowClient
from mlflow.models import infer_signature
from sklearn.base import clone
from sklearn.inspection import permutation_importance
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, classification_report, f1_score
from sklearn.model_selection import ParameterGrid, cross_val_score
from sklearn.preprocessing import StandardScaler

from mlops_course.plots import confusion_matrix_figure


def log_training_run(
    model,
    X_train: pd.DataFrame,
    y_train: pd.Series,
    X_test: pd.DataFrame,
    y_test: pd.Series,
    *,
    experiment_name: str,
    run_name: str | None = None,
    tracking_uri: str | None = None,
) -> str:
    """Exercise 1.1: Log a training run.

    Fit ``model`` on the training set, then record everything about it in ONE MLflow run of
    the experiment ``experiment_name`` (named ``run_name`` when given):

    * params: every entry of ``model.get_params()``, under its own name;
    * metrics: ``accuracy`` and ``f1_macro`` (``f1_score(..., average="macro")``), both
      computed on the TEST set;
    * tag: ``model_type`` = the model's class name (e.g. ``"RandomForestClassifier"``);
    * dataset input: the training data (``X_train`` plus a ``target`` column holding
      ``y_train``) as ``mlflow.data.from_pandas(train_df, targets="target", name="train")``,
      logged with ``mlflow.log_input(dataset, context="training")``;
    * the model with ``mlflow.sklearn.log_model(model, name="model", ...)``, with a
      ``signature`` inferred from ``X_train`` and the model's predictions on it
      (``mlflow.models.infer_signature``), an ``input_example`` (the first 5 rows of
      ``X_train``), ``serialization_format="cloudpickle"`` (the default, skops, refuses tree
      models) and ``pip_requirements=[f"scikit-learn=={sklearn.__version__}"]`` (otherwise
      MLflow spends seconds guessing them).

    Args:
        model: an unfitted scikit-learn classifier; it is fitted in place.
        X_train: training features.
        y_train: training labels.
        X_test: test features.
        y_test: test labels.
        experiment_name: the experiment to log into.
        run_name: the run's name, or None to let MLflow choose one.
        tracking_uri: the tracking server, or None to keep the current one.

    Returns:
        The run id.
    """
    # BEGIN SOLUTION
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(experiment_name)

    model.fit(X_train, y_train)
    y_pred = model.predict(X_test)
    train_df = X_train.assign(target=np.asarray(y_train))
    dataset = mlflow.data.from_pandas(train_df, targets="target", name="train")

    with mlflow.start_run(run_name=run_name) as run:
        mlflow.log_params(model.get_params())
        mlflow.log_metrics(
            {
                "accuracy": accuracy_score(y_test, y_pred),
                "f1_macro": f1_score(y_test, y_pred, average="macro"),
            }
        )
        mlflow.set_tag("model_type", type(model).__name__)
        mlflow.log_input(dataset, context="training")
        mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(X_train, model.predict(X_train)),
            input_example=X_train.head(5),
            # skops (the default) loads only types on an allow-list, so a downloaded model
            # cannot run code; pickle formats load anything, including code an attacker put
            # there. Tree models are not on skops' default list: we use cloudpickle and load
            # models only from our own tracking server.
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
            pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
        )
    return run.info.run_id
    # END SOLUTION


def log_learning_curve(
    X_train: pd.DataFrame,
    y_train: pd.Series,
    X_val: pd.DataFrame,
    y_val: pd.Series,
    *,
    experiment_name: str,
    epochs: int = 20,
    random_state: int = 0,
    tracking_uri: str | None = None,
) -> str:
    """Exercise 1.2: Log a learning curve.

    Train ``SGDClassifier(loss="log_loss", random_state=random_state)`` one epoch at a time
    and log how its accuracy evolves, in ONE run of the experiment ``experiment_name``:

    * first scale the features with a ``StandardScaler`` fitted on ``X_train`` (apply it to
      both sets);
    * for each ``epoch`` in ``0 .. epochs - 1``: one ``partial_fit`` on the whole training set
      (pass ``classes=np.unique(y_train)``), then log the metrics ``train_accuracy`` and
      ``val_accuracy`` with ``step=epoch``, so MLflow can draw the curve;
    * params: ``epochs`` and ``random_state``.

    Args:
        X_train: training features.
        y_train: training labels.
        X_val: validation features.
        y_val: validation labels.
        experiment_name: the experiment to log into.
        epochs: how many passes over the training set.
        random_state: the seed of the classifier.
        tracking_uri: the tracking server, or None to keep the current one.

    Returns:
        The run id.
    """
    # BEGIN SOLUTION
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(experiment_name)

    scaler = StandardScaler().fit(X_train)
    X_train_scaled, X_val_scaled = scaler.transform(X_train), scaler.transform(X_val)
    classes = np.unique(y_train)
    model = SGDClassifier(loss="log_loss", random_state=random_state)

    with mlflow.start_run() as run:
        mlflow.log_params({"epochs": epochs, "random_state": random_state})
        for epoch in range(epochs):
            model.partial_fit(X_train_scaled, y_train, classes=classes)
            mlflow.log_metrics(
                {
                    "train_accuracy": model.score(X_train_scaled, y_train),
                    "val_accuracy": model.score(X_val_scaled, y_val),
                },
                step=epoch,
            )
    return run.info.run_id
    # END SOLUTION


def log_evaluation_artifacts(
    run_id: str,
    model,
    X_test: pd.DataFrame,
    y_test: pd.Series,
    *,
    tracking_uri: str | None = None,
) -> list[str]:
    """Exercise 1.3: Log evaluation artifacts.

    Add three files to the EXISTING run ``run_id`` (do not create a new run; the methods of
    ``MlflowClient`` take the run id: ``log_figure``, ``log_text``, ``log_dict``):

    * ``confusion_matrix.png``: the figure of
      ``mlops_course.plots.confusion_matrix_figure(y_test, model.predict(X_test))``;
    * ``feature_importance.csv``: columns ``feature`` and ``importance``, one row per column
      of ``X_test``, sorted by importance, largest first, without the index. The importance
      is the model's ``feature_importances_`` when it has one; else the mean absolute value
      of ``coef_`` over the classes (rows of ``coef_``); else the ``importances_mean`` of
      ``sklearn.inspection.permutation_importance(model, X_test, y_test, random_state=0)``;
    * ``classification_report.json``: ``classification_report(y_test, y_pred,
      output_dict=True)``.

    Args:
        run_id: the run to add the files to.
        model: a fitted classifier.
        X_test: test features.
        y_test: test labels.
        tracking_uri: the tracking server, or None to keep the current one.

    Returns:
        The artifact paths logged, e.g. ``["confusion_matrix.png", ...]``.
    """
    # BEGIN SOLUTION
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient()
    y_pred = model.predict(X_test)

    # A Figure built without pyplot: nothing to show or close, works without a display.
    client.log_figure(run_id, confusion_matrix_figure(y_test, y_pred), "confusion_matrix.png")

    if hasattr(model, "feature_importances_"):
        importance = np.asarray(model.feature_importances_)
    elif hasattr(model, "coef_"):
        importance = np.abs(np.atleast_2d(model.coef_)).mean(axis=0)
    else:
        result = permutation_importance(model, X_test, y_test, random_state=0)
        importance = result.importances_mean
    table = pd.DataFrame({"feature": list(X_test.columns), "importance": importance})
    table = table.sort_values("importance", ascending=False, kind="stable")
    client.log_text(run_id, table.to_csv(index=False), "feature_importance.csv")

    report = classification_report(y_test, y_pred, output_dict=True)
    client.log_dict(run_id, report, "classification_report.json")
    return ["confusion_matrix.png", "feature_importance.csv", "classification_report.json"]
    # END SOLUTION


def log_grid_search(
    estimator,
    param_grid: dict[str, list],
    X: pd.DataFrame,
    y: pd.Series,
    *,
    experiment_name: str,
    cv: int = 3,
    scoring: str = "accuracy",
    tracking_uri: str | None = None,
) -> str:
    """Exercise 1.4: Log a grid search as nested runs.

    In the experiment ``experiment_name``, open a parent run, and inside it one nested child
    run (``mlflow.start_run(nested=True)``) per combination of
    ``sklearn.model_selection.ParameterGrid(param_grid)``, in that order. Each child:

    * logs the combination's params under their own names;
    * scores ``clone(estimator).set_params(**params)`` with
      ``cross_val_score(..., X, y, cv=cv, scoring=scoring)`` and logs the metrics
      ``mean_cv_score`` and ``std_cv_score`` (mean and standard deviation of the scores).

    The parent logs, once every child is done:

    * param ``n_candidates``: how many combinations were tried;
    * params ``best_<name>`` for each param of the best combination (highest
      ``mean_cv_score``; the first one on a tie), e.g. ``best_C``;
    * metric ``best_cv_score``: the best ``mean_cv_score``;
    * tag ``best_run_id``: the run id of the best child.

    Do not use autolog or ``GridSearchCV`` here: you log each candidate yourself.

    Args:
        estimator: an unfitted scikit-learn estimator (it is cloned, never fitted in place).
        param_grid: param name -> the values to try.
        X: features.
        y: labels.
        experiment_name: the experiment to log into.
        cv: the number of cross-validation folds.
        scoring: a scikit-learn scoring name (higher is better).
        tracking_uri: the tracking server, or None to keep the current one.

    Returns:
        The parent run's id.
    """
    # BEGIN SOLUTION
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(experiment_name)

    candidates = list(ParameterGrid(param_grid))
    best_score, best_params, best_run_id = -math.inf, {}, None
    with mlflow.start_run(run_name="grid_search") as parent:
        mlflow.log_param("n_candidates", len(candidates))
        for i, params in enumerate(candidates):
            name = ", ".join(f"{k}={v}" for k, v in params.items())  # readable in the UI
            with mlflow.start_run(run_name=f"{i}: {name}", nested=True) as child:
                candidate = clone(estimator).set_params(**params)
                scores = cross_val_score(candidate, X, y, cv=cv, scoring=scoring)
                mlflow.log_params(params)
                mlflow.log_metrics({"mean_cv_score": scores.mean(), "std_cv_score": scores.std()})
            if best_run_id is None or scores.mean() > best_score:
                best_score, best_params, best_run_id = scores.mean(), params, child.info.run_id
        mlflow.log_params({f"best_{name}": value for name, value in best_params.items()})
        mlflow.log_metric("best_cv_score", best_score)
        mlflow.set_tag("best_run_id", best_run_id)
    return parent.info.run_id
    # END SOLUTION


def find_best_run(
    experiment_name: str,
    metric: str,
    *,
    maximize: bool = True,
    filter_string: str = "",
    tracking_uri: str | None = None,
) -> str | None:
    """Exercise 1.5: Find the best run.

    Search the runs of the experiment ``experiment_name`` that match ``filter_string`` (MLflow's
    search syntax, e.g. ``"params.model_type = 'rf'"``; empty means all runs) and return the
    one with the highest ``metric`` (the lowest when ``maximize`` is False). Let MLflow sort:
    ``MlflowClient().search_runs(..., order_by=["metrics.<metric> DESC"])`` (``ASC`` to
    minimize). A run that did not log ``metric`` never wins.

    Args:
        experiment_name: the experiment to search.
        metric: the metric's name, e.g. ``"accuracy"``.
        maximize: True when higher is better (accuracy), False when lower is (rmse).
        filter_string: an MLflow search filter, or ``""``.
        tracking_uri: the tracking server, or None to keep the current one.

    Returns:
        The best run's id, or None when no matching run has the metric.

    Raises:
        ValueError: when there is no experiment named ``experiment_name``.
    """
    # BEGIN SOLUTION
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient()
    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is None:
        raise ValueError(
            f"There is no experiment named {experiment_name!r} on {mlflow.get_tracking_uri()}."
        )
    direction = "DESC" if maximize else "ASC"
    runs = client.search_runs(
        [experiment.experiment_id],
        filter_string=filter_string,
        order_by=[f"metrics.`{metric}` {direction}"],
    )
    # MLflow sorts runs without the metric last; skip them (and NaN values) anyway.
    for run in runs:
        value = run.data.metrics.get(metric)
        if value is not None and not math.isnan(value):
            return run.info.run_id
    return None
    # END SOLUTION


def regression_metrics(y_true, y_pred) -> dict[str, float]:
    """Exercise 1.6: Regression metrics by hand.

    Compute, with numpy only (no ``sklearn.metrics``), where ``e = y_pred - y_true``:

    * ``rmse``: the square root of the mean of ``e**2``;
    * ``mae``: the mean of ``|e|``;
    * ``r2``: ``1 - sum(e**2) / sum((y_true - mean(y_true))**2)``;
    * ``mape``: the mean of ``|e| / |y_true|``, as a fraction (0.1 means 10 %), like
      ``sklearn.metrics.mean_absolute_percentage_error``.

    Args:
        y_true: the true values (a list, numpy array or pandas Series).
        y_pred: the predictions, as many as ``y_true``.

    Returns:
        ``{"rmse": ..., "mae": ..., "r2": ..., "mape": ...}`` as Python floats.

    Raises:
        ValueError: when the inputs are empty or their lengths differ.
    """
    # BEGIN SOLUTION
    y_true = np.asarray(y_true, dtype=float).ravel()
    y_pred = np.asarray(y_pred, dtype=float).ravel()
    if y_true.size == 0 or y_pred.size == 0:
        raise ValueError("regression_metrics needs at least one value.")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} values but y_pred has {y_pred.size}.")

    errors = y_pred - y_true
    ss_res = float(np.sum(errors**2))
    ss_tot = float(np.sum((y_true - y_true.mean()) ** 2))
    # Like scikit-learn: a zero true value divides by the smallest float instead of 0.
    denominators = np.maximum(np.abs(y_true), np.finfo(np.float64).eps)
    return {
        "rmse": float(np.sqrt(np.mean(errors**2))),
        "mae": float(np.mean(np.abs(errors))),
        # A constant y_true has no variance to explain: 1.0 when perfect, else 0.0 (sklearn's rule).
        "r2": 1.0 - ss_res / ss_tot if ss_tot > 0 else float(ss_res == 0),
        "mape": float(np.mean(np.abs(errors) / denominators)),
    }
    # END SOLUTION
