"""Graded checks of module 05, model monitoring (exercises 5.1 to 5.6).

The drift statistics are checked against scipy and against the numbers Evidently 0.7.23
itself computed on the same data (``evidently_reference.json``, written by
``make_evidently_reference.py`` in a separate virtualenv: Evidently does not import under
pandas 3). The tracking checks ask the MLflow server what was really logged.
"""

from __future__ import annotations

import importlib.util
import json
import math
import uuid
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, RunTag
from scipy import stats
from scipy.spatial import distance
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlops_course import data, target
from mlops_course.grading import debris

HERE = Path(__file__).parent
REFERENCE = json.loads((HERE / "evidently_reference.json").read_text())


def _load_datasets() -> dict:
    spec = importlib.util.spec_from_file_location(
        "make_evidently_reference", HERE / "make_evidently_reference.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.datasets()


CASES = _load_datasets()
COLUMN_CASES = [(case, column) for case in ("small", "large") for column in REFERENCE["cases"][case]["columns"]]  # fmt: skip


@pytest.fixture
def monitoring():
    return target.load("monitoring")


def clean(values) -> np.ndarray:
    series = pd.Series(values)
    if pd.api.types.is_numeric_dtype(series):
        series = series.replace([np.inf, -np.inf], np.nan)
    return series.dropna().to_numpy()


# --------------------------------------------------------------------------- 5.1
@pytest.mark.exercise(
    "5.1",
    points=2,
    hint="Sturges bin edges over reference+current together for numeric columns with >20 values, else one bin per value.",
)
def test_psi_matches_evidently(monitoring):
    for case, column in COLUMN_CASES:
        ref, cur = CASES[case]["reference"][column], CASES[case]["current"][column]
        got = monitoring.psi(ref, cur)
        assert isinstance(got, float), "return a Python float"
        expected = REFERENCE["cases"][case]["psi"][column]
        assert got == pytest.approx(expected, rel=1e-9), f"{case} data, column {column!r}"


@pytest.mark.exercise(
    "5.1",
    points=1,
    hint="Replace each sample's zero shares by min(nonzero)/1e6 (if that min <= 1e-4) else 1e-4, then sum((ref-cur)*ln(ref/cur)).",
)
def test_psi_definition_zero_shares_and_missing_values(monitoring):
    # One bin per value (few values): the shares are easy to write down here.
    ref = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    cur = ["a"] * 40 + ["b"] * 40 + ["d"] * 20  # "c" vanished, "d" is new
    r = np.array([0.5, 0.3, 0.2, 1e-4])
    c = np.array([0.4, 0.4, 1e-4, 0.2])
    assert monitoring.psi(ref, cur) == pytest.approx(float(np.sum((r - c) * np.log(r / c))))
    assert monitoring.psi(ref, ref) == 0.0
    # Missing values are dropped first, for numbers and strings alike.
    numbers = np.random.default_rng(3).normal(size=300)
    with_gaps = np.concatenate([numbers, [np.nan, np.inf, -np.inf]])
    shifted = numbers[:200] + 0.5
    assert monitoring.psi(with_gaps, shifted) == pytest.approx(monitoring.psi(numbers, shifted))
    assert monitoring.psi(ref + [None], cur) == pytest.approx(monitoring.psi(ref, cur))


# --------------------------------------------------------------------------- 5.2
@pytest.fixture(scope="module")
def reports():
    """drift_report on each stored case, once."""
    monitoring = target.load("monitoring")
    return {
        name: monitoring.drift_report(
            case["reference"], case["current"], categorical=case["categorical"]
        )
        for name, case in CASES.items()
    }


@pytest.mark.exercise(
    "5.2",
    points=1,
    hint="Return one row per column with column, method, score, threshold, drift, in the reference's column order.",
)
def test_drift_report_shape(reports):
    report = reports["small"]
    assert isinstance(report, pd.DataFrame)
    assert list(report.columns) == ["column", "method", "score", "threshold", "drift"]
    assert list(report["column"]) == list(CASES["small"]["reference"].columns)
    assert report["drift"].map(type).eq(bool).all() or report["drift"].dtype == bool
    assert set(reports["small"]["threshold"]) == {0.05}
    assert set(reports["large"]["threshold"]) == {0.1}


@pytest.mark.exercise(
    "5.2",
    points=1,
    hint="<=1000 reference rows: ks (numeric, >5 values), chisquare (>2 values), z (2 values); larger: wasserstein / jensenshannon.",
)
@pytest.mark.parametrize("case", ["small", "large"])
def test_drift_report_matches_evidently(reports, case):
    for column, expected in REFERENCE["cases"][case]["columns"].items():
        row = reports[case].set_index("column").loc[column]
        where = f"{case} data ({len(CASES[case]['reference'])} reference rows), column {column!r}"
        assert row["method"] == expected["method"], where
        assert row["score"] == pytest.approx(expected["score"], rel=1e-9, abs=1e-15), where
        assert row["threshold"] == pytest.approx(expected["threshold"]), where
        assert bool(row["drift"]) is expected["drift"], where


@pytest.mark.exercise(
    "5.2",
    points=1,
    hint="report.attrs['drift_share'] = share of drifting columns; report.attrs['dataset_drift'] = share >= 0.5.",
)
def test_drift_report_dataset_verdict_matches_evidently(reports):
    for case in ("small", "large", "half"):
        expected = REFERENCE["cases"][case]["dataset"]
        assert reports[case].attrs["drift_share"] == pytest.approx(expected["share"]), case
        assert reports[case].attrs["dataset_drift"] is expected["drift"], case


@pytest.mark.exercise(
    "5.2",
    points=1,
    hint="The scores are scipy's: ks_2samp p-value, chisquare p-value, wasserstein_distance / std(ref), jensenshannon of the shares.",
)
def test_drift_report_scores_against_scipy(monitoring):
    rng = np.random.default_rng(5)
    small_ref = pd.DataFrame({"x": rng.normal(0, 1, 1000), "k": rng.integers(0, 4, 1000)})
    small_cur = pd.DataFrame({"x": rng.normal(0.1, 1, 300), "k": rng.integers(0, 4, 300)})
    small = monitoring.drift_report(small_ref, small_cur).set_index("column")
    assert small.loc["x", "method"] == "ks"  # 1,000 rows is still "small"
    assert small.loc["x", "score"] == pytest.approx(stats.ks_2samp(small_ref.x, small_cur.x).pvalue)
    counts_ref = small_ref.k.value_counts().sort_index()
    counts_cur = small_cur.k.value_counts().sort_index()
    expected_chi = stats.chisquare(counts_cur, counts_ref * len(small_cur) / len(small_ref))
    assert small.loc["k", "method"] == "chisquare"
    assert small.loc["k", "score"] == pytest.approx(expected_chi.pvalue)

    large_ref = pd.concat([small_ref, small_cur.head(1)], ignore_index=True)  # 1,001 rows
    large = monitoring.drift_report(large_ref, small_cur).set_index("column")
    wasserstein = stats.wasserstein_distance(large_ref.x, small_cur.x) / np.std(large_ref.x)
    assert large.loc["x", "method"] == "wasserstein"
    assert large.loc["x", "score"] == pytest.approx(wasserstein)
    shares_ref = large_ref.k.value_counts(normalize=True).sort_index()
    shares_cur = small_cur.k.value_counts(normalize=True).sort_index()
    assert large.loc["k", "method"] == "jensenshannon"
    assert large.loc["k", "score"] == pytest.approx(distance.jensenshannon(shares_ref, shares_cur))


@pytest.mark.exercise(
    "5.2",
    points=1,
    hint="Drop NaN and +/-inf from each column before testing; a column listed in `categorical` is never ks.",
)
def test_drift_report_cleans_and_respects_categorical(monitoring):
    rng = np.random.default_rng(8)
    ref = pd.DataFrame({"x": rng.normal(0, 1, 400), "code": rng.integers(0, 10, 400)})
    cur = pd.DataFrame({"x": rng.normal(0, 1, 200), "code": rng.integers(0, 10, 200)})
    dirty = cur.copy()
    dirty.loc[[1, 2], "x"] = [np.nan, np.inf]
    expected = stats.ks_2samp(ref.x, clean(dirty.x)).pvalue
    report = monitoring.drift_report(ref, dirty, categorical=["code"]).set_index("column")
    assert report.loc["x", "score"] == pytest.approx(expected)
    assert report.loc["code", "method"] == "chisquare"
    assert monitoring.drift_report(ref, cur).set_index("column").loc["code", "method"] == "ks"


# --------------------------------------------------------------------------- 5.3
HISTORY = np.random.default_rng(2).uniform(0.7, 0.95, 20)


@pytest.mark.exercise(
    "5.3",
    points=1,
    hint="recent = last `window` values; baseline 'first' = first window, 'preceding' = the window before, 'all' = everything before.",
)
def test_degradation_means(monitoring):
    baselines = {"first": HISTORY[:5], "preceding": HISTORY[10:15], "all": HISTORY[:15]}
    for baseline, reference in baselines.items():
        result = monitoring.degradation(list(HISTORY), window=5, baseline=baseline)
        base, recent = reference.mean(), HISTORY[-5:].mean()
        assert result["baseline_mean"] == pytest.approx(base), f"baseline={baseline!r}"
        assert result["recent_mean"] == pytest.approx(recent)
        assert result["absolute_drop"] == pytest.approx(base - recent)
        assert result["relative_drop"] == pytest.approx((base - recent) / base)
        assert result["degraded"] is bool((base - recent) / base >= 0.05)


@pytest.mark.exercise(
    "5.3",
    points=1,
    hint="degraded is relative_drop >= threshold (inclusive); an improvement is a negative drop.",
)
def test_degradation_threshold_and_direction(monitoring):
    dropped = [0.5, 0.5, 0.375, 0.375]  # exactly a 25 % drop
    assert monitoring.degradation(dropped, window=2, threshold=0.25)["degraded"] is True
    assert monitoring.degradation(dropped, window=2, threshold=0.26)["degraded"] is False
    improved = monitoring.degradation([0.6, 0.6, 0.9, 0.9], window=2, baseline="first")
    assert improved["relative_drop"] == pytest.approx(-0.5)
    assert improved["degraded"] is False
    series = pd.Series(dropped)  # a Series is a history too
    assert monitoring.degradation(series, window=2)["recent_mean"] == pytest.approx(0.375)


@pytest.mark.exercise(
    "5.3",
    points=1,
    hint="Raise ValueError when there are fewer than 2*window values ('all': window+1), or a bad window/baseline.",
)
def test_degradation_refuses_too_little_data(monitoring):
    for baseline, needed in [("first", 10), ("preceding", 10), ("all", 6)]:
        with pytest.raises(ValueError, match=str(needed)):
            monitoring.degradation([0.9] * (needed - 1), window=5, baseline=baseline)
        assert (
            monitoring.degradation([0.9] * needed, window=5, baseline=baseline)["degraded"] is False
        )
    with pytest.raises(ValueError):
        monitoring.degradation([0.9] * 10, window=0)
    with pytest.raises(ValueError):
        monitoring.degradation([0.9] * 10, window=2, baseline="median")


# --------------------------------------------------------------------------- 5.4
@pytest.fixture(scope="module")
def tracked(mlflow_tracking_uri):
    """Four production days tracked without labels, then the labels of days 0 and 1 arrive."""
    monitoring = target.load("monitoring")
    stream = data.production_stream(days=4, drift_day=2, batch_size=120, reference_size=400)
    numeric = [c for c in stream.reference_X.columns if c != "region"]
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["region"]), (StandardScaler(), numeric)
        ),
        LogisticRegression(max_iter=500),
    ).fit(stream.reference_X, stream.reference_y)
    name = debris.experiment_name("monitoring")
    first_ids = {}
    for batch in stream.batches:
        first_ids[batch.day] = monitoring.track_batch(
            model, batch.X, day=batch.day, experiment_name=name, tracking_uri=mlflow_tracking_uri
        )
    later_ids = {}
    for batch in stream.batches[:2]:
        later_ids[batch.day] = monitoring.track_batch(
            model, batch.X, day=batch.day, experiment_name=name, y_true=batch.y
        )
    return SimpleNamespace(
        name=name, stream=stream, model=model, first_ids=first_ids, later_ids=later_ids
    )


@pytest.fixture(scope="module")
def client(mlflow_tracking_uri) -> MlflowClient:
    return MlflowClient(mlflow_tracking_uri)


def day_runs(client, name):
    experiment = client.get_experiment_by_name(name)
    assert experiment is not None, f"no experiment named {name!r} was created"
    return client.search_runs([experiment.experiment_id])


@pytest.mark.exercise(
    "5.4",
    points=1,
    hint="One run per day tagged monitoring.day=str(day), named day-000; reopen that run when the labels arrive.",
)
def test_track_batch_one_run_per_day(client, tracked):
    runs = day_runs(client, tracked.name)
    assert len(runs) == 4, "one run per day, reused when the labels arrive later"
    by_day = {r.data.tags.get("monitoring.day"): r for r in runs}
    assert set(by_day) == {"0", "1", "2", "3"}
    assert by_day["2"].info.run_name == "day-002"
    assert tracked.later_ids == {0: tracked.first_ids[0], 1: tracked.first_ids[1]}
    assert by_day["0"].info.run_id == tracked.first_ids[0]
    assert all(r.info.status == "FINISHED" for r in runs)


@pytest.mark.exercise(
    "5.4",
    points=1,
    hint="Log n_rows, prediction_mean and <column>_mean / <column>_std of numeric columns with step=day, plus feature_summary.json.",
)
def test_track_batch_logs_the_feature_summary(client, tracked):
    batch = tracked.stream.batches[3]
    run_id = tracked.first_ids[3]
    metrics = client.get_run(run_id).data.metrics
    assert metrics["n_rows"] == len(batch.X)
    assert metrics["prediction_mean"] == pytest.approx(tracked.model.predict(batch.X).mean())
    for column in ["age", "income", "tenure", "n_products", "is_premium"]:
        assert metrics[f"{column}_mean"] == pytest.approx(batch.X[column].mean())
        assert metrics[f"{column}_std"] == pytest.approx(batch.X[column].std())
    assert "region_mean" not in metrics
    for key in ("n_rows", "income_mean"):
        assert [m.step for m in client.get_metric_history(run_id, key)] == [3], (
            f"log {key} with step=day"
        )
    summary = client.download_artifacts(run_id, "feature_summary.json")
    summary = json.loads(Path(summary).read_text())
    assert set(summary) == set(batch.X.columns)
    assert summary["income"]["mean"] == pytest.approx(batch.X["income"].mean())
    assert summary["region"]["unique"] == batch.X["region"].nunique()


@pytest.mark.exercise(
    "5.4",
    points=1,
    hint="When y_true is given, log accuracy and f1_score (average='macro') of model.predict(X), step=day.",
)
def test_track_batch_logs_performance_when_labels_arrive(client, tracked):
    for day in (0, 1):
        batch = tracked.stream.batches[day]
        y_pred = tracked.model.predict(batch.X)
        history = client.get_metric_history(tracked.first_ids[day], "accuracy")
        assert [(m.step, m.value) for m in history] == [
            (day, pytest.approx(accuracy_score(batch.y, y_pred)))
        ]
        f1 = client.get_run(tracked.first_ids[day]).data.metrics["f1_score"]
        assert f1 == pytest.approx(f1_score(batch.y, y_pred, average="macro"))
    for day in (2, 3):  # labels not arrived: no performance metric yet
        assert "accuracy" not in client.get_run(tracked.first_ids[day]).data.metrics


@pytest.mark.exercise(
    "5.4",
    points=1,
    hint="When the day's run exists, log only the new metrics (accuracy, f1_score): the summary is logged once.",
)
def test_track_batch_does_not_log_the_summary_twice(client, tracked):
    for day in (0, 1):
        for key in ("n_rows", "income_mean", "prediction_mean"):
            history = client.get_metric_history(tracked.first_ids[day], key)
            assert [m.step for m in history] == [day], f"{key} of day {day} logged more than once"


# --------------------------------------------------------------------------- 5.5
@pytest.fixture(scope="module")
def logged_days(client):
    """Eight day runs written directly through the client (days out of order, one unlabelled)."""
    name = debris.experiment_name("report")
    experiment_id = client.create_experiment(name)
    rng = np.random.default_rng(4)
    values = {}
    for day in [3, 0, 7, 5, 1, 6, 2, 4]:
        run = client.create_run(experiment_id, run_name=f"day-{day:03d}")
        accuracy, f1 = rng.uniform(0.7, 0.9), rng.uniform(0.6, 0.8)
        metrics = [Metric("accuracy", accuracy, 0, day), Metric("n_rows", 100, 0, day)]
        if day != 6:
            metrics.append(Metric("f1_score", f1, 0, day))
        client.log_batch(
            run.info.run_id, metrics=metrics, tags=[RunTag("monitoring.day", str(day))]
        )
        client.set_terminated(run.info.run_id)
        values[day] = {"accuracy": accuracy, "f1_score": f1 if day != 6 else np.nan}
    # A run without the day tag (e.g. a retraining run) is not a batch.
    other = client.create_run(experiment_id, run_name="retrain")
    client.log_metric(other.info.run_id, "accuracy", 0.1)
    expected = pd.DataFrame.from_dict(values, orient="index").sort_index()
    return SimpleNamespace(name=name, expected=expected)


@pytest.fixture(scope="module")
def report(mlflow_tracking_uri, logged_days):
    monitoring = target.load("monitoring")
    return monitoring.monitoring_report(
        logged_days.name, days=5, metrics=["accuracy", "f1_score"], tracking_uri=mlflow_tracking_uri
    )


@pytest.mark.exercise(
    "5.5",
    points=1,
    hint="history: one row per tagged run, indexed by int day ascending, the last `days` days only.",
)
def test_report_history(report, logged_days):
    history = report["history"]
    assert list(history.index) == [3, 4, 5, 6, 7]
    assert list(history.columns) == ["accuracy", "f1_score"]
    expected = logged_days.expected.loc[3:7]
    np.testing.assert_allclose(history.to_numpy(float), expected.to_numpy(float))
    assert report["n_batches"] == 5


@pytest.mark.exercise(
    "5.5",
    points=1,
    hint="summary: history.agg(['mean', 'std', 'min', 'max']).T, one row per metric.",
)
def test_report_summary(report, logged_days, mlflow_tracking_uri, monitoring):
    expected = logged_days.expected.loc[3:7].agg(["mean", "std", "min", "max"]).T
    summary = report["summary"]
    assert list(summary.columns) == ["mean", "std", "min", "max"]
    assert list(summary.index) == ["accuracy", "f1_score"]
    np.testing.assert_allclose(summary.to_numpy(float), expected.to_numpy(float))
    with pytest.raises(ValueError):
        monitoring.monitoring_report(
            f"missing-{uuid.uuid4().hex}", tracking_uri=mlflow_tracking_uri
        )


# --------------------------------------------------------------------------- 5.6
def table(flags: list[bool]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "column": [f"f{i}" for i in range(len(flags))],
            "method": "ks",
            "score": [0.01 if f else 0.5 for f in flags],
            "threshold": 0.05,
            "drift": flags,
        }
    )


DEGRADED = {"baseline_mean": 0.9, "recent_mean": 0.8, "absolute_drop": 0.1, "relative_drop": 0.111, "degraded": True}  # fmt: skip
STABLE = {"baseline_mean": 0.9, "recent_mean": 0.89, "absolute_drop": 0.01, "relative_drop": 0.011, "degraded": False}  # fmt: skip


RECOMMENDATIONS = [
    (DEGRADED, [True, True, False, False], "high", True),
    (DEGRADED, [True, False, False, False], "medium", True),
    (STABLE, [True, True, False, False], "low", False),
    (STABLE, [True, False, False], "none", False),
    (None, [True, True], "low", False),
    (DEGRADED, None, "medium", True),
    (None, None, "none", False),
]


@pytest.mark.exercise(
    "5.6",
    points=1,
    hint="urgency: high (degraded and drift), medium (degraded only), low (drift only), none; retrain on high or medium.",
)
def test_recommendation(monitoring):
    for degradation, flags, urgency, retrain in RECOMMENDATIONS:
        drift = None if flags is None else table(flags)
        result = monitoring.recommend_retraining(degradation, drift)
        case = f"degraded={degradation and degradation['degraded']}, drift flags={flags}"
        assert result["urgency"] == urgency, case
        assert result["retrain"] is retrain, case
        assert len(result["reasons"]) == (urgency == "high") + (urgency != "none"), case


@pytest.mark.exercise(
    "5.6",
    points=1,
    hint="Give one plain-words reason per signal: the relative drop, and the drifting columns by name.",
)
def test_recommendation_reasons_and_drift_share(monitoring):
    result = monitoring.recommend_retraining(DEGRADED, table([True, True, False]))
    text = " ".join(result["reasons"])
    assert "f0" in text and "f1" in text and "f2" not in text
    assert any(ch.isdigit() for ch in result["reasons"][0])
    strict = monitoring.recommend_retraining(STABLE, table([True, True, False]), drift_share=0.9)
    assert strict["urgency"] == "none" and strict["reasons"] == []
    assert math.isfinite(DEGRADED["relative_drop"])
