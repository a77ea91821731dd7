"""Helpers for module 04 (validation) that learners are not asked to write: label checks,
the comparison table, the two figures, JSON-ready results, and the power of McNemar's test (how
often a test set of a given size finds a real gain). The graded functions are in
solutions/validation.py."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

# The overall metrics compared by the decision rules, in display order.
COMPARED_METRICS = (
    "accuracy",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "precision_weighted",
    "recall_weighted",
    "f1_weighted",
)


def as_labels(name: str, values) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:  # a one-column DataFrame of predictions
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}.")
    return array


def _label_kind(name: str, array: np.ndarray) -> str:
    """``number`` or ``text``: labels of the two kinds never compare equal."""
    if array.dtype.kind in "biuf":
        return "number"
    if array.dtype.kind in "US":
        return "text"
    inferred = pd.api.types.infer_dtype(array, skipna=False)
    if inferred == "string":
        return "text"
    if inferred in ("integer", "floating", "mixed-integer-float", "boolean", "decimal"):
        return "number"
    raise ValueError(f"{name} mixes label types ({inferred}); use all numbers or all strings.")


def check_labels(**arrays) -> list[np.ndarray]:
    """The label arrays as 1-D numpy arrays, after checking they can be compared pairwise.

    Raises:
        ValueError: an array is empty or not one-dimensional, the lengths differ, or one
            holds numbers and another strings (``1 == "1"`` is False: every prediction would
            silently count as wrong).
    """
    converted = {name: as_labels(name, values) for name, values in arrays.items()}
    lengths = {name: len(a) for name, a in converted.items()}
    if any(n == 0 for n in lengths.values()):
        raise ValueError(f"Empty labels: {lengths}; there is nothing to compare.")
    if len(set(lengths.values())) > 1:
        raise ValueError(f"The labels have different lengths: {lengths}; they must be paired.")
    kinds = {name: _label_kind(name, a) for name, a in converted.items()}
    if len(set(kinds.values())) > 1:
        raise ValueError(f"Labels of different types: {kinds}; convert them to one type first.")
    return list(converted.values())


def jsonable(value):
    """``value`` with plain JSON types only: a DataFrame becomes ``{"labels", "matrix"}``, a
    mapping a dict with string keys, a tuple a list, NaN None. Lesson 04 (``validate_challenger``,
    exercise 4.5) uses it to write ``validation.json``."""
    if isinstance(value, pd.DataFrame):
        return {"labels": list(value.index), "matrix": value.to_numpy().tolist()}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def metrics_table(champion_metrics: Mapping | None, challenger_metrics: Mapping) -> pd.DataFrame:
    """The compared metrics side by side: champion, challenger, change and change in %."""
    champion = [
        np.nan if champion_metrics is None else champion_metrics[m] for m in COMPARED_METRICS
    ]
    challenger = [challenger_metrics[m] for m in COMPARED_METRICS]
    table = pd.DataFrame(
        {"champion": champion, "challenger": challenger}, index=list(COMPARED_METRICS)
    )
    table["change"] = table["challenger"] - table["champion"]
    table["change_pct"] = 100 * table["change"] / table["champion"].replace(0, np.nan)
    table.index.name = "metric"
    return table


# ----------------------------------------------------------------------------- power
# A McNemar test as a function: (b, c) -> p-value, for example
# ``lambda b, c: validation.mcnemar_from_counts(b, c).pvalue``.
PValue = Callable[[int, int], float]

# rows_for_power gives up beyond MAX_ROWS rows, and uses the normal approximation beyond
# EXACT_ROWS (it is within a fraction of a percent there).
MAX_ROWS = 10_000_000
EXACT_ROWS = 100_000

# Binomial tails below this are left out of the power's sum (they cannot change a percentage).
_TAIL = 1e-12


class _Critical:
    """For ``d`` discordant rows, the largest ``b`` (with ``c = d - b > b``) that the test finds
    significant, or -1: every smaller ``b`` is significant too, as the split is more lopsided.
    Cached, since a search for the rows needed asks for the same ``d`` many times."""

    def __init__(self, pvalue: PValue, alpha: float):
        self.pvalue, self.alpha = pvalue, alpha
        self.z = float(stats.norm.isf(alpha / 2))
        self.known: dict[int, int] = {}

    def significant(self, b: int, d: int) -> bool:
        return self.pvalue(b, d - b) < self.alpha

    def __call__(self, d: int) -> int:
        if d not in self.known:
            top = (d - 1) // 2  # the largest b with c > b
            # Start near the normal approximation's answer, then let the test itself decide.
            b = min(top, max(-1, math.floor((d - self.z * math.sqrt(d)) / 2)))
            while b + 1 <= top and self.significant(b + 1, d):
                b += 1
            while b >= 0 and not self.significant(b, d):
                b -= 1
            self.known[d] = b
        return self.known[d]


def _check_rates(p_b: float, p_c: float) -> None:
    if not (0 <= p_b <= 1 and 0 <= p_c <= 1 and p_b + p_c <= 1):
        raise ValueError(f"p_b and p_c must be rates with p_b + p_c <= 1, got {p_b}, {p_c}.")


def _power(n_rows: int, p_b: float, p_c: float, critical: _Critical) -> float:
    discordant = p_b + p_c
    if n_rows <= 0 or p_c <= 0:
        return 0.0
    lo = int(stats.binom.ppf(_TAIL, n_rows, discordant))
    hi = int(stats.binom.isf(_TAIL, n_rows, discordant))
    d = np.arange(max(lo, 1), hi + 1)
    if d.size == 0:
        return 0.0
    b_max = np.array([critical(int(k)) for k in d])
    # Given d discordant rows, b ~ Binomial(d, p_b / (p_b + p_c)); significant when b <= b_max.
    win = stats.binom.cdf(b_max, d, p_b / discordant)
    return float(np.clip(np.dot(stats.binom.pmf(d, n_rows, discordant), win), 0.0, 1.0))


def mcnemar_power(
    n_rows: int, p_b: float, p_c: float, *, pvalue: PValue, alpha: float = 0.05
) -> float:
    """The power of McNemar's test: the chance that it finds a challenger this much better.

    Each of ``n_rows`` test rows is, independently, a discordant row in the champion's favour
    (champion right, challenger wrong) with probability ``p_b``, one in the challenger's favour
    with probability ``p_c``, and concordant otherwise. The power is the probability that a test
    set drawn that way gives ``pvalue(b, c) < alpha`` with ``c > b``: a significant result in the
    challenger's favour, the only one that can promote it. The accuracy gain is ``p_c - p_b``.

    Computed exactly, not simulated: the number of discordant rows ``d`` is
    ``Binomial(n_rows, p_b + p_c)`` and, given ``d``, ``b`` is ``Binomial(d, p_b / (p_b + p_c))``.

    Args:
        n_rows: the number of test rows.
        p_b: the probability that a row is "champion right, challenger wrong".
        p_c: the probability that a row is "champion wrong, challenger right".
        pvalue: the test, ``(b, c) -> p-value``, e.g. ``lambda b, c:
            validation.mcnemar_from_counts(b, c).pvalue``. Like every McNemar test, it must
            give the same p-value for ``(b, c)`` and ``(c, b)``, larger as the split evens out.
        alpha: the significance level, ``1 - confidence``.

    Returns:
        The power, between 0 and 1. When ``p_c <= p_b`` there is no gain to find: it is then
        the small chance of a significant fluke in the challenger's favour.

    Raises:
        ValueError: the rates are not probabilities, or ``alpha`` is not in (0, 1).
    """
    _check_rates(p_b, p_c)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}.")
    return _power(int(n_rows), p_b, p_c, _Critical(pvalue, alpha))


def _normal_rows(p_b: float, p_c: float, alpha: float, target: float) -> float:
    """The rows for ``target`` power by the normal approximation (Connor, 1987)."""
    discordant, gain = p_b + p_c, p_c - p_b
    z_alpha, z_power = stats.norm.isf(alpha / 2), stats.norm.isf(1 - target)
    spread = z_alpha * math.sqrt(discordant) + z_power * math.sqrt(discordant - gain**2)
    return float(spread**2 / gain**2)


def rows_for_power(
    p_b: float,
    p_c: float,
    *,
    pvalue: PValue,
    alpha: float = 0.05,
    target: float = 0.8,
    start: int = 1,
    max_rows: int = MAX_ROWS,
) -> int | None:
    """About how many test rows give McNemar's test the ``target`` power (see
    :func:`mcnemar_power`) for these discordance rates.

    The power grows with the rows, in small steps up and down (the counts are whole numbers):
    the answer is a number of rows, at least ``start``, where the exact power reaches
    ``target`` while 1 % fewer rows fall short. Beyond ``EXACT_ROWS`` rows the normal
    approximation (Connor, 1987) answers instead: there it is within a fraction of a percent,
    and the exact search would take seconds.

    Returns:
        The number of rows, or None when ``p_c <= p_b`` (no gain to find) or more than
        ``max_rows`` would be needed.
    """
    _check_rates(p_b, p_c)
    if not (0 < alpha < 1 and 0 < target < 1):
        raise ValueError(f"alpha and target must be between 0 and 1, got {alpha}, {target}.")
    if p_c <= p_b:
        return None
    start = max(1, int(start))
    critical = _Critical(pvalue, alpha)

    def enough(n: int) -> bool:
        return _power(n, p_b, p_c, critical) >= target

    guess = max(start, math.ceil(_normal_rows(p_b, p_c, alpha, target)))
    if guess > EXACT_ROWS:
        return guess if guess <= max_rows else None
    if enough(start):
        return start
    # Bracket the answer around the guess: enough(high) and not enough(low).
    if enough(guess):
        low, high = guess, guess
        while low > start and enough(low):
            high, low = low, max(start, math.floor(low / 1.05))
    else:
        low, high = guess, guess
        while not enough(high):
            if high >= max_rows:
                return None
            low, high = high, min(max_rows, math.ceil(high * 1.05) + 1)
    while high - low > max(1, low // 100):
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle, high)
    return high


def explain_power(
    n_rows: int,
    b: int,
    c: int,
    *,
    pvalue: PValue,
    alpha: float = 0.05,
    target: float = 0.8,
) -> dict:
    """Why a test found no significant difference, in numbers and in one sentence.

    "Power" here is a what-if for planning: if the challenger's real gain were the one seen
    (the rates ``b / n_rows`` and ``c / n_rows``), how often would ``n_rows`` rows show it, and
    about how many rows would show it with probability ``target``. It is not a second test of
    the same data.

    Args:
        n_rows: the rows of the test set.
        b: its rows where the champion is right and the challenger wrong.
        c: its rows where the champion is wrong and the challenger right.
        pvalue: the test, as in :func:`mcnemar_power`.
        alpha: the significance level, ``1 - confidence``.
        target: the power to reach, for ``rows_needed``.

    Returns:
        A dict with ``n_rows``, ``discordant`` (``b + c``), ``b``, ``c``, ``alpha``,
        ``power`` and ``rows_needed`` (both None when ``c <= b``: no gain to find;
        ``rows_needed`` also None beyond ``MAX_ROWS``), ``target_power`` and
        ``explanation``, the sentence.

    Raises:
        ValueError: unless ``0 <= b + c <= n_rows``.
    """
    n_rows, b, c = int(n_rows), int(b), int(c)
    if n_rows <= 0 or b < 0 or c < 0 or b + c > n_rows:
        raise ValueError(f"need 0 <= b + c <= n_rows, got b={b}, c={c}, n_rows={n_rows}.")
    rows = f"{n_rows} test rows"
    power = needed = None
    if b + c == 0:
        sentence = (
            f"The two models were right and wrong on the same rows (no disagreement in {rows}): "
            "only rows where they disagree can tell them apart."
        )
    elif c <= b:
        sentence = (
            f"With {rows} and {b + c} disagreements, the challenger was right on {c} of them "
            f"and the champion on {b}: no gain to confirm with more rows."
        )
    else:
        p_b, p_c = b / n_rows, c / n_rows
        power = mcnemar_power(n_rows, p_b, p_c, pvalue=pvalue, alpha=alpha)
        needed = rows_for_power(p_b, p_c, pvalue=pvalue, alpha=alpha, target=target, start=n_rows)
        percent = f"{100 * power:.0f} %"
        if power >= target:
            sentence = (
                f"With {rows} and {b + c} disagreements, this test detects a gain of this size "
                f"{percent} of the time (power): the test set is big enough for it; this time the "
                "split fell short."
            )
        else:
            more = (
                f"about {needed} rows would give {100 * target:.0f} %"
                if needed is not None
                else f"even {MAX_ROWS:,} rows would not give {100 * target:.0f} %"
            )
            sentence = (
                f"With {rows} and {b + c} disagreements, this test detects a gain of this size "
                f"only {percent} of the time (power); {more}."
            )
    return {
        "n_rows": n_rows,
        "discordant": b + c,
        "b": b,
        "c": c,
        "alpha": round(alpha, 12),  # 1 - 0.95 is 0.050000000000000044 in floats
        "power": power,
        "target_power": target,
        "rows_needed": needed,
        "explanation": sentence,
    }


# The figures moved to mlops_course.plots; a learner's exercises/validation.py written before the
# move imports them from here, so they stay importable under their old address.
_MOVED_TO_PLOTS = ("metrics_comparison_figure", "confusion_matrices_figure")


def __getattr__(name: str) -> Any:
    if name in _MOVED_TO_PLOTS:
        from mlops_course import plots

        return getattr(plots, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
