"""Module 01, experiment tracking: record what a training run did, so it can be found again.

Each function below is one graded exercise. They all receive their MLflow context as
arguments: ``experiment_name`` (the experiment to log into, created when it does not exist yet)
and ``tracking_uri`` (when given, the server to log to; when None, the one already in use:
``@with_tracking_uri`` handles it, so your code calls ``mlflow.*`` with no URI). The grader
asks MLflow what your code logged: the names in the docstrings (metrics, params, tags, artifact
files) are the interface, spell them exactly. How to log them is what the notebook
teaches, section by section.

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
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import accuracy_score, classification_report, f1_score
from sklearn.model_selection import ParameterGrid, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlops_course.plots import confusion_matrix_figure
from mlops_course.tracking_uri import with_tracking_uri


@with_tracking_uri
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

    Fit ``model`` on the training set only, then record it in ONE finished MLflow run of the
    experiment ``experiment_name``, named ``run_name`` when given. The run holds:

    * params: every entry of ``model.get_params()``, under its own name;
    * metrics ``accuracy`` and ``f1_macro`` (the F1 score averaged over the classes, each class
      weighing the same), both measured on the TEST set;
    * tag ``model_type``: the model's class name, e.g. ``"RandomForestClassifier"``;
    * one dataset input with context ``training``, named ``train``: the training features plus
      a ``target`` column holding ``y_train`` (declared as the targets);
    * the fitted model, logged under the name ``model`` so that ``runs:/<run_id>/model`` loads
      it and predicts what ``model`` predicts, with a signature that describes its inputs AND
      its outputs, and an input example: the first 5 rows of ``X_train``.

    Edge case: the grader passes a tree ensemble; MLflow's default model format refuses tree
    models (notebook section 2 says why, and what to choose instead).

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


@with_tracking_uri
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

    Train a logistic-regression model by stochastic gradient descent,
    ``SGDClassifier(loss="log_loss", random_state=random_state)``, one epoch at a time, and
    record how its accuracy evolves, in ONE run of the experiment ``experiment_name``:

    * the model sees standardized features: each column centred and scaled with the mean and
      standard deviation of ``X_train`` (never of ``X_val``), the same transform for both sets;
    * an epoch is one pass over the whole training set, continuing from the previous epoch
      (the model is not started again); every label of ``y_train`` is known from the first one;
    * after epoch ``e`` (``e = 0 .. epochs - 1``), the metrics ``train_accuracy`` (on the
      training set) and ``val_accuracy`` (on the validation set), at step ``e``: one value per
      step, so MLflow draws a curve;
    * params ``epochs`` and ``random_state``.

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


@with_tracking_uri
def log_evaluation_artifacts(
    run_id: str,
    model,
    X_test: pd.DataFrame,
    y_test: pd.Series,
    *,
    tracking_uri: str | None = None,
) -> list[str]:
    """Exercise 1.3: Log evaluation artifacts.

    Add three files to the EXISTING run ``run_id``, which may already be finished (no new run),
    all describing the model's predictions on the test set:

    * ``confusion_matrix.png``: the confusion matrix of the test predictions, as drawn by
      ``mlops_course.plots.confusion_matrix_figure``;
    * ``feature_importance.csv``: columns ``feature`` and ``importance``, one row per column
      of ``X_test``, largest importance first, no index column. The importance is, in this
      order of preference: the model's own ``feature_importances_``; else, for a linear model,
      the mean over the classes of ``|coef_|`` (one row of ``coef_`` per class); else the mean
      permutation importance on the test set, with ``random_state=0`` (scikit-learn's default
      number of repeats);
    * ``classification_report.json``: scikit-learn's classification report of the test set, as
      a dict (per-class precision, recall, F1 and support, plus ``accuracy`` and the averages).

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


@with_tracking_uri
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

    In the experiment ``experiment_name``, log ONE parent run and, nested under it (MLflow's
    tag ``mlflow.parentRunId``), one child run per combination of ``param_grid``, in the order
    ``sklearn.model_selection.ParameterGrid`` lists them. Each child:

    * logs the combination's params under their own names;
    * scores ``estimator`` with those params by ``cv``-fold cross-validation on ``X, y`` with
      the scorer ``scoring``, and logs the metrics ``mean_cv_score`` and ``std_cv_score`` (the
      mean and the standard deviation of the fold scores).

    The parent logs, once every child is done:

    * param ``n_candidates``: how many combinations were tried;
    * params ``best_<name>`` for each param of the best combination (highest
      ``mean_cv_score``; on a tie, the first one tried), e.g. ``best_C``;
    * metric ``best_cv_score``: the best ``mean_cv_score``;
    * tag ``best_run_id``: the run id of the best child.

    ``estimator`` itself is left as it came: neither fitted nor given other params. You log each
    candidate yourself (no autolog, no ``GridSearchCV``).

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


@with_tracking_uri
def find_best_run(
    experiment_name: str,
    metric: str,
    *,
    maximize: bool = True,
    filter_string: str = "",
    tracking_uri: str | None = None,
) -> str | None:
    """Exercise 1.5: Find the best run.

    Among the runs of the experiment ``experiment_name`` that match ``filter_string`` (MLflow's
    search syntax, e.g. ``"params.model_type = 'rf'"``; empty means all runs), return the one
    with the highest ``metric`` (the lowest when ``maximize`` is False). A run that did not log
    ``metric`` never wins, however the others compare. The experiment may hold many runs: the
    tracking server, not your code, should do the ranking.

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

    Compute, with numpy only (no ``sklearn.metrics``), with ``e = y_pred - y_true`` over the
    ``n`` values:

    * ``rmse`` = sqrt( (1/n) * sum(e**2) );
    * ``mae`` = (1/n) * sum(|e|);
    * ``r2`` = 1 - sum(e**2) / sum((y_true - mean(y_true))**2);
    * ``mape`` = (1/n) * sum(|e| / |y_true|), a fraction (0.1 means 10 %), as
      ``sklearn.metrics.mean_absolute_percentage_error`` defines it.

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


@with_tracking_uri
def beat_the_baseline(
    X_train: pd.DataFrame,
    y_train: pd.Series,
    *,
    experiment_name: str,
    run_name: str = "challenger",
    tracking_uri: str | None = None,
) -> str:
    """Exercise 1.7: Beat the baseline.

    An open exercise: train ANY classifier you like on ``X_train``, ``y_train`` (the training
    split of the wine data, as the notebook makes it) and log it in ONE finished run of the
    experiment ``experiment_name``, named ``run_name``, so that it is found as the best run.
    The experiment already holds the baseline's run: a one-split decision tree (a "stump"),
    with its ``f1_macro``.

    The grader does not read your code. It checks what happened:

    * your logged model (``runs:/<run_id>/model``, predicting labels from the columns of
      ``X_train``) scores a higher macro F1 than the stump on test data you never see;
    * your run logs ``f1_macro``, your own estimate of that score, and ranking the
      experiment's runs by ``f1_macro`` (highest first) puts yours first;
    * that estimate is honest: at most 0.15 above what the grader measures on its unseen test
      data. A model scored on the rows it was trained on looks better than it is.

    Args:
        X_train: training features (wine: 13 numeric columns).
        y_train: training labels (3 classes).
        experiment_name: the experiment to log into.
        run_name: the run's name.
        tracking_uri: the tracking server, or None to keep the current one.

    Returns:
        The run id.
    """
    # BEGIN SOLUTION
    mlflow.set_experiment(experiment_name)

    # Wine's columns span very different ranges: a linear model needs them standardized.
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    # An honest estimate: each fold is scored by a model that never saw it.
    estimate = cross_val_score(model, X_train, y_train, cv=5, scoring="f1_macro").mean()
    model.fit(X_train, y_train)
    with mlflow.start_run(run_name=run_name) as run:
        mlflow.log_param("model", "StandardScaler + LogisticRegression")
        mlflow.log_metric("f1_macro", estimate)
        mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(X_train, model.predict(X_train)),
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
            pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
        )
    return run.info.run_id
    # END SOLUTION
