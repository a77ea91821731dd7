"""Compute the Evidently numbers that ``test_monitoring.py`` checks the drift exercises against.

Evidently 0.7.23 does not import under pandas 3, which the course uses, so this script runs
once, by an author, in a separate virtualenv, and writes ``evidently_reference.json`` beside
it; the graded tests only read that file (and regenerate the same data with
:func:`datasets`, which needs numpy and pandas only):

    python3 -m venv /tmp/evenv
    /tmp/evenv/bin/pip install "evidently==0.7.23" "pandas<3"
    /tmp/evenv/bin/python tests/graded/make_evidently_reference.py

For every column it records the method Evidently 0.7 chose by default (``ValueDrift`` without
a method), its score and verdict, and the PSI (``ValueDrift(method="psi")``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).with_name("evidently_reference.json")

# Evidently's stat-test ids -> the names drift_report uses.
METHODS = {
    "ks": "ks",
    "chisquare": "chisquare",
    "z": "z",
    "wasserstein": "wasserstein",
    "jensenshannon": "jensenshannon",
}


def _frame(rng, n, shift, shares, binary_p, few_p):
    num = rng.normal(10 + shift, 2 + shift, n).round(3)
    return pd.DataFrame(
        {
            "num": num,
            "num_stable": rng.gamma(2.0, 3.0, n).round(3),
            "few": rng.choice([1, 2, 3, 4], size=n, p=few_p),
            "binary": rng.choice(["no", "yes"], size=n, p=[1 - binary_p, binary_p]),
            "flag": rng.binomial(1, 0.3, n),
            "cat": rng.choice(["a", "b", "c", "d", "e"], size=n, p=shares),
        }
    )


def datasets() -> dict[str, dict]:
    """Deterministic (reference, current, categorical columns) pairs, from numpy's PCG64.

    ``small``: 600 reference rows (statistical tests); ``large``: 2,000 reference rows
    (distances). Both hold a numeric many-valued column, a few-valued numeric column, a binary
    column, a categorical column and NaN/inf values; ``half`` is four columns of ``small``, two
    of which drift.
    """
    out = {}
    for name, n_ref, n_cur, seed in [("small", 600, 400, 11), ("large", 2000, 1500, 12)]:
        rng = np.random.default_rng(seed)

        # In "large", category "e" never occurs in the reference: PSI's zero-share rule applies.
        ref_shares = [0.4, 0.3, 0.2, 0.1, 0.0] if name == "large" else [0.35, 0.3, 0.2, 0.1, 0.05]
        ref = _frame(rng, n_ref, 0.0, ref_shares, 0.3, [0.25, 0.25, 0.25, 0.25])
        cur = _frame(rng, n_cur, 0.4, [0.3, 0.3, 0.2, 0.12, 0.08], 0.36, [0.3, 0.25, 0.25, 0.2])
        # Missing values and infinities: Evidently drops them before any test.
        ref.loc[[3, 17], "num"] = np.nan
        cur.loc[[5], "num"] = np.inf
        cur.loc[[8], "num"] = -np.inf
        cur.loc[[2, 9], "cat"] = None
        out[name] = {"reference": ref, "current": cur, "categorical": ["flag"]}
    # Exactly half the columns drift: Evidently calls that dataset drift (share >= 0.5).
    half = ["num", "num_stable", "few", "cat"]
    out["half"] = {
        "reference": out["small"]["reference"][half],
        "current": out["small"]["current"][half],
        "categorical": [],
    }
    return out


def main() -> int:
    import evidently
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import DriftedColumnsCount, ValueDrift

    results: dict = {
        "evidently_version": evidently.__version__,
        "pandas_version": pd.__version__,
        "numpy_version": np.__version__,
        "cases": {},
    }
    for name, case in datasets().items():
        ref, cur, categorical = case["reference"], case["current"], case["categorical"]
        numerical = [
            c for c in ref.columns if pd.api.types.is_numeric_dtype(ref[c]) and c not in categorical
        ]
        others = [c for c in ref.columns if c not in numerical]
        definition = DataDefinition(numerical_columns=numerical, categorical_columns=others)
        metrics = [ValueDrift(column=c) for c in ref.columns]
        metrics += [ValueDrift(column=c, method="psi") for c in ref.columns]
        metrics.append(DriftedColumnsCount())
        snapshot = Report(metrics).run(
            Dataset.from_pandas(cur, data_definition=definition),
            Dataset.from_pandas(ref, data_definition=definition),
        )
        columns, psi, dataset = {}, {}, None
        for item in snapshot.dict()["metrics"]:
            config, value = item["config"], item["value"]
            if config["type"].endswith("ValueDrift"):
                column, method = config["column"], config.get("method")
                if method == "psi":
                    psi[column] = float(value)
                else:
                    columns[column] = {"method": method, "score": float(value)}
            elif config["type"].endswith("DriftedColumnsCount"):
                share = float(value["share"])
                # evidently.legacy.calculations.data_drift.get_dataset_drift: share >= 0.5.
                dataset = {"count": float(value["count"]), "share": share, "drift": share >= 0.5}
        # The verdicts, from Evidently's own stat tests (ValueDrift reports only the score).
        from evidently.legacy.calculations.stattests.registry import get_stattest
        from evidently.legacy.core import ColumnType

        for column, entry in columns.items():
            kind = ColumnType.Numerical if column in numerical else ColumnType.Categorical
            r = ref[column].replace([-np.inf, np.inf], np.nan).dropna()
            c = cur[column].replace([-np.inf, np.inf], np.nan).dropna()
            test = get_stattest(r, c, kind, None)
            outcome = test(r, c, kind.value, None)
            assert METHODS[test.name] == _short(entry["method"], test), (entry, test.name)
            entry["method"] = METHODS[test.name]
            entry["threshold"] = float(outcome.actual_threshold)
            entry["drift"] = bool(outcome.drifted)
            assert np.isclose(outcome.drift_score, entry["score"], rtol=1e-12), column
        results["cases"][name] = {"columns": columns, "psi": psi, "dataset": dataset}
    OUT.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"wrote {OUT}")
    return 0


def _short(method: str | None, test) -> str:
    """Evidently's resolved method label (a display name such as 'K-S p_value') -> our name."""
    if method in (test.name, test.display_name, None):
        return METHODS[test.name]
    return method


if __name__ == "__main__":
    sys.exit(main())
