"""Plausible mistakes in module 02 (solutions/registry.py), each of which the graded tests of
tests/graded/test_registry.py must catch."""

from mutantlib import Mutant

MUTANTS: list[Mutant] = [
    # 2.1 register_model_version
    Mutant(
        "2.1",
        "registers without checking that the run logged that model",
        "    if not logged:\n",
        "    if False:\n",
    ),
    Mutant(
        "2.1",
        "lets MLflow's error through for an unknown run",
        'raise ValueError(f"There is no run with id {run_id!r}.") from exc',
        "raise",
    ),
    Mutant(
        "2.1",
        "forgets the version's tags",
        "model_name, tags=tags or None\n",
        "model_name\n",
    ),
    Mutant(
        "2.1",
        "describes the registered model instead of the version",
        "client.update_model_version(model_name, model_version.version, description=description)",
        "client.update_registered_model(model_name, description=description)",
    ),
    Mutant(
        "2.1",
        "returns the version as an int",
        "    return str(model_version.version)\n    # END SOLUTION\n\n\n@with_tracking_uri\ndef promote_to_alias",
        "    return int(model_version.version)\n    # END SOLUTION\n\n\n@with_tracking_uri\ndef promote_to_alias",
    ),
    # 2.2 promote_to_alias
    Mutant(
        "2.2",
        "writes the tags before moving the alias",
        "    client.set_registered_model_alias(model_name, alias, version)\n    tags = {\n"
        "        PROMOTED_BY: promoted_by or naming.student(),\n"
        "        PROMOTION_REASON: reason,\n"
        "        PREVIOUS_VERSION: previous or NO_PREVIOUS,\n    }\n"
        "    for key, value in tags.items():\n"
        "        client.set_model_version_tag(model_name, version, key, value)\n",
        "    tags = {\n"
        "        PROMOTED_BY: promoted_by or naming.student(),\n"
        "        PROMOTION_REASON: reason,\n"
        "        PREVIOUS_VERSION: previous or NO_PREVIOUS,\n    }\n"
        "    for key, value in tags.items():\n"
        "        client.set_model_version_tag(model_name, version, key, value)\n"
        "    client.set_registered_model_alias(model_name, alias, version)\n",
    ),
    Mutant(
        "2.2",
        "re-promotes a version that already holds the alias (overwrites previous_version)",
        "    if previous == version:\n        return previous\n",
        "",
    ),
    Mutant(
        "2.2",
        "always moves champion, whatever the alias",
        "client.set_registered_model_alias(model_name, alias, version)",
        'client.set_registered_model_alias(model_name, "champion", version)',
    ),
    Mutant(
        "2.2",
        "records the new version as previous_version",
        "PREVIOUS_VERSION: previous or NO_PREVIOUS,",
        "PREVIOUS_VERSION: version,",
    ),
    Mutant(
        "2.2",
        "leaves promoted_by empty when nobody is named",
        "PROMOTED_BY: promoted_by or naming.student(),",
        'PROMOTED_BY: promoted_by or "",',
    ),
    Mutant(
        "2.2",
        "does not check that the version exists",
        "        version = str(client.get_model_version(model_name, str(version)).version)\n"
        "    except MlflowException as exc:\n"
        '        raise ValueError(f"Registered model {model_name!r} has no version {version}.")'
        " from exc\n",
        "        version = str(version)\n    except MlflowException as exc:\n        raise\n",
    ),
    # 2.3 auto_promote
    Mutant(
        "2.3",
        "a value equal to the threshold fails it (> for >=)",
        "return a > b if strict else a >= b",
        "return a > b",
    ),
    Mutant(
        "2.3",
        "a tie beats the champion (>= for >)",
        "if not better(value, best, strict=True):",
        "if not better(value, best, strict=False):",
    ),
    Mutant(
        "2.3",
        "ignores greater_is_better for the threshold",
        "if not better(value, threshold, strict=False):",
        "if not value >= threshold:",
    ),
    Mutant(
        "2.3",
        "only checks the threshold, never the champion",
        "        if best is not None:\n",
        "        if False:\n",
    ),
    Mutant(
        "2.3",
        "a missing metric is a quiet False instead of an error",
        "    if value is None:\n        raise ValueError(\n"
        '            f"The run of version {candidate.version} of {model_name!r} did not log'
        ' {metric!r}."\n        )\n',
        "    if value is None:\n        return False\n",
    ),
    Mutant(
        "2.3",
        "moves the alias without recording the promotion",
        "    promote_to_alias(\n"
        "        model_name, candidate.version, alias=alias, promoted_by=promoted_by, reason=reason\n"
        "    )\n",
        "    client.set_registered_model_alias(model_name, alias, str(candidate.version))\n",
    ),
    # 2.4 compare_versions
    Mutant(
        "2.4",
        "lists the metrics in the order first seen, not sorted",
        "everything = sorted({name for values in logged.values() for name in values})",
        "everything = list(dict.fromkeys(n for values in logged.values() for n in values))",
    ),
    Mutant(
        "2.4",
        "fills a metric a run did not log with 0",
        "values.get(m, math.nan)",
        "values.get(m, 0.0)",
    ),
    Mutant(
        "2.4",
        "labels the columns with int versions",
        "logged[str(model_version.version)] = dict(run_metrics)",
        "logged[int(model_version.version)] = dict(run_metrics)",
    ),
    Mutant(
        "2.4",
        "ignores the metrics asked for",
        "    if metrics is None:\n        metrics = everything\n",
        "    metrics = everything\n",
    ),
    Mutant(
        "2.4",
        "forgets to name the index",
        'index=pd.Index(list(metrics), name="metric"),',
        "index=pd.Index(list(metrics)),",
    ),
    Mutant(
        "2.4",
        "a metric no run logged becomes a row of NaN instead of an error",
        "    if missing:\n",
        "    if False:\n",
    ),
    # 2.5 rollback
    Mutant(
        "2.5",
        "tags the target instead of the demoted version",
        "        model_name, current, ROLLED_BACK_BY, rolled_back_by or naming.student()\n",
        "        model_name, target, ROLLED_BACK_BY, rolled_back_by or naming.student()\n",
    ),
    Mutant(
        "2.5",
        "ignores to_version",
        "    if to_version is None:\n        previous =",
        "    if True:\n        previous =",
    ),
    Mutant(
        "2.5",
        "returns the demoted version",
        "    client.set_model_version_tag(model_name, current, ROLLBACK_REASON, reason)\n"
        "    return target\n",
        "    client.set_model_version_tag(model_name, current, ROLLBACK_REASON, reason)\n"
        "    return current\n",
    ),
    Mutant(
        "2.5",
        "moves the alias to a deleted version (MLflow's error, not ValueError)",
        "        target = str(client.get_model_version(model_name, str(to_version)).version)\n",
        "        target = str(to_version)\n",
    ),
    Mutant(
        "2.5",
        "always rolls back champion, whatever the alias",
        "client.set_registered_model_alias(model_name, alias, target)",
        'client.set_registered_model_alias(model_name, "champion", target)',
    ),
    # 2.6 find_versions
    Mutant(
        "2.6",
        "puts every value between single quotes (a value with ' breaks the filter)",
        '        if "\'" not in text:\n',
        "        if True:\n",
    ),
    Mutant(
        "2.6",
        "sorts the versions as text ('10' before '2')",
        "return sorted((str(v.version) for v in matching), key=int)",
        "return sorted(str(v.version) for v in matching)",
    ),
    Mutant(
        "2.6",
        "forgets the model's name in the filter",
        'clauses = [f"name = {name}"] if name else []',
        "clauses = []",
    ),
    Mutant(
        "2.6",
        "keeps only the first tag asked for",
        '    for key, value in tags.items():\n        if "`" in key',
        '    for key, value in list(tags.items())[:1]:\n        if "`" in key',
    ),
    # 2.7 set_up_flowers_champion (open)
    Mutant(
        "2.7",
        "crowns the version with the lowest held-out score (sorted the wrong way)",
        "best, fallback = ranked[-1], ranked[0]",
        "best, fallback = ranked[0], ranked[-1]",
    ),
    Mutant(
        "2.7",
        "sets the alias by hand: no record of a previous champion",
        '        promote_to_alias(model_name, fallback, reason="fallback: the rollback target")\n'
        '        promote_to_alias(model_name, best, reason=f"best held-out accuracy'
        ' {held_out[best]:.3f}")\n',
        '        client.set_registered_model_alias(model_name, "champion", best)\n',
    ),
    Mutant(
        "2.7",
        "registers one model only",
        '        "stump": DecisionTreeClassifier(max_depth=1, random_state=0),\n',
        "",
    ),
    Mutant(
        "2.7",
        "forgets to return the model's name",
        "    return model_name\n    # END SOLUTION",
        "    return None\n    # END SOLUTION",
    ),
]
