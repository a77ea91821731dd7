# Your exercises for tracking: write each function where it says NotImplementedError.
# Check one with `mlops_course.check("M.N")` in a notebook or `mlops-course grade M.N`.
# Start one again with `mlops-course reset M.N` (your current file is backed up first).
# generated-from: solutions/tracking.py sha256:f0e67cb69c0b
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
    raise NotImplementedError("Exercise 1.1: write log_training_run()")


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
    raise NotImplementedError("Exercise 1.2: write log_learning_curve()")


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
    raise NotImplementedError("Exercise 1.3: write log_evaluation_artifacts()")


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
    raise NotImplementedError("Exercise 1.4: write log_grid_search()")


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
    raise NotImplementedError("Exercise 1.5: write find_best_run()")


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
    raise NotImplementedError("Exercise 1.6: write regression_metrics()")
