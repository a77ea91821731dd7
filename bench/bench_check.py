"""How fast does ``check("1.1")`` answer in a notebook?  Warm (forked from a pre-imported
process, what check() does) against a cold pytest process (what `mlops-course grade` does),
measured in the same run against the same temporary local MLflow server.

Target (issue 2): median warm check under 3 s on a 2-core machine.

    .venv/bin/python bench/bench_check.py [--repeat 5] [--exercise 1.1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--exercise", default="1.1")
    args = parser.parse_args()

    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ["MLOPS_COURSE_TARGET"] = "solutions"
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    from rich.console import Console
    from rich.table import Table

    from mlops_course import server
    from mlops_course.grading import warm
    from mlops_course.grading.runner import grade

    home = Path(tempfile.mkdtemp(prefix="mlops-bench-check-"))
    info = server.ensure_server(home)
    os.environ["MLFLOW_TRACKING_URI"] = info.uri
    try:
        warm.prewarm()
        warm.zygote({}, wait=120)  # a notebook's setup() starts it long before the first check

        def timed(**kw) -> float:
            t0 = time.perf_counter()
            report = grade([args.exercise], **kw)
            elapsed = time.perf_counter() - t0
            if report["summary"]["points"] != report["summary"]["max_points"]:
                sys.exit(f"grading failed during the benchmark: {report['summary']}")
            return elapsed

        cold = [timed(warm=False) for _ in range(max(1, args.repeat // 2))]
        hot = [timed(warm=True) for _ in range(args.repeat)]
    finally:
        server.stop(home)

    med_hot, med_cold = statistics.median(hot), statistics.median(cold)
    table = Table(title=f'check("{args.exercise}") feedback time, medians ({os.cpu_count()} CPUs)')
    for col in ("measure", "seconds", "runs"):
        table.add_column(col)
    table.add_row("warm check() (forked, pre-imported)", f"{med_hot:.2f}", str(len(hot)))
    table.add_row("baseline: cold pytest process", f"{med_cold:.2f}", str(len(cold)))
    table.add_row("ratio warm / cold", f"{med_hot / med_cold:.2f}×", "")
    verdict = "PASS" if med_hot < 3 else "MISS"
    table.add_row("target: warm < 3 s", verdict, "")
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
