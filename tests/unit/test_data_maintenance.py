"""The generated predictive-maintenance data, its production stream, and the pipelines that
meet it (mlops_course.models). No MLflow server needed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import cross_val_score

from mlops_course import data, models

SENSORS = ["temperature", "vibration", "pressure", "rpm", "torque"]


@pytest.fixture(scope="module")
def frame():
    return data.load_maintenance(2000, seed=0)


def test_the_same_seed_gives_the_same_frame():
    X1, y1 = data.load_maintenance(300, seed=7)
    X2, y2 = data.load_maintenance(300, seed=7)
    pd.testing.assert_frame_equal(X1, X2)
    pd.testing.assert_series_equal(y1, y2)
    X3, _ = data.load_maintenance(300, seed=8)
    assert not X1.equals(X3)


def test_columns_types_and_missing_readings(frame):
    X, y = frame
    assert list(X.columns) == list(data.MAINTENANCE_FEATURES)
    assert len(X) == len(y) == 2000 and y.name == "target"
    for column in data.MAINTENANCE_NUMERIC:
        assert pd.api.types.is_float_dtype(X[column]), column
    kinds = X["equipment_type"]
    assert pd.api.types.is_string_dtype(kinds) and not pd.api.types.is_numeric_dtype(kinds)
    assert set(kinds) == {"pump", "compressor", "turbine", "conveyor"}
    for column in SENSORS:  # a few percent of each sensor's readings never arrived
        assert 0.01 <= X[column].isna().mean() <= 0.06, column
    assert X[["operating_hours", "equipment_type"]].notna().all().all()


def test_the_failure_label_is_imbalanced_and_learnable(frame):
    X, y = frame
    assert set(y.unique()) == {0, 1}
    assert 0.05 <= y.mean() <= 0.10
    model = models.make_model("LogisticRegression", X)
    auc = cross_val_score(model, X, y, cv=3, scoring="roc_auc").mean()
    assert auc > 0.85, "the sensors should predict failures well, not perfectly"
    assert auc < 0.99


def test_ids_are_machines_and_times_before_day_zero():
    X, y = data.load_maintenance(500, seed=1, ids=True)
    assert list(X.columns[:2]) == ["machine_id", "timestamp"]
    features, labels = data.load_maintenance(500, seed=1)
    pd.testing.assert_frame_equal(X[list(data.MAINTENANCE_FEATURES)], features)
    pd.testing.assert_series_equal(y, labels)
    assert X["machine_id"].str.fullmatch(r"M-\d{3}").all()
    assert X["machine_id"].nunique() <= 50
    times = X["timestamp"]
    assert times.is_monotonic_increasing
    assert times.min() >= data.MAINTENANCE_START - pd.Timedelta(days=90)
    assert times.max() < data.MAINTENANCE_START
    # A machine keeps its equipment type.
    assert (X.groupby("machine_id")["equipment_type"].nunique() == 1).all()


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="at least 1"):
        data.load_maintenance(0)
    with pytest.raises(ValueError, match="at least 1"):
        data.maintenance_stream(days=0)
    with pytest.raises(ValueError, match="stream kind"):
        data.maintenance_stream(kind="gradual")


# ----------------------------------------------------------------------------- the stream
def _pooled(stream, drifted: bool) -> tuple[pd.DataFrame, pd.Series]:
    batches = [b for b in stream.batches if b.drifted == drifted]
    return pd.concat([b.X for b in batches]), pd.concat([b.y for b in batches])


@pytest.fixture(scope="module")
def data_drift():
    return data.maintenance_stream(days=12, rows_per_day=200, drift_day=6, kind="data")


def test_the_stream_starts_from_the_training_data(data_drift):
    X, y = data.load_maintenance(2000, seed=0)
    pd.testing.assert_frame_equal(data_drift.reference_X, X)
    pd.testing.assert_series_equal(data_drift.reference_y, y)
    assert isinstance(data_drift, data.ProductionStream)
    assert data_drift.categorical == ("equipment_type",)
    assert [b.day for b in data_drift.batches] == list(range(12))
    assert [b.drifted for b in data_drift.batches] == [False] * 6 + [True] * 6
    assert data_drift.drift_day == 6
    assert data_drift.drifted_columns == ("temperature", "vibration")


def test_a_day_is_a_file_of_that_day(data_drift):
    batch = data_drift.batches[3]
    day = batch.frame(labels=True)
    assert list(day.columns) == ["machine_id", "timestamp", *data.MAINTENANCE_FEATURES, "target"]
    assert len(day) == 200
    start = data.MAINTENANCE_START + pd.Timedelta(days=3)
    assert day["timestamp"].between(start, start + pd.Timedelta(days=1)).all()
    assert "target" not in batch.frame().columns


def test_data_drift_starts_on_the_stated_day(data_drift):
    before, _ = _pooled(data_drift, drifted=False)
    after, _ = _pooled(data_drift, drifted=True)
    for column in ["temperature", "vibration"]:
        assert stats.ks_2samp(before[column].dropna(), after[column].dropna()).pvalue < 1e-6
    for column in ["pressure", "rpm", "torque", "operating_hours"]:
        assert stats.ks_2samp(before[column].dropna(), after[column].dropna()).pvalue > 1e-3
    # Day by day against the training data: the first day that differs is the drift day.
    reference = data_drift.reference_X["vibration"].dropna()
    pvalues = [
        stats.ks_2samp(reference, b.X["vibration"].dropna()).pvalue for b in data_drift.batches
    ]
    assert all(p > 1e-3 for p in pvalues[:6]), pvalues
    assert all(p < 1e-10 for p in pvalues[6:]), pvalues
    shift = after["temperature"].mean() - before["temperature"].mean()
    assert 6 < shift < 10, "every temperature reads 8 °C higher"


def test_data_drift_hurts_a_model_trained_before(data_drift):
    model = models.make_model("LogisticRegression", data_drift.reference_X)
    model.fit(data_drift.reference_X, data_drift.reference_y)
    accuracy = [accuracy_score(b.y, model.predict(b.X)) for b in data_drift.batches]
    assert np.mean(accuracy[:6]) - np.mean(accuracy[6:]) > 0.05
    # False alarms: the machines fail as often as before, the model says they fail more.
    alarms = [model.predict(b.X).mean() for b in data_drift.batches]
    failures = [b.y.mean() for b in data_drift.batches]
    assert np.mean(alarms[6:]) > 2 * np.mean(alarms[:6])
    assert abs(np.mean(failures[6:]) - np.mean(failures[:6])) < 0.03


def test_concept_drift_keeps_the_readings_and_hurts_f1():
    stream = data.maintenance_stream(days=16, rows_per_day=300, drift_day=8, kind="concept")
    before, _ = _pooled(stream, drifted=False)
    after, _ = _pooled(stream, drifted=True)
    for column in SENSORS:
        assert stats.ks_2samp(before[column].dropna(), after[column].dropna()).pvalue > 1e-3
    assert stream.drifted_columns == ()
    model = models.make_model("LogisticRegression", stream.reference_X)
    model.fit(stream.reference_X, stream.reference_y)
    f1 = [f1_score(b.y, model.predict(b.X), average="macro") for b in stream.batches]
    assert np.mean(f1[:8]) - np.mean(f1[8:]) > 0.04


def test_no_drift_is_no_drift():
    stream = data.maintenance_stream(days=6, rows_per_day=300, drift_day=3, kind="none")
    assert stream.drift_day is None and not any(b.drifted for b in stream.batches)
    before = pd.concat([b.X for b in stream.batches[:3]])
    after = pd.concat([b.X for b in stream.batches[3:]])
    assert stats.ks_2samp(before.temperature.dropna(), after.temperature.dropna()).pvalue > 1e-3


# ----------------------------------------------------------------------------- by name
def test_load_dataset_by_name():
    X, y = data.load_dataset("maintenance", n_rows=50, seed=3)
    pd.testing.assert_frame_equal(X, data.load_maintenance(50, seed=3)[0])
    X, y = data.load_dataset("iris")
    assert X.shape == (150, 4)
    assert data.dataset_class_names("maintenance") == ["ok", "failure"]
    assert data.dataset_class_names("iris") == data.class_names("iris")
    with pytest.raises(ValueError, match="fixed size"):
        data.load_dataset("iris", n_rows=10)
    with pytest.raises(ValueError, match="maintenance"):
        data.load_dataset("mnist")


# ----------------------------------------------------------------------------- the pipelines
@pytest.mark.parametrize("name", models.MODEL_NAMES)
def test_every_model_takes_raw_frames(name, frame):
    X, y = frame
    X_train, X_test, y_train, y_test = data.split(X.head(600), y.head(600))
    model = models.make_model(name, X_train).fit(X_train, y_train)
    unseen = X_test.head(3).assign(equipment_type=["rocket", None, "pump"])
    unseen.loc[unseen.index[0], "temperature"] = np.nan
    assert len(model.predict(unseen)) == 3, "missing readings and unseen types are handled"
    scores = models.classification_scores(model, X_test, y_test)
    assert {"balanced_accuracy", "precision", "recall", "f1", "roc_auc"} <= set(scores)
    assert set(models.param_grid(name)) <= set(model.get_params())
    assert set(models.param_distributions(name)) <= set(model.get_params())


def test_a_frame_without_strings_gets_no_encoder():
    X, y = data.load_classification("iris")
    model = models.make_model("RandomForest", X).fit(X, y)
    assert [name for name, *_ in model.named_steps["preprocess"].transformers] == ["numeric"]
    assert set(models.classification_scores(model, X, y)) == {"balanced_accuracy"}


def test_unknown_models_are_named():
    with pytest.raises(ValueError, match="RandomForest, SVM_Linear, LogisticRegression"):
        models.make_model("XGBoost", pd.DataFrame({"a": [1.0]}))


def test_random_candidates_are_seeded_plain_and_distinct():
    first = models.sample_candidates("RandomForest", 5, random_state=1)
    assert first == models.sample_candidates("RandomForest", 5, random_state=1)
    assert first != models.sample_candidates("RandomForest", 5, random_state=2)
    assert len(first) == len({tuple(sorted(c.items(), key=str)) for c in first})
    for candidate in first:
        assert all(type(v) in (int, float, str, type(None)) for v in candidate.values())
