"""Plausible mistakes in module 04 (solutions/validation.py)."""

from mutantlib import Mutant

MUTANTS: list[Mutant] = [
    # 4.1 McNemar from counts
    Mutant(
        "4.1",
        "uses the exact test up to 25 discordant pairs included",
        "use_exact = n < EXACT_BELOW if exact is None",
        "use_exact = n <= EXACT_BELOW if exact is None",
    ),
    Mutant(
        "4.1",
        "forgets the continuity correction",
        "(abs(float(b) - float(c)) - 1.0) ** 2",
        "(abs(float(b) - float(c))) ** 2",
    ),
    Mutant(
        "4.1",
        "gives the one-sided exact p-value",
        "pvalue = min(1.0, 2.0 * float(stats.binom.cdf(min(b, c), n, 0.5)))",
        "pvalue = min(1.0, float(stats.binom.cdf(min(b, c), n, 0.5)))",
    ),
    Mutant(
        "4.1",
        "does not cap the exact p-value at 1",
        "pvalue = min(1.0, 2.0 * float(stats.binom.cdf(min(b, c), n, 0.5)))",
        "pvalue = 2.0 * float(stats.binom.cdf(min(b, c), n, 0.5))",
    ),
    Mutant(
        "4.1",
        "accepts negative counts",
        "        if value < 0:\n",
        "        if False:\n",
    ),
    # 4.2 McNemar on paired predictions
    Mutant(
        "4.2",
        "swaps b and c",
        "b = int(np.count_nonzero(champion_right & ~challenger_right))",
        "b = int(np.count_nonzero(~champion_right & challenger_right))",
    ),
    Mutant(
        "4.2",
        "compares the challenger with the champion instead of the truth",
        "challenger_right = challenger_pred == y_true",
        "challenger_right = challenger_pred == champion_pred",
    ),
    Mutant(
        "4.2",
        "drops the caller's exact",
        "    return mcnemar_from_counts(b, c, exact=exact)\n    # END SOLUTION",
        "    return mcnemar_from_counts(b, c)\n    # END SOLUTION",
    ),
    # 4.3 classification metrics
    Mutant(
        "4.3",
        "divides precision by the support",
        '"precision": ratio(tp, predicted),',
        '"precision": ratio(tp, support),',
    ),
    Mutant(
        "4.3",
        "weighted averages are plain means",
        "float((values * support).sum() / total) if total else 0.0",
        "float(values.mean())",
    ),
    Mutant(
        "4.3",
        "accuracy over the rows of the explicit labels only",
        "accuracy = np.count_nonzero(y_true == y_pred) / y_true.size",
        "accuracy = tp.sum() / y_true.size",
    ),
    Mutant(
        "4.3",
        "support counted inside the confusion matrix with explicit labels",
        "support = np.bincount(true_code[true_found], minlength=k)",
        "support = cm.sum(axis=1)",
    ),
    # 4.4 decision rules
    Mutant(
        "4.4",
        "calls p == alpha significant",
        "significant = bool(test.pvalue < alpha)",
        "significant = bool(test.pvalue <= alpha)",
    ),
    Mutant(
        "4.4",
        "counts ties as improvements",
        "if challenger_metrics[m] > champion_metrics[m])",
        "if challenger_metrics[m] >= champion_metrics[m])",
    ),
    Mutant(
        "4.4",
        "forgets who is right more often (rule 2)",
        "    elif test.c < test.b:\n",
        "    elif False:\n",
    ),
    Mutant(
        "4.4",
        "promote is True for conditional_promote too",
        "decision == PROMOTE, significant, improved, share, reason",
        "decision in (PROMOTE, CONDITIONAL_PROMOTE), significant, improved, share, reason",
    ),
    # 4.5 validate the challenger
    Mutant(
        "4.5",
        "promotes without auto_promote",
        "promote = bool(auto_promote and recommendation.promote)",
        "promote = bool(recommendation.promote)",
    ),
    Mutant(
        "4.5",
        "puts the challenger first in the paired test",
        "test = mcnemar_test(y_true, champion_pred, challenger_pred)",
        "test = mcnemar_test(y_true, challenger_pred, champion_pred)",
    ),
    Mutant(
        "4.5",
        "forgets previous_champion",
        'client.set_registered_model_alias(model_name, "previous_champion", champion.version)',
        "pass",
    ),
    Mutant(
        "4.5",
        "tags only the challenger",
        'roles = [("challenger", challenger), ("champion", champion)]',
        'roles = [("challenger", challenger)]',
    ),
    Mutant(
        "4.5",
        "keeps @challenger on the winner",
        "            client.delete_registered_model_alias(model_name, challenger_alias)\n",
        "            pass\n",
    ),
    # 4.6 the open exercise: choose among several challengers
    Mutant(
        "4.6",
        "promotes the first eligible candidate, not the most accurate",
        "winner = max(eligible, key=lambda v: accuracy[v], default=None)",
        "winner = eligible[0] if eligible else None",
    ),
    Mutant(
        "4.6",
        "promotes the most accurate candidate that beats the champion's accuracy, without the test",
        "eligible = [v for v in versions if advice[v].promote]",
        'eligible = [v for v in versions if accuracy[v] > champion_metrics["accuracy"]]',
    ),
    Mutant(
        "4.6",
        "forgets previous_champion",
        'client.set_registered_model_alias(model_name, "previous_champion", champion)',
        "pass",
    ),
    Mutant(
        "4.6",
        "records the decision on the winner only",
        "        client.set_model_version_tag(model_name, version, "
        '"promotion_decision", decision)\n',
        "        if version == winner:\n            client.set_model_version_tag(model_name, version, "
        '"promotion_decision", decision)\n',
    ),
    Mutant(
        "4.6",
        "lets the champion challenge itself",
        "    if champion in versions:\n",
        "    if False:\n",
    ),
]
