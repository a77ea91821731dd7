# Your exercises for monitoring: write each function where it says NotImplementedError.
# Check one with `mlops_course.check("M.N")` in a notebook or `mlops-course grade M.N`.
# Start one again with `mlops-course reset M.N` (your current file is backed up first).
# generated-from: solutions/monitoring.py sha256:1add9654f3ec
"""Module 05, model monitoring: watch a deployed model day by day, and know when to retrain.

The drift statistics follow Evidently 0.7's defaults exactly, so your numbers can be checked
against a tool used in production; the MLflow functions receive their context as arguments
(``experiment_name``; ``tracking_uri``: when given, that server for the call, when None the URI
in use, handled by ``@with_tracking_uri``: your code calls ``mlflow.*`` with no URI). The grader compares your statistics with scipy's and
Evidently's, and looks in MLflow for what your code logged.

Two helpers from ``mlops_course.monitoring_tools`` are yours to use: ``finite_sample`` (a
sample without missing values, and whether it is numeric) and ``more_distinct_than``.

Run the checks of one exercise from a notebook with ``mlops_course.check("5.1")`` or from a
terminal with ``mlops-course grade 5.1``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import Metric
from scipy import stats
from scipy.spatial import distance
from sklearn.metrics import accuracy_score, f1_score

from mlops_course.monitoring_tools import finite_sample, more_distinct_than
from mlops_course.tracking_uri import with_tracking_uri

P_VALUE_THRESHOLD = 0.05
DISTANCE_THRESHOLD = 0.1
DAY_TAG = "monitoring.day"


def psi(reference, current) -> float:
    """Exercise 5.1: Population stability index.

    The PSI of one column, exactly as Evidently 0.7's ``psi`` stat test computes it. Missing
    values (NaN, and for numbers ``inf`` and ``-inf``) do not count: drop them from both
    samples first.

    Bins. A NUMERIC column whose reference holds more than 20 distinct values is cut into the
    Sturges bins of reference and current taken together (numpy's ``"sturges"`` rule, the same
    edges for both samples). Any other column (categorical, or 20 values or fewer) has one bin
    per distinct value seen in either sample.

    Shares. ``r_i`` and ``c_i`` are the shares of bin ``i`` in reference and current (its count
    divided by that sample's size). An empty bin would make the logarithm blow up, so in each
    sample its zero shares are replaced by ``m / 10**6``, where ``m`` is the smallest non-zero
    share of that sample, when ``m <= 10**-4``, and by ``10**-4`` otherwise. Then::

        PSI = sum over bins i of (r_i - c_i) * ln(r_i / c_i)

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


def drift_report(reference_df: pd.DataFrame, current_df: pd.DataFrame, *, categorical=()):
    """Exercise 5.2: Per-feature drift report.

    One drift test per column of ``reference_df``, chosen the way Evidently 0.7 does by
    default. Missing values (NaN and infinities) are dropped from both samples first. A column
    is categorical when it is listed in ``categorical`` or its dtype is not numeric (object,
    string, category, bool); ``n`` is the number of distinct values of reference and current
    together.

    A reference of at most 1,000 rows gets a statistical test (the score is its p-value, the
    threshold 0.05):

    * numeric with ``n > 5``: ``ks``, the two-sample Kolmogorov–Smirnov test (two-sided, scipy's
      default method); drift when ``score <= 0.05``;
    * otherwise, ``n > 2``: ``chisquare``, Pearson's chi-square goodness-of-fit test of the
      current counts (per distinct value) against the expected counts ``ref_count * n_cur /
      n_ref``; drift when ``score < 0.05``;
    * otherwise (two values): ``z``, the two-proportion z-test on the share of one value:
      with the pooled share ``P``, ``z = (p_ref - p_cur) / sqrt(P (1 - P) (1/n_ref + 1/n_cur))``
      and the two-sided p-value ``2 (1 - Phi(|z|))``; 1.0 when both samples hold the same
      single value; drift when ``score < 0.05``.

    A larger reference gets a distance (threshold 0.1, drift when ``score >= 0.1``):

    * numeric with ``n > 5``: ``wasserstein``, the first Wasserstein (earth mover's) distance
      between the two samples divided by ``max(std_ref, 0.001)`` (``std_ref``: the reference's
      population standard deviation, ``ddof=0``);
    * anything else: ``jensenshannon``, the Jensen–Shannon distance (the square root of the
      divergence, natural logarithm) between the two samples' shares of each distinct value
      (zero shares stay zero).

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


@with_tracking_uri
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

    Record one day of production in the experiment ``experiment_name`` (created if it does not
    exist), in ONE run per day: the run tagged ``monitoring.day`` = ``str(day)`` and named
    ``f"day-{day:03d}"``. A monitoring job makes many calls, so keep each one to a few requests.

    * FIRST call for a day (no run has that tag yet): create the day's run and log the batch's
      summary as metrics at step ``day``: ``n_rows`` (rows of ``X``), ``prediction_mean`` (the
      mean of the model's predictions on ``X``, e.g. the share of positives), and for each
      NUMERIC column ``c`` of ``X`` (bool excluded) ``<c>_mean`` and ``<c>_std`` (the sample
      standard deviation, ``ddof=1``); plus the JSON artifact ``feature_summary.json``: pandas'
      ``describe(include="all")`` of ``X``, one key per column, one entry per statistic, NaN
      written as null. The run then ends with status FINISHED.
    * LATER calls for the same day (labels usually arrive days after the predictions): log
      into the existing run, and only what is new, never the summary again.
    * Whenever ``y_true`` is given, also log ``accuracy`` and ``f1_score`` (macro-averaged F1)
      of the model's predictions on ``X`` against ``y_true``, at step ``day``.

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


@with_tracking_uri
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
    severe_drop: float = 0.10,
) -> dict:
    """Exercise 5.6: Recommend retraining.

    Turn the two signals into one decision a person can act on:

    * performance: ``degradation_result`` (from :func:`degradation`) says ``degraded``;
    * data: the share of drifting columns in ``drift_table`` (from :func:`drift_report`, its
      ``drift`` column) is at least ``drift_share``.

    Either input may be None (labels not arrived, no drift check run): that signal then does
    not fire. The urgency is:

    * ``"high"`` when performance degraded AND either the data drifted too or the drop is
      severe on its own (``relative_drop >= severe_drop``: concept drift moves no input, yet a
      large drop is urgent);
    * ``"medium"`` when performance degraded, by less than ``severe_drop``, without drift;
    * ``"low"`` when only the data drifted (worth watching: drift does not always hurt);
    * ``"none"`` otherwise.

    Retrain when the urgency is high or medium.

    Args:
        degradation_result: the result of :func:`degradation`, or None.
        drift_table: the result of :func:`drift_report`, or None.
        drift_share: the share of drifting columns that counts as dataset drift.
        severe_drop: the relative drop that is urgent by itself (default 0.10: twice
            :func:`degradation`'s default threshold).

    Returns:
        ``{"retrain": bool, "urgency": str, "reasons": list[str]}``, one plain-words reason
        per signal that fired, in this order: ``"performance dropped 8.1% against the
        baseline"`` (the relative drop as a percentage with one decimal) and ``"3 of 6
        features drifted: income, tenure, region"`` (the drifting columns by name, in the
        table's order); empty when none fired.
    """
    raise NotImplementedError("Exercise 5.6: write recommend_retraining()")


def fit_drift_alarm(
    reference: pd.DataFrame, quiet_batches: Sequence[pd.DataFrame]
) -> Callable[[pd.DataFrame], bool]:
    """Exercise 5.7: Tune a drift alarm (open).

    Build a daily drift alarm for small batches. You get the training features
    (``reference``) and a few weeks of production batches known to be quiet (no drift: every
    alarm on them would be false). Return a function that takes one day's batch (a DataFrame
    with the reference's columns) and says whether to raise the alarm.

    How is up to you: a statistic per column (your :func:`psi`, a test of
    :func:`drift_report`, something else), how to combine the columns, how to set the
    threshold from the quiet batches. The textbook "PSI above 0.25" is tuned for large
    batches; with 100 rows a day it is not quiet enough.

    The grader runs your alarm, day by day, on production streams it keeps to itself, with
    the same kind of data and batch size as ``quiet_batches`` and a drift starting on a known
    day. It checks two outcomes: on at most ONE of the 30 quiet days before the drift does
    the alarm fire, and it fires on at least one of the first 3 drifted days.

    Args:
        reference: the reference data (e.g. the training features).
        quiet_batches: production batches without drift, oldest first.

    Returns:
        ``alarm(batch) -> bool``: True when ``batch`` looks drifted.
    """

    raise NotImplementedError("Exercise 5.7: write fit_drift_alarm()")
