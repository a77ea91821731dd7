"""Plausible mistakes in module 06 (solutions/capstone.py), each of which the graded tests of
tests/graded/test_capstone.py must catch."""

from mutantlib import Mutant

MUTANTS: list[Mutant] = [
    # 6.1 challenge
    Mutant(
        "6.1",
        "promotes whatever the validation says",
        "    if recommendation.promote:\n",
        "    if True:\n",
    ),
    Mutant(
        "6.1",
        "lets validate_challenger move the aliases (no promotion tags)",
        "        auto_promote=False,\n",
        "        auto_promote=True,\n",
    ),
    Mutant(
        "6.1",
        "promotes with a reason of its own, not the recommendation's",
        "alias=CHAMPION, reason=recommendation.reason)",
        'alias=CHAMPION, reason="validated")',
    ),
    # 6.2 train_to_production
    Mutant(
        "6.2",
        "registers the worst run",
        "    best = max(scores, key=lambda name: scores[name])",
        "    best = min(scores, key=lambda name: scores[name])",
    ),
    Mutant(
        "6.2",
        "forgets which candidate the version was",
        "registry.register_model_version(runs[best], model_name, tags={CANDIDATE_TAG: best})",
        "registry.register_model_version(runs[best], model_name)",
    ),
    Mutant(
        "6.2",
        "promotes the best run without challenging the champion",
        '    verdict = challenge(\n        model_name, version, X_test, y_test, experiment_name=experiment_name, confidence=confidence\n    )\n    return {\n        "runs"',
        '    target.load("registry").promote_to_alias(model_name, version)\n    verdict = {"decision": "promote", "promoted": True}\n    return {\n        "runs"',
    ),
    # 6.3 update_with_tuning
    Mutant(
        "6.3",
        "keeps the first combination instead of the best",
        "best_params = best_combination(param_grid, client.get_run(best_child).data.params)",
        "from sklearn.model_selection import ParameterGrid; "
        "best_params = next(iter(ParameterGrid(dict(param_grid))))",
    ),
    Mutant(
        "6.3",
        "fits the estimator it was given",
        "    tuned = clone(estimator).set_params(**best_params)",
        "    tuned = estimator.set_params(**best_params)",
    ),
    Mutant(
        "6.3",
        "records the reason only when the challenger wins",
        '    client.set_model_version_tag(model_name, version, UPDATE_REASON_TAG, verdict["reason"])',
        '    if verdict["promoted"]:\n        client.set_model_version_tag(model_name, version, UPDATE_REASON_TAG, verdict["reason"])',
    ),
    # 6.4 score_day
    Mutant(
        "6.4",
        "tracks every column of the file, the id too",
        "    X = pd.read_csv(input_csv)[columns]",
        "    X = pd.read_csv(input_csv)",
    ),
    Mutant(
        "6.4",
        "tracks the champion, not the version that predicted",
        "    model = mlflow.sklearn.load_model(versioned_uri)",
        '    model = mlflow.sklearn.load_model(f"models:/{model_name}@champion")',
    ),
    Mutant(
        "6.4",
        "drops the labels",
        "model, X, day=day, experiment_name=experiment_name, y_true=y_true",
        "model, X, day=day, experiment_name=experiment_name, y_true=None",
    ),
    Mutant(
        "6.4",
        "does not say which version predicted",
        "    MlflowClient().set_tag(run_id, SERVED_VERSION_TAG, version)\n",
        "",
    ),
    # 6.5 rollback_if_degraded
    Mutant(
        "6.5",
        "counts the days without labels",
        'report["history"][metric].dropna().tolist()',
        'report["history"][metric].fillna(0).tolist()',
    ),
    Mutant(
        "6.5",
        "rolls back on any drop",
        '    if not verdict["degraded"]:',
        '    if verdict["relative_drop"] <= 0:',
    ),
    Mutant(
        "6.5",
        "asks for a verdict with too few days",
        "    if len(history) < 2 * window:",
        "    if not history:",
    ),
    Mutant(
        "6.5",
        "gives no reason worth reading",
        "    restored = registry.rollback(model_name, alias=alias, reason=reason)",
        '    restored = registry.rollback(model_name, alias=alias, reason="degraded")',
    ),
]
