"""Datasets for the course: scikit-learn's own (nothing is downloaded) and generated ones.

Every loader returns ``X`` (a DataFrame with plain snake_case column names, no units) and ``y``
(a Series named ``target``), the glossary's names. Nothing is loaded at import time.
"""

from __future__ import annotations

import re

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
