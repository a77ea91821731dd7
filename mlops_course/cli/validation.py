"""``mlops-course validate``: champion against challenger, McNemar's test, promotion.

The reference validation tool, backed by ``solutions/validation.py`` (``validate_challenger``).
It prints the comparison table, the test and the recommendation; when that is "insufficient
evidence", also the test's power (how often this many rows would show a gain of the size seen,
and about how many rows would show it 80 % of the time). Exit code: 0 the challenger was
promoted, 1 it was not (including every run without ``--auto-promote``), 2 an error (nothing
changed: no alias moved, no run logged).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_course import plots, validation_tools
from mlops_course.cli import args as argtypes
from mlops_course.cli.args import CliError, Subparsers
from mlops_course.cli.tracking import DATASETS as TRAINING_DATASETS
from mlops_course.cli.tracking import add_size_arguments, split_dataset

if TYPE_CHECKING:
    from types import ModuleType

    from mlflow import MlflowClient

PROMOTED, NOT_PROMOTED, ERROR = 0, 1, 2


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "validate",
        help="compare a challenger with the champion (McNemar's test) and promote if allowed",
        description=(
            "Score two versions of a registered model on the same hold-out set, run McNemar's "
            "test on the paired predictions, apply the decision rules and, with --auto-promote, "
            "move the champion alias when they allow it. Exit code: 0 promoted, 1 not promoted, "
            "2 error."
        ),
    )
    p.add_argument("--model-name", required=True, help="the registered model")
    champion = p.add_mutually_exclusive_group()
    champion.add_argument("--champion-alias", help="default: champion")
    champion.add_argument("--champion-version")
    challenger = p.add_mutually_exclusive_group()
    challenger.add_argument("--challenger-alias", help="default: challenger")
    challenger.add_argument("--challenger-version")
    p.add_argument(
        "--test-data",
        metavar="CSV",
        type=argtypes.input_file,
        help="the hold-out set: features and a target",
    )
    p.add_argument("--target-column", default="target", help="the label column of the CSV")
    p.add_argument(
        "--dataset",
        choices=TRAINING_DATASETS,
        help="instead of a CSV: the test part of a course dataset, split as `mlops-course "
        "train` splits it (mlops_course.data.split)",
    )
    add_size_arguments(p)
    p.add_argument(
        "--confidence",
        type=argtypes.float_range(0, 1, low_inclusive=False, high_inclusive=False),
        default=0.95,
        help="between 0 and 1, default 0.95 (alpha 0.05)",
    )
    p.add_argument(
        "--class-names",
        metavar="NAME,NAME,...",
        type=_class_names,
        help="the names of the labels 0, 1, ... on the saved confusion matrices "
        "(default: the dataset's with --dataset, else the labels themselves)",
    )
    p.add_argument("--auto-promote", action="store_true", help="move the alias if allowed")
    p.add_argument(
        "--save-plots",
        metavar="DIR",
        type=argtypes.output_folder,
        help="also save the two figures as PNG in this folder (created if needed)",
    )
    p.add_argument(
        "--experiment",
        type=argtypes.experiment_in_namespace,
        help="where the validation run goes, in your namespace (default: <you>/validation)",
    )
    p.add_argument("--json", action="store_true", help="print JSON, for scripts")
    p.set_defaults(func=run)


def _class_names(text: str) -> list[str]:
    names = [name.strip() for name in str(text).split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(
            f"expected names separated by commas, e.g. malignant,benign; got {text!r}"
        )
    return names


def _test_data(args: argparse.Namespace) -> tuple[Any, Any, str, list[str] | None]:
    from mlops_course import data

    if args.test_data and args.dataset:
        raise CliError("give either --test-data CSV or --dataset NAME, not both.")
    if args.dataset:
        _, X_test, _, y_test = split_dataset(args)
        return (
            X_test,
            y_test,
            f"dataset {args.dataset} (test split)",
            data.dataset_class_names(args.dataset),
        )
    if not args.test_data:
        raise CliError(
            "no hold-out data: give --test-data CSV --target-column COLUMN, or --dataset "
            "iris|wine|breast_cancer."
        )
    path = args.test_data
    frame = argtypes.read_csv(path, "the hold-out set", rows=False)
    if args.target_column not in frame.columns:
        columns = ", ".join(map(str, frame.columns[:12]))
        raise CliError(
            f"{path} has no column {args.target_column!r} (columns: {columns}). "
            "Name the label column with --target-column."
        )
    if frame.empty:
        raise CliError(f"{path} has no rows.")
    return frame.drop(columns=args.target_column), frame[args.target_column], str(path), None


def _check_model(client: MlflowClient, name: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        names = [m.name for m in client.search_registered_models(max_results=20)]
        more = f" and {len(names) - 5} more" if len(names) > 5 else ""
        known = f"registered: {', '.join(names[:5])}{more}" if names else "no registered model yet"
        raise CliError(
            f"model {name!r} not found; see them with `mlops-course registry list` ({known})."
        ) from exc


def _check_stage_aliases(client: MlflowClient, args: argparse.Namespace) -> None:
    """``--champion-alias Production`` from an old tutorial: without this, no version holding
    it would read as "no champion yet" and the challenger would be compared with nothing."""
    aliases = client.get_registered_model(args.model_name).aliases
    for option, alias in (
        ("--champion-alias", args.champion_alias),
        ("--challenger-alias", args.challenger_alias),
    ):
        if alias and argtypes.stage_hint(alias) and alias not in aliases:
            raise CliError(
                f"No version of {args.model_name!r} has the alias {alias!r} ({option})."
                + argtypes.stage_hint(alias)
            )


def run(args: argparse.Namespace) -> int:
    X_test, y_test, source, class_names = _test_data(args)

    from mlflow import MlflowClient

    # A progress bar per model download is noise in a report.
    argtypes.no_artifact_progress_bars()
    uri = argtypes.course_tracking_uri()
    validation = argtypes.solutions("validation")
    client = MlflowClient(uri)
    from mlops_course.registry_tools import registered_name

    args.model_name = registered_name(client, args.model_name)
    _check_model(client, args.model_name)
    _check_stage_aliases(client, args)
    experiment = args.experiment
    project = argtypes.project_run(client)
    if experiment is None and project is not None:
        # An MLproject entry point (`mlflow run . -e validate`): the project's run, in its
        # experiment, IS the validation run (validate_challenger's start_run resumes it).
        experiment = client.get_experiment(project.info.experiment_id).name
    # MLflow prints run links to stdout: keep stdout for the report (and --json) alone.
    with contextlib.redirect_stdout(sys.stderr):
        result = validation.validate_challenger(
            args.model_name,
            X_test,
            y_test,
            champion_alias=args.champion_alias or "champion",
            challenger_alias=args.challenger_alias or "challenger",
            champion_version=args.champion_version,
            challenger_version=args.challenger_version,
            confidence=args.confidence,
            auto_promote=args.auto_promote,
            experiment_name=experiment,
            tracking_uri=uri,
        )

    if result.promoted:  # the record every promotion path leaves (registry rollback reads it)
        from mlops_course import registry_tools

        registry_tools.record_promotion(
            MlflowClient(uri),
            args.model_name,
            result.challenger_version,
            result.champion_version,
            alias=args.champion_alias or "champion",
        )
    class_names = args.class_names or class_names
    saved = _save_plots(result, args.save_plots, class_names) if args.save_plots else []
    power = _power(validation, result, len(X_test), confidence=args.confidence)
    if args.json:
        summary = _summary(result, source, saved) | {"power": power}
        print(json.dumps(summary, indent=2, default=str))
    else:
        _print(result, source, saved, power, auto_promote=args.auto_promote)
    return PROMOTED if result.promoted else NOT_PROMOTED


def _power(validation: ModuleType, result: Any, n_rows: int, *, confidence: float) -> dict | None:
    """Why the evidence was insufficient: the test's power at this size (None otherwise)."""
    test = result.mcnemar
    if test is None or result.recommendation.decision != validation.INSUFFICIENT_EVIDENCE:
        return None
    return validation_tools.explain_power(
        n_rows,
        test.b,
        test.c,
        pvalue=lambda b, c: validation.mcnemar_from_counts(b, c).pvalue,  # the test it used
        alpha=1 - confidence,
    )


def _save_plots(result: Any, folder: Path, class_names: list[str] | None) -> list[str]:
    out = Path(folder)
    figures = {
        "metrics_comparison.png": plots.metrics_comparison_figure(
            result.champion_metrics, result.challenger_metrics
        ),
        "confusion_matrices.png": plots.confusion_matrices_figure(
            result.champion_metrics, result.challenger_metrics, class_names=class_names
        ),
    }
    for name, fig in figures.items():
        with argtypes.replacing(out / name) as partial:
            fig.savefig(partial, dpi=100)
    return [str(out / name) for name in figures]


def _summary(result: Any, source: str, saved: list[str]) -> dict:
    table = validation_tools.metrics_table(result.champion_metrics, result.challenger_metrics)
    metrics = {
        name: {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for name, row in table.to_dict(orient="index").items()
    }
    test = result.mcnemar
    return {
        "model_name": result.model_name,
        "champion_version": result.champion_version,
        "challenger_version": result.challenger_version,
        "test_data": source,
        "metrics": metrics,
        "mcnemar": None
        if test is None
        else {
            "b": test.b,
            "c": test.c,
            "statistic": test.statistic,
            "pvalue": test.pvalue,
            "exact": test.exact,
        },  # fmt: skip
        "decision": result.recommendation.decision,
        "reason": result.recommendation.reason,
        "promoted": result.promoted,
        "run_id": result.run_id,
        "plots": saved,
    }


def _print(
    result: Any, source: str, saved: list[str], power: dict | None, *, auto_promote: bool
) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    champion = f"v{result.champion_version}" if result.champion_version else "none yet"
    table = Table(
        title=f"{result.model_name}: champion {champion} vs challenger "
        f"v{result.challenger_version}  ({source})"
    )
    for column in ("metric", "champion", "challenger", "change", "change %"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    frame = validation_tools.metrics_table(result.champion_metrics, result.challenger_metrics)
    for name, row in frame.iterrows():
        change = row["change"]
        style = "green" if change > 0 else "red" if change < 0 else ""
        table.add_row(
            name,
            _fmt(row["champion"]),
            _fmt(row["challenger"]),
            f"[{style}]{_fmt(change, signed=True)}[/]" if style else _fmt(change, signed=True),
            _fmt(row["change_pct"], signed=True, digits=2),
        )
    console.print(table)
    test = result.mcnemar
    if test is None:
        console.print("McNemar's test: not run (no champion to compare with).")
    else:
        kind = "exact binomial" if test.exact else "chi-square, continuity-corrected"
        console.print(
            f"McNemar's test ({kind}): b = {test.b} (champion right, challenger wrong), "
            f"c = {test.c} (challenger right, champion wrong), statistic {test.statistic:.4g}, "
            f"p-value {test.pvalue:.4g}"
        )
    rec = result.recommendation
    console.print(f"Recommendation: [bold]{rec.decision}[/bold]. {rec.reason}")
    if power is not None:
        console.print(power["explanation"])
    if result.promoted:
        console.print(
            f"[green]Promoted:[/green] @champion -> version {result.challenger_version}"
            + (
                f" (previous champion v{result.champion_version} is @previous_champion)"
                if result.champion_version
                else ""
            )
        )
        from mlops_course import registry_tools

        console.print(registry_tools.follow_note("champion"))
    elif rec.promote and not auto_promote:
        console.print("Not promoted: the rules allow it; rerun with --auto-promote to do it.")
    else:
        console.print("Not promoted.")
    console.print(f"Validation run: {result.run_id}")
    for path in saved:
        console.print(f"Saved {path}")


def _fmt(value: float, *, signed: bool = False, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
