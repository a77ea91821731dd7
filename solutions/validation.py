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
    # BEGIN SOLUTION
    counts = []
    for name, value in (("b", b), ("c", c)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ValueError(f"{name} must be a whole number, got {value!r}.")
        if value < 0:
            raise ValueError(f"{name} must not be negative, got {value}.")
        counts.append(int(value))
    b, c = counts
    n = b + c
    use_exact = n < EXACT_BELOW if exact is None else bool(exact)
    if n == 0:
        return McNemarResult(b, c, 0.0, 1.0, use_exact)
    if use_exact:
        statistic = float(min(b, c))
        pvalue = min(1.0, 2.0 * float(stats.binom.cdf(min(b, c), n, 0.5)))
    else:
        statistic = (abs(float(b) - float(c)) - 1.0) ** 2 / float(n)
        pvalue = float(stats.chi2.sf(statistic, 1))
    return McNemarResult(b, c, statistic, pvalue, use_exact)
    # END SOLUTION


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
    # BEGIN SOLUTION
    y_true, champion_pred, challenger_pred = check_labels(
        y_true=y_true, champion_pred=champion_pred, challenger_pred=challenger_pred
    )
    champion_right = champion_pred == y_true
    challenger_right = challenger_pred == y_true
    b = int(np.count_nonzero(champion_right & ~challenger_right))
    c = int(np.count_nonzero(~champion_right & challenger_right))
    return mcnemar_from_counts(b, c, exact=exact)
    # END SOLUTION


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
    # BEGIN SOLUTION
    y_true, y_pred = check_labels(y_true=y_true, y_pred=y_pred)
    if labels is None:
        # One hash-based pass over both arrays (np.unique would sort a million objects).
        codes, classes = pd.factorize(
            np.concatenate([y_true, y_pred]), sort=True, use_na_sentinel=False
        )
        classes = np.asarray(classes)
        true_code, pred_code = codes[: y_true.size], codes[y_true.size :]
        true_found = pred_found = None
    else:
        classes = np.asarray(labels)
        if classes.ndim != 1 or classes.size == 0 or np.unique(classes).size != classes.size:
            raise ValueError(f"labels must be a non-empty list without repeats, got {labels!r}.")
        order = np.argsort(classes, kind="stable")
        ordered = classes[order]

        def encode(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            position = np.clip(np.searchsorted(ordered, values), 0, classes.size - 1)
            return order[position], ordered[position] == values

        (true_code, true_found), (pred_code, pred_found) = encode(y_true), encode(y_pred)

    k = classes.size
    both = None if true_found is None else true_found & pred_found
    pairs = true_code * k + pred_code
    cm = np.bincount(pairs if both is None else pairs[both], minlength=k * k).reshape(k, k)
    tp = np.diag(cm).astype(float)
    if true_found is None:
        support, predicted = cm.sum(axis=1), cm.sum(axis=0)
        accuracy = tp.sum() / y_true.size
    else:
        support = np.bincount(true_code[true_found], minlength=k)
        predicted = np.bincount(pred_code[pred_found], minlength=k)
        accuracy = np.count_nonzero(y_true == y_pred) / y_true.size

    def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        return np.divide(num, den, out=np.zeros(k), where=den > 0)

    per_metric = {
        "precision": ratio(tp, predicted),
        "recall": ratio(tp, support),
        "f1": ratio(2 * tp, support + predicted),
    }
    total = support.sum()
    result = {"accuracy": float(accuracy)}
    for name, values in per_metric.items():
        result[f"{name}_macro"] = float(values.mean())
    for name, values in per_metric.items():
        result[f"{name}_weighted"] = float((values * support).sum() / total) if total else 0.0
    names = classes.tolist()
    result["labels"] = names
    result["per_class"] = {
        label: {
            "precision": float(per_metric["precision"][i]),
            "recall": float(per_metric["recall"][i]),
            "f1": float(per_metric["f1"][i]),
            "support": int(support[i]),
        }
        for i, label in enumerate(names)
    }
    result["confusion_matrix"] = pd.DataFrame(cm, index=names, columns=names)
    return result
    # END SOLUTION


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
    # BEGIN SOLUTION
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence}.")
    missing = [
        m for m in COMPARED_METRICS if m not in champion_metrics or m not in challenger_metrics
    ]
    if missing:
        raise ValueError(f"Metrics missing from the comparison: {missing}.")
    alpha = 1 - confidence
    significant = bool(test.pvalue < alpha)
    improved = tuple(m for m in COMPARED_METRICS if challenger_metrics[m] > champion_metrics[m])
    share = len(improved) / len(COMPARED_METRICS)
    summary = f"p = {test.pvalue:.4g} (alpha {alpha:.3g}), b = {test.b}, c = {test.c}"
    improved_text = f"{len(improved)}/{len(COMPARED_METRICS)} metrics improved"
    if not significant:
        decision, reason = (
            INSUFFICIENT_EVIDENCE,
            f"The difference is not significant ({summary}): it may be luck.",
        )
    elif test.c < test.b:
        decision, reason = (
            KEEP_CHAMPION,
            f"The champion is right significantly more often ({summary}).",
        )
    elif share >= 0.75:
        decision, reason = (
            PROMOTE,
            f"The challenger is significantly better ({summary}); {improved_text}.",
        )
    elif share >= 0.5:
        decision, reason = (
            CONDITIONAL_PROMOTE,
            f"The challenger is significantly more often right ({summary}) but only "
            f"{improved_text}: a human should decide.",
        )
    else:
        decision, reason = (
            KEEP_CHAMPION,
            f"The challenger is more often right ({summary}) but only {improved_text}.",
        )
    return Recommendation(decision, decision == PROMOTE, significant, improved, share, reason)
    # END SOLUTION


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
    # BEGIN SOLUTION
    from mlops_course import naming

    def version_by(client: MlflowClient, *, version=None, alias=None):
        """The model version, or None when the alias is not set. Unknown model or version:
        a ValueError."""
        try:
            if version is not None:
                return client.get_model_version(model_name, str(version))
            return client.get_model_version_by_alias(model_name, alias)
        except MlflowException as exc:
            if version is None and exc.error_code == "INVALID_PARAMETER_VALUE":
                return None  # the model exists but no version carries the alias
            what = f"version {version}" if version is not None else f"alias @{alias}"
            raise ValueError(
                f"Model {model_name!r} has no {what} ({exc.error_code}). List what exists with "
                "`mlops-course registry list` or in the MLflow UI."
            ) from exc

    def predict(version: str) -> np.ndarray:
        with tempfile.TemporaryDirectory(prefix="mlops-validate-") as folder:
            model = mlflow.pyfunc.load_model(f"models:/{model_name}/{version}", dst_path=folder)
            try:
                predictions = model.predict(X_test)
            except Exception as exc:
                # A schema error prints the whole DataFrame first; keep what follows "Error: ".
                text = str(exc).strip() or type(exc).__name__
                why = " ".join(text.rsplit("Error: ", 1)[-1].split())[:300]
                raise ValueError(
                    f"{model_name} version {version} cannot score the test data: {why}"
                ) from exc
        return np.asarray(predictions).reshape(len(X_test), -1)[:, 0]

    client = MlflowClient()
    challenger = version_by(client, version=challenger_version, alias=challenger_alias)
    if challenger is None:
        raise ValueError(
            f"No version of {model_name!r} has the alias @{challenger_alias}. Set it with "
            f"MlflowClient().set_registered_model_alias({model_name!r}, {challenger_alias!r}, "
            "version), or pass challenger_version."
        )
    champion = version_by(client, version=champion_version, alias=champion_alias)
    if champion is not None and champion.version == challenger.version:
        raise ValueError(
            f"Version {challenger.version} is both champion and challenger: nothing to compare."
        )
    if len(X_test) != len(y_test):
        raise ValueError(f"X_test has {len(X_test)} rows but y_test {len(y_test)}.")
    if len(X_test) == 0:
        raise ValueError("The test set is empty.")

    y_true = as_labels("y_test", y_test)
    challenger_pred = predict(challenger.version)
    challenger_metrics = classification_metrics(y_true, challenger_pred)
    if champion is None:
        champion_metrics = test = None
        recommendation = Recommendation(
            PROMOTE,
            True,
            False,
            (),
            1.0,
            f"No champion yet: version {challenger.version} is the first model, "
            "promote it (validated on the hold-out set, not compared).",
        )
    else:
        champion_pred = predict(champion.version)
        champion_metrics = classification_metrics(y_true, champion_pred)
        test = mcnemar_test(y_true, champion_pred, challenger_pred)
        recommendation = recommend(
            champion_metrics, challenger_metrics, test, confidence=confidence
        )
    promote = bool(auto_promote and recommendation.promote)

    mlflow.set_experiment(experiment_name or naming.experiment_name("validation"))
    champion_v = champion.version if champion is not None else "none"
    run_name = f"validate-v{challenger.version}-vs-{champion_v}"
    with mlflow.start_run(run_name=run_name) as run:
        mlflow.log_params(
            {
                "model_name": model_name,
                "champion_version": champion_v,
                "challenger_version": challenger.version,
                "confidence": confidence,
            }
        )
        metrics = {f"challenger_{m}": challenger_metrics[m] for m in COMPARED_METRICS}
        if champion is not None:
            metrics.update({f"champion_{m}": champion_metrics[m] for m in COMPARED_METRICS})
            metrics.update(
                {
                    "mcnemar_b": test.b,
                    "mcnemar_c": test.c,
                    "mcnemar_statistic": test.statistic,
                    "mcnemar_pvalue": test.pvalue,
                }
            )
        metrics["promoted"] = float(promote)
        mlflow.log_metrics(metrics)
        mlflow.set_tags({"decision": recommendation.decision, "promoted": str(promote).lower()})
        title = f"{model_name}: v{challenger.version} (challenger) vs {champion_v} (champion)"
        mlflow.log_figure(
            metrics_comparison_figure(champion_metrics, challenger_metrics, title=title),
            "metrics_comparison.png",
        )
        mlflow.log_figure(
            confusion_matrices_figure(champion_metrics, challenger_metrics, title=title),
            "confusion_matrices.png",
        )
        mlflow.log_dict(
            jsonable(
                {
                    "model_name": model_name,
                    "champion_version": champion_v,
                    "challenger_version": challenger.version,
                    "champion_metrics": champion_metrics,
                    "challenger_metrics": challenger_metrics,
                    "mcnemar": asdict(test) if test is not None else None,
                    "recommendation": asdict(recommendation),
                    "promoted": promote,
                }
            ),
            "validation.json",
        )

    pvalue = str(test.pvalue) if test is not None else "none"
    roles = [("challenger", challenger), ("champion", champion)]
    for role, version in roles:
        if version is None:
            continue
        for key, value in {
            "validation_run_id": run.info.run_id,
            "validation_role": role,
            "validation_decision": recommendation.decision,
            "validation_pvalue": pvalue,
        }.items():
            client.set_model_version_tag(model_name, version.version, key, value)

    if promote:
        client.set_registered_model_alias(model_name, champion_alias, challenger.version)
        if champion is not None:
            client.set_registered_model_alias(model_name, "previous_champion", champion.version)
        if challenger_version is None:
            client.delete_registered_model_alias(model_name, challenger_alias)

    return ValidationResult(
        model_name=model_name,
        champion_version=champion.version if champion is not None else None,
        challenger_version=challenger.version,
        champion_metrics=champion_metrics,
        challenger_metrics=challenger_metrics,
        mcnemar=test,
        recommendation=recommendation,
        promoted=promote,
        run_id=run.info.run_id,
    )
    # END SOLUTION


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
    # BEGIN SOLUTION
    client = MlflowClient()
    versions = [str(v) for v in candidates]
    if not versions:
        raise ValueError("No candidate to choose from: pass at least one version.")
    try:
        champion = client.get_model_version_by_alias(model_name, champion_alias).version
        for version in versions:
            client.get_model_version(model_name, version)
    except MlflowException as exc:
        raise ValueError(f"{model_name!r}: {exc.message}") from exc
    if champion in versions:
        raise ValueError(f"Version {champion} is the champion: it cannot challenge itself.")
    if len(X_test) != len(y_test):
        raise ValueError(f"X_test has {len(X_test)} rows but y_test {len(y_test)}.")
    y_true = as_labels("y_test", y_test)

    def predict(version: str) -> np.ndarray:
        with tempfile.TemporaryDirectory(prefix="mlops-policy-") as folder:
            model = mlflow.pyfunc.load_model(f"models:/{model_name}/{version}", dst_path=folder)
            return np.asarray(model.predict(X_test)).reshape(len(X_test), -1)[:, 0]

    champion_pred = predict(champion)
    champion_metrics = classification_metrics(y_true, champion_pred)
    advice, accuracy = {}, {}
    for version in versions:
        pred = predict(version)
        metrics = classification_metrics(y_true, pred)
        test = mcnemar_test(y_true, champion_pred, pred)
        advice[version] = recommend(champion_metrics, metrics, test, confidence=confidence)
        accuracy[version] = metrics["accuracy"]

    eligible = [v for v in versions if advice[v].promote]
    winner = max(eligible, key=lambda v: accuracy[v], default=None)
    for version in versions:
        if version == winner:
            decision = "promoted"
            reason = (
                f"Most accurate of the {len(eligible)} eligible candidate(s) "
                f"({accuracy[version]:.4f}); against champion v{champion}: "
                f"{advice[version].reason}"
            )
        else:
            decision = "rejected"
            reason = (
                f"Eligible, but version {winner} is more accurate."
                if advice[version].promote
                else f"Against champion v{champion}: {advice[version].reason}"
            )
        client.set_model_version_tag(model_name, version, "promotion_decision", decision)
        client.set_model_version_tag(model_name, version, "promotion_reason", reason)
    if winner is not None:
        client.set_registered_model_alias(model_name, champion_alias, winner)
        client.set_registered_model_alias(model_name, "previous_champion", champion)
    return winner
    # END SOLUTION
