"""Graded checks of module 05, model monitoring (exercises 5.1 to 5.7).

The drift statistics are checked against scipy and against the numbers Evidently 0.7.23
itself computed on the same data (``evidently_reference.json``, written by
``make_evidently_reference.py`` in a separate virtualenv: Evidently does not import under
pandas 3). The tracking checks ask the MLflow server what was really logged.
"""

from __future__ import annotations

import importlib.util
import json
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
    hints=(
        "PSI compares the share of each bin in the two samples; both samples must be cut by the same bins, or the shares do not line up.",
        "notebook 05, \"2. How far did a distribution move? PSI\": numpy's histogram_bin_edges and histogram, and pandas' value_counts for one bin per value.",
        'Numeric with more than 20 reference values: edges from the two samples concatenated, bins="sturges", then each sample\'s counts with those edges; otherwise align the value counts of both samples.',
    ),
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
    hints=(
        "An empty bin has a share of 0, and ln(0) is minus infinity: PSI replaces it by a tiny share; missing values are not part of either distribution.",
        'notebook 05, "2. How far did a distribution move? PSI", and the zero-share rule in the docstring of psi; mlops_course.monitoring_tools.finite_sample drops missing values.',
        "Per sample: m = smallest share > 0; zero shares become m / 1e6 if m <= 1e-4 else 1e-4; then sum((r - c) * log(r / c)) over the bins.",
    ),
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


def psi_of_counts(ref_counts, cur_counts) -> float:
    """PSI from first principles, given the two samples' counts per bin."""
    shares = []
    for counts in (ref_counts, cur_counts):
        share = np.asarray(counts, dtype=float) / np.sum(counts)
        smallest = share[share > 0].min()
        share[share == 0] = smallest / 1e6 if smallest <= 1e-4 else 1e-4
        shares.append(share)
    r, c = shares
    return float(np.sum((r - c) * np.log(r / c)))


@pytest.mark.exercise(
    "5.1",
    points=1,
    hints=(
        "Whether a number column is binned or counted value by value depends on the reference alone: more than 20 distinct values means bins; and a tiny share has its own zero-share rule.",
        'notebook 05, "2. How far did a distribution move? PSI"; the Bins and Shares paragraphs of the docstring of psi.',
        "Count the distinct values of the reference only (more_distinct_than(ref, 20)); in each sample, m <= 1e-4 means zero shares become m / 1e6.",
    ),
)
def test_psi_bin_choice_and_tiny_shares(monitoring):
    rng = np.random.default_rng(9)
    # Exactly 20 distinct values in the reference: one bin per value (current adds a 21st).
    ref = rng.integers(0, 20, 500)
    cur = rng.integers(1, 21, 300)
    values = np.arange(21)
    expected = psi_of_counts([np.sum(ref == v) for v in values], [np.sum(cur == v) for v in values])
    assert monitoring.psi(ref, cur) == pytest.approx(expected, rel=1e-9), "20 values: per value"
    # 21 distinct values: Sturges bins over both samples.
    ref21 = rng.integers(0, 21, 500)
    edges = np.histogram_bin_edges(np.concatenate([ref21, cur]), bins="sturges")
    expected21 = psi_of_counts(np.histogram(ref21, edges)[0], np.histogram(cur, edges)[0])
    assert monitoring.psi(ref21, cur) == pytest.approx(expected21, rel=1e-9), "21 values: bins"
    # A share below 1e-4 (one row in 20,000): that sample's zero shares become m / 1e6.
    big = ["a"] * 19_999 + ["b"]
    small = ["a"] * 60 + ["c"] * 40
    expected_tiny = psi_of_counts([19_999, 1, 0], [60, 0, 40])
    assert monitoring.psi(big, small) == pytest.approx(expected_tiny, rel=1e-9)


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
    hints=(
        "A drift report is a table: one row per feature, so a person can read which features moved.",
        'notebook 05, "3. Statistical tests and distances: a drift table"; the Returns section of drift_report names the columns.',
        "Collect one (column, method, score, threshold, drift) tuple per reference column, then pd.DataFrame(rows, columns=[...]).",
    ),
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
    hints=(
        "The method depends on the reference's size (tests up to 1,000 rows, distances beyond) and on the column (numeric with many values, or not).",
        'notebook 05, the table of "3. Statistical tests and distances: a drift table"; scipy.stats (ks_2samp, chisquare, norm, wasserstein_distance) and scipy.spatial.distance.jensenshannon.',
        "small = len(reference_df) <= 1000; numeric (not listed in categorical) with more than 5 values in ref and cur together -> ks or wasserstein; else count values -> chisquare (> 2), z (2) or jensenshannon.",
    ),
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
    hints=(
        "The whole dataset is said to drift when at least half its columns do: exactly half counts.",
        'notebook 05, end of the table in "3. Statistical tests and distances: a drift table"; pandas\' DataFrame.attrs.',
        'share = the mean of the drift column; attrs["drift_share"] = share and attrs["dataset_drift"] = share >= 0.5 (inclusive).',
    ),
)
def test_drift_report_dataset_verdict_matches_evidently(reports):
    for case in ("small", "large", "half"):
        expected = REFERENCE["cases"][case]["dataset"]
        assert reports[case].attrs["drift_share"] == pytest.approx(expected["share"]), case
        assert reports[case].attrs["dataset_drift"] is expected["drift"], case


@pytest.mark.exercise(
    "5.2",
    points=1,
    hints=(
        "The score is the test's p-value, or the distance, computed on the cleaned samples; the expected counts of chi-square are scaled to the current sample's size.",
        'notebook 05, "3. Statistical tests and distances: a drift table" shows ks_2samp and chisquare on another example; scipy.stats.wasserstein_distance and scipy.spatial.distance.jensenshannon.',
        "chisquare(cur_counts, ref_counts * n_cur / n_ref).pvalue; wasserstein_distance(ref, cur) / max(np.std(ref), 0.001) with numpy's default ddof=0; jensenshannon of the two share vectors.",
    ),
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
    hints=(
        "A missing value is no observation; and a column you declare categorical is compared by its categories, even if its values are numbers.",
        'notebook 05, "3. Statistical tests and distances: a drift table"; mlops_course.monitoring_tools.finite_sample drops NaN and infinities.',
        "Clean both samples of each column first; treat the column as numeric only when both samples are numeric and the column is not in categorical.",
    ),
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
    hints=(
        "A degradation check compares the mean of the most recent days with the mean of a baseline period of the same history.",
        'notebook 05, "4. Has performance degraded?" names the three baselines; numpy slicing from the end (negative indices).',
        "recent = values[-window:]; first = values[:window]; preceding = the window values just before recent; all = everything before recent; relative_drop = drop / baseline mean.",
    ),
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
    hints=(
        "A drop is baseline minus recent, relative to the baseline: a drop exactly at the threshold counts, an improvement is a negative drop.",
        'notebook 05, "4. Has performance degraded?"; the Returns section of degradation.',
        "degraded = bool(relative_drop >= threshold), with relative_drop = (baseline_mean - recent_mean) / baseline_mean; accept any sequence (list, array, Series).",
    ),
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
    hints=(
        "A mean over too few days is noise: refuse to answer rather than guess, and say how many values are needed.",
        'notebook 05, "4. Has performance degraded?" (the refused call); the Raises section of degradation.',
        'needed = window + 1 for "all", else 2 * window; raise ValueError with both counts in the message when len(history) < needed; check window >= 1 and the baseline name first.',
    ),
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
    hints=(
        "A day of production is one run: the labels that arrive later belong to the same day, so they go into the same run.",
        'notebook 05, "5. Tracking every batch in MLflow, with late labels"; MlflowClient.search_runs with a filter on tags, create_run, set_terminated.',
        'Search the experiment for a run whose tag monitoring.day equals str(day); reuse its run id, else create a run named f"day-{day:03d}" with that tag; end it FINISHED.',
    ),
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
    hints=(
        "The day's summary (rows, mean prediction, each numeric feature's mean and spread) is logged at the step of its day, so charts plot it against the day.",
        'notebook 05, "5. Tracking every batch in MLflow, with late labels"; MlflowClient.log_batch with mlflow.entities.Metric(key, value, timestamp, step), MlflowClient.log_dict.',
        'metrics n_rows, prediction_mean, <c>_mean and <c>_std (pandas std, ddof=1) for numeric non-bool columns, all with step=day; log_dict(run_id, X.describe(include="all") as a dict, NaN -> None, "feature_summary.json").',
    ),
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
    hints=(
        "Performance needs labels: log it only when they have arrived, at the step of the day the batch belongs to.",
        'notebook 05, "5. Tracking every batch in MLflow, with late labels"; sklearn.metrics accuracy_score and f1_score.',
        'if y_true is not None: accuracy_score(y_true, y_pred) and f1_score(y_true, y_pred, average="macro"), logged as accuracy and f1_score with step=day.',
    ),
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
    hints=(
        "The summary describes the batch, which does not change when its labels arrive: log it once, or the metric history holds duplicates.",
        'notebook 05, "5. Tracking every batch in MLflow, with late labels" (step 2: only the labels are new).',
        "Build the summary metrics and the artifact only when no run has the day's tag yet; for an existing run log accuracy and f1_score alone.",
    ),
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
    hints=(
        "A report reads back what was logged: one row per day-run (the monitoring.day tag), the latest days only.",
        'notebook 05, "6. The monitoring report"; MlflowClient.search_runs with a tag filter, run.data.tags and run.data.metrics.',
        'rows keyed by int(run.data.tags["monitoring.day"]), each metric from run.data.metrics with NaN when missing; sort by day, keep the last `days` rows, index named day.',
    ),
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
    hints=(
        "The summary has one row per metric over the kept days, with pandas' sample standard deviation; an unknown experiment is an error, not an empty report.",
        'notebook 05, "6. The monitoring report"; pandas DataFrame.agg and MlflowClient.get_experiment_by_name.',
        "summary = history.agg of mean, std, min and max, transposed so metrics are rows; raise ValueError when get_experiment_by_name returns None.",
    ),
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


def degradation_result(relative_drop: float, degraded: bool) -> dict:
    baseline = 0.9
    recent = baseline * (1 - relative_drop)
    return {
        "baseline_mean": baseline,
        "recent_mean": recent,
        "absolute_drop": baseline - recent,
        "relative_drop": relative_drop,
        "degraded": degraded,
    }


MILD = degradation_result(0.07, True)  # over degradation's 5 %, under the severe 10 %
SEVERE = degradation_result(0.2, True)
AT_SEVERE = degradation_result(0.1, True)  # exactly severe_drop: severe
STABLE = degradation_result(0.011, False)
DROP_NOT_DEGRADED = degradation_result(0.2, False)  # a caller's own, higher threshold

RECOMMENDATIONS = [
    # (degradation result, drift flags, urgency, retrain)
    (MILD, [True, True, False, False], "high", True),  # exactly half drift: drift
    (MILD, [True, False, False, False], "medium", True),
    (MILD, None, "medium", True),
    (SEVERE, [True, False, False, False], "high", True),  # concept drift: no input moved
    (SEVERE, None, "high", True),
    (AT_SEVERE, [False, False], "high", True),
    (STABLE, [True, True, False, False], "low", False),
    (STABLE, [True, False, False], "none", False),
    (DROP_NOT_DEGRADED, [False, False], "none", False),
    (None, [True, True], "low", False),
    (None, None, "none", False),
]


@pytest.mark.exercise(
    "5.6",
    points=1,
    hints=(
        "Performance says the model got worse, drift says the inputs moved: the urgency combines both, and a large drop is urgent on its own.",
        'notebook 05, "8. What to do about it: a retraining recommendation" and its "Why this urgency?"; the urgency list in the docstring.',
        'degraded = result["degraded"]; drifted = drift share >= drift_share; high if degraded and (drifted or relative_drop >= severe_drop); medium if degraded; low if drifted; retrain on high or medium.',
    ),
)
def test_recommendation(monitoring):
    for degradation, flags, urgency, retrain in RECOMMENDATIONS:
        drift = None if flags is None else table(flags)
        result = monitoring.recommend_retraining(degradation, drift)
        case = (
            f"degraded={degradation and degradation['degraded']}, relative_drop="
            f"{degradation and degradation['relative_drop']}, drift flags={flags}"
        )
        assert result["urgency"] == urgency, case
        assert result["retrain"] is retrain, case
    # severe_drop is the caller's: a 7 % drop is severe when 5 % is.
    assert monitoring.recommend_retraining(MILD, None, severe_drop=0.05)["urgency"] == "high"
    assert monitoring.recommend_retraining(SEVERE, None, severe_drop=0.25)["urgency"] == "medium"


@pytest.mark.exercise(
    "5.6",
    points=1,
    hints=(
        "A recommendation a person acts on says why: how much performance dropped, and which features drifted, by name.",
        'notebook 05, "8. What to do about it: a retraining recommendation"; the Returns section of recommend_retraining gives both sentences.',
        'f"performance dropped {relative_drop:.1%} against the baseline" and f"{k} of {n} features drifted: " + the drifting column names joined by ", ".',
    ),
)
def test_recommendation_reasons_and_drift_share(monitoring):
    result = monitoring.recommend_retraining(MILD, table([True, True, False]))
    performance, data_ = result["reasons"]
    assert performance == "performance dropped 7.0% against the baseline"
    assert data_ == "2 of 3 features drifted: f0, f1"
    only_drift = monitoring.recommend_retraining(None, table([False, True, True, False]))
    assert only_drift["reasons"] == ["2 of 4 features drifted: f1, f2"]
    severe = monitoring.recommend_retraining(SEVERE, None)
    assert severe["reasons"] == ["performance dropped 20.0% against the baseline"]
    assert monitoring.recommend_retraining(STABLE, table([False, False]))["reasons"] == []
    strict = monitoring.recommend_retraining(STABLE, table([True, True, False]), drift_share=0.9)
    assert strict["urgency"] == "none" and strict["reasons"] == []


# --------------------------------------------------------------------------- 5.7
def alarm_streams():
    """Streams the learner never sees: 100-row days, 30 quiet days to tune on, 30 held-out
    quiet days, then data drift from day 60."""
    for seed in (21, 24):
        stream = data.production_stream(
            days=63, drift_day=60, kind="data", batch_size=100, random_state=seed
        )
        yield seed, stream


@pytest.fixture(scope="module")
def alarm_days():
    """For each stream, what the learner's alarm says on every day after the tuning weeks."""
    monitoring = target.load("monitoring")
    said = {}
    for seed, stream in alarm_streams():
        alarm = monitoring.fit_drift_alarm(
            stream.reference_X.copy(), [b.X.copy() for b in stream.batches[:30]]
        )
        assert callable(alarm), "return a function: alarm(batch) -> bool"
        answers = {b.day: alarm(b.X.copy()) for b in stream.batches[30:]}
        for day, answer in answers.items():
            assert isinstance(answer, bool | np.bool_), f"day {day}: return True or False"
        said[seed] = {day: bool(answer) for day, answer in answers.items()}
    return said


@pytest.mark.exercise(
    "5.7",
    points=2,
    hints=(
        "An alarm that fires on quiet days is ignored: its threshold must sit above what quiet days of this batch size show, not at a textbook value.",
        'notebook 05, "10. Your own alarm: small batches (an open exercise)" and "7. Detection delay and false alarms: choosing a threshold"; the quiet batches you get are the measure of normal noise.',
        "Compute your statistic (e.g. the largest PSI over the columns) on every quiet batch, and set the threshold above the largest of them, with a margin.",
    ),
)
def test_drift_alarm_is_quiet_before_the_drift(alarm_days):
    for seed, said in alarm_days.items():
        false_alarms = [day for day in range(30, 60) if said[day]]
        assert len(false_alarms) <= 1, (
            f"stream {seed}: false alarms on {len(false_alarms)} of 30 quiet days {false_alarms}"
            " (at most 1)"
        )


@pytest.mark.exercise(
    "5.7",
    points=2,
    hints=(
        "A quiet alarm is easy (never fire); a useful one still sees a drift within days, in any feature that moves.",
        'notebook 05, "10. Your own alarm: small batches (an open exercise)": which columns drift is not known in advance, so watch them all.',
        "Combine every column (e.g. the largest per-column statistic), and keep the threshold below what a drifted day shows.",
    ),
)
def test_drift_alarm_detects_the_drift_within_3_days(alarm_days):
    for seed, said in alarm_days.items():
        assert any(said[day] for day in (60, 61, 62)), (
            f"stream {seed}: no alarm on the first 3 drifted days (days 60-62)"
        )
