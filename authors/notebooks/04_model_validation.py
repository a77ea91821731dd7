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
# # 04 · Model validation: champion against challenger
#
# A new model scores 96.5 % where the one in production scored 95.8 %. Ship it? Not yet. On a
# few hundred test rows, a gap that small can be luck; the new model may be worse on the class
# that matters; and someone has to be able to see, later, why it was promoted. This module runs
# an offline A/B comparison the way a careful team does: both models on the same hold-out set,
# a statistical test on the *paired* predictions, explicit decision rules, and a promotion that
# moves the `champion` alias only when the rules allow it, with the evidence recorded in MLflow.
#
# **You will learn to**
# - load `models:/<name>@champion` and `models:/<name>@challenger` and score both on the same
#   hold-out set (and on a CSV of your own);
# - compare overall and per-class metrics and the two confusion matrices;
# - use McNemar's test on paired predictions, and say what a p-value does and does not mean;
# - say what the power of a test is, and how many test rows it takes to see a gain;
# - apply decision rules (promote, promote with a human's review, keep the champion, not enough
#   evidence) and promote automatically only when they allow it;
# - choose among several challengers with a promotion policy of your own;
# - record the validation as a run and as tags on both model versions;
# - compare your numbers with MLflow's own `mlflow.models.evaluate`.
#
# **Prerequisites:** `01_experiment_tracking` (runs, logged models) and `02_model_registry`
# (registered models, versions, aliases). Basic statistics help (what a p-value is) but are not
# required: this notebook explains what it uses.
#
# **Time:** about 70 minutes, including the six exercises.
#
# **Exercises 4.1 to 4.6** are functions to write in `exercises/validation.py`. Each docstring
# says what the function must do (its inputs, its output, the names the grader reads in MLflow);
# the section before it shows the ideas and the tools on another example. 4.6 is open: how you
# write it is yours, only the outcome is graded.

# %% [markdown]
# ## Setup

# %%
# %load_ext autoreload
# %autoreload 2

import mlops_course

TRACKING_URI = mlops_course.setup()

# %%
# %matplotlib inline
import shlex
import tempfile
import warnings
from pathlib import Path

import cloudpickle
import matplotlib.pyplot as plt
import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
import sklearn
from IPython.display import display
from mlflow import MlflowClient
from mlflow.models import infer_signature
from scipy import stats
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    classification_report,
    confusion_matrix,
    precision_recall_fscore_support,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportions_ztest

from mlops_course import data, naming, plots, target, validation_tools

warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer column")

validation = target.load("validation")
client = MlflowClient()

EXPERIMENT = naming.experiment_name("validation")
MODEL_NAME = naming.model_name("cancer-classifier")
mlflow.set_experiment(EXPERIMENT)
WORK = Path(tempfile.mkdtemp(prefix="mlops-course-04-"))  # files of this notebook: see the end
print(f"Experiment: {EXPERIMENT}\nRegistered model: {MODEL_NAME}")

# %% [markdown]
# (The first time, MLflow notes in an `INFO` line that it creates the experiment
# `<you>/validation`. The files this notebook writes, the hold-out CSV and the models it
# downloads, go into the temporary folder `WORK`, which its last cell deletes.)

# %% [markdown]
# ## 1. A champion and a challenger in the registry
#
# We need two versions of one registered model: the **champion** (in production) and a
# **challenger** (a candidate). The data: scikit-learn's breast-cancer set, 569 tumours described
# by 30 measurements, labelled malignant (`0`) or benign (`1`). The champion is a logistic
# regression that only looks at three measurements; the challenger a random forest using all 30.
#
# Both are trained on the **training** part of a seeded split. The **test** part is held out:
# neither model ever sees it before the comparison. Validating on training data would flatter
# the model that memorises best, which is usually the more complex one.
#
# Registering is module 02's topic; here we use MLflow's API directly: `log_model(...,
# registered_model_name=...)` creates a new version, `set_registered_model_alias` points an alias
# at it. Every run of this notebook adds two versions and moves the aliases to them.

# %%
X, y = data.load_classification("breast_cancer")
X_train, X_test, y_train, y_test = data.split(X, y)
CLASS_NAMES = data.class_names("breast_cancer")
print(f"{len(X)} tumours, {X.shape[1]} measurements each; classes {CLASS_NAMES}")
print(f"train {X_train.shape}, test {X_test.shape}")

# The sentences above, checked (make test runs this notebook: text and numbers cannot drift).
assert X.shape == (569, 30) and set(y) == {0, 1} and CLASS_NAMES == ["malignant", "benign"]

# %%
PIP_REQUIREMENTS = [
    f"scikit-learn=={sklearn.__version__}",
    f"cloudpickle=={cloudpickle.__version__}",
]
THREE = ["mean_radius", "mean_texture", "mean_smoothness"]


class FewColumns(sklearn.base.BaseEstimator, sklearn.base.ClassifierMixin):
    """A logistic regression that looks at a few columns only (a deliberately weak champion)."""

    def __init__(self, columns=None):
        self.columns = columns

    def fit(self, X, y):
        self.model_ = LogisticRegression(max_iter=1000).fit(X[self.columns], y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(X[self.columns])


def register(model, run_name: str) -> str:
    """Fit, log and register one version of MODEL_NAME; returns its version number."""
    model.fit(X_train, y_train)
    with mlflow.start_run(run_name=run_name):
        mlflow.set_tag("model_type", type(model).__name__)
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(X_train, model.predict(X_train)),
            serialization_format="cloudpickle",
            pip_requirements=PIP_REQUIREMENTS,
            registered_model_name=MODEL_NAME,
        )
    return str(info.registered_model_version)


champion_version = register(FewColumns(THREE), "champion-logreg-3-columns")
challenger_version = register(
    RandomForestClassifier(n_estimators=100, max_depth=5, random_state=42), "challenger-forest"
)
client.set_registered_model_alias(MODEL_NAME, "champion", champion_version)
client.set_registered_model_alias(MODEL_NAME, "challenger", challenger_version)
print("aliases:", client.get_registered_model(MODEL_NAME).aliases)

# %% [markdown]
# MLflow's `WARNING` about the cloudpickle format is the one module 01 explains (we only load
# our own models), and its registration lines (`Successfully registered model ...` or
# `... already exists. Creating a new version of this model...`, `Waiting up to 300 seconds
# ...`, `Created version ...`) the ones module 02 explains: news, not errors. Each is shown once
# per notebook.

# %% [markdown]
# ## 2. Score both on the same hold-out set
#
# Load the models **by alias**, exactly as production code would, so we validate what the
# aliases point at, not what we remember training. `pyfunc` gives every model the same
# `predict`.

# %%
# dst_path: where the model's files are downloaded (a folder of WORK, deleted at the end)
champion = mlflow.pyfunc.load_model(
    f"models:/{MODEL_NAME}@champion", dst_path=tempfile.mkdtemp(dir=WORK)
)
challenger = mlflow.pyfunc.load_model(
    f"models:/{MODEL_NAME}@challenger", dst_path=tempfile.mkdtemp(dir=WORK)
)
champion_pred = np.asarray(champion.predict(X_test))
challenger_pred = np.asarray(challenger.predict(X_test))
pd.DataFrame(
    {"true": y_test.to_numpy(), "champion": champion_pred, "challenger": challenger_pred},
    index=X_test.index,
).head(8)

# %% [markdown]
# **Your own CSV.** A hold-out set often arrives as a file. Put the path of a CSV with the same
# feature columns and a `target` column in `LEARNER_CSV`; by default we write our hold-out set to
# a CSV in `WORK` and read it back, which is the same code path. A file that lacks a column the
# model needs fails loudly: MLflow enforces the signature the model was logged with.

# %%
LEARNER_CSV = None  # e.g. "my_holdout.csv"

csv_path = Path(LEARNER_CSV or WORK / "holdout.csv").resolve()
if LEARNER_CSV is None:
    X_test.assign(target=y_test).to_csv(csv_path, index=False)
holdout = pd.read_csv(csv_path)
X_csv, y_csv = holdout.drop(columns="target"), holdout["target"]
print(f"{csv_path.name}: {len(holdout)} rows")

try:
    champion.predict(X_csv.drop(columns=["mean_radius"]))
except Exception as exc:  # what a file without a needed column gives
    print("Refused:", str(exc).rsplit("Error: ", 1)[-1][:120])
else:  # the text above promises a loud failure
    raise AssertionError("A CSV without mean_radius was scored: the signature was not enforced.")


# %% [markdown]
# ## 3. Metrics, overall and per class
#
# Accuracy alone hides which mistakes a model makes. For each class, **precision** is "when the
# model says *malignant*, how often is it right" and **recall** "of the malignant tumours, how
# many did it find"; **F1** is their harmonic mean. Averaged over classes they come in two
# flavours: **macro** (every class counts the same, so a small class matters) and **weighted**
# (by the number of rows of each class).


# %%
def sklearn_metrics(y_true, y_pred) -> dict:
    """The compared metrics and the confusion matrix, with scikit-learn (the lesson's version)."""
    labels = np.union1d(y_true, y_pred)
    result = {"accuracy": accuracy_score(y_true, y_pred)}
    for average in ("macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(
            y_true, y_pred, average=average, zero_division=0
        )
        result |= {f"precision_{average}": p, f"recall_{average}": r, f"f1_{average}": f}
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    result["confusion_matrix"] = pd.DataFrame(cm, index=labels, columns=labels)
    return result


champion_metrics = sklearn_metrics(y_test, champion_pred)
challenger_metrics = sklearn_metrics(y_test, challenger_pred)
validation_tools.metrics_table(champion_metrics, challenger_metrics).round(4)

# %%
print(classification_report(y_test, challenger_pred, target_names=CLASS_NAMES, digits=3))

# %% [markdown]
# The same numbers as pictures: the metrics side by side with the change in percent, and the two
# confusion matrices as heatmaps on one colour scale (rows: true class, columns: predicted;
# `class_names` puts the names on the axes instead of the labels 0 and 1). The off-diagonal cells
# are the mistakes; for a cancer screen, a malignant tumour predicted benign (row *malignant*,
# column *benign*) is the expensive one.

# %%
plots.metrics_comparison_figure(
    champion_metrics, challenger_metrics, title="Champion vs challenger"
)

# %%
for name, scored in [("champion", champion_metrics), ("challenger", challenger_metrics)]:
    missed = scored["confusion_matrix"].loc[0, 1]  # true 0 (malignant), predicted 1 (benign)
    print(f"{name}: {missed} malignant tumours predicted benign")
plots.confusion_matrices_figure(champion_metrics, challenger_metrics, class_names=CLASS_NAMES)

# %% [markdown]
# ## 4. Is the difference real? McNemar's test on paired predictions
#
# Both models predicted **the same rows**. That pairing is information: on most rows both are
# right (or both wrong), and those rows say nothing about which model is better. Only the
# **discordant** rows do:
#
# | | challenger right | challenger wrong |
# |---|---|---|
# | **champion right** | both right | **b** |
# | **champion wrong** | **c** | both wrong |
#
# If the two models were equally good, each discordant row would be a fair coin flip between
# "b" and "c". **McNemar's test** asks how surprising the observed split is under that coin:
#
# - few discordant rows (`b + c < 25`): the **exact** binomial test, `p = 2 · P(X ≤ min(b, c))`
#   with `X ~ Binomial(b + c, ½)`;
# - many: the **chi-square** approximation with continuity correction,
#   `(|b − c| − 1)² / (b + c)`, one degree of freedom.
#
# **Why not compare two accuracies** with a test for two proportions? That test assumes two
# independent samples. Ours are the same rows, scored twice: the accuracies are strongly
# correlated, and treating them as independent throws the pairing away. McNemar uses it, and is
# more sensitive for the same data: the cell below runs both tests on our predictions.

# %%
champion_right = champion_pred == y_test.to_numpy()
challenger_right = challenger_pred == y_test.to_numpy()
table = pd.crosstab(
    pd.Series(champion_right, name="champion right"),
    pd.Series(challenger_right, name="challenger right"),
).reindex(index=[True, False], columns=[True, False], fill_value=0)
display(table)

b, c = int(table.loc[True, False]), int(table.loc[False, True])
sm_test = mcnemar(table.to_numpy(), exact=b + c < 25, correction=True)
print(f"b = {b}, c = {c}: statistic {sm_test.statistic:.3f}, p-value {sm_test.pvalue:.4g}")

# The wrong test: the two accuracies as two independent samples of len(y_test) rows each.
_, two_samples_p = proportions_ztest(
    [challenger_right.sum(), champion_right.sum()], [len(y_test), len(y_test)]
)
print(f"two independent proportions (pairing thrown away): p-value {two_samples_p:.4g}")

# The sentence above, checked (make test runs this notebook: text and numbers cannot drift).
assert sm_test.pvalue < two_samples_p, "McNemar should be the more sensitive test here"

# %% [markdown]
# **What the p-value means.** It is the probability of a split at least this lopsided *if the
# models were equally good*. A small p (below `alpha = 1 − confidence`, usually 0.05) says
# "luck is an unlikely explanation". It does **not** say how much better the challenger is (look
# at the metrics for that), nor that it is better on every class, nor that it will stay better
# on next month's data. A large p does not prove the models are equal: it says *this test set
# cannot tell them apart*.
#
# ### Sample size and power
#
# **Sample size, in plain words.** The test only sees the discordant rows, so their number
# decides what it can see. With few of them, one row more or less changes the answer; with many,
# a modest split is already convincing. The next cell prints three splits (`mcnemar_pvalue` is
# the test of the cell above, as a function of `b` and `c`), then, for a number of discordant
# rows, the smallest share the better model must win to reach p < 0.05 (exact test).


# %%
def mcnemar_pvalue(b: int, c: int) -> float:
    """McNemar's p-value by statsmodels, with the course's rule: exact below 25 discordant rows."""
    if b + c == 0:
        return 1.0  # no discordant row: no evidence either way
    return float(mcnemar([[0, b], [c, 0]], exact=b + c < 25, correction=True).pvalue)


for wins, losses in [(9, 1), (8, 2), (275, 225)]:
    p = mcnemar_pvalue(losses, wins)
    verdict = "significant" if p < 0.05 else "not significant"
    print(f"{wins} to {losses} of {wins + losses} discordant rows: p = {p:.3f}, {verdict}")

# The sentences above, checked (make test runs this notebook: text and numbers cannot drift).
assert mcnemar_pvalue(1, 9) < 0.05 <= mcnemar_pvalue(2, 8), "with few, one row changes the answer"
assert mcnemar_pvalue(225, 275) < 0.05, "with many, a modest split is convincing"

rows = []
for n in (10, 20, 50, 100, 200, 500, 1000):
    wins = np.arange(n // 2, n + 1)
    pvalues = np.minimum(1.0, 2 * stats.binom.cdf(n - wins, n, 0.5))
    first = wins[np.argmax(pvalues < 0.05)] if (pvalues < 0.05).any() else None
    rows.append({"discordant rows": n, "wins needed": first, "share": first / n})
pd.DataFrame(rows).set_index("discordant rows").round(3)

# %% [markdown]
# If two models disagree on very few rows, no test set you can afford will separate them, and
# that is itself an answer: the change does not matter much. But a large p-value can also mean
# "a real gain, and too few rows to show it". Power tells the two apart.
#
# **Power** is the chance that the test detects a real difference of a given size: if the
# challenger really is that much better, the share of test sets of this size on which the test
# finds it (p < alpha, with the challenger ahead). It grows with the number of test rows and
# with the size of the gain. The usual goal is 80 %: a real gain missed one time in five.
#
# An example where power is low: iris, the dataset of modules 01 to 03, whose test set is small.
# A logistic regression that sees only the two sepal measurements against a random forest that
# sees all four (trained here without MLflow: we only need their predictions):

# %%
X_iris, y_iris = data.load_classification("iris")
Xi_train, Xi_test, yi_train, yi_test = data.split(X_iris, y_iris)
sepals = FewColumns(["sepal_length", "sepal_width"]).fit(Xi_train, yi_train)
forest = RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0)
forest.fit(Xi_train, yi_train)
sepals_right = sepals.predict(Xi_test) == yi_test.to_numpy()
forest_right = forest.predict(Xi_test) == yi_test.to_numpy()

iris_rows = len(yi_test)
iris_b = int(np.sum(sepals_right & ~forest_right))  # sepals right, forest wrong
iris_c = int(np.sum(~sepals_right & forest_right))  # sepals wrong, forest right
iris_p = mcnemar_pvalue(iris_b, iris_c)
print(
    f"{iris_rows} test flowers: accuracy {sepals_right.mean():.1%} (sepals) vs "
    f"{forest_right.mean():.1%} (forest), a gain of "
    f"{100 * (forest_right.mean() - sepals_right.mean()):.1f} points"
)
print(
    f"b = {iris_b}, c = {iris_c}: p = {iris_p:.4f}, "
    + ("significant" if iris_p < 0.05 else "not significant: the decision is insufficient_evidence")
)

# %% [markdown]
# The forest wins every disagreement, and still the test cannot rule out luck. Is the forest
# no better, or is the test set too small? Power answers. Imagine a world where the gain is
# exactly the one we saw: each flower is, independently, a `c` row ("sepals wrong, forest
# right") with probability `c / rows` and a `b` row with probability `b / rows`. Draw many test
# sets of the same size from that world, run the test on each, and count how often it finds
# the forest better. That share is the power. `validation_tools.mcnemar_power` computes it
# exactly from the binomial distribution, without drawing:

# %%
# The first sentence above, checked (make test runs this notebook: text and numbers cannot drift).
assert iris_b == 0 < iris_c and iris_p >= 0.05

rng = np.random.default_rng(0)
iris_rates = (iris_b / iris_rows, iris_c / iris_rows)  # (p_b, p_c): the gain we saw
draws = rng.multinomial(iris_rows, [*iris_rates, 1 - sum(iris_rates)], size=2000)
found = np.mean([c_ > b_ and mcnemar_pvalue(b_, c_) < 0.05 for b_, c_, _ in draws])
exact_power = validation_tools.mcnemar_power(iris_rows, *iris_rates, pvalue=mcnemar_pvalue)
print(f"simulated: the test finds the forest better on {found:.1%} of {len(draws)} test sets")
print(f"exact (validation_tools.mcnemar_power): {exact_power:.1%}")

# %% [markdown]
# So with this many flowers, a gain of this size is missed more often than it is found:
# `insufficient_evidence` here means "these flowers cannot tell", not "the forest is no better".
#
# How many rows would? The power for a few test-set sizes, for the iris pair and for our cancer
# pair of section 4 (their `b` and `c` as rates), and `validation_tools.rows_for_power`: about
# how many rows give 80 %. Read these as a plan ("*if* the gain is really this big, how many rows
# do we need?"), not as a second test of the same data.

# %%
# The first sentence above, checked (make test runs this notebook: text and numbers cannot drift).
assert exact_power < 0.5 and abs(found - exact_power) < 0.04

pairs = {
    "iris: forest vs sepals": iris_rates,
    "cancer: forest vs 3 columns": (b / len(y_test), c / len(y_test)),
}
sizes = (iris_rows, 75, len(y_test), 300, 600)
power_table = pd.DataFrame(
    {
        pair: [validation_tools.mcnemar_power(n, *rates, pvalue=mcnemar_pvalue) for n in sizes]
        for pair, rates in pairs.items()
    },
    index=pd.Index(sizes, name="test rows"),
)
display((100 * power_table).round(1).astype(str) + " %")
for pair, rates in pairs.items():
    needed = validation_tools.rows_for_power(*rates, pvalue=mcnemar_pvalue, target=0.8)
    print(f"{pair}: about {needed} test rows for 80 % power")

# %% [markdown]
# Two lessons. The iris test set is far too small for this gain: the forest would be judged
# `insufficient_evidence` most of the time, a better model turned away for lack of rows. And our
# cancer test set, whose test *was* significant in section 4, has a power well below 80 % for
# its own gain: a fresh test set of the same size would miss that gain often. Validation data
# is worth planning: decide the smallest gain that matters, then collect enough rows to see it.

# %%
# The sentences above, checked (make test runs this notebook: text and numbers cannot drift).
assert power_table.loc[iris_rows, "iris: forest vs sepals"] < 0.5, "judged insufficient mostly"
assert sm_test.pvalue < 0.05, "the cancer test was significant in section 4"
assert power_table.loc[len(y_test), "cancer: forest vs 3 columns"] < 0.7, "well below 80 %"

# %% [markdown]
# `mlops-course validate` says the same when it ends in `insufficient_evidence`, in one line
# (and as `"power"` in its `--json` output). For the iris pair it would print:

# %%
explained = validation_tools.explain_power(iris_rows, iris_b, iris_c, pvalue=mcnemar_pvalue)
print(explained["explanation"])

# %% [markdown]
# ### A coin on trial
#
# McNemar's test is a coin on trial: each discordant row is a toss, `c` the heads and `b` the
# tails. The tools are scipy's distributions, shown here on a real coin. A coin lands heads 16
# times in 20 tosses. If it were fair, how surprising would that be? `stats.binom.cdf(k, n,
# 0.5)` is the chance of at most `k` heads in `n` fair tosses; a split *at least as lopsided* can
# go either way, which doubles the tail (two-sided). `stats.binomtest` does the whole test.
#
# With many tosses the binomial is close to a normal curve, and the squared standardized
# difference follows a chi-square distribution with one degree of freedom: `stats.chi2.sf(x,
# df=1)` is the chance of a value at least `x` (the survival function, 1 minus the cdf).

# %%
heads, tosses = 16, 20
at_most_4_tails = stats.binom.cdf(tosses - heads, tosses, 0.5)
print(f"P(at most {tosses - heads} tails in {tosses} fair tosses) = {at_most_4_tails:.4f}")
print(f"two-sided, with binomtest: p = {stats.binomtest(heads, tosses, 0.5).pvalue:.4f}")
print(f"chi-square tail beyond 3.84 (1 degree of freedom): {stats.chi2.sf(3.84, df=1):.4f}")

# The sentences above, checked: two-sided doubles the tail; 3.84 is the 5 % point of chi2(1).
assert np.isclose(2 * at_most_4_tails, stats.binomtest(heads, tosses, 0.5).pvalue)
assert abs(stats.chi2.sf(3.84, df=1) - 0.05) < 0.001

# %% [markdown]
# ### Exercise 4.1: McNemar's test from the discordant counts
#
# Write `mcnemar_from_counts(b, c, *, exact=None)` in `exercises/validation.py`: the two tests
# of section 4, with the choice between them and the edge cases its docstring states. It
# returns a `McNemarResult(b, c, statistic, pvalue, exact)` (the dataclass is given). The cell
# compares it with statsmodels on a few tables.

# %%
validation = target.load("validation")
try:
    rows = []
    for tb, tc, forced in [(b, c, None), (3, 3, None), (0, 30, None), (40, 60, True), (0, 0, None)]:
        yours = validation.mcnemar_from_counts(tb, tc, exact=forced)
        reference = mcnemar([[0, tb], [tc, 0]], exact=yours.exact).pvalue if tb + tc else 1.0
        rows.append(
            {
                "b": tb,
                "c": tc,
                "exact": yours.exact,
                "yours": yours.pvalue,
                "statsmodels": reference,
            }
        )
except NotImplementedError as exc:
    print(f"Not started yet: {exc}")
else:
    display(pd.DataFrame(rows))

# %% [markdown]
# ### Exercise 4.2: McNemar's test on paired predictions
#
# Write `mcnemar_test(y_true, champion_pred, challenger_pred, *, exact=None)`: count `b` and `c`
# as in the table of section 4, fast (numpy on whole arrays, no loop over rows), then use your
# 4.1. Bad input (different lengths, empty arrays, strings mixed with numbers) must be a
# `ValueError`, never a silent "every prediction is wrong": the given `check_labels` checks it.

# %%
validation = target.load("validation")
try:
    yours = validation.mcnemar_test(y_test, champion_pred, challenger_pred)
except NotImplementedError as exc:
    print(f"Not started yet: {exc}")
else:
    print(yours)
    print("same as the cell above:", (yours.b, yours.c) == (b, c))

# %% [markdown]
# ### Counting pairs in one pass
#
# A confusion matrix counts pairs (true label, predicted label). Counting pairs of anything is
# one numpy trick: turn each value into a small integer code (`np.unique(...,
# return_inverse=True)` gives the sorted values and each row's position among them), combine
# the two codes into one number per row, `first * k + second` with `k` the number of second
# values, and count those numbers with `np.bincount`. Reshaped to `(rows, k)`, the counts are
# the table. Here on what six people wear:

# %%
shirts = np.array(["red", "blue", "blue", "green", "red", "blue"])
trousers = np.array(["blue", "blue", "black", "black", "blue", "grey"])
shirt_names, shirt_code = np.unique(shirts, return_inverse=True)
trouser_names, trouser_code = np.unique(trousers, return_inverse=True)
k = len(trouser_names)
counts = np.bincount(shirt_code * k + trouser_code, minlength=len(shirt_names) * k)
outfits = pd.DataFrame(
    counts.reshape(len(shirt_names), k), index=shirt_names, columns=trouser_names
)
display(outfits)

# The sentence above, checked: the same table as pandas' crosstab.
assert (outfits.to_numpy() == pd.crosstab(shirts, trousers).to_numpy()).all()

# %% [markdown]
# ### Exercise 4.3: Classification metrics from one confusion matrix
#
# Write `classification_metrics(y_true, y_pred, *, labels=None)`: one confusion matrix, then
# everything else from it: accuracy, per-class precision, recall, F1 and support, and their
# macro and weighted averages, equal to scikit-learn's (section 3) with `zero_division=0`. A
# class that is never predicted still gets its row, with precision 0. One pass instead of
# scikit-learn's several: the course's benchmark validates a million rows in a fraction of the
# time. The docstring states every definition; section 3 shows scikit-learn's numbers to match.

# %%
validation = target.load("validation")
try:
    yours = validation.classification_metrics(y_test, challenger_pred)
except NotImplementedError as exc:
    print(f"Not started yet: {exc}")
else:
    compared = pd.DataFrame(
        {
            "yours": pd.Series({m: yours[m] for m in validation_tools.COMPARED_METRICS}),
            "scikit-learn": pd.Series(
                {m: challenger_metrics[m] for m in validation_tools.COMPARED_METRICS}
            ),
        }
    )
    compared["match"] = np.isclose(compared["yours"], compared["scikit-learn"])
    display(compared, pd.DataFrame(yours["per_class"]).T.astype({"support": int}))

# %% [markdown]
# ## 5. Decision rules
#
# A test answers "is there a difference"; a team needs "what do we do". These are the course's
# rules, applied in order (`alpha = 1 − confidence`; "improved" means strictly better on one of
# the seven compared metrics):
#
# | # | condition | decision | promoted automatically? |
# |---|---|---|---|
# | 1 | p ≥ alpha | `insufficient_evidence`: the difference may be luck | no |
# | 2 | significant, champion right more often (c < b) | `keep_champion` | no |
# | 3 | significant, c > b, ≥ 75 % of metrics improved | `promote` (strong) | **yes** |
# | 4 | significant, c > b, ≥ 50 % improved | `conditional_promote`: a human decides | no |
# | 5 | otherwise | `keep_champion`: right more often, worse on most metrics | no |
#
# **Why a human still looks**, even after rule 3: the test set may not look like next month's
# traffic; the metrics may hide a cost (latency, memory, a fairness gap between groups of
# patients); and "better on average" can still be worse on the class that matters. The rules
# make the easy cases automatic and send the rest to a person, with the evidence attached.
#
# ### Exercise 4.4: The decision rules
#
# Write `recommend(champion_metrics, challenger_metrics, test, *, confidence=0.95)` returning a
# `Recommendation(decision, promote, significant, improved, share_improved, reason)`.

# %%
# The table above, checked (make test runs this notebook: text and numbers cannot drift).
assert len(validation_tools.COMPARED_METRICS) == 7, "the seven compared metrics"

validation = target.load("validation")
try:
    # The test of section 4 (statsmodels), in the module's result type.
    test = validation.McNemarResult(
        b, c, float(sm_test.statistic), float(sm_test.pvalue), b + c < 25
    )
    advice = validation.recommend(champion_metrics, challenger_metrics, test)
except NotImplementedError as exc:
    print(f"Not started yet: {exc}")
else:
    print(f"decision: {advice.decision} (promote automatically: {advice.promote})")
    print(f"improved: {', '.join(advice.improved) or 'none'}")
    print(advice.reason)

# %% [markdown]
# ## 6. The whole validation, recorded, with auto-promotion
#
# Put it together against the registry. `validate_challenger(model_name, X_test, y_test, ...,
# auto_promote=True)` resolves both aliases, scores both versions, tests, decides, and:
#
# - logs one **validation run** (params, both models' metrics, the test, the decision, the two
#   figures and a `validation.json`), so the decision can be audited later;
# - tags **both model versions** with the run id, their role, the decision and the p-value, so the
#   registry page of a version says how it was judged;
# - only if `auto_promote` and the rules say `promote`: moves `@champion` to the challenger,
#   points `@previous_champion` at the old one (rollback is one alias move) and frees
#   `@challenger`.
#
# No champion yet (the very first model) is promoted with a note saying so. The same version as
# both, an unknown alias, or test data the model cannot score are errors, and nothing moves.
#
# ### Exercise 4.5: Validate the challenger, record it, and promote when allowed

# %%
validation = target.load("validation")
try:
    outcome = validation.validate_challenger(
        MODEL_NAME, X_test, y_test, auto_promote=True, experiment_name=EXPERIMENT
    )
except NotImplementedError as exc:
    print(f"Not started yet: {exc}")
else:
    print(f"decision {outcome.recommendation.decision}, promoted: {outcome.promoted}")
    print("aliases now:", client.get_registered_model(MODEL_NAME).aliases)
    print(f"validation run: {TRACKING_URI}/#/experiments/"
          f"{client.get_run(outcome.run_id).info.experiment_id}/runs/{outcome.run_id}")  # fmt: skip
    tags = client.get_model_version(MODEL_NAME, outcome.challenger_version).tags
    display({k: v for k, v in tags.items() if k.startswith("validation_")})

# %% [markdown]
# The same validation from your CSV, by explicit versions and without promotion (a dry run):

# %%
try:
    dry = validation.validate_challenger(
        MODEL_NAME,
        X_csv,
        y_csv,
        champion_version=champion_version,
        challenger_version=challenger_version,
        experiment_name=EXPERIMENT,
    )
except NotImplementedError as exc:
    print(f"Not started yet: {exc}")
else:
    print(f"from {csv_path.name}: {dry.recommendation.decision}, promoted: {dry.promoted}")

# %% [markdown]
# **In the UI:** open **Models**, then `<you>.cancer-classifier`: the aliases column shows which
# version is `champion`; a version's page lists its `validation_*` tags. The experiment
# `<you>/validation` holds one run per validation, with `metrics_comparison.png` and
# `confusion_matrices.png` under **Artifacts**.
#
# The same tool from a terminal (it exits 0 when it promoted, 1 when not, 2 on an error). The
# cell prints the dry run above as a command, with your model, its two versions and the CSV,
# ready to paste into a terminal at the root of the repository (before the last cell of this
# notebook deletes the CSV). `--class-names` puts the class names on the saved confusion
# matrices (a CSV only has the labels 0 and 1); `--champion-alias champion --challenger-alias
# challenger` name the versions by alias instead, and `--auto-promote` lets it move `@champion`.

# %%
print(
    shlex.join(
        ["mlops-course", "validate", "--model-name", MODEL_NAME]
        + ["--champion-version", champion_version, "--challenger-version", challenger_version]
        + ["--test-data", str(csv_path), "--target-column", "target"]
        + ["--class-names", ",".join(CLASS_NAMES)]
        + ["--save-plots", str(WORK / "plots")]
    )
)

# %% [markdown]
# ## 7. Several challengers, one champion
#
# Teams rarely train one candidate. With three challengers, which one, if any, replaces the
# champion? Two traps:
#
# - **Picking the most accurate one and stopping there.** The more candidates, the more likely
#   one of them looks better by luck alone. Each must first earn its place against the
#   *champion* with the paired test and the rules of section 5.
# - **Picking the first good one.** Of the candidates that pass, take the best, or the next
#   validation will promote the one you skipped.
#
# And the decision must be readable later: which candidate won, and why the others did not.
#
# ### Exercise 4.6: Choose among several challengers
#
# Write `promote_best_challenger(model_name, X_test, y_test, candidates, ...)`. This one is
# open: its docstring gives the policy's outcome (who is eligible, who wins, the aliases, the
# `promotion_decision` and `promotion_reason` tags), not the steps. Reuse your 4.2 to 4.5 or
# write it your way; the grader only reads the registry and what the function returns. The cell
# registers one more candidate, a logistic regression on all 30 measurements, and lets the
# policy choose between it and the other versions that are not the champion.

# %%
validation = target.load("validation")
third_version = register(
    make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
    "candidate-logreg-30-columns",
)
current = client.get_model_version_by_alias(MODEL_NAME, "champion").version
candidates = [v for v in (champion_version, challenger_version, third_version) if v != current]
try:
    winner = validation.promote_best_challenger(MODEL_NAME, X_test, y_test, candidates)
except NotImplementedError as exc:
    print(f"Not started yet: {exc}")
else:
    print(f"champion was version {current}; candidates {candidates}; winner: {winner}")
    for version in candidates:
        tags = client.get_model_version(MODEL_NAME, version).tags
        print(f"  v{version}: {tags.get('promotion_decision')}: {tags.get('promotion_reason')}")

# %% [markdown]
# ## 8. MLflow's own evaluation
#
# `mlflow.models.evaluate` scores a model on a dataset and logs a standard set of metrics and
# plots into a run. It is a quick, uniform report; it does not compare two models with a paired
# test nor decide anything. Here it is for the challenger, next to what we computed:

# %%
with mlflow.start_run(run_name="mlflow-evaluate-challenger"):
    evaluation = mlflow.models.evaluate(
        f"models:/{MODEL_NAME}/{challenger_version}",
        data=X_test.assign(target=y_test),
        targets="target",
        model_type="classifier",
        evaluators=["default"],
        evaluator_config={"default": {"log_model_explainability": False}},  # no SHAP here
    )
plt.close("all")  # evaluate draws its plots with pyplot; they are in the run, not needed here
side_by_side = pd.DataFrame(
    {
        "mlflow.models.evaluate": {
            "accuracy": evaluation.metrics["accuracy_score"],
            "f1 (positive class 1)": evaluation.metrics["f1_score"],
            "precision (class 1)": evaluation.metrics["precision_score"],
            "recall (class 1)": evaluation.metrics["recall_score"],
        },
        "this notebook": {
            "accuracy": challenger_metrics["accuracy"],
            "f1 (positive class 1)": precision_recall_fscore_support(y_test, challenger_pred)[2][1],
            "precision (class 1)": precision_recall_fscore_support(y_test, challenger_pred)[0][1],
            "recall (class 1)": precision_recall_fscore_support(y_test, challenger_pred)[1][1],
        },
    }
)
display(side_by_side.round(4))
print(sorted(evaluation.metrics)[:8], "...", len(evaluation.metrics), "metrics in all")

# %% [markdown]
# The numbers agree: for a binary classifier MLflow reports the positive class's (label `1`)
# precision, recall and F1, where we also computed macro and weighted averages. Use `evaluate`
# for a standard report per model; use the paired test and the rules to *choose* between models.

# %%
# The sentence above, checked (make test runs this notebook: text and numbers cannot drift).
assert np.allclose(side_by_side["mlflow.models.evaluate"], side_by_side["this notebook"])
assert evaluation.metrics["accuracy_score"] == challenger_metrics["accuracy"]

# %% [markdown]
# What `evaluate` printed, read once:
#
# - `WARNING ... the model type looks like None, but you specified model type 'classifier'`:
#   MLflow guesses the task from the type of the labels, and only takes text, boolean or
#   categorical labels for classes. Ours are the integers 0 and 1, so its guess is "unknown";
#   `model_type="classifier"`, which we passed, is right, and wins.
# - `INFO ... The evaluation dataset is inferred as binary dataset, positive label is 1,
#   negative label is 0`: which class its precision, recall and F1 are about, as read above.
# - `log_model_explainability: False` skips the SHAP explanations, which need the `shap`
#   package that the course does not install; without it, MLflow warns that SHAP is missing.

# %% [markdown]
# ## Grade all of module 04
#
# One cell grades the six exercises (or one at a time, e.g. `mlops_course.check("4.3")`, or in
# a terminal `mlops-course grade 4.3`). It grades the saved `exercises/validation.py`. A check
# that fails again shows a more precise hint each time.

# %%
mlops_course.check("4.1", "4.2", "4.3", "4.4", "4.5", "4.6")

# %% [markdown]
# ## Recap
#
# - Validate both models on the **same hold-out set**, never on training data, loading them by
#   alias (`models:/<name>@champion`), as production does.
# - Look beyond accuracy: per-class precision and recall, macro and weighted averages, and the
#   confusion matrices show *which* mistakes change.
# - The predictions are **paired**: McNemar's test uses only the discordant rows (`b`, `c`),
#   exact below 25 of them, chi-square with continuity correction above; `b + c = 0` means no
#   evidence (p = 1).
# - A small p-value says "probably not luck", not "much better" nor "better everywhere"; a large
#   one says "this data cannot tell", not "equal".
# - **Power** is the chance the test detects a real gain of a given size. Few test rows (few
#   discordant rows) mean little power: a better model comes out `insufficient_evidence`, as on
#   iris. `mcnemar_power` and `rows_for_power` plan how many rows a gain needs.
# - Decision rules make the easy cases automatic (`promote`) and send the rest to a human;
#   promotion moves `@champion`, keeps `@previous_champion` for rollback, and records the
#   evidence as a run and as version tags.
# - With several challengers, each earns its place against the champion first; the best of
#   those that pass wins, and every candidate records why.
#
# **Next:** `05_monitoring`: once promoted, watch the champion's inputs and accuracy drift.

# %% [markdown]
# ## Self-check quiz
#
# Put the letter of your answer in `answers` and run the two cells. Each answer, right or wrong,
# comes with a sentence on why, and a wrong one names the section to re-read. (The key is in
# `authors/quizzes/04.toml`, out of sight here: answer first.)
#
# **q1.** Why McNemar's test rather than a test comparing the two accuracies as two proportions?
# (a) it is faster to compute (b) both models predicted the same rows: the results are paired,
# and only the rows where they disagree carry evidence (c) accuracy cannot be tested
# (d) McNemar works for regression too
#
# **q2.** In McNemar's table, what does `c` count?
# (a) rows both models got wrong (b) rows where the champion is right and the challenger wrong
# (c) rows where the champion is wrong and the challenger right (d) all rows the challenger got right
#
# **q3.** With confidence 0.95 the test gives p = 0.20. What does it mean?
# (a) this test set shows no difference that luck could not explain; more data might
# (b) the two models are equally good (c) the challenger is 20 % better (d) the challenger is
# better with probability 0.8
#
# **q4.** Significant, `c > b`, and 4 of the 7 compared metrics improved. The decision?
# (a) promote (b) conditional_promote (c) keep_champion (d) insufficient_evidence
#
# **q5.** Why score both models on a hold-out set rather than on the training data?
# (a) it is smaller, so faster (b) MLflow refuses training data (c) McNemar's test requires it
# (d) training data flatters the model that memorises best
#
# **q6.** On a small test set the challenger is clearly more accurate, but p is above alpha:
# `insufficient_evidence`. What does it mean?
# (a) the challenger is no better than the champion (b) the test has little power here: more
# test rows would likely show the gain (c) McNemar's test was the wrong choice for so few rows
# (d) the challenger should be promoted anyway, since it is more accurate

# %%
answers = {
    "q1": None,  # e.g. "a"
    "q2": None,
    "q3": None,
    "q4": None,
    "q5": None,
    "q6": None,
}

# %%
from mlops_course.quiz import check_quiz

check_quiz("04", answers)

# %% [markdown]
# ## Clean up
#
# This notebook wrote its files (the hold-out CSV, the downloaded models, the plots of the
# command above if you ran it) in the temporary folder `WORK`; the cell below deletes it. (To
# run the notebook again afterwards, re-run the setup cells first: they make a new folder.)

# %%
import shutil

shutil.rmtree(WORK, ignore_errors=True)
print(f"Deleted {WORK}" if not WORK.exists() else f"Could not delete {WORK}")
