"""Plausible mistakes in module 05 (solutions/monitoring.py)."""

from mutantlib import Mutant

MUTANTS: list[Mutant] = [
    # 5.1 psi
    Mutant(
        "5.1",
        "takes the bin edges from the reference alone",
        'np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")',
        'np.histogram_bin_edges(ref, bins="sturges")',
    ),
    Mutant(
        "5.1",
        "divides the current counts by the reference's size",
        "(cur_counts, len(cur))]",
        "(cur_counts, len(ref))]",
    ),
    Mutant(
        "5.1",
        "always fills an empty bin with 1e-4",
        "smallest / 1e6 if smallest <= 1e-4 else 1e-4",
        "1e-4",
    ),
    Mutant(
        "5.1",
        "bins a column with exactly 20 distinct values",
        "more_distinct_than(ref, 20)",
        "more_distinct_than(ref, 19)",
    ),
    Mutant(
        "5.1",
        "uses numpy's default 10 bins",
        'np.concatenate([ref, cur]), bins="sturges"',
        "np.concatenate([ref, cur]), bins=10",
    ),
    Mutant(
        "5.1",
        "keeps NaN and infinities",
        "finite_sample(reference), finite_sample(current)",
        "(pd.Series(reference).to_numpy(), True), (pd.Series(current).to_numpy(), True)",
    ),
    # 5.2 drift_report
    Mutant(
        "5.2",
        "calls 1,000 reference rows large",
        "small = len(reference_df) <= 1000",
        "small = len(reference_df) < 1000",
    ),
    Mutant(
        "5.2",
        "divides the Wasserstein distance by the sample std (ddof=1)",
        "max(float(np.std(ref)), 0.001)",
        "max(float(np.std(ref, ddof=1)), 0.001)",
    ),
    Mutant(
        "5.2",
        "ignores the categorical argument",
        "numeric = ref_numeric and cur_numeric and column not in categorical",
        "numeric = ref_numeric and cur_numeric",
    ),
    Mutant(
        "5.2",
        "calls exactly half the columns no dataset drift",
        'report.attrs["dataset_drift"] = bool(len(report) and share >= 0.5)',
        'report.attrs["dataset_drift"] = bool(len(report) and share > 0.5)',
    ),
    Mutant(
        "5.2",
        "the z-test without the pooled share",
        "z = (p_ref - p_cur) / np.sqrt(pooled * (1 - pooled) * (1 / n_ref + 1 / n_cur))",
        "z = (p_ref - p_cur) / np.sqrt(p_ref * (1 - p_ref) / n_ref + p_cur * (1 - p_cur) / n_cur)",
    ),
    Mutant(
        "5.2",
        "forgets to drop missing values",
        "finite_sample(reference_df[column]),\n            finite_sample(current_df[column]),",
        "(reference_df[column].to_numpy(), True),\n            (current_df[column].to_numpy(), True),",
    ),
    Mutant(
        "5.2",
        "the one-sided z-test p-value",
        'method, score = "z", 2 * (1 - stats.norm.cdf(abs(z)))',
        'method, score = "z", 1 - stats.norm.cdf(abs(z))',
    ),
    # 5.3 degradation
    Mutant(
        "5.3",
        "a drop exactly at the threshold is not degradation",
        '"degraded": bool(relative_drop >= threshold)',
        '"degraded": bool(relative_drop > threshold)',
    ),
    Mutant(
        "5.3",
        "the preceding window is one day too early",
        '"preceding": values[-2 * window : -window]',
        '"preceding": values[-2 * window - 1 : -window - 1]',
    ),
    Mutant(
        "5.3",
        "asks 'all' for two windows of data",
        'needed = window + 1 if baseline == "all" else 2 * window',
        "needed = 2 * window",
    ),
    Mutant(
        "5.3",
        "divides the drop by the recent mean",
        "relative_drop = absolute_drop / baseline_mean if baseline_mean else math.inf",
        "relative_drop = absolute_drop / recent_mean if recent_mean else math.inf",
    ),
    # 5.4 track_batch
    Mutant(
        "5.4",
        "creates a new run every call",
        "filter_string=f\"tags.`{DAY_TAG}` = '{day}'\", max_results=1\n    )",
        "filter_string=f\"tags.`{DAY_TAG}` = '{day}'\", max_results=1\n    )[:0]",
    ),
    Mutant(
        "5.4",
        "population std (ddof=0) for the features",
        'metrics[f"{column}_std"] = float(values.std())',
        'metrics[f"{column}_std"] = float(values.std(ddof=0))',
    ),
    Mutant(
        "5.4",
        "logs every metric at step 0",
        "Metric(k, v, now, day)",
        "Metric(k, v, now, 0)",
    ),
    Mutant(
        "5.4",
        "binary F1 instead of macro",
        'f1_score(y_true, y_pred, average="macro")',
        "f1_score(y_true, y_pred)",
    ),
    Mutant(
        "5.4",
        "logs the summary again when the labels arrive",
        "    metrics = {}\n    if not existing:\n",
        "    metrics = {}\n    if True:\n",
    ),
    Mutant(
        "5.4",
        "leaves the run running",
        "        client.set_terminated(run_id)\n",
        "",
    ),
    # 5.5 monitoring_report
    Mutant(
        "5.5",
        "keeps the first days instead of the latest",
        '.tail(days).rename_axis("day")',
        '.head(days).rename_axis("day")',
    ),
    Mutant(
        "5.5",
        "a missing metric counts as 0",
        "run.data.metrics.get(m, np.nan)",
        "run.data.metrics.get(m, 0.0)",
    ),
    Mutant(
        "5.5",
        "population std (ddof=0) in the summary",
        'summary = history.agg(["mean", "std", "min", "max"]).T',
        'summary = history.agg(["mean", lambda c: c.std(ddof=0), "min", "max"]).T\n'
        '    summary.columns = ["mean", "std", "min", "max"]',
    ),
    Mutant(
        "5.5",
        "returns an empty report for an unknown experiment",
        '    if experiment is None:\n        raise ValueError(\n            f"There is no',
        "    if experiment is None:\n        return {}\n        raise ValueError(\n"
        '            f"There is no',
    ),
    # 5.6 recommend_retraining
    Mutant(
        "5.6",
        "ignores how big the drop is (counts signals only)",
        "if degraded and (drifted or severe):",
        "if degraded and drifted:",
    ),
    Mutant(
        "5.6",
        "exactly half the features drifting is not drift",
        "drifted = bool(flags.mean() >= drift_share)",
        "drifted = bool(flags.mean() > drift_share)",
    ),
    Mutant(
        "5.6",
        "retrains on low urgency too",
        '"retrain": urgency in ("high", "medium")',
        '"retrain": urgency != "none"',
    ),
    Mutant(
        "5.6",
        "names every feature, not the drifting ones",
        'names = ", ".join(drift_table.loc[flags, "column"].astype(str))',
        'names = ", ".join(drift_table["column"].astype(str))',
    ),
    Mutant(
        "5.6",
        "a severe drop is urgent even when not degraded",
        'severe = degraded and degradation_result["relative_drop"] >= severe_drop',
        'severe = bool(degradation_result) and degradation_result["relative_drop"] >= severe_drop\n'
        "    degraded = degraded or severe",
    ),
    # 5.7 fit_drift_alarm (open)
    Mutant(
        "5.7",
        "uses the textbook PSI threshold 0.25",
        "threshold = 1.25 * max(worst_psi(batch) for batch in quiet_batches)",
        "threshold = 0.25",
    ),
    Mutant(
        "5.7",
        "sets the threshold at the quiet days' mean",
        "threshold = 1.25 * max(worst_psi(batch) for batch in quiet_batches)",
        "threshold = float(np.mean([worst_psi(batch) for batch in quiet_batches]))",
    ),
    Mutant(
        "5.7",
        "no margin above the loudest quiet day",
        "threshold = 1.25 * max(worst_psi(batch) for batch in quiet_batches)",
        "threshold = max(worst_psi(batch) for batch in quiet_batches)",
    ),
    Mutant(
        "5.7",
        "watches one column only",
        "return max(psi(reference[column], batch[column]) for column in reference.columns)",
        'return psi(reference["age"], batch["age"])',
    ),
]
