"""The course's own scikit-learn models: how they are logged, and how they are built.

* :func:`sklearn_log_kwargs`: how the course's own code logs a scikit-learn model (tests,
  benchmarks, the CLI's demos): one place, so every copy is loadable the same way. Learners
  write their own ``log_model`` calls; this is not part of a lesson.
* :func:`make_model`, :data:`MODEL_NAMES`, :func:`param_grid`, :func:`sample_candidates`: the
  pipelines of ``mlops-course train|tune`` and notebook 06 (imputation, scaling, one-hot
  encoding in front of a classifier), by name, and what a search tries for each.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def sklearn_log_kwargs(model: Any, X: Any) -> dict[str, Any]:
    """Keyword arguments for ``mlflow.sklearn.log_model`` / ``save_model``: a signature from
    ``X`` and the model's predictions on it, cloudpickle (skops refuses some estimators' types,
    see notebook 01) and this scikit-learn pinned, so a served copy loads without a warning."""
    import sklearn
    from mlflow.models import infer_signature

    return {
        "signature": infer_signature(X, model.predict(X)),
        "serialization_format": "cloudpickle",
        "pip_requirements": [f"scikit-learn=={sklearn.__version__}"],
    }


def register_sklearn(
    model: Any,
    X: Any,
    name: str,
    *,
    experiment: str | None = None,
    input_example: Any = None,
    alias: str | None = None,
) -> str:
    """Log ``model`` in a new run (of ``experiment``, when given) as :func:`sklearn_log_kwargs`
    says, register it as the next version of ``name``, optionally give that version ``alias``;
    the version, as a string. For the course's own tests, benchmarks and demos."""
    import mlflow
    from mlflow import MlflowClient

    if experiment:
        mlflow.set_experiment(experiment)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            **sklearn_log_kwargs(model, X),
            registered_model_name=name,
            input_example=input_example,
        )
    version = str(info.registered_model_version)
    if alias:
        MlflowClient().set_registered_model_alias(name, alias, version)
    return version


# ----------------------------------------------------------------------------- pipelines
# The training commands (``mlops-course train|tune``) and notebook 06 build their models here:
# a preprocessing step that takes raw frames (strings, missing readings) and a classifier.
PREPROCESS_STEP, CLASSIFIER_STEP = "preprocess", "classifier"


def _classifiers() -> dict[str, Callable[[int], Any]]:
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    return {
        "RandomForest": lambda seed: RandomForestClassifier(
            n_estimators=100, min_samples_leaf=2, n_jobs=1, random_state=seed
        ),
        # LinearSVC: no predict_proba (scikit-learn 1.9 deprecates SVC(probability=True));
        # its decision_function ranks the rows, which is all ROC AUC needs.
        "SVM_Linear": lambda seed: LinearSVC(random_state=seed),
        "LogisticRegression": lambda seed: LogisticRegression(max_iter=1000),
        "GradientBoosting": lambda seed: HistGradientBoostingClassifier(random_state=seed),
    }


MODEL_NAMES = ("RandomForest", "SVM_Linear", "LogisticRegression", "GradientBoosting")

# Small grids: a grid search fits every combination cv times.
PARAM_GRIDS: dict[str, dict[str, list]] = {
    "RandomForest": {
        "classifier__n_estimators": [50, 150],
        "classifier__max_depth": [None, 8],
        "classifier__class_weight": [None, "balanced"],
    },
    "SVM_Linear": {
        "classifier__C": [0.1, 1.0, 10.0],
        "classifier__class_weight": [None, "balanced"],
    },
    "LogisticRegression": {
        "classifier__C": [0.01, 0.1, 1.0, 10.0],
        "classifier__class_weight": [None, "balanced"],
    },
    "GradientBoosting": {
        "classifier__learning_rate": [0.05, 0.1],
        "classifier__max_leaf_nodes": [15, 31],
        "classifier__class_weight": [None, "balanced"],
    },
}


def param_distributions(name: str) -> dict[str, Any]:
    """What a random search draws for the model ``name``: param -> a list (drawn uniformly)
    or a scipy distribution (``rvs``). The params are the pipeline's (``classifier__C``)."""
    from scipy.stats import loguniform, randint, uniform

    check_model_name(name)
    balanced = [None, "balanced"]
    return {
        "RandomForest": {
            "classifier__n_estimators": randint(50, 301),
            "classifier__max_depth": [None, 4, 8, 16],
            "classifier__min_samples_leaf": randint(1, 11),
            "classifier__max_features": ["sqrt", 0.5, 1.0],
            "classifier__class_weight": balanced,
        },
        "SVM_Linear": {
            "classifier__C": loguniform(1e-2, 1e2),
            "classifier__class_weight": balanced,
        },
        "LogisticRegression": {
            "classifier__C": loguniform(1e-3, 1e2),
            "classifier__class_weight": balanced,
        },
        "GradientBoosting": {
            "classifier__learning_rate": loguniform(0.01, 0.3),
            "classifier__max_leaf_nodes": randint(8, 64),
            "classifier__l2_regularization": uniform(0.0, 1.0),
            "classifier__class_weight": balanced,
        },
    }[name]


def check_model_name(name: str) -> str:
    """``name`` when it is one of :data:`MODEL_NAMES`.

    Raises:
        ValueError: naming the known models, when it is not.
    """
    if name not in MODEL_NAMES:
        raise ValueError(f"Unknown model {name!r}; known models: {', '.join(MODEL_NAMES)}.")
    return name


def split_columns(X: Any) -> tuple[list[str], list[str]]:
    """``(numeric, categorical)`` column names of a frame: numbers and booleans are numeric,
    everything else (strings, categories) categorical."""
    import pandas as pd

    numeric = [
        str(c)
        for c in X.columns
        if pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c])
    ]
    return numeric, [str(c) for c in X.columns if str(c) not in numeric]


def make_preprocessor(X: Any) -> Any:
    """A ``ColumnTransformer`` for the columns of ``X``: numeric columns imputed (median) and
    standardized, categorical ones imputed (most frequent) and one-hot encoded, a category
    never seen in training ignored (all zeros). Columns of ``X`` not listed are dropped."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric, categorical = split_columns(X)
    transformers = []
    if numeric:
        steps = [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
        transformers.append(("numeric", Pipeline(steps), numeric))
    if categorical:
        steps = [
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("onehot", OneHotEncoder(handle_unknown="ignore")),
        ]
        transformers.append(("categorical", Pipeline(steps), categorical))
    return ColumnTransformer(transformers, remainder="drop")


def make_model(name: str, X: Any, *, random_state: int = 0) -> Any:
    """An unfitted pipeline for raw frames like ``X``: :func:`make_preprocessor` then the
    classifier ``name`` (one of :data:`MODEL_NAMES`), seeded with ``random_state``.

    Its steps are named ``preprocess`` and ``classifier``, so its params are
    ``classifier__C`` and so on (the names of :data:`PARAM_GRIDS`).

    Raises:
        ValueError: for an unknown model name, naming the known ones.
    """
    from sklearn.pipeline import Pipeline

    check_model_name(name)
    classifier = _classifiers()[name](random_state)
    return Pipeline([(PREPROCESS_STEP, make_preprocessor(X)), (CLASSIFIER_STEP, classifier)])


def param_grid(name: str) -> dict[str, list]:
    """The grid a grid search tries for the model ``name`` (a copy of :data:`PARAM_GRIDS`)."""
    check_model_name(name)
    return {param: list(values) for param, values in PARAM_GRIDS[name].items()}


def sample_candidates(name: str, n_iter: int, *, random_state: int = 0) -> list[dict[str, Any]]:
    """``n_iter`` parameter combinations drawn from :func:`param_distributions` (scikit-learn's
    ``ParameterSampler``), floats rounded to 4 significant digits so they read well as MLflow
    params; a combination drawn twice is kept once.

    Returns:
        A list of ``{param: value}``, plain Python values, in the order drawn.
    """
    from sklearn.model_selection import ParameterSampler

    seen: list[dict[str, Any]] = []
    for drawn in ParameterSampler(param_distributions(name), n_iter, random_state=random_state):
        candidate = {param: _plain(value) for param, value in sorted(drawn.items())}
        if candidate not in seen:
            seen.append(candidate)
    return seen


def _plain(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return float(f"{value:.4g}")
    return value


def classification_scores(model: Any, X: Any, y: Any) -> dict[str, float]:
    """Test-set scores that matter with an imbalanced label, beside accuracy and macro F1:
    ``balanced_accuracy``, and for two classes the ``precision``, ``recall`` and ``f1`` of
    the positive class (a failure) and, when the model gives scores, ``roc_auc``."""
    import numpy as np
    from sklearn.metrics import (
        balanced_accuracy_score,
        f1_score,
        precision_score,
        recall_score,
        roc_auc_score,
    )

    y_pred = model.predict(X)
    scores = {"balanced_accuracy": float(balanced_accuracy_score(y, y_pred))}
    if len(np.unique(y)) != 2:
        return scores
    scores |= {
        "precision": float(precision_score(y, y_pred, zero_division=0)),
        "recall": float(recall_score(y, y_pred, zero_division=0)),
        "f1": float(f1_score(y, y_pred, zero_division=0)),
    }
    if hasattr(model, "predict_proba"):
        scores["roc_auc"] = float(roc_auc_score(y, model.predict_proba(X)[:, 1]))
    elif hasattr(model, "decision_function"):
        scores["roc_auc"] = float(roc_auc_score(y, model.decision_function(X)))
    return scores
