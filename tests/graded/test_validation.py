"""Graded checks of module 04, validation (exercises 4.1 to 4.6).

Expected values come from statsmodels, scipy and scikit-learn, or from the data and models the
tests create; never from the reference solution. The registry state is read back through
``MlflowClient``: aliases, version tags, the validation run's params, metrics and artifacts.
Models are registered here with MLflow's own API (``registered_model_name=``,
``set_registered_model_alias``), independently of module 02.
"""

from __future__ import annotations

from types import SimpleNamespace

import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from mlflow import MlflowClient
from mlflow.models import infer_signature
from scipy import stats
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

from mlops_course import data, target
from mlops_course.grading import debris

COMPARED = (
    "accuracy",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "precision_weighted",
    "recall_weighted",
    "f1_weighted",
)
HYPOTHESIS = settings(max_examples=120, deadline=None, database=None, derandomize=True)


@pytest.fixture(scope="module")
def validation():
    """The graded module (no MLflow needed for 4.1 to 4.4)."""
    return target.load("validation")


@pytest.fixture(scope="module")
def client(mlflow_tracking_uri) -> MlflowClient:
    return MlflowClient(mlflow_tracking_uri)


def statsmodels_test(b: int, c: int, exact: bool):
    """statsmodels' McNemar on the 2x2 table (floats: its chi-square overflows int64)."""
    return sm_mcnemar(np.array([[0, b], [c, 0]], dtype=float), exact=exact, correction=True)


# --------------------------------------------------------------------------- 4.1
EXACT_TABLES = [(0, 1), (1, 0), (3, 3), (12, 12), (2, 9), (9, 2), (0, 24), (24, 0), (7, 17)]
EXACT_TABLES += [(1, 60), (400, 450), (999_000, 1_001_000)]  # forced exact, large n
CHI2_TABLES = [(10, 10), (25, 25), (30, 0), (0, 30), (13, 40), (40, 13), (1, 1), (300, 271)]
CHI2_TABLES += [(10**6, 10**6 + 2500), (3 * 10**10, 10**10)]  # very large counts


@pytest.mark.exercise(
    "4.1",
    points=1,
    hints=(
        "Under the null each discordant pair is a fair coin: the exact p-value is twice the chance of a split at least as lopsided as min(b, c), capped at 1.",
        "Notebook 04, 'A coin on trial' (section 4): the binomial distribution's cumulative probability in scipy.stats.",
        "statistic = min(b, c); pvalue = min(1, 2 * P(X <= min(b, c))) for X ~ Binomial(b + c, 0.5), as a Python float.",
    ),
)
def test_exact_test_matches_statsmodels_and_binomtest(validation):
    for b, c in EXACT_TABLES:
        case = f"b={b}, c={c}, exact=True"
        result = validation.mcnemar_from_counts(b, c, exact=True)
        expected = statsmodels_test(b, c, exact=True)
        assert (result.b, result.c, result.exact) == (b, c, True), case
        assert result.statistic == pytest.approx(float(expected.statistic)), case
        assert 0.0 <= result.pvalue <= 1.0, f"{case}: a p-value is a probability (cap it at 1)"
        assert result.pvalue == pytest.approx(float(expected.pvalue), rel=1e-9, abs=1e-300), case
        binomtest = stats.binomtest(min(b, c), b + c, 0.5).pvalue
        assert result.pvalue == pytest.approx(binomtest, rel=1e-6), case


@pytest.mark.exercise(
    "4.1",
    points=1,
    hints=(
        "With many discordant pairs the chi-square approximation, with a continuity correction of 1, replaces the exact test.",
        "Notebook 04, 'A coin on trial': the chi-square distribution's survival function, one degree of freedom; the docstring's formula.",
        "(|b - c| - 1)**2 / (b + c) computed in floats (int64 overflows for 10**10), p from the chi-square tail with df=1; return int counts.",
    ),
)
def test_chi_square_matches_statsmodels(validation):
    for b, c in CHI2_TABLES:
        case = f"b={b}, c={c}, exact=False"
        result = validation.mcnemar_from_counts(np.int64(b), np.int64(c), exact=False)
        expected = statsmodels_test(b, c, exact=False)
        assert (result.b, result.c, result.exact) == (b, c, False), case
        assert isinstance(result.b, int) and isinstance(result.pvalue, float), (
            f"{case}: return Python int counts and float p-values"
        )
        assert result.statistic == pytest.approx(float(expected.statistic), rel=1e-12), case
        assert result.pvalue == pytest.approx(float(expected.pvalue), rel=1e-9, abs=1e-300), case


@pytest.mark.exercise(
    "4.1",
    points=1,
    hints=(
        "exact=None chooses the test from the number of discordant pairs; no discordant pair is no evidence at all.",
        "Notebook 04, section 4 (the two tests) and the docstring's EXACT_BELOW; the edge case b + c == 0.",
        "use exact when b + c < EXACT_BELOW (25 itself is chi-square); b + c == 0 returns statistic 0.0, pvalue 1.0 whatever exact says.",
    ),
)
def test_default_choice_and_no_discordant_pairs(validation):
    for b, c in [(0, 24), (11, 13), (20, 4)]:  # b + c = 24: exact
        result = validation.mcnemar_from_counts(b, c)
        assert result.exact is True, f"b + c = {b + c} < 25: use the exact test"
        assert result.pvalue == pytest.approx(float(statsmodels_test(b, c, True).pvalue))
    for b, c in [(0, 25), (12, 13), (100, 70)]:  # b + c >= 25: chi-square
        result = validation.mcnemar_from_counts(b, c)
        assert result.exact is False, f"b + c = {b + c} >= 25: use the chi-square test"
        assert result.pvalue == pytest.approx(float(statsmodels_test(b, c, False).pvalue))
    for exact in (None, True, False):
        result = validation.mcnemar_from_counts(0, 0, exact=exact)
        assert (result.statistic, result.pvalue) == (0.0, 1.0), "no discordant pair: p = 1.0"


@pytest.mark.exercise(
    "4.1",
    points=1,
    hints=(
        "A count of rows is a whole number, never negative: refuse anything else before computing.",
        "The docstring's Raises section: Python and numpy integers are counts; 2.5 and True are not.",
        "check each of b and c first (an integer type, not bool, and >= 0) and raise ValueError otherwise.",
    ),
)
def test_counts_must_be_non_negative_whole_numbers(validation):
    for b, c in [(-1, 3), (3, -1), (2.5, 3)]:
        with pytest.raises(ValueError):
            validation.mcnemar_from_counts(b, c)


@pytest.mark.exercise(
    "4.1",
    points=1,
    hints=(
        "Your test should agree with statsmodels' McNemar on every table, small or large, exact or not.",
        "statsmodels.stats.contingency_tables.mcnemar([[0, b], [c, 0]], exact=..., correction=True): run it beside yours in a cell.",
        "compare on b, c from 0 to 5000, with exact None, True and False; look at the first table hypothesis reports.",
    ),
)
@HYPOTHESIS
@given(
    b=st.integers(0, 5000),
    c=st.integers(0, 5000),
    exact=st.sampled_from([None, True, False]),
)
def test_any_table_matches_statsmodels(validation, b, c, exact):
    result = validation.mcnemar_from_counts(b, c, exact=exact)
    use_exact = (b + c < 25) if exact is None else exact
    assert result.exact is use_exact
    if b + c == 0:
        assert result.pvalue == 1.0
        return
    expected = statsmodels_test(b, c, exact=use_exact)
    assert result.statistic == pytest.approx(float(expected.statistic), rel=1e-12)
    assert result.pvalue == pytest.approx(float(expected.pvalue), rel=1e-8, abs=1e-300)


# --------------------------------------------------------------------------- 4.2
def discordant(y_true, champion, challenger) -> tuple[int, int]:
    """(b, c) from a 2x2 table of "champion right" against "challenger right"."""
    t, m1, m2 = (np.asarray(a, dtype=object) for a in (y_true, champion, challenger))
    table = confusion_matrix(m1 == t, m2 == t, labels=[True, False])
    return int(table[0, 1]), int(table[1, 0])


def paired_case(kind: str):
    rng = np.random.default_rng(abs(hash(kind)) % 2**32)
    n = 400
    if kind == "binary":
        y = rng.integers(0, 2, n)
        return y, np.where(rng.random(n) < 0.8, y, 1 - y), np.where(rng.random(n) < 0.9, y, 1 - y)
    if kind == "multiclass":  # a wrong prediction may still agree with the other model's
        y = rng.integers(0, 4, n)
        wrong1, wrong2 = (y + rng.integers(1, 4, n)) % 4, (y + rng.integers(1, 4, n)) % 4
        return (
            y,
            np.where(rng.random(n) < 0.7, y, wrong1),
            np.where(rng.random(n) < 0.75, y, wrong2),
        )
    if kind == "strings-series":  # Series with different indexes: compare positions
        names = np.array(["cat", "dog", "bird"], dtype=object)
        y = rng.integers(0, 3, n)
        p1 = np.where(rng.random(n) < 0.6, y, (y + 1) % 3)
        p2 = np.where(rng.random(n) < 0.8, y, (y + 2) % 3)
        return (
            pd.Series(names[y], index=rng.permutation(n)),
            pd.Series(names[p1]),
            pd.Series(names[p2], index=np.arange(n) + 1000),
        )
    if kind == "lists-few":  # b + c < 25: exact by default
        y = [1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 2, 2]
        return y, [1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 2, 0], [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1, 2]
    raise ValueError(kind)


@pytest.mark.exercise(
    "4.2",
    points=2,
    hints=(
        "Only the rows where exactly one model is right count: b where the champion alone is right, c where the challenger alone is.",
        "Notebook 04, section 4: the 2x2 table of 'champion right' against 'challenger right'; numpy boolean arrays.",
        "compare each model's predictions with y_true (as numpy arrays: positions, not index), count right & ~right both ways, then call 4.1.",
    ),
)
def test_mcnemar_test_counts_discordant_pairs(validation):
    for kind in ["binary", "multiclass", "strings-series", "lists-few"]:
        y, champion, challenger = paired_case(kind)
        b, c = discordant(y, champion, challenger)
        result = validation.mcnemar_test(y, champion, challenger)
        assert (result.b, result.c) == (b, c), f"{kind} labels: (b, c)"
        expected = statsmodels_test(b, c, exact=b + c < 25)
        assert result.exact is (b + c < 25), f"{kind} labels: exact"
        assert result.pvalue == pytest.approx(float(expected.pvalue)), f"{kind} labels: p-value"


@pytest.mark.exercise(
    "4.2",
    points=1,
    hints=(
        "The caller's choice of test must reach McNemar's test; two identical models have no discordant pair.",
        "The docstring of mcnemar_test: 'exact' is passed on to mcnemar_from_counts; swapping the models swaps b and c.",
        "return mcnemar_from_counts(b, c, exact=exact) with b = champion-only-right, c = challenger-only-right.",
    ),
)
def test_mcnemar_test_passes_exact_and_handles_identical_models(validation):
    y, champion, challenger = paired_case("multiclass")
    b, c = discordant(y, champion, challenger)
    forced = validation.mcnemar_test(y, champion, challenger, exact=True)
    assert forced.exact is True
    assert forced.pvalue == pytest.approx(float(statsmodels_test(b, c, True).pvalue))
    same = validation.mcnemar_test(y, champion, np.array(champion))
    assert (same.b, same.c, same.pvalue) == (0, 0, 1.0)
    # Swapping the models swaps b and c.
    swapped = validation.mcnemar_test(y, challenger, champion)
    assert (swapped.b, swapped.c) == (c, b)


@pytest.mark.exercise(
    "4.2",
    points=1,
    hints=(
        "Paired predictions must really be paired: same length, not empty, and labels of one kind.",
        "The given helper check_labels in mlops_course.validation_tools raises exactly the ValueErrors the docstring lists.",
        "first line: y_true, champion_pred, challenger_pred = check_labels(y_true=..., champion_pred=..., challenger_pred=...).",
    ),
)
def test_mcnemar_test_rejects_bad_input(validation):
    with pytest.raises(ValueError):
        validation.mcnemar_test([0, 1, 1], [0, 1], [0, 1, 1])  # lengths differ
    with pytest.raises(ValueError):
        validation.mcnemar_test([], [], [])
    with pytest.raises(ValueError):  # strings never equal numbers: all "wrong" silently
        validation.mcnemar_test(["0", "1", "1"], [0, 1, 1], [0, 1, 0])


# --------------------------------------------------------------------------- 4.3
def sklearn_metrics(y_true, y_pred, labels=None) -> dict:
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if labels is None:
        labels = np.union1d(np.unique(t), np.unique(p))
    expected = {"accuracy": accuracy_score(t, p)}
    for average in ("macro", "weighted"):
        precision, recall, f1, _ = precision_recall_fscore_support(
            t, p, labels=labels, average=average, zero_division=0
        )
        expected |= {
            f"precision_{average}": precision,
            f"recall_{average}": recall,
            f"f1_{average}": f1,
        }
    per_class = precision_recall_fscore_support(t, p, labels=labels, zero_division=0)
    return {
        "overall": expected,
        "labels": list(labels),
        "per_class": per_class,
        "cm": confusion_matrix(t, p, labels=labels),
    }


def assert_matches_sklearn(result, y_true, y_pred, labels=None, case=""):
    expected = sklearn_metrics(y_true, y_pred, labels)
    where = f"{case}, labels={labels}: " if case or labels is not None else ""
    for name, value in expected["overall"].items():
        assert isinstance(result[name], float), f"{where}{name} should be a Python float"
        assert result[name] == pytest.approx(value, abs=1e-12), f"{where}{name}"
    assert list(result["labels"]) == expected["labels"], f"{where}labels"
    precision, recall, f1, support = expected["per_class"]
    assert list(result["per_class"]) == expected["labels"], f"{where}per_class keys, in order"
    for i, label in enumerate(expected["labels"]):
        entry = result["per_class"][label]
        for name, values in [("precision", precision), ("recall", recall), ("f1", f1)]:
            assert entry[name] == pytest.approx(values[i], abs=1e-12), f"{where}{name} {label!r}"
        assert entry["support"] == support[i], f"{where}support {label!r}"
    cm = result["confusion_matrix"]
    assert isinstance(cm, pd.DataFrame), f"{where}confusion_matrix should be a DataFrame"
    assert list(cm.index) == expected["labels"] and list(cm.columns) == expected["labels"]
    np.testing.assert_array_equal(cm.to_numpy(), expected["cm"], err_msg=f"{where}matrix")


def metrics_case(kind: str):
    rng = np.random.default_rng(len(kind))
    n = 300
    if kind == "binary":
        y = rng.integers(0, 2, n)
        return y, np.where(rng.random(n) < 0.85, y, 1 - y)
    if kind == "multiclass-never-predicted":  # class 3 is never predicted
        y = rng.integers(0, 4, n)
        return y, np.where(y == 3, rng.integers(0, 3, n), y)
    if kind == "strings-extra-class":  # "emu" never true, "bird" never predicted
        names = np.array(["cat", "dog", "bird", "emu"], dtype=object)
        y = rng.integers(0, 3, n)
        pred = np.where(rng.random(n) < 0.7, y, rng.choice([0, 1, 3], n))
        pred[y == 2] = rng.choice([0, 1, 3], int((y == 2).sum()))
        return pd.Series(names[y], index=rng.permutation(n)), list(names[pred])
    if kind == "single-class":
        return np.full(20, 5), np.full(20, 5)
    if kind == "floats":
        y = rng.integers(0, 3, n).astype(float)
        return y, np.roll(y, 1)
    raise ValueError(kind)


@pytest.mark.exercise(
    "4.3",
    points=2,
    hints=(
        "Every metric comes from one confusion matrix: per class, the diagonal against its row (recall) and its column (precision).",
        "Notebook 04, 'Counting pairs in one pass': a pair code and np.bincount; section 3's scikit-learn values are the reference.",
        "labels = sorted union of both arrays; code = true_index * k + pred_index; cm = bincount(code, minlength=k*k).reshape(k, k); 0.0 where a denominator is 0.",
    ),
)
def test_metrics_match_sklearn(validation):
    kinds = ["binary", "multiclass-never-predicted", "strings-extra-class", "single-class"]
    for kind in [*kinds, "floats"]:
        y_true, y_pred = metrics_case(kind)
        result = validation.classification_metrics(y_true, y_pred)
        assert_matches_sklearn(result, y_true, y_pred, case=kind)


@pytest.mark.exercise(
    "4.3",
    points=1,
    hints=(
        "Explicit labels choose the classes reported and their order; accuracy is about all rows all the same.",
        "scikit-learn's labels= argument of precision_recall_fscore_support and confusion_matrix: run them with labels=[2, 0] to see.",
        "leave rows with a label outside `labels` out of the matrix, count support/predicted over all rows, accuracy = mean(y_pred == y_true).",
    ),
)
def test_metrics_with_explicit_labels(validation):
    y_true, y_pred = metrics_case("multiclass-never-predicted")
    # [3, 0]: rows of true class 3 are mostly predicted 1 or 2, outside the labels, yet support.
    for labels in ([3, 1, 0, 2], [2, 0], [3, 0], [0, 1, 2, 3, 7]):
        result = validation.classification_metrics(y_true, y_pred, labels=labels)
        assert_matches_sklearn(result, y_true, y_pred, labels=labels)


@pytest.mark.exercise(
    "4.3",
    points=1,
    hints=(
        "Your metrics should equal scikit-learn's on any label arrays, including classes never predicted or never true.",
        "Notebook 04, section 3: sklearn_metrics compares the same numbers; zero_division=0 is the rule for empty denominators.",
        "try y_true=[0], y_pred=[6]: two classes, both with precision, recall and f1 0.0, and a 2x2 matrix.",
    ),
)
@HYPOTHESIS
@given(pairs=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 6)), min_size=1, max_size=200))
def test_metrics_match_sklearn_on_random_labels(validation, pairs):
    y_true, y_pred = (np.array(a) for a in zip(*pairs, strict=True))
    assert_matches_sklearn(validation.classification_metrics(y_true, y_pred), y_true, y_pred)


@pytest.mark.exercise(
    "4.3",
    points=1,
    hints=(
        "Metrics of labels that cannot be paired would be silently wrong: refuse them.",
        "The given helper check_labels raises the ValueErrors the docstring lists.",
        "first line: y_true, y_pred = check_labels(y_true=y_true, y_pred=y_pred).",
    ),
)
def test_metrics_reject_bad_input(validation):
    with pytest.raises(ValueError):
        validation.classification_metrics([0, 1, 2], [0, 1])
    with pytest.raises(ValueError):
        validation.classification_metrics([], [])
    with pytest.raises(ValueError):
        validation.classification_metrics(["a", "b"], [0, 1])


# --------------------------------------------------------------------------- 4.4
def metrics_with(improved: int, ties: int = 0) -> tuple[dict, dict]:
    """Champion and challenger metrics: the challenger better on the first `improved`
    metrics, equal on the next `ties`, worse on the rest."""
    champion = dict.fromkeys(COMPARED, 0.8)
    challenger = {}
    for i, name in enumerate(COMPARED):
        if i < improved:
            challenger[name] = 0.85
        elif i < improved + ties:
            challenger[name] = 0.8
        else:
            challenger[name] = 0.75
    return champion, challenger


# (p-value, b, c, improved, ties, confidence) -> decision, from the rules in the docstring.
RULES = [
    (0.20, 10, 20, 7, 0, 0.95, "insufficient_evidence"),
    (0.06, 2, 40, 7, 0, 0.95, "insufficient_evidence"),
    (0.03, 2, 40, 7, 0, 0.99, "insufficient_evidence"),
    (0.03, 2, 40, 7, 0, 0.95, "promote"),
    (0.001, 40, 2, 0, 0, 0.95, "keep_champion"),
    (0.001, 40, 2, 4, 0, 0.95, "keep_champion"),
    (0.001, 2, 40, 6, 0, 0.95, "promote"),
    (0.001, 2, 40, 5, 0, 0.95, "conditional_promote"),
    (0.001, 2, 40, 4, 0, 0.95, "conditional_promote"),
    (0.001, 2, 40, 3, 0, 0.95, "keep_champion"),
    (0.001, 2, 40, 5, 2, 0.95, "conditional_promote"),  # ties are not improvements
    (0.001, 2, 40, 3, 4, 0.95, "keep_champion"),
    # p exactly at alpha is not significant ("below alpha"): 1 - 0.95 as Python computes it,
    # and an alpha that floats hold exactly.
    (1 - 0.95, 2, 40, 7, 0, 0.95, "insufficient_evidence"),
    (0.25, 2, 40, 7, 0, 0.75, "insufficient_evidence"),
    (0.2499, 2, 40, 7, 0, 0.75, "promote"),
]


@pytest.mark.exercise(
    "4.4",
    points=3,
    hints=(
        "The rules are applied in order, and the first that matches decides; significance is strict: p must be below alpha.",
        "Notebook 04, section 5 'Decision rules': the table of five rules; the docstring of recommend.",
        "significant = p < 1 - confidence (p == alpha is not); improved = metrics strictly greater; then: not significant, c < b, share >= 0.75, share >= 0.5, else.",
    ),
)
def test_decision_rules(validation):
    for pvalue, b, c, improved, ties, confidence, decision in RULES:
        case = (
            f"p={pvalue}, b={b}, c={c}, {improved} metrics better, {ties} equal, "
            f"confidence {confidence}"
        )
        champion, challenger = metrics_with(improved, ties)
        test = validation.McNemarResult(b=b, c=c, statistic=1.0, pvalue=pvalue, exact=False)
        result = validation.recommend(champion, challenger, test, confidence=confidence)
        assert result.decision == decision, case
        assert result.promote is (decision == "promote"), f"{case}: promote only on 'promote'"
        assert result.significant is (pvalue < 1 - confidence), case
        assert tuple(result.improved) == COMPARED[:improved], case
        assert result.share_improved == pytest.approx(improved / len(COMPARED)), case
        assert isinstance(result.reason, str) and result.reason, f"{case}: give a reason"


@pytest.mark.exercise(
    "4.4",
    points=1,
    hints=(
        "A confidence is a probability strictly between 0 and 1, and the rules need every compared metric.",
        "The docstring of recommend, Raises; COMPARED_METRICS lists the metrics both mappings must have.",
        "raise ValueError unless 0 < confidence < 1, and when a name of COMPARED_METRICS is missing from either mapping.",
    ),
)
def test_recommend_rejects_bad_input(validation):
    champion, challenger = metrics_with(7)
    test = validation.McNemarResult(b=1, c=30, statistic=25.0, pvalue=1e-6, exact=False)
    for confidence in (0.0, 1.0, 95):
        with pytest.raises(ValueError):
            validation.recommend(champion, challenger, test, confidence=confidence)
    with pytest.raises(ValueError):
        validation.recommend({"accuracy": 0.5}, challenger, test)


# --------------------------------------------------------------------------- 4.5
@pytest.fixture(scope="module")
def cancer():
    X, y = data.load_classification("breast_cancer")
    X_train, X_test, y_train, y_test = data.split(X, y, random_state=0)
    return SimpleNamespace(X_train=X_train, X_test=X_test, y_train=y_train, y_test=y_test)


def register(model, cancer, model_name: str) -> str:
    """Fit, log and register one version; returns the version number."""
    model.fit(cancer.X_train, cancer.y_train)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(cancer.X_train, model.predict(cancer.X_train)),
            serialization_format="cloudpickle",
            pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
            registered_model_name=model_name,
        )
    return str(info.registered_model_version)


@pytest.fixture(scope="module")
def registered(mlflow_tracking_uri, client, cancer):
    """A weak v1 (always the majority class) and a strong v2 of one registered model."""
    mlflow.set_experiment(debris.experiment_name("training"))
    name = debris.model_name("cancer")
    weak = DummyClassifier(strategy="most_frequent")
    strong = RandomForestClassifier(n_estimators=25, max_depth=4, random_state=0)
    versions = (register(weak, cancer, name), register(strong, cancer, name))
    return SimpleNamespace(name=name, weak=weak, strong=strong, versions=versions)


def aliases(client, name) -> dict[str, str]:
    return dict(client.get_registered_model(name).aliases)


def runs_in(client, experiment_name):
    experiment = client.get_experiment_by_name(experiment_name)
    assert experiment is not None, f"no experiment {experiment_name!r}: log the run there"
    return client.search_runs([experiment.experiment_id])


@pytest.fixture(scope="module")
def promotion(mlflow_tracking_uri, client, registered, cancer):
    """champion = v1 (weak), challenger = v2 (strong): first a dry run, then auto-promote."""
    validation = target.load("validation")
    weak_v, strong_v = registered.versions
    client.set_registered_model_alias(registered.name, "champion", weak_v)
    client.set_registered_model_alias(registered.name, "challenger", strong_v)
    experiment = debris.experiment_name("validation")
    dry = validation.validate_challenger(
        registered.name, cancer.X_test, cancer.y_test, experiment_name=experiment
    )
    after_dry = aliases(client, registered.name)
    real = validation.validate_challenger(
        registered.name,
        cancer.X_test,
        cancer.y_test,
        auto_promote=True,
        experiment_name=experiment,
        tracking_uri=mlflow_tracking_uri,
    )
    return SimpleNamespace(
        dry=dry, real=real, after_dry=after_dry, after=aliases(client, registered.name),
        experiment=experiment,
    )  # fmt: skip


@pytest.mark.exercise(
    "4.5",
    points=2,
    hints=(
        "A dry run changes nothing; a promotion moves champion to the winner and keeps the old champion one alias move away.",
        "Notebook 02 (aliases) and notebook 04, section 6; MlflowClient's registered-model alias methods.",
        "only if auto_promote and recommendation.promote: champion -> challenger's version, previous_champion -> old champion, delete the challenger alias.",
    ),
)
def test_promotion_moves_the_aliases(registered, promotion):
    weak_v, strong_v = registered.versions
    assert promotion.after_dry == {"champion": weak_v, "challenger": strong_v}, (
        "without auto_promote=True no alias may move"
    )
    assert promotion.dry.promoted is False and promotion.dry.recommendation.decision == "promote"
    assert promotion.real.promoted is True
    assert promotion.after == {"champion": strong_v, "previous_champion": weak_v}


@pytest.mark.exercise(
    "4.5",
    points=2,
    hints=(
        "Validate what the aliases point at, on the hold-out set, with the champion first in the paired test.",
        "Notebook 04, section 2 (loading by version or alias with mlflow.pyfunc) and your 4.2 to 4.4.",
        "resolve both versions, load models:/<name>/<version>, predict X_test, then classification_metrics, mcnemar_test(y, champion, challenger), recommend.",
    ),
)
def test_validation_result_compares_the_right_models(registered, promotion, cancer):
    weak_v, strong_v = registered.versions
    result = promotion.real
    assert (result.champion_version, result.challenger_version) == (weak_v, strong_v)
    weak_pred = registered.weak.predict(cancer.X_test)
    strong_pred = registered.strong.predict(cancer.X_test)
    b, c = discordant(cancer.y_test, weak_pred, strong_pred)
    assert (result.mcnemar.b, result.mcnemar.c) == (b, c)
    expected_p = float(statsmodels_test(b, c, exact=b + c < 25).pvalue)
    assert result.mcnemar.pvalue == pytest.approx(expected_p)
    for metrics, pred in [(result.champion_metrics, weak_pred), (result.challenger_metrics, strong_pred)]:  # fmt: skip
        expected = sklearn_metrics(cancer.y_test, pred)["overall"]
        for name, value in expected.items():
            assert metrics[name] == pytest.approx(value), name


@pytest.mark.exercise(
    "4.5",
    points=2,
    hints=(
        "The decision must be auditable later: one run per validation holding the evidence.",
        "Notebook 01 (params, metrics, tags, figures, dicts in a run) and the docstring's list of names.",
        "one mlflow.start_run in the experiment: params, champion_*/challenger_*/mcnemar_*/promoted metrics, tags decision and promoted, the 2 figures and validation.json.",
    ),
)
def test_validation_run_is_recorded(client, registered, promotion, cancer):
    runs = runs_in(client, promotion.experiment)
    assert len(runs) == 2, "one run per validate_challenger call"
    run = client.get_run(promotion.real.run_id)
    weak_v, strong_v = registered.versions
    assert run.data.params.get("champion_version") == weak_v
    assert run.data.params.get("challenger_version") == strong_v
    assert run.data.params.get("model_name") == registered.name
    assert run.data.tags.get("decision") == "promote"
    assert run.data.tags.get("promoted") == "true"
    assert client.get_run(promotion.dry.run_id).data.tags.get("promoted") == "false"
    metrics = run.data.metrics
    for role, model in [("champion", registered.weak), ("challenger", registered.strong)]:
        expected = sklearn_metrics(cancer.y_test, model.predict(cancer.X_test))["overall"]
        for name, value in expected.items():
            assert metrics.get(f"{role}_{name}") == pytest.approx(value), f"{role}_{name}"
    assert metrics.get("mcnemar_pvalue") == pytest.approx(promotion.real.mcnemar.pvalue)
    assert metrics.get("mcnemar_b") == promotion.real.mcnemar.b
    assert metrics.get("mcnemar_c") == promotion.real.mcnemar.c
    assert metrics.get("promoted") == 1.0
    logged = {a.path for a in client.list_artifacts(run.info.run_id)}
    wanted = {"metrics_comparison.png", "confusion_matrices.png", "validation.json"}
    assert wanted <= logged, f"missing artifacts: {sorted(wanted - logged)}"


@pytest.mark.exercise(
    "4.5",
    points=1,
    hints=(
        "The registry page of each version compared should say how it was judged, and where the evidence is.",
        "Notebook 02, version tags; the docstring's four validation_* tag names.",
        "for champion and challenger: set the version tags validation_run_id, validation_role, validation_decision, validation_pvalue (str).",
    ),
)
def test_both_versions_are_tagged(client, registered, promotion):
    weak_v, strong_v = registered.versions
    for version, role in [(weak_v, "champion"), (strong_v, "challenger")]:
        tags = client.get_model_version(registered.name, version).tags
        assert tags.get("validation_run_id") == promotion.real.run_id, f"version {version}"
        assert tags.get("validation_role") == role
        assert tags.get("validation_decision") == "promote"
        assert float(tags.get("validation_pvalue")) == pytest.approx(promotion.real.mcnemar.pvalue)


@pytest.fixture(scope="module")
def kept(mlflow_tracking_uri, client, registered, cancer, promotion):
    """The weak model challenging the (now strong) champion, by explicit versions."""
    validation = target.load("validation")
    weak_v, strong_v = registered.versions
    before = aliases(client, registered.name)
    result = validation.validate_challenger(
        registered.name,
        cancer.X_test,
        cancer.y_test,
        champion_version=strong_v,
        challenger_version=weak_v,
        auto_promote=True,
        experiment_name=promotion.experiment,
    )
    return SimpleNamespace(result=result, before=before, after=aliases(client, registered.name))


@pytest.mark.exercise(
    "4.5",
    points=1,
    hints=(
        "A challenger the champion beats must never be promoted, even with auto_promote=True.",
        "Notebook 04, section 5, rule 2: significant with c < b keeps the champion.",
        "move aliases only when recommendation.promote is True; record promoted 'false' in the run's tag.",
    ),
)
def test_a_worse_challenger_is_not_promoted(client, kept):
    assert kept.result.recommendation.decision == "keep_champion"
    assert kept.result.promoted is False
    assert kept.after == kept.before, "nothing may be promoted by accident"
    assert client.get_run(kept.result.run_id).data.tags.get("promoted") == "false"


@pytest.mark.exercise(
    "4.5",
    points=1,
    hints=(
        "With no champion yet there is nothing to compare: the first model is promoted, with a note.",
        "The docstring of validate_challenger, 'Without a champion'; a missing alias is not an error here.",
        "no version has the champion alias -> no test, Recommendation(PROMOTE, True, False, (), 1.0, ...), champion_version param 'none'.",
    ),
)
def test_first_model_becomes_champion(mlflow_tracking_uri, client, cancer):
    validation = target.load("validation")
    name = debris.model_name("first")
    mlflow.set_experiment(debris.experiment_name("training"))
    version = register(DummyClassifier(strategy="prior"), cancer, name)
    client.set_registered_model_alias(name, "challenger", version)
    result = validation.validate_challenger(
        name,
        cancer.X_test,
        cancer.y_test,
        auto_promote=True,
        experiment_name=debris.experiment_name("validation"),
    )
    assert result.champion_version is None and result.mcnemar is None
    assert result.recommendation.decision == "promote" and result.promoted is True
    assert aliases(client, name) == {"champion": version}
    run = client.get_run(result.run_id)
    assert run.data.params.get("champion_version") == "none"
    assert client.get_model_version(name, version).tags.get("validation_role") == "challenger"


@pytest.mark.exercise(
    "4.5",
    points=1,
    hints=(
        "Check everything that can be wrong before logging, tagging or moving anything.",
        "The docstring's Raises list; notebook 04, section 2 (a model refuses data that lacks a column).",
        "validate versions, lengths and predictions first (turn a scoring error into ValueError), and only then start the run.",
    ),
)
def test_bad_validations_change_nothing(client, registered, cancer, kept):
    validation = target.load("validation")
    weak_v, strong_v = registered.versions
    before = aliases(client, registered.name)
    experiment = experiment_of(client, kept.result.run_id)
    runs_before = len(runs_in(client, experiment))
    bad_calls = [
        dict(champion_version=strong_v, challenger_version=strong_v),
        dict(
            champion_version=strong_v,
            challenger_version=weak_v,
            X_test=cancer.X_test.drop(columns=cancer.X_test.columns[0]),
        ),
        dict(champion_version=strong_v, challenger_version=weak_v, y_test=cancer.y_test.iloc[:-1]),
        dict(champion_alias="champion", challenger_alias="no-such-alias"),
    ]
    for call in bad_calls:
        kwargs = {"X_test": cancer.X_test, "y_test": cancer.y_test, **call}
        with pytest.raises(ValueError):
            validation.validate_challenger(
                registered.name,
                kwargs.pop("X_test"),
                kwargs.pop("y_test"),
                auto_promote=True,
                experiment_name=experiment,
                **kwargs,
            )
    assert aliases(client, registered.name) == before
    assert len(runs_in(client, experiment)) == runs_before, "a failed validation logs no run"


def experiment_of(client, run_id: str) -> str:
    return client.get_experiment(client.get_run(run_id).info.experiment_id).name


# --------------------------------------------------------------------------- 4.6
def rules_say_promote(y_true, champion_pred, candidate_pred, confidence=0.95) -> bool:
    """The 4.4 rules' verdict "promote", from statsmodels and scikit-learn (not the module)."""
    b, c = discordant(y_true, champion_pred, candidate_pred)
    pvalue = float(statsmodels_test(b, c, exact=b + c < 25).pvalue) if b + c else 1.0
    champion = sklearn_metrics(y_true, champion_pred)["overall"]
    candidate = sklearn_metrics(y_true, candidate_pred)["overall"]
    improved = sum(candidate[m] > champion[m] for m in COMPARED)
    return pvalue < 1 - confidence and c > b and improved / len(COMPARED) >= 0.75


def expected_winner(y_true, champion_pred, candidates: dict) -> str | None:
    """The most accurate candidate that the rules would promote (first on a tie), or None."""
    eligible = [
        v for v, pred in candidates.items() if rules_say_promote(y_true, champion_pred, pred)
    ]
    return max(eligible, key=lambda v: accuracy_score(y_true, candidates[v]), default=None)


def decision_tags(client, name, versions) -> dict[str, tuple]:
    tags = {v: client.get_model_version(name, v).tags for v in versions}
    return {v: (t.get("promotion_decision"), t.get("promotion_reason")) for v, t in tags.items()}


@pytest.fixture(scope="module")
def policy(mlflow_tracking_uri, client, cancer):
    """Four versions of one model, and the policy applied twice: (1) the weak v1 is champion,
    v2, v3, v4 challenge it; (2) the forest v3 is champion, v4 and v2 challenge it."""
    validation = target.load("validation")
    mlflow.set_experiment(debris.experiment_name("training"))
    name = debris.model_name("policy")
    models = [
        DummyClassifier(strategy="most_frequent"),
        make_pipeline(
            ColumnTransformer([("one", "passthrough", ["mean_radius"])]),
            LogisticRegression(max_iter=1000),
        ),
        RandomForestClassifier(n_estimators=25, max_depth=4, random_state=0),
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
    ]
    versions = [register(model, cancer, name) for model in models]
    pred = {v: m.predict(cancer.X_test) for v, m in zip(versions, models, strict=True)}
    v1, v2, v3, v4 = versions

    client.set_registered_model_alias(name, "champion", v1)
    first = validation.promote_best_challenger(
        name, cancer.X_test, cancer.y_test, [v2, int(v3), v4], tracking_uri=mlflow_tracking_uri
    )
    first_aliases, first_tags = aliases(client, name), decision_tags(client, name, [v2, v3, v4])

    client.set_registered_model_alias(name, "champion", v3)
    before_second = aliases(client, name)
    second = validation.promote_best_challenger(name, cancer.X_test, cancer.y_test, [v4, v2])
    return SimpleNamespace(
        name=name, versions=versions, pred=pred,
        first=first, first_aliases=first_aliases, first_tags=first_tags,
        second=second, before_second=before_second, second_aliases=aliases(client, name),
        second_tags=decision_tags(client, name, [v4, v2]),
    )  # fmt: skip


@pytest.mark.exercise(
    "4.6",
    points=2,
    hints=(
        "Of the candidates the rules would promote against the champion, the most accurate wins, not the first one found.",
        "Notebook 04, section 7 'Several challengers, one champion'; your 4.2 to 4.4 (or 4.5 with auto_promote=False).",
        "judge every candidate against the champion first, keep those whose recommendation says promote, then take the highest accuracy.",
    ),
)
def test_policy_promotes_the_best_eligible_candidate(policy, cancer):
    v1, v2, v3, v4 = policy.versions
    candidates = {v: policy.pred[v] for v in (v2, v3, v4)}
    winner = expected_winner(cancer.y_test, policy.pred[v1], candidates)
    eligible = [
        v for v in candidates if rules_say_promote(cancer.y_test, policy.pred[v1], policy.pred[v])
    ]
    assert winner is not None and eligible[0] != winner, "the case must tell 'best' from 'first'"
    assert policy.first == winner, (
        f"the most accurate eligible candidate is version {winner}; you returned {policy.first!r}"
    )
    assert policy.first_aliases == {"champion": winner, "previous_champion": v1}, (
        "champion on the winner, previous_champion on the old champion"
    )


@pytest.mark.exercise(
    "4.6",
    points=1,
    hints=(
        "A decision someone can audit later: every candidate says whether it won, and why.",
        "Notebook 02, version tags; the docstring's promotion_decision and promotion_reason.",
        "tag every candidate version: promotion_decision 'promoted' for the winner, 'rejected' for the others, and a non-empty promotion_reason.",
    ),
)
def test_policy_records_its_decision_on_every_candidate(policy):
    v1, v2, v3, v4 = policy.versions
    for version, (decision, reason) in policy.first_tags.items():
        wanted = "promoted" if version == policy.first else "rejected"
        assert decision == wanted, f"version {version}: promotion_decision"
        assert isinstance(reason, str) and reason.strip(), f"version {version}: promotion_reason"
    for version, (decision, reason) in policy.second_tags.items():
        assert decision == "rejected", f"version {version} was not promoted: 'rejected'"
        assert reason and reason.strip(), f"version {version}: promotion_reason"


@pytest.mark.exercise(
    "4.6",
    points=2,
    hints=(
        "More accurate is not enough: a gain the paired test cannot tell from luck promotes no one.",
        "Notebook 04, sections 4 and 5: McNemar's test against the CHAMPION, then the decision rules.",
        "a candidate is eligible only if recommend(champion_metrics, its metrics, mcnemar_test(y, champion, it)).promote; none eligible: return None, move nothing.",
    ),
)
def test_policy_keeps_the_champion_without_a_significant_gain(policy, cancer):
    v1, v2, v3, v4 = policy.versions
    y = cancer.y_test
    assert accuracy_score(y, policy.pred[v4]) > accuracy_score(y, policy.pred[v3]), "the case"
    assert expected_winner(y, policy.pred[v3], {v: policy.pred[v] for v in (v4, v2)}) is None
    assert policy.second is None, (
        f"version {v4} is more accurate than champion {v3}, but not significantly: return None"
    )
    assert policy.second_aliases == policy.before_second, "no eligible candidate: no alias moves"
    assert {d for d, _ in policy.second_tags.values()} == {"rejected"}, "record the rejections"


@pytest.mark.exercise(
    "4.6",
    points=1,
    hints=(
        "Refuse a question that makes no sense before touching the registry.",
        "The docstring's Raises list: no candidate, an unknown one, the champion itself, no champion, lengths.",
        "check candidates, the champion alias, the versions and len(X_test) == len(y_test) first; raise ValueError; tag and move only at the end.",
    ),
)
def test_policy_bad_input_changes_nothing(client, policy, cancer):
    v1, v2, v3, v4 = policy.versions
    validation = target.load("validation")
    before = (aliases(client, policy.name), decision_tags(client, policy.name, policy.versions))
    champion = before[0]["champion"]
    bad_calls = [
        dict(candidates=[]),
        dict(candidates=[v4, champion]),
        dict(candidates=[v4, "999"]),
        dict(candidates=[v4], champion_alias="no-such-alias"),
        dict(candidates=[v4], y_test=cancer.y_test.iloc[:-1]),
    ]
    for call in bad_calls:
        kwargs = {"y_test": cancer.y_test, **call}
        with pytest.raises(ValueError):
            validation.promote_best_challenger(
                policy.name, cancer.X_test, kwargs.pop("y_test"), kwargs.pop("candidates"), **kwargs
            )
    after = (aliases(client, policy.name), decision_tags(client, policy.name, policy.versions))
    assert after == before, "a refused call changes no alias and no tag"
