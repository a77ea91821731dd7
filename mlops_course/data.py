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


# ----------------------------------------------------------------------------- predictive maintenance
MAINTENANCE_NUMERIC = ("temperature", "vibration", "pressure", "rpm", "torque", "operating_hours")
MAINTENANCE_CATEGORICAL = ("equipment_type",)
MAINTENANCE_FEATURES = MAINTENANCE_NUMERIC + MAINTENANCE_CATEGORICAL
MAINTENANCE_IDS = ("machine_id", "timestamp")
MAINTENANCE_CLASSES = ("ok", "failure")
MAINTENANCE_START = pd.Timestamp("2025-01-01")  # day 0 of the production stream
MAINTENANCE_TRAINING_DAYS = 90  # the training readings span the 90 days before day 0
MAINTENANCE_MISSING = 0.03  # the share of each sensor's readings that never arrived
TRAINING_DATASETS = ("maintenance", *CLASSIFICATION_DATASETS)

# Per equipment type: normal temperature (°C), pressure (bar), rpm, torque (N·m); the share of
# the fleet; how much more often it fails at the same readings (logit shift).
_EQUIPMENT = {
    "pump": (60.0, 6.0, 1800.0, 40.0, 0.35, 0.0),
    "compressor": (75.0, 8.0, 3000.0, 55.0, 0.30, 0.3),
    "turbine": (85.0, 10.0, 3600.0, 70.0, 0.15, 0.6),
    "conveyor": (45.0, 2.0, 900.0, 90.0, 0.20, -0.4),
}
_SENSORS = ("temperature", "vibration", "pressure", "rpm", "torque")  # may be missing


@dataclass
class _Fleet:
    machine_id: np.ndarray
    equipment_type: np.ndarray
    hours: np.ndarray  # operating hours at the start of the training period


def _maintenance_fleet(rng: np.random.Generator, n_machines: int) -> _Fleet:
    types = list(_EQUIPMENT)
    shares = np.array([_EQUIPMENT[t][4] for t in types])
    return _Fleet(
        machine_id=np.array([f"M-{i:03d}" for i in range(1, n_machines + 1)]),
        equipment_type=rng.choice(types, size=n_machines, p=shares / shares.sum()),
        hours=rng.uniform(1_000, 40_000, n_machines).round(),
    )


def _maintenance_readings(
    rng: np.random.Generator, fleet: _Fleet, n: int, start: pd.Timestamp, days: float, kind: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """``n`` readings between ``start`` and ``start + days``: (ids, features, labels).

    ``kind`` is the world they come from: ``"none"`` (as in training), ``"data"`` (readings
    shifted, the machines' condition not) or ``"concept"`` (a new failure mode).
    """
    machine = rng.integers(0, len(fleet.machine_id), n)
    offset = np.sort(rng.uniform(0, days * 86_400, n))
    equipment = fleet.equipment_type[machine]
    profile = np.array([_EQUIPMENT[t] for t in equipment])
    base_temperature, base_pressure, base_rpm, base_torque = profile[:, :4].T
    hours = fleet.hours[machine] + offset / 3600
    # The latent wear drives every sensor and the failures; the sensors show it with noise.
    wear = rng.gamma(2.0, 0.5, n) + hours / 40_000
    load = rng.normal(1.0, 0.08, n)
    true = {
        "temperature": base_temperature + 6 * wear + 10 * (load - 1) + rng.normal(0, 3, n),
        "vibration": np.clip(1.5 + 1.2 * wear + rng.normal(0, 0.45, n), 0.05, None),
        "pressure": base_pressure - 0.5 * wear + rng.normal(0, 0.5, n),
        "rpm": base_rpm * load * (1 + rng.normal(0, 0.02, n)),
        "torque": base_torque * (0.8 + 0.2 * load + 0.04 * wear) + rng.normal(0, 3, n),
    }
    excess_heat = true["temperature"] - base_temperature
    pressure_loss = base_pressure - true["pressure"]
    type_effect = np.array([_EQUIPMENT[t][5] for t in equipment])
    if kind == "concept":  # a new failure mode: jams (high torque) and leaks, not heat
        torque_excess = (true["torque"] / base_torque - 1) / 0.06
        logit = -7.5 + 1.8 * torque_excess + 1.5 * pressure_loss
    else:
        logit = (
            -8.1
            + 0.22 * excess_heat
            + 1.1 * (true["vibration"] - 2.7)
            + 0.6 * pressure_loss
            + 0.5 * (load - 1) / 0.08
            + type_effect
        )
    failure = rng.binomial(1, 1 / (1 + np.exp(-logit)))
    readings = dict(true)
    if kind == "data":  # a heat wave and new vibration sensors: the readings move, not the truth
        readings["temperature"] = readings["temperature"] + 8.0
        readings["vibration"] = readings["vibration"] * 1.4
    X = pd.DataFrame(
        {
            "temperature": readings["temperature"].round(2),
            "vibration": readings["vibration"].round(3),
            "pressure": readings["pressure"].round(3),
            "rpm": readings["rpm"].round(1),
            "torque": readings["torque"].round(2),
            "operating_hours": hours.round(1),
            "equipment_type": pd.array(equipment, dtype=object),
        }
    )
    for column in _SENSORS:  # readings lost on the way (a network hiccup, a sensor reboot)
        X.loc[rng.random(n) < MAINTENANCE_MISSING, column] = np.nan
    ids = pd.DataFrame(
        {
            "machine_id": pd.array(fleet.machine_id[machine], dtype=object),
            "timestamp": start + pd.to_timedelta(offset.round(), unit="s"),
        }
    )
    return ids, X, pd.Series(failure, name="target", dtype="int64")


def _maintenance_rng(seed: int, part: int) -> np.random.Generator:
    return np.random.default_rng([seed, part])  # independent parts: training, fleet, stream


def _maintenance_reference(
    n_rows: int, seed: int, n_machines: int
) -> tuple[_Fleet, pd.DataFrame, pd.DataFrame, pd.Series]:
    if n_rows < 1 or n_machines < 1:
        raise ValueError("n_rows and n_machines must be at least 1.")
    fleet = _maintenance_fleet(_maintenance_rng(seed, 0), n_machines)
    start = MAINTENANCE_START - pd.Timedelta(days=MAINTENANCE_TRAINING_DAYS)
    ids, X, y = _maintenance_readings(
        _maintenance_rng(seed, 1), fleet, n_rows, start, MAINTENANCE_TRAINING_DAYS, "none"
    )
    return fleet, ids, X, y


def load_maintenance(
    n_rows: int = 2000, *, seed: int = 0, n_machines: int = 50, ids: bool = False
) -> tuple[pd.DataFrame, pd.Series]:
    """A generated predictive-maintenance dataset: sensor readings and the failures that followed.

    Each row is one reading of one machine of a fleet of ``n_machines`` (pumps, compressors,
    turbines, conveyors), taken during the 90 days before :data:`MAINTENANCE_START` (day 0 of
    :func:`maintenance_stream`), in time order. The features (:data:`MAINTENANCE_FEATURES`):

    * ``temperature`` (°C), ``vibration`` (mm/s), ``pressure`` (bar), ``rpm``, ``torque``
      (N·m): floats, each missing (NaN) in about 3 % of the rows;
    * ``operating_hours``: the machine's hours of service, never missing;
    * ``equipment_type``: a string, one of ``pump``, ``compressor``, ``turbine``, ``conveyor``.

    The label ``target`` is 1 when the machine failed soon after the reading (about 7 % of
    the rows; ``MAINTENANCE_CLASSES`` names the labels): heat above the type's normal, strong
    vibration, lost pressure and a heavy load make it likelier, in a way a model can learn
    but not perfectly (hidden wear and chance play a part).

    Nothing is downloaded; the same arguments give the same frame.

    Args:
        n_rows: how many readings.
        seed: the seed.
        n_machines: the size of the fleet.
        ids: also return ``machine_id`` (``"M-001"`` ...) and ``timestamp`` as the first two
            columns of ``X`` (a model should not learn from them: leave them out to train).

    Returns:
        ``(X, y)``: the features (with ``ids``, the ids first), and the labels (a Series of
        0/1 named ``target``).
    """
    _, frame_ids, X, y = _maintenance_reference(n_rows, seed, n_machines)
    if ids:
        X = pd.concat([frame_ids, X], axis=1)
    return X, y


@dataclass
class MaintenanceBatch(ProductionBatch):
    """One day of a maintenance stream: ``ids`` holds the ``machine_id`` and ``timestamp``
    of each row of ``X`` (same index), for a realistic day's file."""

    ids: pd.DataFrame = field(default_factory=pd.DataFrame)

    def frame(self, *, labels: bool = False) -> pd.DataFrame:
        """The day as one table: ids, features and, with ``labels``, the ``target`` column."""
        parts = [self.ids, self.X] + ([self.y] if labels else [])
        return pd.concat(parts, axis=1)


@dataclass
class MaintenanceStream(ProductionStream):
    """A :class:`ProductionStream` of the maintenance fleet (its batches are
    :class:`MaintenanceBatch`, its categorical feature ``equipment_type``)."""

    @property
    def categorical(self) -> tuple[str, ...]:
        """The categorical features (for drift tests that need to know)."""
        return MAINTENANCE_CATEGORICAL


def maintenance_stream(
    days: int = 30,
    rows_per_day: int = 200,
    drift_day: int = 15,
    *,
    kind: str = "data",
    reference_size: int = 2000,
    n_machines: int = 50,
    seed: int = 0,
) -> MaintenanceStream:
    """The maintenance fleet in production: one batch of readings a day, drifting from ``drift_day``.

    The training data (``reference_X``, ``reference_y``) is exactly
    ``load_maintenance(reference_size, seed=seed, n_machines=n_machines)``; day ``d``'s batch
    holds readings of the same fleet taken on ``MAINTENANCE_START + d days``. From
    ``drift_day`` on:

    * ``kind="data"``: a heat wave and replaced vibration sensors: every ``temperature``
      reads 8 °C higher and every ``vibration`` 40 % higher, while the machines' condition,
      and so how often they fail, stays the same. The drift tests see the two columns move;
      a model trained before sees trouble that is not there and raises false alarms, so its
      accuracy drops too;
    * ``kind="concept"``: the readings keep their distribution, but a new failure mode
      (jams: high torque, and leaks: lost pressure; no longer heat) breaks the machines: the
      failure rule changes, no feature drifts, a model's F1 score drops;
    * ``kind="none"``: nothing changes (every alarm is a false alarm).

    Args:
        days: how many daily batches (days ``0 .. days - 1``).
        rows_per_day: readings per batch.
        drift_day: the first drifted day (ignored for ``kind="none"``).
        kind: ``"data"``, ``"concept"`` or ``"none"``.
        reference_size: rows of the training data.
        n_machines: the size of the fleet.
        seed: the seed; the same arguments give the same stream.

    Returns:
        A :class:`MaintenanceStream` (training data, batches, and the truth about drift).
    """
    _check_name(kind, STREAM_KINDS, "stream kind")
    if days < 1 or rows_per_day < 1:
        raise ValueError("days and rows_per_day must be at least 1.")
    fleet, _, reference_X, reference_y = _maintenance_reference(reference_size, seed, n_machines)
    stream = MaintenanceStream(
        kind=kind,
        drift_day=None if kind == "none" else drift_day,
        drifted_columns=("temperature", "vibration") if kind == "data" else (),
        reference_X=reference_X,
        reference_y=reference_y,
    )
    rng = _maintenance_rng(seed, 2)
    for day in range(days):
        drifted = kind != "none" and day >= drift_day
        start = MAINTENANCE_START + pd.Timedelta(days=day)
        ids, X, y = _maintenance_readings(
            rng, fleet, rows_per_day, start, 1, kind if drifted else "none"
        )
        stream.batches.append(MaintenanceBatch(day=day, X=X, y=y, drifted=drifted, ids=ids))
    return stream


def load_dataset(name: str = "maintenance", **kwargs: object) -> tuple[pd.DataFrame, pd.Series]:
    """Any dataset a training command offers (:data:`TRAINING_DATASETS`), by name.

    Args:
        name: ``"maintenance"`` (:func:`load_maintenance`) or one of scikit-learn's
            (:func:`load_classification`).
        **kwargs: passed to :func:`load_maintenance` (``n_rows``, ``seed`` ...); refused
            for scikit-learn's datasets, which have a fixed size.

    Returns:
        ``(X, y)``.
    """
    _check_name(name, TRAINING_DATASETS, "training")
    if name == "maintenance":
        return load_maintenance(**kwargs)  # type: ignore[arg-type]
    if kwargs:
        raise ValueError(f"The {name} dataset has a fixed size: it takes no {', '.join(kwargs)}.")
    return load_classification(name)


def dataset_class_names(name: str = "maintenance") -> list[str]:
    """The class names of a dataset of :data:`TRAINING_DATASETS`, indexed by label."""
    _check_name(name, TRAINING_DATASETS, "training")
    return list(MAINTENANCE_CLASSES) if name == "maintenance" else class_names(name)
