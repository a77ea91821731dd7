# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · Model monitoring
#
# A model is trained once and then meets the world every day. The world changes: customers get
# richer, a region grows, a competitor changes what "a loyal customer" means. Monitoring is how
# you notice, from the model's inputs and (later) from its results, *before* the business does.
# Here you watch a churn classifier through two simulated months of production in which the
# change starts on a **known day**, so every alarm can be judged against the truth.
#
# **You will learn to**
# - measure how far a feature's distribution moved: PSI, and the tests Evidently uses by default
#   (Kolmogorov–Smirnov, chi-square, z-test, Wasserstein, Jensen–Shannon);
# - track each day's batch in MLflow (metrics with the day as step, a feature summary), with
#   labels that arrive days later;
# - build a monitoring report: summary statistics, trend plots with a baseline band, a
#   degradation check and a per-feature drift table;
# - measure **detection delay** and **false alarms** for two thresholds, and tell **data drift**
#   from **concept drift**;
# - turn the signals into a retraining recommendation, retrain, and register a challenger.
#
# **Prerequisites:** `01_experiment_tracking` (runs, metrics with steps), `02_model_registry`
# (aliases). Module 04 (validation) is where the challenger you register here is judged.
#
# **Time:** about 60 minutes, including the six exercises.
#
# **Exercises 5.1 to 5.6** are functions to write in `exercises/monitoring.py`.

# %% [markdown]
# ## Setup

# %%
# %load_ext autoreload
# %autoreload 2

import mlops_course

TRACKING_URI = mlops_course.setup()

# %%
# %matplotlib inline
import warnings

import cloudpickle
import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
import sklearn
from IPython.display import display
from mlflow import MlflowClient
from mlflow.models import infer_signature
from scipy import stats
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlops_course import data, naming, target

warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer column")

monitoring = target.load("monitoring")
client = MlflowClient()
EXPERIMENT = naming.experiment_name("monitoring")
print(f"Experiment for this module: {EXPERIMENT}")

# %% [markdown]
# ## 1. A production stream with a known truth
#
# `data.production_stream` simulates a deployed churn model: 1,000 training rows (the
# **reference**), then one batch of 200 customers a day for 60 days. From day 30 the world
# changes, in one of two ways:
#
# - **data drift** (`kind="data"`): the inputs change (income goes up by about 40 %, tenure
#   spreads out, the regions' shares reverse), but the rule linking inputs to churn does not;
# - **concept drift** (`kind="concept"`): the inputs look exactly the same, but the rule changes
#   (a competitor now poaches long-standing premium customers).
#
# In real life you never know the drift day; here we do, which is what lets us *grade the
# detectors* below.

# %%
DAYS, DRIFT_DAY = 60, 30
streams = {
    kind: data.production_stream(days=DAYS, drift_day=DRIFT_DAY, kind=kind, random_state=0)
    for kind in ("none", "data", "concept")
}
stream = streams["data"]
reference = stream.reference_X
print(
    f"reference: {reference.shape}, {len(stream.batches)} daily batches of {len(stream.batches[0].X)}"
)
print("drifted columns (the truth):", stream.drifted_columns)
reference.head()

# %% [markdown]
# The model: a logistic regression on scaled numbers and one-hot regions, trained on the
# reference. Its accuracy on the reference data is the level we expect in production.

# %%
NUMERIC = [c for c in reference.columns if c != "region"]


def make_model():
    encode = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["region"]), (StandardScaler(), NUMERIC)
    )
    return make_pipeline(encode, LogisticRegression(max_iter=500))


model = make_model().fit(stream.reference_X, stream.reference_y)
print(f"training accuracy: {model.score(stream.reference_X, stream.reference_y):.3f}")

# %% [markdown]
# ## 2. How far did a distribution move? PSI
#
# The **population stability index** compares the share of a sample in each bin:
# `PSI = Σ (ref − cur) · ln(ref / cur)`. Zero means identical shares; the usual reading is
# below 0.1 stable, 0.1–0.25 some change, above 0.25 a real shift. The details matter, and we
# follow Evidently 0.7 (a widely used monitoring library) exactly:
#
# - numeric columns with more than 20 distinct values: bins from
#   `np.histogram_bin_edges(reference + current, bins="sturges")`; otherwise one bin per value;
# - an empty bin would make `ln` infinite: its share becomes a tiny number instead.

# %% [markdown]
# ### Exercise 5.1: Population stability index
#
# Write `psi(reference, current)` in `exercises/monitoring.py`; the docstring gives every rule.
# The cell compares a stable day with a drifted one.

# %%
monitoring = target.load("monitoring")
try:
    psi_table = pd.DataFrame(
        {
            f"day {day}": {
                column: monitoring.psi(reference[column], stream.batches[day].X[column])
                for column in reference.columns
            }
            for day in (5, 45)
        }
    )
except NotImplementedError as exc:
    print(f"Not started yet: {exc}")
else:
    display(psi_table.round(3))

# %% [markdown]
# On day 45 `income`, `tenure` and `region` stand out: exactly the columns that drifted. PSI has
# no p-value: it says *how much*, not *how sure*. A small batch can show a PSI of 0.1 by chance.

# %% [markdown]
# ## 3. Statistical tests and distances: a drift table
#
# Evidently's default choice per column, which we reproduce:
#
# | reference rows | column | method | score | drift when |
# |---|---|---|---|---|
# | ≤ 1,000 | numeric, > 5 values | Kolmogorov–Smirnov | p-value | ≤ 0.05 |
# | ≤ 1,000 | > 2 values otherwise | chi-square | p-value | < 0.05 |
# | ≤ 1,000 | 2 values | z-test of proportions | p-value | < 0.05 |
# | > 1,000 | numeric, > 5 values | Wasserstein / std(reference) | distance | ≥ 0.1 |
# | > 1,000 | otherwise | Jensen–Shannon | distance | ≥ 0.1 |
#
# Why switch at 1,000 rows? With many rows a test finds *any* difference "significant", even a
# harmless one: a distance says how big the difference is, which is what matters. The whole
# dataset is said to drift when at least half its columns do.

# %% [markdown]
# ### Exercise 5.2: Per-feature drift report
#
# Write `drift_report(reference_df, current_df, *, categorical=())`: one row per column
# (`column`, `method`, `score`, `threshold`, `drift`) and the dataset verdict in `attrs`.

# %%
monitoring = target.load("monitoring")
try:
    day5 = monitoring.drift_report(reference, stream.batches[5].X, categorical=["is_premium"])
    day45 = monitoring.drift_report(reference, stream.batches[45].X, categorical=["is_premium"])
except NotImplementedError as exc:
    print(f"Not started yet: {exc}")
else:
    display(day45.round(4))
    for name, table in [("day 5", day5), ("day 45", day45)]:
        print(
            f"{name}: drift share {table.attrs['drift_share']:.2f}, dataset drift: {table.attrs['dataset_drift']}"
        )

# %% [markdown]
# The same numbers from scipy directly, for `income` on day 45 (a KS test, since the reference
# has exactly 1,000 rows):

# %%
print(
    "ks_2samp p-value:", stats.ks_2samp(reference["income"], stream.batches[45].X["income"]).pvalue
)

# %% [markdown]
# ## 4. Tracking every batch in MLflow, with late labels
#
# Predictions are made the day the batch arrives; whether a customer really churned is known
# only later (here, `LABEL_DELAY` days later). So each day we:
#
# 1. track today's batch: row count, mean prediction, a feature summary (mean and std per
#    numeric feature, and `feature_summary.json`), all with `step=day`;
# 2. add the labels that just arrived, for the batch of `LABEL_DELAY` days ago: its run is
#    reopened and gets `accuracy` and `f1_score` at that day's step.
#
# One run per day, tagged `monitoring.day`, keeps each batch's record together and easy to find.

# %% [markdown]
# ### Exercise 5.4: Track a production batch
#
# Write `track_batch(model, X, *, day, experiment_name, y_true=None, tracking_uri=None)` (the
# docstring has the list of metrics). The cell replays the first 45 days of the concept-drift
# stream (about 90 calls: a few seconds per ten on a busy laptop).

# %%
LABEL_DELAY, TRACKED_DAYS = 3, 45
concept = streams["concept"]
monitoring = target.load("monitoring")
try:
    for batch in concept.batches[:TRACKED_DAYS]:
        monitoring.track_batch(model, batch.X, day=batch.day, experiment_name=EXPERIMENT)
        if batch.day >= LABEL_DELAY:
            late = concept.batches[batch.day - LABEL_DELAY]
            monitoring.track_batch(
                model, late.X, day=late.day, experiment_name=EXPERIMENT, y_true=late.y
            )
except NotImplementedError as exc:
    print(f"Not started yet: {exc}")
else:
    print(f"tracked {TRACKED_DAYS} days; labels known up to day {TRACKED_DAYS - 1 - LABEL_DELAY}")

# %% [markdown]
# **In the UI:** the experiment `<you>/monitoring` holds one run per day (`day-000` ...). Select
# several runs and open **Chart view**: `accuracy` against the step (the day) is the trend below.

# %% [markdown]
# ## 5. The monitoring report
#
# A report reads back what was logged and summarises the last N days. The trend plot draws a
# **baseline band**: the mean ± 2 standard deviations of the first two weeks, the normal day-to-
# day noise. A point outside the band is unusual; many in a row are a change.

# %% [markdown]
# ### Exercise 5.5: Build a monitoring report
#
# Write `monitoring_report(experiment_name, *, days=30, metrics=("accuracy", "f1_score"),
# tracking_uri=None)`: a `history` table (one row per day), a `summary` (mean, std, min, max per
# metric) and `n_batches`.

# %%
monitoring = target.load("monitoring")
try:
    report = monitoring.monitoring_report(EXPERIMENT, days=TRACKED_DAYS)
except NotImplementedError as exc:
    print(f"Not started yet: {exc}")
    report = None
else:
    print(f"{report['n_batches']} batches")
    display(report["summary"].round(3))


# %%
from mlops_course.plots import trend_figure

if report is not None:
    display(trend_figure(report["history"].dropna(), baseline_days=14, drift_day=DRIFT_DAY))

# %% [markdown]
# ## 6. Has performance degraded?
#
# Eyes are good at trends, bad at consistency: a rule decides. Compare the mean of the last
# `window` days with a baseline: the first window, the window just before, or everything
# before. With too few days the answer is noise, so the function refuses rather than guesses.

# %% [markdown]
# ### Exercise 5.3: Detect performance degradation
#
# Write `degradation(history, *, window, baseline="preceding", threshold=0.05)`.

# %%
monitoring = target.load("monitoring")
try:
    if report is not None:
        accuracy = report["history"]["accuracy"].dropna()
        for baseline in ("first", "preceding", "all"):
            result = monitoring.degradation(accuracy, window=7, baseline=baseline)
            print(f"{baseline:>9}: {result}")
    try:
        monitoring.degradation([0.8, 0.79, 0.81], window=7)
    except ValueError as exc:
        print("Refused:", exc)
except NotImplementedError as exc:
    print(f"Not started yet: {exc}")

# %% [markdown]
# ## 7. Detection delay and false alarms: choosing a threshold
#
# Every detector trades **speed** for **quiet**. We run two detectors every day on all three
# streams (no drift, data drift, concept drift), each with a strict and a loose threshold:
#
# - **performance**: `degradation(accuracy so far, window=7, baseline="first")`, alarm when the
#   relative drop reaches the threshold (5 % or 10 %); it needs labels;
# - **data**: the largest PSI over the features, alarm above 0.1 or 0.25; it needs no labels.
#
# A **false alarm** is an alarm before day 30 (or on any day of the no-drift stream); the
# **delay** is the first alarm on or after day 30, minus 30. (For simplicity labels are taken as
# known the same day here; with real label delay, add it to the performance detector's delay.)

# %%
monitoring = target.load("monitoring")


def first_alarm_table(signal: list[float], thresholds, drift_day) -> list[dict]:
    """For each threshold: false alarm days (before the drift) and the detection delay."""
    rows = []
    for threshold in thresholds:
        days = np.flatnonzero(np.asarray(signal) >= threshold)
        before = days[days < drift_day] if drift_day is not None else days
        after = days[days >= drift_day] if drift_day is not None else []
        delay = "never" if len(after) == 0 else f"{after[0] - drift_day} day(s)"
        rows.append({"threshold": threshold, "false alarm days": len(before), "delay": delay})
    return rows


WINDOW = 7
try:
    rows = []
    for kind, s in streams.items():
        accuracy = [model.score(b.X, b.y) for b in s.batches]
        # The relative drop of the last 7 days against the first 7 (0 until 14 days exist).
        drop = [
            monitoring.degradation(accuracy[: day + 1], window=WINDOW, baseline="first")[
                "relative_drop"
            ]
            if day + 1 >= 2 * WINDOW
            else 0.0
            for day in range(len(s.batches))
        ]
        max_psi = [
            max(monitoring.psi(reference[c], b.X[c]) for c in reference.columns) for b in s.batches
        ]
        for detector, signal, thresholds in [
            ("performance (relative drop)", drop, (0.05, 0.10)),
            ("data (max PSI)", max_psi, (0.10, 0.25)),
        ]:
            for row in first_alarm_table(signal, thresholds, s.drift_day):
                rows.append({"stream": kind, "detector": detector, **row})
    trade_off = pd.DataFrame(rows)
except NotImplementedError as exc:
    print(f"Not started yet: {exc}")
else:
    display(trade_off)

# %% [markdown]
# Read the table row by row:
#
# - the **loose** thresholds (5 % drop, PSI 0.1) fire sooner but also fire on quiet days: each
#   false alarm is a person paged for nothing, and too many teach people to ignore the alarm;
# - the **strict** thresholds stay quiet on the no-drift stream, at the price of a longer delay
#   (here the data drift is so large that even PSI 0.25 sees it on its first day; a subtler
#   drift would be caught later, or never);
# - the **data detector never sees concept drift** (the inputs did not change: its "detection"
#   at the loose threshold is the same noise as its false alarms), and the
#   **performance detector may never fire on data drift** (here the drift even makes the model's
#   job easier: richer customers churn less, and the model is more confident). They answer
#   different questions, so production monitoring runs both.
#
# **Data drift vs concept drift, in plain words.** Data drift: *the questions changed* (the
# model sees customers unlike those it learnt from); it can be detected at once, without labels,
# but does not always hurt. Concept drift: *the right answers changed* for the same questions;
# only labels reveal it, so it is detected late, and it always hurts.

# %% [markdown]
# ## 8. What to do about it: a retraining recommendation
#
# ### Exercise 5.6: Recommend retraining
#
# Write `recommend_retraining(degradation_result, drift_table, *, drift_share=0.5)`: combine the
# two signals into `retrain`, an `urgency` (high / medium / low / none) and plain-words reasons.

# %%
monitoring = target.load("monitoring")
try:
    latest = concept.batches[TRACKED_DAYS - 1].X
    drift_now = monitoring.drift_report(reference, latest, categorical=["is_premium"])
    accuracy_now = report["history"]["accuracy"].dropna() if report is not None else None
    degraded_now = monitoring.degradation(accuracy_now, window=7, baseline="first")
    advice = monitoring.recommend_retraining(degraded_now, drift_now)
except (NotImplementedError, TypeError) as exc:
    print(f"Not started yet (this cell needs 5.2, 5.3, 5.5 and 5.6): {exc}")
    advice = None
else:
    print(advice)

# %% [markdown]
# ## 9. Closing the loop: retrain, register a challenger, hand over to validation
#
# The concept changed, so old labels teach the wrong rule: retrain on **recent labelled data**
# only (the last 14 days with labels), log the model, register it and give it the alias
# `challenger`. Module 04 then decides, on held-out data and with a statistical test, whether it
# replaces the `champion`. Here we only peek at the most recent labelled day.

# %%
labelled = concept.batches[TRACKED_DAYS - LABEL_DELAY - 14 : TRACKED_DAYS - LABEL_DELAY]
X_recent = pd.concat([b.X for b in labelled], ignore_index=True)
y_recent = pd.concat([b.y for b in labelled], ignore_index=True)
challenger = make_model().fit(X_recent, y_recent)

MODEL_NAME = naming.model_name("churn-monitoring")
mlflow.set_experiment(EXPERIMENT)  # no monitoring.day tag: the report ignores this run
with mlflow.start_run(run_name="retrain-after-concept-drift") as run:
    mlflow.log_params(
        {"trained_on_days": f"{labelled[0].day}-{labelled[-1].day}", "rows": len(X_recent)}
    )
    info = mlflow.sklearn.log_model(
        challenger,
        name="model",
        signature=infer_signature(X_recent, challenger.predict(X_recent)),
        input_example=X_recent.head(3),
        serialization_format="cloudpickle",
        pip_requirements=[
            f"scikit-learn=={sklearn.__version__}",
            f"cloudpickle=={cloudpickle.__version__}",
        ],
        registered_model_name=MODEL_NAME,
    )
client.set_registered_model_alias(MODEL_NAME, "challenger", info.registered_model_version)
print(f"{MODEL_NAME} version {info.registered_model_version} is now @challenger")

newest = concept.batches[-1]  # a day neither model has seen
print(f"old model on day {newest.day}:  {model.score(newest.X, newest.y):.3f}")
print(f"challenger on day {newest.day}: {challenger.score(newest.X, newest.y):.3f}")

# %% [markdown]
# MLflow's `WARNING` about the cloudpickle format is the one module 01 explains (we only load
# our own models), and its registration lines (`Successfully registered model ...` or
# `... already exists. Creating a new version of this model...`, `Waiting up to 300 seconds
# ...`, `Created version ...`) the ones module 02 explains: news, not errors.

# %% [markdown]
# ## Grade all of module 05
#
# One cell grades the six exercises (one at a time: `mlops_course.check("5.2")`, or
# `mlops-course grade 5.2` in a terminal). The same logic is a command line tool,
# `mlops-course monitor`, with the actions `track`, `report`, `check-degradation`, `drift` and
# `plot` (`mlops-course monitor --help` says more, and `mlops-course monitor drift --help` about
# one action).

# %%
mlops_course.check("5.1", "5.2", "5.3", "5.4", "5.5", "5.6")

# %% [markdown]
# ## Recap
#
# - Monitoring watches **inputs** (drift: PSI, KS, chi-square, z, Wasserstein, Jensen–Shannon)
#   and **results** (accuracy once labels arrive); labels come late, inputs come at once.
# - Evidently's defaults: p-value tests up to 1,000 reference rows, distances beyond, and
#   dataset drift when at least half the columns drift.
# - Track one run per day with metrics at `step=day` and a feature summary; reopen the run when
#   its labels arrive.
# - A degradation check compares a recent window with a baseline, and refuses to guess with too
#   few days.
# - Thresholds trade delay for false alarms; measure both against known drift before trusting
#   a detector.
# - Data drift: the inputs changed; concept drift: the right answers changed. Retrain on recent
#   data, register a **challenger**, and let validation (module 04) decide.

# %% [markdown]
# ## Self-check quiz
#
# **q1.** Accuracy falls for two weeks while no feature drifts. What is most likely happening?
# (a) data drift (b) concept drift (c) nothing, it is noise by definition (d) the labels are late
#
# **q2.** The reference has 5,000 rows; which default method does a many-valued numeric column get?
# (a) Kolmogorov–Smirnov p-value (b) chi-square p-value (c) Wasserstein distance divided by the
# reference's std (d) PSI
#
# **q3.** You lower the PSI alarm threshold from 0.25 to 0.1. What do you expect?
# (a) fewer false alarms, longer delay (b) more false alarms, shorter delay (c) no change
# (d) fewer false alarms, shorter delay
#
# **q4.** `income` has a PSI of 0.3 against the training data. What does it say?
# (a) stable (b) a large shift in income's distribution, worth investigating (c) accuracy fell by
# 30 % (d) the p-value is 0.3
#
# **q5.** Why does `degradation` raise an error with 4 daily values and `window=7`?
# (a) it is a bug (b) a mean over too few days is noise: a guess would trigger or hide a
# retraining (c) MLflow stores at most 4 steps (d) windows must be even

# %%
answers = {
    "q1": None,  # e.g. "a"
    "q2": None,
    "q3": None,
    "q4": None,
    "q5": None,
}

# %%
from mlops_course.quiz import check_quiz

EXPECTED = {
    "q1": "b72618a2bec94908",
    "q2": "5074187d2874be34",
    "q3": "7aa19259293bb7ca",
    "q4": "849e63fb001699dd",
    "q5": "5b73745d56bf25b3",
}

check_quiz("05", answers, EXPECTED)
