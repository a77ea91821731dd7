"""Module 04's helpers: the power of McNemar's test (against enumeration, a simulation and the
normal approximation), the confusion-matrix figure's class names, and the JSON-ready results."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar

from mlops_course import plots, validation_tools
from mlops_course.validation_tools import explain_power, mcnemar_power, rows_for_power


def statsmodels_pvalue(b: int, c: int) -> float:
    """The course's rule (exact below 25 discordant rows), computed by statsmodels."""
    if b + c == 0:
        return 1.0
    return float(mcnemar([[0, b], [c, 0]], exact=b + c < 25, correction=True).pvalue)


def enumerated_power(n: int, p_b: float, p_c: float, alpha: float = 0.05) -> float:
    """The power by brute force: every (b, c) of n rows, weighted by its multinomial chance."""
    total = 0.0
    for b in range(n + 1):
        for c in range(b + 1, n + 1 - b):
            if statsmodels_pvalue(b, c) < alpha:
                total += stats.multinomial.pmf([b, c, n - b - c], n, [p_b, p_c, 1 - p_b - p_c])
    return total


def connor_rows(p_b: float, p_c: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Connor (1987): the rows for a power, from the normal approximation."""
    psi, delta = p_b + p_c, p_c - p_b
    z_a, z_b = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    return (z_a * math.sqrt(psi) + z_b * math.sqrt(psi - delta**2)) ** 2 / delta**2


@pytest.mark.parametrize(
    "n, p_b, p_c, alpha",
    [
        (38, 0.0, 5 / 38, 0.05),  # iris: a 13-point gain, never worse
        (20, 0.1, 0.3, 0.05),
        (60, 0.05, 0.2, 0.05),  # the exact test and the chi-square one both in play
        (30, 0.2, 0.2, 0.05),  # no gain: only flukes
        (40, 0.3, 0.1, 0.05),  # a worse challenger
        (50, 0.05, 0.25, 0.01),
    ],
)
def test_power_equals_enumeration(n, p_b, p_c, alpha):
    computed = mcnemar_power(n, p_b, p_c, pvalue=statsmodels_pvalue, alpha=alpha)
    assert computed == pytest.approx(enumerated_power(n, p_b, p_c, alpha), rel=1e-9, abs=1e-12)


def test_power_agrees_with_a_simulation():
    rng = np.random.default_rng(0)
    n, p_b, p_c, draws = 60, 0.05, 0.2, 4000
    counts = rng.multinomial(n, [p_b, p_c, 1 - p_b - p_c], size=draws)[:, :2]
    pairs, times = np.unique(counts, axis=0, return_counts=True)
    hits = sum(
        t
        for (b, c), t in zip(pairs, times, strict=True)
        if c > b and statsmodels_pvalue(b, c) < 0.05
    )
    simulated = hits / draws
    computed = mcnemar_power(n, p_b, p_c, pvalue=statsmodels_pvalue)
    assert abs(simulated - computed) < 4 * math.sqrt(computed * (1 - computed) / draws)


def test_power_grows_with_the_rows_and_the_gain():
    power = [mcnemar_power(n, 0.05, 0.15, pvalue=statsmodels_pvalue) for n in (40, 160, 640)]
    assert power[0] < power[1] < power[2] and power[2] > 0.99
    assert mcnemar_power(100, 0.05, 0.25, pvalue=statsmodels_pvalue) > power[0]
    assert mcnemar_power(100, 0.0, 0.0, pvalue=statsmodels_pvalue) == 0.0


@pytest.mark.parametrize(
    "p_b, p_c", [(0.0, 5 / 38), (0.05, 0.15), (3 / 143, 12 / 143), (0.1, 0.11), (0.01, 0.012)]
)
def test_rows_for_power_reaches_the_target(p_b, p_c):
    rows = rows_for_power(p_b, p_c, pvalue=statsmodels_pvalue)
    assert mcnemar_power(rows, p_b, p_c, pvalue=statsmodels_pvalue) >= 0.8
    fewer = math.floor(rows * 0.97) - 1
    assert mcnemar_power(fewer, p_b, p_c, pvalue=statsmodels_pvalue) < 0.8
    assert rows == pytest.approx(connor_rows(p_b, p_c), rel=0.15)


def test_rows_for_power_edge_cases():
    assert rows_for_power(0.1, 0.1, pvalue=statsmodels_pvalue) is None, "no gain, no rows"
    assert rows_for_power(0.2, 0.1, pvalue=statsmodels_pvalue) is None
    # Beyond EXACT_ROWS, the normal approximation answers (within a fraction of a percent).
    big = rows_for_power(0.1, 0.101, pvalue=statsmodels_pvalue)
    assert big > validation_tools.EXACT_ROWS and big == pytest.approx(connor_rows(0.1, 0.101))
    assert rows_for_power(0.1, 0.101, pvalue=statsmodels_pvalue, max_rows=10_000) is None
    assert rows_for_power(0.0, 0.5, pvalue=statsmodels_pvalue, start=500) == 500
    with pytest.raises(ValueError, match="rates"):
        mcnemar_power(10, 0.7, 0.6, pvalue=statsmodels_pvalue)
    with pytest.raises(ValueError, match="alpha"):
        mcnemar_power(10, 0.1, 0.2, pvalue=statsmodels_pvalue, alpha=5)


def test_explain_power_says_why_in_one_sentence():
    iris = explain_power(38, 0, 5, pvalue=statsmodels_pvalue)
    assert iris["power"] == pytest.approx(enumerated_power(38, 0, 5 / 38))
    assert iris["rows_needed"] == rows_for_power(0, 5 / 38, pvalue=statsmodels_pvalue, start=38)
    assert iris["explanation"] == (
        "With 38 test rows and 5 disagreements, this test detects a gain of this size only "
        f"38 % of the time (power); about {iris['rows_needed']} rows would give 80 %."
    )
    assert (iris["n_rows"], iris["discordant"], iris["target_power"]) == (38, 5, 0.8)

    # Not significant, yet the power is there (a tiny alpha, the split just short of it).
    strict = explain_power(38, 0, 25, pvalue=statsmodels_pvalue, alpha=1e-6)
    assert statsmodels_pvalue(0, 25) >= 1e-6 and strict["power"] >= 0.8
    assert strict["rows_needed"] == 38 and "big enough" in strict["explanation"]

    worse = explain_power(38, 2, 1, pvalue=statsmodels_pvalue)
    assert worse["power"] is None and worse["rows_needed"] is None
    assert "no gain" in worse["explanation"]
    same = explain_power(38, 0, 0, pvalue=statsmodels_pvalue)
    assert same["power"] is None and "no disagreement" in same["explanation"]
    with pytest.raises(ValueError):
        explain_power(3, 2, 2, pvalue=statsmodels_pvalue)


def metrics(cm, labels) -> dict:
    return {"confusion_matrix": pd.DataFrame(cm, index=labels, columns=labels)}


def tick_texts(ax) -> tuple[list[str], list[str]]:
    return [t.get_text() for t in ax.get_xticklabels()], [
        t.get_text() for t in ax.get_yticklabels()
    ]


def test_confusion_matrices_show_class_names():
    champion, challenger = metrics([[40, 13], [3, 87]], [0, 1]), metrics([[49, 4], [3, 87]], [0, 1])
    names = ["malignant", "benign"]

    fig = plots.confusion_matrices_figure(champion, challenger, class_names=names)
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["champion", "challenger"]
    for ax in axes:
        assert tick_texts(ax) == (names, names)
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("Predicted class", "True class")

    # The graded validate_challenger calls it with two metrics dicts and a title only.
    plain = plots.confusion_matrices_figure(champion, challenger, title="t")
    assert tick_texts(plain.axes[0]) == (["0", "1"], ["0", "1"])
    assert plain._suptitle.get_text() == "t"

    # A dict names some labels; the others show as they are; no champion: one panel.
    three = metrics(np.eye(3, dtype=int), ["a", "b", 7])
    one = plots.confusion_matrices_figure(None, three, class_names={"a": "setosa"})
    assert len(one.axes) == 1 and tick_texts(one.axes[0])[0] == ["setosa", "b", "7"]


def test_jsonable_gives_plain_json_types():
    import json

    frame = pd.DataFrame([[3, 1], [0, 5]], index=[0, 1], columns=[0, 1])
    value = {1: (0.5, math.nan), "cm": frame, "nested": [{"x": frame}]}
    plain = validation_tools.jsonable(value)
    assert plain == {
        "1": [0.5, None],
        "cm": {"labels": [0, 1], "matrix": [[3, 1], [0, 5]]},
        "nested": [{"x": {"labels": [0, 1], "matrix": [[3, 1], [0, 5]]}}],
    }
    json.dumps(plain, allow_nan=False)  # raises on anything JSON does not have
