"""Datasets for the course: scikit-learn's own (nothing is downloaded) and generated ones.

Every loader returns ``X`` (a DataFrame with plain snake_case column names, no units) and ``y``
(a Series named ``target``), the glossary's names. Nothing is loaded at import time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn import datasets
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import type_of_target

CLASSIFICATION_DATASETS = ("iris", "wine", "breast_cancer")
REGRESSION_DATASETS = ("diabetes", "synthetic")

_SKLEARN_LOADERS = {
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
}
_UNITS = re.compile(r"\s*\([^)]*\)")  # "sepal length (cm)" -> "sepal length"
_NOT_WORD = re.compile(r"[^0-9a-z]+")


def snake_case(column: str) -> str:
    """A column name as plain snake_case without units: ``"sepal length (cm)"`` -> ``"sepal_length"``."""
    return _NOT_WORD.sub("_", _UNITS.sub("", column).lower()).strip("_")


def _check_name(name: str, known: tuple[str, ...], kind: str) -> None:
    if name not in known:
        raise ValueError(f"Unknown {kind} dataset {name!r}; choose one of {', '.join(known)}.")


def load_classification(name: str = "iris") -> tuple[pd.DataFrame, pd.Series]:
    """A classification dataset shipped with scikit-learn.

    Args:
        name: ``"iris"`` (150 rows, 3 classes), ``"wine"`` (178 rows, 3 classes) or
            ``"breast_cancer"`` (569 rows, 2 classes).

    Returns:
        ``(X, y)``: float features with snake_case columns, and integer class labels in a
        Series named ``target`` (see :func:`class_names` for what the labels mean).
    """
    _check_name(name, CLASSIFICATION_DATASETS, "classification")
    bunch = _SKLEARN_LOADERS[name](as_frame=True)
    X = bunch.data.rename(columns=snake_case)
    y = bunch.target.rename("target").astype("int64")
    return X, y


def class_names(name: str = "iris") -> list[str]:
    """The class names of a classification dataset, indexed by label (``0 -> "setosa"``)."""
    _check_name(name, CLASSIFICATION_DATASETS, "classification")
    return [str(c) for c in _SKLEARN_LOADERS[name]().target_names]


def load_regression(
    name: str = "diabetes", *, n_samples: int = 500, random_state: int = 42
) -> tuple[pd.DataFrame, pd.Series]:
    """A regression dataset: scikit-learn's diabetes, or a generated linear problem.

    Args:
        name: ``"diabetes"`` (442 rows, 10 features in their original units, a disease
            progression score as target) or ``"synthetic"`` (``make_regression``: 8 features
            ``x0``..``x7`` of which 5 matter, Gaussian noise).
        n_samples: rows of the synthetic dataset (ignored for diabetes).
        random_state: seed of the synthetic dataset (ignored for diabetes).

    Returns:
        ``(X, y)``: float features and a float Series named ``target``.
    """
    _check_name(name, REGRESSION_DATASETS, "regression")
    if name == "diabetes":
        bunch = datasets.load_diabetes(as_frame=True, scaled=False)
        return bunch.data.rename(columns=snake_case), bunch.target.rename("target")
    features, target = datasets.make_regression(
        n_samples=n_samples,
        n_features=8,
        n_informative=5,
        noise=10.0,
        random_state=random_state,
    )
    X = pd.DataFrame(features, columns=[f"x{i}" for i in range(features.shape[1])])
    return X, pd.Series(target, name="target")


def split(
    X: pd.DataFrame,
    y: pd.Series,
    *,
    test_size: float = 0.25,
    random_state: int = 42,
    stratify: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    """Split into train and test sets, reproducibly.

    Args:
        X: features.
        y: labels or targets.
        test_size: the fraction of rows held out for testing.
        random_state: the seed of the shuffle.
        stratify: keep the class proportions in both parts. Only applies when ``y`` holds
            class labels; a float target (regression) is never stratified.

    Returns:
        ``X_train, X_test, y_train, y_test`` (the order of scikit-learn's ``train_test_split``).
    """
    labels = np.asarray(y)
    # Diabetes targets are whole numbers stored as floats: type_of_target alone calls them classes.
    by_class = (
        stratify and labels.dtype.kind != "f" and type_of_target(labels) in ("binary", "multiclass")
    )
    return train_test_split(
        X, y, test_size=test_size, random_state=random_state, stratify=y if by_class else None
    )


# ----------------------------------------------------------------------------- production stream
STREAM_KINDS = ("none", "data", "concept")
STREAM_FEATURES = ("age", "income", "tenure", "n_products", "region", "is_premium")
STREAM_CATEGORICAL = ("region", "is_premium")
_REGIONS = ("north", "south", "east", "west")


@dataclass
class ProductionBatch:
    """One day of production traffic: the features, and the labels (which arrive later)."""

    day: int
    X: pd.DataFrame
    y: pd.Series
    drifted: bool


@dataclass
class ProductionStream:
    """A simulated deployment: training data, then one batch a day, with the truth about drift.

    Attributes:
        kind: ``"none"``, ``"data"`` (feature distributions change, the label rule does not)
            or ``"concept"`` (the label rule changes, the features do not).
        drift_day: the first day whose batch is drawn from the drifted world (``None`` when
            ``kind == "none"``).
        drifted_columns: the features whose distribution changes (empty for concept drift).
        reference_X, reference_y: the training data, drawn before any drift.
        batches: one :class:`ProductionBatch` per day, days ``0 .. days - 1``.
    """

    kind: str
    drift_day: int | None
    drifted_columns: tuple[str, ...]
    reference_X: pd.DataFrame
    reference_y: pd.Series
    batches: list[ProductionBatch] = field(default_factory=list)

    @property
    def categorical(self) -> tuple[str, ...]:
        """The categorical features (for drift tests that need to know)."""
        return STREAM_CATEGORICAL


def _stream_features(rng: np.random.Generator, n: int, drifted: bool) -> pd.DataFrame:
    income_mean = np.log(52_000) + (0.35 if drifted else 0.0)  # incomes about 40 % higher
    tenure_scale = 2.0 if drifted else 1.0  # the same mean, twice the spread
    region_p = (0.1, 0.2, 0.3, 0.4) if drifted else (0.4, 0.3, 0.2, 0.1)
    return pd.DataFrame(
        {
            "age": rng.normal(42, 12, n).clip(18, 90).round(),
            "income": np.exp(rng.normal(income_mean, 0.4, n)).round(2),
            "tenure": (6 + tenure_scale * rng.normal(0, 3, n)).clip(0, None).round(2),
            "n_products": rng.choice([1, 2, 3, 4], size=n, p=(0.4, 0.3, 0.2, 0.1)),
            "region": rng.choice(_REGIONS, size=n, p=region_p),
            "is_premium": rng.binomial(1, 0.3, n),
        }
    )


def _stream_labels(rng: np.random.Generator, X: pd.DataFrame, concept: bool) -> pd.Series:
    # Churn: long tenure, many products and premium keep customers; low income loses them.
    # Under concept drift, a competitor's offer makes loyal customers (long tenure) leave.
    tenure_effect = 0.35 if concept else -0.35
    premium_effect = 0.8 if concept else -0.8
    logit = (
        tenure_effect * (X["tenure"] - 6)
        - 0.6 * (X["n_products"] - 2)
        + premium_effect * X["is_premium"]
        - 1.2 * (np.log(X["income"]) - np.log(52_000))
        + 0.5 * (X["region"] == "south")
    )
    return pd.Series(rng.binomial(1, 1 / (1 + np.exp(-logit))), name="target", dtype="int64")


def production_stream(
    days: int = 60,
    drift_day: int = 30,
    *,
    batch_size: int = 200,
    reference_size: int = 1000,
    kind: str = "data",
    random_state: int = 0,
) -> ProductionStream:
    """A generated production stream of a churn classifier, with drift starting on a known day.

    The features are ``age``, ``income``, ``tenure`` (numeric, many values), ``n_products``
    (numeric, 4 values), ``region`` (categorical, 4 values) and ``is_premium`` (binary); the
    label ``target`` is 1 when the customer churns. From ``drift_day`` on:

    * ``kind="data"``: ``income``'s mean shifts up, ``tenure``'s variance doubles and
      ``region``'s shares reverse; the label rule given the features is unchanged;
    * ``kind="concept"``: the features keep their distribution, but the label rule changes
      (long tenure and premium now go with churn), so a model's accuracy drops while no
      feature drifts;
    * ``kind="none"``: nothing changes (every alarm is a false alarm).

    Args:
        days: how many daily batches.
        drift_day: the first drifted day (ignored for ``kind="none"``).
        batch_size: rows per batch.
        reference_size: rows of the training data (``reference_X``, ``reference_y``).
        kind: ``"none"``, ``"data"`` or ``"concept"``.
        random_state: the seed; the same arguments give the same stream.

    Returns:
        A :class:`ProductionStream` (training data, batches, and the truth about drift).
    """
    _check_name(kind, STREAM_KINDS, "stream kind")
    if days < 1 or batch_size < 1 or reference_size < 1:
        raise ValueError("days, batch_size and reference_size must be at least 1.")
    rng = np.random.default_rng(random_state)
    reference_X = _stream_features(rng, reference_size, drifted=False)
    reference_y = _stream_labels(rng, reference_X, concept=False)
    stream = ProductionStream(
        kind=kind,
        drift_day=None if kind == "none" else drift_day,
        drifted_columns=("income", "tenure", "region") if kind == "data" else (),
        reference_X=reference_X,
        reference_y=reference_y,
    )
    for day in range(days):
        drifted = kind != "none" and day >= drift_day
        X = _stream_features(rng, batch_size, drifted=drifted and kind == "data")
        y = _stream_labels(rng, X, concept=drifted and kind == "concept")
        stream.batches.append(ProductionBatch(day=day, X=X, y=y, drifted=drifted))
    return stream
