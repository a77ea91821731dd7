"""How fast is the course's validation on a million rows?  The reference (``solutions``)
``classification_metrics`` for both models plus ``mcnemar_test``, against scikit-learn alone
computing the same numbers (accuracy, per-class / macro / weighted precision, recall and F1,
the confusion matrix, for both models; McNemar's counts with numpy and statsmodels' test), in
the same run on the same arrays.

Target (issue 5): at most 1.5x scikit-learn's time.

    .venv/bin/python bench/bench_validation.py            # 1,000,000 rows, ~1-2 minutes
    .venv/bin/python bench/bench_validation.py --quick    # 100,000 rows
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

TARGET = 1.5


def make_case(n: int, classes: int, *, strings: bool, seed: int = 0):
    """True labels and two models' predictions (80 % and 85 % right), paired by row."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    champion = np.where(rng.random(n) < 0.80, y, rng.integers(0, classes, n))
    challenger = np.where(rng.random(n) < 0.85, y, rng.integers(0, classes, n))
    if strings:
        names = np.array([f"class-{i}" for i in range(classes)], dtype=object)
        return names[y], names[champion], names[challenger]
    return y, champion, challenger


def course(validation, y, champion, challenger):
    return (
        validation.classification_metrics(y, champion),
        validation.classification_metrics(y, challenger),
        validation.mcnemar_test(y, champion, challenger),
    )


def sklearn_alone(y, champion, challenger):
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support
    from statsmodels.stats.contingency_tables import mcnemar

    out = []
    for pred in (champion, challenger):
        labels = np.union1d(np.unique(y), np.unique(pred))
        result = {"accuracy": accuracy_score(y, pred)}
        for average in ("macro", "weighted", None):
            result[average] = precision_recall_fscore_support(
                y, pred, labels=labels, average=average, zero_division=0
            )
        result["cm"] = confusion_matrix(y, pred, labels=labels)
        out.append(result)
    right1, right2 = champion == y, challenger == y
    b, c = int(np.sum(right1 & ~right2)), int(np.sum(~right1 & right2))
    out.append(mcnemar([[0, b], [c, 0]], exact=b + c < 25))
    return out


def timed(func, *args, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = func(*args)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def same_numbers(ours, theirs) -> bool:
    for mine, ref in zip(ours[:2], theirs[:2], strict=True):
        if not np.isclose(mine["accuracy"], ref["accuracy"]):
            return False
        if not np.isclose(mine["f1_macro"], ref["macro"][2]):
            return False
        if not np.isclose(mine["precision_weighted"], ref["weighted"][0]):
            return False
        if not np.array_equal(mine["confusion_matrix"].to_numpy(), ref["cm"]):
            return False
    return bool(np.isclose(ours[2].pvalue, float(theirs[2].pvalue)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows instead of 1,000,000")
    parser.add_argument("--repeat", type=int, default=3, help="medians of this many runs")
    args = parser.parse_args()

    from rich.console import Console
    from rich.table import Table

    from mlops_course import target

    validation = target.load("validation", "solutions")
    n = 100_000 if args.quick else 1_000_000
    # scikit-learn sorts Python strings many times over: the string case is kept smaller.
    cases = [
        ("integer labels, 2 classes", n, 2, False, args.repeat),
        ("integer labels, 5 classes", n, 5, False, args.repeat),
        ("string labels (object), 3 classes", n // 5, 3, True, 1),
    ]
    table = Table(
        title=f"Validation of two models: course vs scikit-learn alone ({os.cpu_count()} CPUs)"
    )
    for column in ("case", "rows", "course s", "scikit-learn s", "ratio", "target", "verdict"):
        table.add_column(column, justify="left" if column == "case" else "right")
    all_pass = True
    for name, rows, classes, strings, repeat in cases:
        y, champion, challenger = make_case(rows, classes, strings=strings)
        ours_s, ours = timed(course, validation, y, champion, challenger, repeat=repeat)
        base_s, base = timed(sklearn_alone, y, champion, challenger, repeat=repeat)
        if not same_numbers(ours, base):
            print(f"{name}: the course and scikit-learn disagree", file=sys.stderr)
            return 1
        ratio = ours_s / base_s
        verdict = "PASS" if ratio <= TARGET else "MISS"
        all_pass &= verdict == "PASS"
        table.add_row(
            name,
            f"{rows:,}",
            f"{ours_s:.3f}",
            f"{base_s:.3f}",
            f"{ratio:.2f}x",
            f"<= {TARGET}x",
            f"[green]{verdict}[/]" if verdict == "PASS" else f"[red]{verdict}[/]",
        )
    console = Console(width=110)
    console.print(table)
    console.print(
        "Same numbers from both (accuracy, f1_macro, precision_weighted, confusion matrices, "
        "McNemar p-value). Times are medians of "
        f"{args.repeat} runs (1 for the string case)."
    )
    del all_pass  # measured: the exit code is 0 whatever the verdicts (like bench_server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
