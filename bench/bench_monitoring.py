"""How fast is ``drift_report`` on a big batch, against calling scipy column by column?

1,000,000 reference and 1,000,000 current rows of 20 columns (14 continuous, 3 few-valued
integers, 3 categorical strings; a reference that large gets Wasserstein and Jensen-Shannon,
as in Evidently 0.7). The baseline, measured in the same run on the same data, is the least a
monitoring job must do: per column, ``scipy.stats.wasserstein_distance`` divided by the
reference's std, or ``scipy.spatial.distance.jensenshannon`` of the value shares. Peak memory
is traced with ``tracemalloc`` (numpy and pandas report their buffers to it).

Target (issue 6): ``drift_report`` takes at most 1.2x the baseline's time.

    .venv/bin/python bench/bench_monitoring.py [--rows 1000000] [--repeat 3] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import distance

TARGET = 1.2


def make_data(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    shift = 0.05 * seed
    columns = {f"x{i}": rng.normal(shift * i, 1 + shift, rows) for i in range(14)}
    for i in range(3):
        columns[f"k{i}"] = rng.integers(0, 3 + i, rows)  # 3 to 5 values
    for i in range(3):
        columns[f"c{i}"] = rng.choice(["north", "south", "east", "west", "other"], rows)
    return pd.DataFrame(columns)


def baseline(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, float]:
    """scipy's statistics, column by column, with the shares aligned by pandas."""
    scores = {}
    for column in reference.columns:
        ref, cur = reference[column], current[column]
        if column.startswith("x"):
            ref_values = ref.to_numpy()
            scores[column] = stats.wasserstein_distance(ref_values, cur.to_numpy()) / np.std(
                ref_values
            )
        else:
            ref_share = ref.value_counts(normalize=True)
            cur_share = cur.value_counts(normalize=True)
            keys = ref_share.index.union(cur_share.index)
            scores[column] = distance.jensenshannon(
                ref_share.reindex(keys, fill_value=0), cur_share.reindex(keys, fill_value=0)
            )
    return scores


def measure(funcs: dict, repeat: int) -> dict[str, tuple[float, float, object]]:
    """Per function: median seconds over ``repeat`` runs, interleaved so that both see the same
    machine load, and the peak traced memory (MiB) of one more run."""
    times = {name: [] for name in funcs}
    results = {}
    for _ in range(repeat):
        for name, func in funcs.items():
            gc.collect()
            start = time.perf_counter()
            results[name] = func()
            times[name].append(time.perf_counter() - start)
    out = {}
    for name, func in funcs.items():
        gc.collect()
        tracemalloc.start()
        func()
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        out[name] = (statistics.median(times[name]), peak, results[name])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100,000 rows, one repeat")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.repeat = 100_000, 1

    from rich.console import Console
    from rich.table import Table

    from mlops_course import target

    monitoring = target.load("monitoring", "solutions")
    reference, current = make_data(args.rows, 0), make_data(args.rows, 1)

    measured = measure(
        {
            "baseline": lambda: baseline(reference, current),
            "ours": lambda: monitoring.drift_report(reference, current),
        },
        args.repeat,
    )
    base_s, base_mem, expected = measured["baseline"]
    ours_s, ours_mem, report = measured["ours"]
    got = dict(zip(report["column"], report["score"], strict=True))
    if not all(np.isclose(got[c], expected[c], rtol=1e-9) for c in expected):
        sys.exit("drift_report and the baseline disagree: the benchmark compares different work")
    methods = report["method"].value_counts().to_dict()

    ratio = ours_s / base_s
    table = Table(
        title=f"drift_report, {args.rows:,} + {args.rows:,} rows x {reference.shape[1]} columns "
        f"({methods}), medians of {args.repeat}"
    )
    for column in ("measure", "seconds", "peak MiB"):
        table.add_column(column)
    table.add_row("drift_report (solutions)", f"{ours_s:.2f}", f"{ours_mem:.0f}")
    table.add_row("baseline: scipy column by column", f"{base_s:.2f}", f"{base_mem:.0f}")
    table.add_row("ratio", f"{ratio:.2f}x", f"{ours_mem / base_mem:.2f}x")
    table.add_row(f"target: time ratio <= {TARGET}", "PASS" if ratio <= TARGET else "MISS", "")
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
