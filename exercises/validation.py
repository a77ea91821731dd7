# Your exercises for validation: write each function where it says NotImplementedError.
# Check one with `mlops_course.check("M.N")` in a notebook or `mlops-course grade M.N`.
# Start one again with `mlops-course reset M.N` (your current file is backed up first).
# generated-from: solutions/validation.py sha256:06cb1cad8aa4
"""Module 04, validation: is the challenger really better than the champion?

Two models are compared on the SAME hold-out set, prediction by prediction. Accuracy alone
cannot tell a real improvement from luck; McNemar's test on the paired predictions can. The
decision rules turn the numbers into a recommendation, and the last exercise runs the whole
validation against the model registry: it scores ``models:/<name>@champion`` and
``models:/<name>@challenger``, records the result in MLflow and, when asked and allowed, moves
the ``champion`` alias. The open exercise, 4.6, chooses among several challengers: the policy's
outcome is graded, not the code.

The results are small frozen dataclasses (:class:`McNemarResult`, :class:`Recommendation`,
:class:`ValidationResult`) and the figure helpers below are given: you write the functions whose
docstring starts with "Exercise 4.N".

Run the checks of one exercise from a notebook with ``mlops_course.check("4.1")`` or from a
terminal with ``mlops-course grade 4.1``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from scipy import stats

from mlops_course.plots import confusion_matrices_figure, metrics_comparison_figure
from mlops_course.tracking_uri import with_tracking_uri
from mlops_course.validation_tools import COMPARED_METRICS, as_labels, check_labels, jsonable

# The four decisions of the rules (see recommend).
PROMOTE = "promote"
CONDITIONAL_PROMOTE = "conditional_promote"
KEEP_CHAMPION = "keep_champion"
INSUFFICIENT_EVIDENCE = "insufficient_evidence"

# Below this many discordant pairs, the chi-square approximation is poor: use the exact test.
EXACT_BELOW = 25


@dataclass(frozen=True)
class McNemarResult:
    """McNemar's test on paired predictions.

    Attributes:
        b: pairs where the champion is right and the challenger wrong.
        c: pairs where the champion is wrong and the challenger right.
        statistic: ``min(b, c)`` for the exact test, the chi-square value otherwise.
        pvalue: the two-sided p-value (1.0 when ``b + c == 0``).
        exact: True when the exact binomial test was used.
    """

    b: int
    c: int
    statistic: float
    pvalue: float
    exact: bool

    @property
    def n_discordant(self) -> int:
        """The pairs where exactly one model is right: the only ones the test looks at."""
        return self.b + self.c


@dataclass(frozen=True)
class Recommendation:
    """What the decision rules say about a champion/challenger comparison.

    Attributes:
        decision: one of ``promote``, ``conditional_promote``, ``keep_champion``,
            ``insufficient_evidence``.
        promote: True only when the challenger may replace the champion without a human.
        significant: the McNemar p-value is below ``1 - confidence``.
        improved: the names of the compared metrics where the challenger is strictly better.
        share_improved: ``len(improved) / len(COMPARED_METRICS)``.
        reason: one sentence a human can read.
    """

    decision: str
    promote: bool
    significant: bool
    improved: tuple[str, ...]
    share_improved: float
    reason: str


@dataclass(frozen=True)
class ValidationResult:
    """One champion/challenger validation, as recorded in MLflow.

    Attributes:
        model_name: the registered model.
        champion_version: the champion's version, or None when there was no champion yet.
        challenger_version: the challenger's version.
        champion_metrics: :func:`classification_metrics` of the champion (None without one).
        challenger_metrics: :func:`classification_metrics` of the challenger.
        mcnemar: the test on the paired predictions (None without a champion).
        recommendation: what the rules say.
        promoted: True when the champion alias was moved to the challenger.
        run_id: the validation run.
    """

    model_name: str
    champion_version: str | None
    challenger_version: str
    champion_metrics: dict | None
    challenger_metrics: dict
    mcnemar: McNemarResult | None
    recommendation: Recommendation
    promoted: bool
    run_id: str


# ----------------------------------------------------------------------------- 4.1, 4.2
def mcnemar_from_counts(b: int, c: int, *, exact: bool | None = None) -> McNemarResult:
    """Exercise 4.1: McNemar's test from the discordant counts.

    Only the pairs where the two models disagree about being right carry evidence: ``b``
    (champion right, challenger wrong) and ``c`` (champion wrong, challenger right). Under the
    null hypothesis "both models are equally good", each discordant pair is a fair coin flip.
    With ``n = b + c`` and ``m = min(b, c)``:

    * exact test: ``statistic = m`` and ``pvalue = min(1, 2 * P(X <= m))`` with
      ``X ~ Binomial(n, 1/2)`` (the two-sided binomial test);
    * chi-square test with continuity correction: ``statistic = (|b - c| - 1)**2 / n`` (not
      clipped at zero) and ``pvalue = P(Y >= statistic)`` with ``Y`` chi-square with one degree
      of freedom;
    * which one: ``exact=True`` / ``exact=False`` force one; ``exact=None`` takes the exact
      test when ``n < EXACT_BELOW`` (25), the chi-square test otherwise;
    * ``n == 0``: no evidence either way, ``statistic = 0.0`` and ``pvalue = 1.0``.

    The result equals ``statsmodels.stats.contingency_tables.mcnemar([[0, b], [c, 0]],
    exact=..., correction=True)`` wherever that is defined, for counts up to ``10**11`` (so
    beware of integer overflow).

    Args:
        b: the count of pairs where the champion is right and the challenger wrong.
        c: the count of pairs where the champion is wrong and the challenger right.
        exact: force (True) or forbid (False) the exact test; None chooses as above.

    Returns:
        A ``McNemarResult(b, c, statistic, pvalue, exact)`` with Python ``int`` counts,
        ``float`` statistic and p-value, and ``bool`` exact (the test actually used).

    Raises:
        ValueError: when ``b`` or ``c`` is negative or not a whole number (Python or numpy
            integers are whole numbers; ``2.5`` and ``True`` are not).
    """
    raise NotImplementedError("Exercise 4.1: write mcnemar_from_counts()")


def mcnemar_test(y_true, champion_pred, challenger_pred, *, exact: bool | None = None):
    """Exercise 4.2: McNemar's test on paired predictions.

    Two models predicted the same rows. A prediction is right when it equals the true label of
    its row (so multi-class and string labels work like binary ones), and rows are paired by
    position, not by a pandas index:

    * ``b``: the rows where the champion is right and the challenger wrong;
    * ``c``: the rows where the champion is wrong and the challenger right.

    The result is McNemar's test (4.1) on those counts, with ``exact`` passed on. It must stay
    fast on a million rows (well under a second).

    Args:
        y_true: the true labels (list, numpy array or pandas Series).
        champion_pred: the champion's predictions, one per row of ``y_true``.
        challenger_pred: the challenger's predictions, one per row of ``y_true``.
        exact: as in :func:`mcnemar_from_counts`.

    Returns:
        The :class:`McNemarResult`; swapping the two models swaps ``b`` and ``c``.

    Raises:
        ValueError: for empty inputs, inputs of different lengths, or number labels compared
            with string labels (``1 == "1"`` is False: every prediction would silently be
            "wrong"). The given ``check_labels`` raises exactly these.
    """
    raise NotImplementedError("Exercise 4.2: write mcnemar_test()")


# ----------------------------------------------------------------------------- 4.3
def classification_metrics(y_true, y_pred, *, labels=None) -> dict:
    """Exercise 4.3: Classification metrics from one confusion matrix.

    The metrics the validation compares, with the same values as scikit-learn's
    ``accuracy_score``, ``precision_recall_fscore_support(..., labels=..., zero_division=0)``
    and ``confusion_matrix(..., labels=...)``, but fast: a million rows in well under a second
    (scikit-learn takes several passes over the data; one confusion matrix holds it all).

    * The classes ``labels``: the given ones, in their order; by default the sorted union of
      the labels found in both arrays, so a class that is never predicted (or never true)
      still has its row and column.
    * The confusion matrix ``cm[i, j]``: the number of rows whose true label is ``labels[i]``
      and predicted label ``labels[j]``. Rows whose true or predicted label is not among
      explicit ``labels`` are not in it.
    * Per class, with ``tp`` its diagonal cell, ``support`` the rows whose TRUE label is the
      class and ``predicted`` the rows whose PREDICTED label is the class (over all rows):
      ``precision = tp / predicted``, ``recall = tp / support``, ``f1 = 2 tp / (support +
      predicted)``, each 0.0 when its denominator is 0.
    * ``*_macro``: the plain mean over the classes; ``*_weighted``: the mean weighted by
      ``support`` (0.0 when the total support is 0); ``accuracy``: the share of ALL rows
      where the prediction equals the true label, whatever ``labels`` says.

    Args:
        y_true: the true labels.
        y_pred: the predicted labels, one per row of ``y_true``.
        labels: the classes to report, in order; default the sorted union of both arrays.

    Returns:
        A dict with Python floats ``accuracy``, ``precision_macro``, ``recall_macro``,
        ``f1_macro``, ``precision_weighted``, ``recall_weighted``, ``f1_weighted``; ``labels``
        (a list of Python scalars); ``per_class`` (label -> ``{"precision", "recall", "f1",
        "support"}``, support an ``int``), in the order of ``labels``; ``confusion_matrix``
        (a ``pd.DataFrame`` of ints, index = true labels, columns = predicted labels, both
        ``labels``).

    Raises:
        ValueError: for the bad inputs of 4.2 (the given ``check_labels`` raises them), or
            empty or repeated ``labels``.
    """
    raise NotImplementedError("Exercise 4.3: write classification_metrics()")


# ----------------------------------------------------------------------------- 4.4
def recommend(
    champion_metrics: Mapping[str, float],
    challenger_metrics: Mapping[str, float],
    test: McNemarResult,
    *,
    confidence: float = 0.95,
) -> Recommendation:
    """Exercise 4.4: The decision rules.

    Turn a comparison into a recommendation, with ``alpha = 1 - confidence``,
    ``significant`` when ``test.pvalue < alpha`` (strictly: ``p == alpha`` is not significant),
    ``improved`` the names in ``COMPARED_METRICS`` (in
    that order) where the challenger's value is STRICTLY greater than the champion's (a tie is
    not an improvement) and ``share_improved = len(improved) / len(COMPARED_METRICS)``. Apply
    the first rule that matches:

    1. not significant -> ``INSUFFICIENT_EVIDENCE`` (the difference may be luck);
    2. significant and ``test.c < test.b`` (the champion is right more often) ->
       ``KEEP_CHAMPION``;
    3. significant, ``c > b`` and ``share_improved >= 0.75`` -> ``PROMOTE`` (strong promotion);
    4. significant, ``c > b`` and ``share_improved >= 0.5`` -> ``CONDITIONAL_PROMOTE`` (better,
       but some metrics got worse: a human decides);
    5. otherwise -> ``KEEP_CHAMPION`` (more often right, but worse on most metrics).

    ``promote`` is True only for ``PROMOTE``; ``reason`` is one sentence of your own saying why.

    Args:
        champion_metrics: the champion's metrics (at least the ``COMPARED_METRICS`` keys).
        challenger_metrics: the challenger's metrics (the same keys).
        test: McNemar's test on the two models' paired predictions.
        confidence: the confidence level, strictly between 0 and 1 (0.95: alpha = 0.05).

    Returns:
        A ``Recommendation(decision, promote, significant, improved, share_improved, reason)``
        with ``improved`` a tuple.

    Raises:
        ValueError: when ``confidence`` is not strictly between 0 and 1, or a compared metric
            is missing from either mapping.
    """
    raise NotImplementedError("Exercise 4.4: write recommend()")


# ----------------------------------------------------------------------------- 4.5
@with_tracking_uri
def validate_challenger(
    model_name: str,
    X_test: pd.DataFrame,
    y_test,
    *,
    champion_alias: str = "champion",
    challenger_alias: str = "challenger",
    champion_version: str | int | None = None,
    challenger_version: str | int | None = None,
    confidence: float = 0.95,
    auto_promote: bool = False,
    experiment_name: str | None = None,
    tracking_uri: str | None = None,
) -> ValidationResult:
    """Exercise 4.5: Validate the challenger, record it, and promote when allowed.

    The whole offline A/B comparison of two versions of the registered model ``model_name``,
    on the hold-out set ``X_test``, ``y_test`` (never the training data).

    * Which versions: the challenger is ``challenger_version`` when given, else the version
      carrying ``challenger_alias``; the champion likewise. When no version carries
      ``champion_alias`` (and no ``champion_version`` is given) there is no champion yet: the
      challenger is the first model (see below).
    * What is compared: the two versions' predictions on ``X_test``, each model loaded from the
      registry; their :func:`classification_metrics` (4.3); :func:`mcnemar_test` (4.2) with the
      champion first; :func:`recommend` (4.4) at ``confidence``.
    * The validation run, ONE per call, in the experiment ``experiment_name`` (default
      ``mlops_course.naming.experiment_name("validation")``):
        - params ``model_name``, ``champion_version`` (``"none"`` without a champion),
          ``challenger_version``, ``confidence``;
        - metrics ``champion_<m>`` and ``challenger_<m>`` for each ``m`` in
          ``COMPARED_METRICS``, ``mcnemar_b``, ``mcnemar_c``, ``mcnemar_statistic``,
          ``mcnemar_pvalue``, and ``promoted`` (1.0 or 0.0);
        - tags ``decision`` (the recommendation's) and ``promoted`` (``"true"``/``"false"``);
        - artifacts ``metrics_comparison.png`` and ``confusion_matrices.png`` (the given
          ``metrics_comparison_figure`` and ``confusion_matrices_figure`` draw them) and
          ``validation.json`` (the comparison; ``validation_tools.jsonable`` makes the
          metrics JSON-ready).
    * The version tags, on each version compared: ``validation_run_id``, ``validation_role``
      (``champion`` or ``challenger``), ``validation_decision`` and ``validation_pvalue`` (the
      p-value as a string, ``"none"`` without a champion).
    * The aliases move only when ``auto_promote`` AND the recommendation's ``promote`` are
      True: ``champion_alias`` then points at the challenger, ``previous_champion`` at the
      old champion (when there was one: rollback is one alias move), and ``challenger_alias``
      is removed when the challenger was found by it (it has won). Otherwise no alias moves.
    * Without a champion: no test and no ``champion_*`` or ``mcnemar_*`` metrics; the
      recommendation is ``Recommendation(PROMOTE, True, False, (), 1.0, <a sentence saying
      there was no champion yet>)`` and ``mcnemar`` is None.

    Args:
        model_name: the registered model.
        X_test: the hold-out features.
        y_test: the hold-out labels.
        champion_alias: the champion's alias (also the alias moved on promotion).
        challenger_alias: the challenger's alias.
        champion_version: compare this version instead of the champion alias's.
        challenger_version: compare this version instead of the challenger alias's.
        confidence: passed to ``recommend``.
        auto_promote: move the champion alias when the rules allow it.
        experiment_name: where the validation run goes.
        tracking_uri: the tracking server, or None to keep the current one.

    Returns:
        A ``ValidationResult`` (versions as strings; ``run_id`` of the validation run).

    Raises:
        ValueError: and then nothing is logged, tagged or moved, when no version is the
            challenger, the model or a given version does not exist, the champion and the
            challenger are the same version, ``X_test`` and ``y_test`` differ in length or are
            empty, or a model cannot score ``X_test`` (e.g. a missing column: say which
            version).
    """
    raise NotImplementedError("Exercise 4.5: write validate_challenger()")


# ----------------------------------------------------------------------------- 4.6
@with_tracking_uri
def promote_best_challenger(
    model_name: str,
    X_test: pd.DataFrame,
    y_test,
    candidates,
    *,
    champion_alias: str = "champion",
    confidence: float = 0.95,
    tracking_uri: str | None = None,
) -> str | None:
    """Exercise 4.6: Choose among several challengers (open exercise).

    Several candidate versions of ``model_name`` challenge the version carrying
    ``champion_alias``. At most one may replace it. How you get there is yours to decide (reuse
    your 4.2 to 4.5, or not); the grader looks only at the outcome:

    * a candidate is ELIGIBLE when the decision rules of 4.4, applied to it as the challenger
      of the current champion on ``X_test``, ``y_test`` at ``confidence``, say ``promote``;
    * the winner is the eligible candidate with the highest accuracy on ``X_test`` (a tie:
      the first in ``candidates``); no eligible candidate, no winner;
    * the registry afterwards: ``champion_alias`` on the winner and ``previous_champion`` on
      the old champion; with no winner, no alias moves;
    * the decision, recorded on EVERY candidate version as tags: ``promotion_decision``
      (``"promoted"`` or ``"rejected"``) and ``promotion_reason`` (a sentence of your own:
      why this one, or why not).

    Args:
        model_name: the registered model.
        X_test: the hold-out features.
        y_test: the hold-out labels.
        candidates: the candidate version numbers (``str`` or ``int``), at least one.
        champion_alias: the champion's alias.
        confidence: the confidence level of the rules (0.95: alpha = 0.05).
        tracking_uri: the tracking server, or None to keep the current one.

    Returns:
        The winner's version number as a string, or None when no candidate is eligible.

    Raises:
        ValueError: and then no tag or alias changes, when ``candidates`` is empty, a candidate
            does not exist or is the champion itself, no version carries ``champion_alias``
            (a first model goes through 4.5), or ``X_test`` and ``y_test`` differ in length.
    """
    raise NotImplementedError("Exercise 4.6: write promote_best_challenger()")
