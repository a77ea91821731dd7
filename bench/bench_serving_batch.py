"""Benchmark batch prediction of a large CSV: chunked (exercise 3.5) against naive pandas.

Both score the same file with the same model in the same run, each in a fresh subprocess:

* naive: ``pd.read_csv`` the whole file, ``predict``, add the timestamp and version columns,
  ``to_csv``;
* chunked: ``predict_csv`` of the solutions (``pd.read_csv(chunksize=...)``, append per chunk).

Measured: wall time of the job and its peak resident memory ABOVE the process's memory after
the imports and the model load (the peak counter is reset with ``/proc/self/clear_refs`` right
before the job, so import-time spikes do not count). Target: chunked peak ≤ 1/4 of the naive one,
at ≤ 1.2× its time.

    .venv/bin/python bench/bench_serving_batch.py [--quick] [--rows N] [--chunk-size N]

The model is saved to a temporary folder (no tracking server needed); every temporary file is
removed at the end.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from mlops_course import data
from mlops_course.models import sklearn_log_kwargs

JOB = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import mlflow.pyfunc
import pandas as pd
from datetime import UTC, datetime
from mlops_course import target

def kib(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])

method, model, src, dst, chunk = sys.argv[1:6]
serving = target.load("serving", "solutions")
pyfunc = mlflow.pyfunc.load_model(model)  # import + load cost paid before the baseline
pyfunc.predict(pd.read_csv(src, nrows=5))
serving.load_served_model(model)
open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM) to the current RSS
base = kib("VmRSS")
start = time.perf_counter()
if method == "naive":
    df = pd.read_csv(src)
    cols = list(pyfunc.metadata.get_input_schema().input_names())
    df["prediction"] = pyfunc.predict(df[cols])
    df["predicted_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    df["model_version"] = None
    df.to_csv(dst, index=False)
    rows = len(df)
else:
    rows = serving.predict_csv(model, src, dst, chunk_size=int(chunk))["rows"]
seconds = time.perf_counter() - start
print(json.dumps({"rows": rows, "seconds": seconds, "peak_mib": (kib("VmHWM") - base) / 1024,
                  "base_mib": base / 1024}))
"""


def make_inputs(folder: Path, rows: int) -> tuple[Path, Path]:
    import mlflow.sklearn
    from sklearn.ensemble import RandomForestClassifier

    X, y = data.load_classification("iris")
    model = RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0).fit(X, y)
    model_dir = folder / "model"
    mlflow.sklearn.save_model(
        model,
        model_dir,
        **sklearn_log_kwargs(model, X),
    )
    rng = np.random.default_rng(0)
    big = X.sample(rows, replace=True, random_state=0).reset_index(drop=True)
    big = (big + rng.normal(0, 0.1, size=big.shape)).round(3)
    big.insert(0, "id", np.arange(rows))
    csv = folder / "input.csv"
    big.to_csv(csv, index=False)
    return model_dir, csv


def run(method: str, model: Path, src: Path, dst: Path, chunk: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", JOB, method, str(model), str(src), str(dst), str(chunk)],
        capture_output=True, text=True, timeout=1800, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows instead of 1,000,000")
    parser.add_argument("--rows", type=int, help="rows in the CSV")
    parser.add_argument("--chunk-size", type=int, default=20_000)
    args = parser.parse_args(argv)
    rows = args.rows or (100_000 if args.quick else 1_000_000)
    console = Console()
    folder = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    try:
        with console.status(f"writing {rows:,} rows…"):
            model, src = make_inputs(folder, rows)
        size = src.stat().st_size / 1e6
        results = {}
        for method in ("naive", "chunked"):
            with console.status(f"{method}…"):
                results[method] = run(method, model, src, folder / f"{method}.csv", args.chunk_size)
            (folder / f"{method}.csv").unlink(missing_ok=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    n, c = results["naive"], results["chunked"]
    assert n["rows"] == c["rows"] == rows
    table = Table(title=f"Batch prediction of a {rows:,}-row CSV ({size:.0f} MB), chunks of "
                  f"{args.chunk_size:,}")  # fmt: skip
    for col in ("measure", "chunked (3.5)", "naive pandas", "ratio", "target", "verdict"):
        table.add_column(col, justify="left" if col == "measure" else "right")
    ratio_mem = c["peak_mib"] / max(n["peak_mib"], 1e-9)
    ratio_time = c["seconds"] / n["seconds"]
    verdict = lambda ok: "[green]PASS[/]" if ok else "[red]MISS[/]"  # noqa: E731
    table.add_row("peak memory above baseline (MiB)", f"{c['peak_mib']:.0f}", f"{n['peak_mib']:.0f}",
                  f"{ratio_mem:.2f}", "≤ 0.25", verdict(ratio_mem <= 0.25))  # fmt: skip
    table.add_row("time (s)", f"{c['seconds']:.1f}", f"{n['seconds']:.1f}", f"{ratio_time:.2f}",
                  "≤ 1.2", verdict(ratio_time <= 1.2))  # fmt: skip
    table.add_row(
        "rows/s", f"{rows / c['seconds']:,.0f}", f"{rows / n['seconds']:,.0f}", "", "", ""
    )
    table.add_row("process baseline (MiB, imports + model)", f"{c['base_mib']:.0f}",
                  f"{n['base_mib']:.0f}", "", "", "")  # fmt: skip
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
