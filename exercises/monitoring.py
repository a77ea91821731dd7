# Your exercises for monitoring: write each function where it says NotImplementedError.
# Check one with `mlops_course.check("M.N")` in a notebook or `mlops-course grade M.N`.
# Start one again with `mlops-course reset M.N` (your current file is backed up first).
# generated-from: solutions/monitoring.py sha256:97687150bf32
"""Module 05, model monitoring: watch a deployed model day by day, and know when to retrain.

The drift statistics follow Evidently 0.7's defaults exactly, so your numbers can be checked
against a tool used in production; the MLflow functions receive their context as arguments
(``experiment_name``; ``tracking_uri``: when given, call ``mlflow.set_tracking_uri(tracking_uri)``
first, when None keep the URI in use). The grader compares your statistics with scipy's and
Evidently's, and looks in MLflow for what your code logged.

Run the checks of one exercise from a notebook with ``mlops_course.check("5.1")`` or from a
terminal with ``mlops-course grade 5.1``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import Metric
from scipy import stats
from scipy.spatial import distance
from sklearn.metrics import accuracy_score, f1_score

P_VALUE_THRESHOLD = 0.05
DISTANCE_THRESHOLD = 0.1
DAY_TAG = "monitoring.day"


def _clean(values) -> tuple[np.ndarray | pd.Series, bool]:
    """``(values, numeric)``: the sample without NaN and infinities, numbers as a float array."""
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        array = series.to_numpy(dtype=float, na_value=np.nan)  # no copy for float64
        finite = np.isfinite(array)
        return (array if finite.all() else array[finite]), True
    # Categories stay a Series: counting pandas' own string dtype is faster than numpy objects.
    return (series.dropna() if series.hasnans else series), False


def _more_distinct_than(values: np.ndarray, limit: int, *others: np.ndarray) -> bool:
    """Whether ``values`` (and ``others``) hold more than ``limit`` distinct values."""
    # A prefix with more than `limit` values settles it without hashing millions of rows.
    if len(pd.unique(values[:2000])) > limit:
        return True
    return len(pd.unique(np.concatenate([values, *others]) if others else values)) > limit


def psi(reference, current) -> float:
    """Exercise 5.1: Population stability index.

    Compute the PSI of one column exactly as Evidently 0.7's ``psi`` stat test does:

    * drop NaN (and, for numbers, ``inf``/``-inf``) from both samples first;
    * bins: for a NUMERIC column with more than 20 distinct values in ``reference``, the edges
      ``numpy.histogram_bin_edges(<reference and current concatenated>, bins="sturges")`` and
      ``numpy.histogram`` of each sample with those edges; otherwise (a categorical column, or
      20 values or fewer) one bin per distinct value seen in either sample;
    * shares: each bin's count divided by the sample's size (``ref`` and ``cur``);
    * a share of zero would make ``ln`` blow up: in each sample, replace its zero shares by
      ``m / 1e6`` where ``m`` is the smallest non-zero share of that sample if ``m <= 1e-4``,
      else by ``1e-4``;
    * ``psi = sum((ref - cur) * ln(ref / cur))``.

    Rule of thumb: below 0.1 stable, 0.1 to 0.25 some change, above 0.25 a real shift.

    Args:
        reference: the reference sample (list, numpy array or pandas Series).
        current: the current sample.

    Returns:
        The PSI as a Python float (0.0 for identical distributions).

    Raises:
        ValueError: when either sample is empty after dropping missing values.
    """
    raise NotImplementedError("Exercise 5.1: write psi()")


def _counts(ref, cur) -> tuple[np.ndarray, np.ndarray]:
    """The count of every distinct value seen in either sample, aligned (zeros included)."""
    ref_counts = (ref if isinstance(ref, pd.Series) else pd.Series(ref)).value_counts()
    cur_counts = (cur if isinstance(cur, pd.Series) else pd.Series(cur)).value_counts()
    keys = ref_counts.index.union(cur_counts.index)
    return (
        ref_counts.reindex(keys, fill_value=0).to_numpy(float),
        cur_counts.reindex(keys, fill_value=0).to_numpy(float),
    )


def _shares(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ref_counts, cur_counts = _counts(ref, cur)
    return ref_counts / len(ref), cur_counts / len(cur)


def _fill_zeros(shares: np.ndarray) -> np.ndarray:
    shares = shares.astype(float).copy()
    smallest = shares[shares != 0].min()
    shares[shares == 0] = smallest / 1e6 if smallest <= 1e-4 else 1e-4
    return shares


def drift_report(reference_df: pd.DataFrame, current_df: pd.DataFrame, *, categorical=()):
    """Exercise 5.2: Per-feature drift report.

    For every column of ``reference_df`` (in its order; ``current_df`` must have them all),
    drop NaN and infinities from both samples, then pick the test the way Evidently 0.7 does
    by default. A column is categorical when it is listed in ``categorical`` or its dtype is
    not numeric (object, string, category, bool); ``n`` is the number of distinct values in
    reference and current together.

    Reference of at most 1,000 rows (statistical tests, the score is a p-value, threshold
    0.05):

    * numeric with ``n > 5``: ``ks``, ``scipy.stats.ks_2samp(ref, cur).pvalue``; drift when
      ``score <= 0.05``;
    * otherwise, ``n > 2``: ``chisquare``, ``scipy.stats.chisquare(observed, expected).pvalue``
      with, per distinct value, ``observed`` = its count in current and ``expected`` = its
      count in reference times ``len(cur) / len(ref)``; drift when ``score < 0.05``;
    * otherwise (two values): ``z``, the two-proportion z-test on the share of one value
      (pooled share ``P``; ``z = (p_ref - p_cur) / sqrt(P (1 - P) (1/n_ref + 1/n_cur))``,
      p-value ``2 * (1 - norm.cdf(|z|))``; 1.0 when both samples hold the same single value);
      drift when ``score < 0.05``.

    Larger references (distances, threshold 0.1, drift when ``score >= 0.1``):

    * numeric with ``n > 5``: ``wasserstein``,
      ``scipy.stats.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)``;
    * anything else: ``jensenshannon``,
      ``scipy.spatial.distance.jensenshannon(ref_share, cur_share)`` over one bin per
      distinct value (shares as in exercise 5.1, zeros kept as zeros).

    Args:
        reference_df: the reference data (e.g. the training features).
        current_df: the current data (e.g. one day of production).
        categorical: names of the columns to treat as categorical even if numeric.

    Returns:
        A DataFrame with one row per column and the columns ``column``, ``method``, ``score``
        (float), ``threshold`` (float) and ``drift`` (bool), in the reference's column order.
        Its ``attrs`` hold the dataset verdict: ``attrs["drift_share"]`` (the fraction of
        columns that drift) and ``attrs["dataset_drift"]`` (True when at least half drift).

    Raises:
        ValueError: when a column of ``reference_df`` is missing from ``current_df``, or a
            column has no value left in either sample.
    """
    raise NotImplementedError("Exercise 5.2: write drift_report()")


def _z_test(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Two-proportion z-test on the share of the first value (counts of at most two values)."""
    if len(ref_counts) == 1:  # both samples hold the same single value
        return 1.0
    n_ref, n_cur = ref_counts.sum(), cur_counts.sum()
    p_ref, p_cur = ref_counts[0] / n_ref, cur_counts[0] / n_cur
    pooled = (ref_counts[0] + cur_counts[0]) / (n_ref + n_cur)
    z = (p_ref - p_cur) / np.sqrt(pooled * (1 - pooled) * (1 / n_ref + 1 / n_cur))
    return float(2 * (1 - stats.norm.cdf(abs(z))))


def degradation(
    history: Sequence[float],
    *,
    window: int,
    baseline: str = "preceding",
    threshold: float = 0.05,
) -> dict:
    """Exercise 5.3: Detect performance degradation.

    Compare the mean of the LAST ``window`` values of ``history`` (oldest first, e.g. a daily
    accuracy) with a baseline mean:

    * ``"first"``: the first ``window`` values;
    * ``"preceding"``: the ``window`` values just before the last ``window``;
    * ``"all"``: every value before the last ``window``.

    ``first`` and ``preceding`` need ``2 * window`` values, ``all`` needs ``window + 1``.
    Fewer is an error, never a guess.

    Args:
        history: the metric's values, oldest first (a list, array or Series).
        window: how many recent values to average (at least 1).
        baseline: ``"first"``, ``"preceding"`` or ``"all"``.
        threshold: the relative drop that counts as degradation (0.05 = 5 %).

    Returns:
        ``{"baseline_mean", "recent_mean", "absolute_drop", "relative_drop", "degraded"}``:
        floats (``absolute_drop = baseline_mean - recent_mean``,
        ``relative_drop = absolute_drop / baseline_mean``) and a bool
        (``relative_drop >= threshold``).

    Raises:
        ValueError: when ``window < 1``, ``baseline`` is unknown, or ``history`` has too few
            values (say how many there are and how many are needed).
    """
    raise NotImplementedError("Exercise 5.3: write degradation()")


def track_batch(
    model,
    X: pd.DataFrame,
    *,
    day: int,
    experiment_name: str,
    y_true: pd.Series | None = None,
    tracking_uri: str | None = None,
) -> str:
    """Exercise 5.4: Track a production batch.

    Record one day of production in the experiment ``experiment_name`` (create it if it does
    not exist), in ONE run per day: the run tagged ``monitoring.day`` = ``str(day)``. Use
    ``MlflowClient`` (``search_runs``, ``create_run``, ``log_batch``, ``log_dict``,
    ``set_terminated``): each call is one request, and a monitoring job makes many.

    * FIRST call for a day (no run has that tag yet): create a run named ``f"day-{day:03d}"``
      with the tag, and log the batch's summary as metrics with ``step=day``: ``n_rows``
      (rows of ``X``), ``prediction_mean`` (the mean of ``model.predict(X)``, e.g. the share of
      positives), and for each NUMERIC column ``c`` of ``X`` (bool excluded) ``<c>_mean`` and
      ``<c>_std`` (pandas' default ``ddof=1``); plus the artifact ``feature_summary.json``:
      ``X.describe(include="all")`` as a dict, one key per column (turn NaN into None); then
      mark the run finished.
    * LATER calls for the same day (labels usually arrive days after the predictions): log
      into the existing run, and only what is new, never the summary again.
    * Whenever ``y_true`` is given, also log ``accuracy`` and ``f1_score``
      (``f1_score(y_true, y_pred, average="macro")``) of ``model.predict(X)``, ``step=day``.

    Args:
        model: a fitted classifier (anything with ``predict``).
        X: the day's features.
        day: the day number (0 for the first day in production).
        experiment_name: the monitoring experiment.
        y_true: the day's true labels, when they have arrived.
        tracking_uri: the tracking server, or None to keep the current one.

    Returns:
        The run id of that day's run.
    """
    raise NotImplementedError("Exercise 5.4: write track_batch()")


def monitoring_report(
    experiment_name: str,
    *,
    days: int = 30,
    metrics: Iterable[str] = ("accuracy", "f1_score"),
    tracking_uri: str | None = None,
) -> dict:
    """Exercise 5.5: Build a monitoring report.

    Read back what :func:`track_batch` logged: every run of ``experiment_name`` with a
    ``monitoring.day`` tag gives one row, its day, with the run's latest value of each of
    ``metrics`` (NaN when that run lacks it, e.g. labels not arrived yet). Keep the ``days``
    most recent days (the largest day numbers).

    Args:
        experiment_name: the monitoring experiment.
        days: how many of the latest days to keep.
        metrics: the metric names to report.
        tracking_uri: the tracking server, or None to keep the current one.

    Returns:
        ``{"history": DataFrame, "summary": DataFrame, "n_batches": int}``: ``history`` is
        indexed by ``day`` (int, ascending) with one column per metric; ``summary`` has one
        row per metric (index: the metric name) and the columns ``mean``, ``std``, ``min``,
        ``max`` over the kept days (NaN ignored, pandas' ``std`` with ``ddof=1``);
        ``n_batches`` is the number of kept days.

    Raises:
        ValueError: when there is no experiment named ``experiment_name``.
    """
    raise NotImplementedError("Exercise 5.5: write monitoring_report()")


def recommend_retraining(
    degradation_result: dict | None,
    drift_table: pd.DataFrame | None,
    *,
    drift_share: float = 0.5,
) -> dict:
    """Exercise 5.6: Recommend retraining.

    Turn the two signals into one decision a person can act on:

    * performance: ``degradation_result`` (from :func:`degradation`) says ``degraded``;
    * data: the share of drifting columns in ``drift_table`` (from :func:`drift_report`, its
      ``drift`` column) is at least ``drift_share``.

    Either signal may be None (labels not arrived, no drift check run): it then counts as
    "no signal". The urgency is ``"high"`` when both signals fire, ``"medium"`` when only
    performance degraded, ``"low"`` when only the data drifted (worth watching: drift does not
    always hurt the model), ``"none"`` otherwise. Retrain when the urgency is high or medium.

    Args:
        degradation_result: the result of :func:`degradation`, or None.
        drift_table: the result of :func:`drift_report`, or None.
        drift_share: the share of drifting columns that counts as dataset drift.

    Returns:
        ``{"retrain": bool, "urgency": str, "reasons": list[str]}``, one plain-words reason
        per signal that fired (e.g. ``"accuracy dropped 8.1% against the baseline"``,
        ``"3 of 6 features drifted: income, tenure, region"``); empty when none fired.
    """
    raise NotImplementedError("Exercise 5.6: write recommend_retraining()")
