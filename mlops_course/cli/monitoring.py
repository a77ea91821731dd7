"""``mlops-course monitor track|report|check-degradation|drift|plot``.

The reference monitoring tool, backed by the graded functions of ``solutions/monitoring.py``
(through :func:`mlops_course.target.load`). Batches are tracked in the learner's monitoring
experiment, ``<student>/monitoring``, unless ``--experiment`` says otherwise (notebook 05 writes
to its own: ``--experiment notebook-05-monitoring`` reads it).

Exit codes: 0 fine; 1 the check found a problem (``check-degradation``: degraded,
``drift``: dataset drift), so a scheduler can alert on it; 2 bad input or not enough data,
with one line saying what exists and what to run, and nothing changed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_course.cli import args as argtypes
from mlops_course.cli.args import CliError, Subparsers

if TYPE_CHECKING:
    from types import ModuleType

    import pandas as pd

PROG = "mlops-course monitor"
DEFAULT_METRICS = ("accuracy", "f1_score")


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "monitor",
        help="track production batches, report, check degradation and drift, plot trends",
        description="The course's reference monitoring tool (backed by solutions/monitoring.py).",
    )
    cmds = p.add_subparsers(dest="monitor_command", metavar="ACTION", required=True)

    def add(
        name: str,
        help_: str,
        func: Callable[[argparse.Namespace], int],
        *,
        experiment: bool = True,
        aliases: tuple[str, ...] = (),
    ) -> argparse.ArgumentParser:
        c = argtypes.add_action(cmds, name, help_, func, aliases=aliases)
        if experiment:
            c.add_argument(
                "--experiment",
                type=argtypes.experiment_in_namespace,
                help="the monitoring experiment, in your namespace (default: <you>/monitoring)",
            )
        return c

    c = add("track", "score a batch with a registered model and track it in MLflow", run_track)
    c.add_argument("--model-name", required=True, help="a registered model's name")
    c.add_argument("--alias", default="champion", help="the version to use (default champion)")
    c.add_argument(
        "--version",
        type=argtypes.positive_int,
        help="a version instead of the alias (for a prediction log: which version's answers)",
    )
    c.add_argument(
        "--input",
        required=True,
        type=argtypes.input_file,
        help="the batch's features (CSV), or the log of `mlops-course serve --log-predictions`",
    )
    c.add_argument(
        "--labels", type=argtypes.input_file, help="the true labels (CSV, one column or 'target')"
    )
    c.add_argument(
        "--day",
        type=argtypes.non_negative_int,
        help="the batch's day (default: the day after the last)",
    )

    c = add("report", "summary statistics of the tracked metrics over the last days", run_report)
    c.add_argument("--days", type=argtypes.positive_int, default=30)
    c.add_argument("--metrics", nargs="+", default=list(DEFAULT_METRICS), metavar="METRIC")

    c = add(
        "check-degradation",
        "compare the last window of a metric with a baseline; exit 1 when degraded",
        run_check_degradation,
        aliases=("check",),
    )
    c.add_argument(
        "--threshold",
        type=argtypes.finite_float,
        default=0.05,
        help="relative drop (0.05 = 5 %%)",
    )
    c.add_argument(
        "--window", type=argtypes.positive_int, default=7, help="days in the recent window"
    )
    c.add_argument("--baseline", choices=["first", "preceding", "all"], default="preceding")
    c.add_argument("--metric", default="accuracy")

    c = add(
        "drift",
        "per-column drift of a current CSV against a reference CSV; exit 1 on dataset drift",
        run_drift,
        experiment=False,
    )
    c.add_argument("--reference", required=True, type=argtypes.input_file)
    c.add_argument("--current", required=True, type=argtypes.input_file)
    c.add_argument("--categorical", nargs="*", default=[], metavar="COLUMN")

    c = add("plot", "trend plot of the tracked metrics, with the baseline band", run_plot)
    c.add_argument("--days", type=argtypes.positive_int, default=30)
    c.add_argument("--metrics", nargs="+", default=list(DEFAULT_METRICS), metavar="METRIC")
    c.add_argument(
        "--baseline-days",
        type=argtypes.positive_int,
        default=7,
        help="days forming the baseline band",
    )
    c.add_argument(
        "--output",
        type=argtypes.output_file_in_new_folder,
        default=Path("monitoring_trend.png"),
        help="the PNG to write (replaced once complete)",
    )


# ----------------------------------------------------------------------------- helpers
def _monitoring() -> ModuleType:
    return argtypes.solutions("monitoring")


_tracking_uri = argtypes.course_tracking_uri


def _experiment(args: argparse.Namespace) -> str:
    from mlops_course import naming

    return args.experiment or naming.experiment_name("monitoring")


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    return argtypes.read_csv(path, f"{what} file")


def _print_table(title: str, frame: Any, *, index_name: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    if index_name is not None:
        table.add_column(index_name)
    for column in frame.columns:
        table.add_column(str(column))
    for index, row in frame.iterrows():
        cells = [_cell(v) for v in row]
        table.add_row(*([str(index)] if index_name is not None else []), *cells)
    Console().print(table)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "" if value != value else f"{value:.4g}"
    return str(value)


def _history(args: argparse.Namespace, metrics: list[str], days: int) -> dict:
    """The report of the experiment, or a one-line error when there is nothing to report."""
    from mlflow import MlflowClient

    uri = _tracking_uri()
    name = _experiment(args)
    if MlflowClient(uri).get_experiment_by_name(name) is None:
        raise CliError(
            f"No monitoring experiment {name!r} on {uri}. Track a batch first: "
            f"`{PROG} track --model-name NAME --input batch.csv`."
        )
    return _monitoring().monitoring_report(name, days=days, metrics=metrics, tracking_uri=uri)


# ----------------------------------------------------------------------------- commands
class _RenamedColumns:
    """A model seen through metric-safe column names: ``predict`` gives it its own names."""

    def __init__(self, model: Any, original: dict[str, object]):
        self.model = model
        self.original = original  # safe name -> the column's real name

    def predict(self, X: Any) -> Any:
        return self.model.predict(X.rename(columns=self.original))


def _from_prediction_log(log: pd.DataFrame, args: argparse.Namespace) -> tuple[pd.DataFrame, dict]:
    """The features of a prediction log's rows, and what the log says of them: the rows one
    version answered (``--version``, or the only version in the log), first and last time."""
    from mlops_course.cli.serving_runtime import LOG_COLUMNS

    versions = sorted({str(v) for v in log["model_version"]}, key=lambda v: (len(v), v))
    if args.version is None:
        if len(versions) != 1:
            raise CliError(
                f"{args.input} holds answers of versions {', '.join(versions)}: pass --version "
                "V to track the rows one version answered (the alias may have moved meanwhile)."
            )
        args.version = int(versions[0])
    rows = log[log["model_version"].astype(str) == str(args.version)]
    if rows.empty:
        raise CliError(
            f"{args.input} holds no answer of version {args.version} (versions in it: "
            f"{', '.join(versions)})."
        )
    about = {
        "rows": len(rows),
        "version": str(args.version),
        "first": str(rows["logged_at"].min()),
        "last": str(rows["logged_at"].max()),
        "requests": int(rows["request_id"].nunique()),
    }
    features = rows.drop(columns=[*LOG_COLUMNS, "prediction"]).reset_index(drop=True)
    return features, about


def run_track(args: argparse.Namespace) -> int:
    import mlflow
    import pandas as pd
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from mlops_course.cli.serving_runtime import is_prediction_log

    X = _read_csv(args.input, "Input")
    served_rows = None
    if is_prediction_log(X.columns):  # what production saw: the version that answered
        X, served_rows = _from_prediction_log(X, args)
    y = None
    if args.labels is not None:
        labels = _read_csv(args.labels, "Labels")
        if len(labels) != len(X):
            raise CliError(
                f"{args.labels} has {len(labels)} labels for {len(X)} rows in {args.input}."
            )
        y = labels["target"] if "target" in labels.columns else labels.iloc[:, 0]
    uri = _tracking_uri()
    client = MlflowClient(uri)
    from mlops_course.registry_tools import registered_name

    args.model_name = registered_name(client, args.model_name)
    try:
        if args.version is not None:
            version = client.get_model_version(args.model_name, str(args.version))
        else:
            version = client.get_model_version_by_alias(args.model_name, args.alias)
    except MlflowException as exc:
        if args.version is not None:
            raise CliError(
                f"{args.model_name!r} has no version {args.version}; see "
                f"`mlops-course registry details {args.model_name}`."
            ) from exc
        names = sorted(m.name for m in client.search_registered_models(max_results=50))
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        raise CliError(
            f"No version of {args.model_name!r} has the alias {args.alias!r}; see "
            f"`mlops-course registry list` (registered models: {shown or 'none'})."
            + argtypes.stage_hint(args.alias)
        ) from exc
    # MLflow prints download bars and run links: keep stdout for our own output, stderr for
    # what went wrong.
    argtypes.no_artifact_progress_bars()
    with contextlib.redirect_stdout(sys.stderr):
        model = mlflow.pyfunc.load_model(f"models:/{args.model_name}/{version.version}")
    name = _experiment(args)
    monitoring = _monitoring()
    day_tag = monitoring.DAY_TAG  # the tag the graded code puts on each day's run
    day = args.day
    if day is None:
        experiment = client.get_experiment_by_name(name)
        days = []
        if experiment is not None:
            runs = client.search_runs(
                [experiment.experiment_id], f"tags.`{day_tag}` != ''", max_results=50_000
            )
            days = [int(r.data.tags[day_tag]) for r in runs]
        day = max(days) + 1 if days else 0
    # Metric names are `<column>_mean`: MLflow refuses some column names (parentheses, as in
    # scikit-learn's own `sepal length (cm)`). Track under safe names; the run keeps the map.
    safe = argtypes.metric_safe_names(X.columns)
    renamed = {s: c for c, s in safe.items() if s != str(c)}
    if renamed:
        X = X.rename(columns=safe)
        model = _RenamedColumns(model, {s: c for c, s in safe.items()})
    failed: list[str] = []
    try:
        with (
            argtypes.failed_runs_on_error(uri, name, f"tags.`{day_tag}` = '{day}'") as failed,
            contextlib.redirect_stdout(sys.stderr),
        ):
            run_id = monitoring.track_batch(
                model, X, day=day, experiment_name=name, y_true=y, tracking_uri=uri
            )
            if renamed:
                client.log_dict(run_id, renamed, "column_names.json")
                client.set_tag(run_id, "monitoring.renamed_columns", str(len(renamed)))
    except (ValueError, MlflowException) as exc:
        if failed:  # the day's run was open: MLflow refused what followed
            raise CliError(
                f"MLflow refused to track {args.input}: {argtypes.one_line(exc, 200)} "
                f"The day's run {failed[0]} is marked FAILED; fix the cause and track it again."
            ) from exc
        raise CliError(
            f"the model cannot score {args.input}: {argtypes.model_error(exc)}. Fix those "
            f"cells (the model's columns: `mlops-course registry details {args.model_name}`); "
            "nothing was tracked."
        ) from exc
    metrics = MlflowClient(uri).get_run(run_id).data.metrics
    result = {
        "run_id": run_id,
        "day": day,
        "experiment": name,
        "model": f"{args.model_name} v{version.version}"
        + ("" if args.version is not None else f" (@{args.alias})"),
        "prediction_log": served_rows,
        "rows": len(X),
        "labels": y is not None,
        "metrics": {
            k: metrics[k] for k in ("n_rows", "prediction_mean", *DEFAULT_METRICS) if k in metrics
        },
        "renamed_columns": renamed,
    }
    if args.json:
        print(json.dumps(result, default=str))
    else:
        print(
            f"Tracked day {day} ({len(X)} rows{', with labels' if y is not None else ''}) with "
            f"{result['model']} in {name!r}: run {run_id}"
        )
        if served_rows:
            print(
                f"From the prediction log: {served_rows['requests']:,} requests answered by "
                f"v{served_rows['version']} between {served_rows['first']} and "
                f"{served_rows['last']}."
            )
        if renamed:
            print(
                f"{len(renamed)} column name(s) MLflow refuses in metric names were tracked as "
                f"{', '.join(f'{c!r} -> {s!r}' for s, c in list(renamed.items())[:3])}"
                f"{' ...' if len(renamed) > 3 else ''} (the run's column_names.json)."
            )
        _print_table("Metrics", pd.DataFrame([result["metrics"]]))
    return 0


def run_report(args: argparse.Namespace) -> int:
    report = _history(args, args.metrics, args.days)
    if report["n_batches"] == 0:
        raise CliError(
            f"No tracked batch in {_experiment(args)!r}. Track one with "
            f"`{PROG} track --model-name NAME --input batch.csv`."
        )
    history, summary = report["history"], report["summary"]
    if args.json:
        print(
            json.dumps(
                {
                    "n_batches": report["n_batches"],
                    "days": [int(d) for d in history.index],
                    "summary": json.loads(summary.to_json(orient="index")),
                }
            )
        )
        return 0
    first, last = int(history.index.min()), int(history.index.max())
    _print_table(
        f"{_experiment(args)}: {report['n_batches']} batches, days {first}-{last}",
        summary,
        index_name="metric",
    )
    return 0


def run_check_degradation(args: argparse.Namespace) -> int:
    report = _history(args, [args.metric], 1_000_000)
    values = report["history"][args.metric].dropna()
    needed = args.window + 1 if args.baseline == "all" else 2 * args.window
    if len(values) < needed:
        raise CliError(
            f"Insufficient data for degradation analysis: {len(values)} batches with "
            f"{args.metric!r}, need {needed} (window {args.window}, baseline {args.baseline}). "
            f"Track more labelled batches with `{PROG} track ... --labels labels.csv`, "
            "or use a smaller --window."
        )
    result = _monitoring().degradation(
        values, window=args.window, baseline=args.baseline, threshold=args.threshold
    )
    if args.json:
        print(json.dumps({"metric": args.metric, "n_batches": len(values), **result}))
    else:
        verdict = "DEGRADED" if result["degraded"] else "no degradation"
        print(
            f"{args.metric}: {result['recent_mean']:.4f} over the last {args.window} batches vs "
            f"{result['baseline_mean']:.4f} ({args.baseline}): relative drop "
            f"{result['relative_drop']:.1%}, threshold {args.threshold:.1%} -> {verdict}"
        )
    return 1 if result["degraded"] else 0


MIN_ROWS_PER_BIN = 5  # the usual floor for a histogram's (and chi-square's) expected counts


def _psi_bins(reference: Any, current: Any) -> int:
    """How many bins PSI (5.1) gives a column, by its rule and with the helpers it uses: the
    Sturges edges of both samples for a numeric reference of more than 20 distinct values,
    else one bin per value seen in either sample."""
    import numpy as np
    import pandas as pd

    from mlops_course.monitoring_tools import finite_sample, more_distinct_than

    (ref, ref_numeric), (cur, cur_numeric) = finite_sample(reference), finite_sample(current)
    if ref_numeric and cur_numeric and more_distinct_than(ref, 20):
        return len(np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")) - 1
    return max(len(pd.unique(np.concatenate([np.asarray(ref), np.asarray(cur)]))), 1)


def run_drift(args: argparse.Namespace) -> int:
    reference = _read_csv(args.reference, "Reference")
    current = _read_csv(args.current, "Current")
    missing = [c for c in reference.columns if c not in current.columns]
    if missing:
        raise CliError(
            f"{args.current} lacks the reference's columns {missing}; it has "
            f"{list(current.columns)}."
        )
    unknown = [c for c in args.categorical if c not in reference.columns]
    if unknown:
        raise CliError(
            f"--categorical names unknown columns {unknown}; the columns are {list(reference.columns)}."
        )
    monitoring = _monitoring()
    try:
        table = monitoring.drift_report(reference, current, categorical=args.categorical)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    table["psi"] = [monitoring.psi(reference[c], current[c]) for c in table["column"]]
    bins = {c: _psi_bins(reference[c], current[c]) for c in table["column"]}
    table["psi_reliable"] = [len(reference) / bins[c] >= MIN_ROWS_PER_BIN for c in table["column"]]
    verdict = {
        "dataset_drift": table.attrs["dataset_drift"],
        "drift_share": table.attrs["drift_share"],
    }
    if args.json:
        print(json.dumps({**verdict, "columns": json.loads(table.to_json(orient="records"))}))
    else:
        _print_table(
            f"Drift of {args.current} against {args.reference} ({len(reference)} reference rows)",
            table,
        )
        unreliable = [
            c for c, ok in zip(table["column"], table["psi_reliable"], strict=True) if not ok
        ]
        if unreliable:
            shown = ", ".join(f"{c} ({bins[c]} bins)" for c in unreliable[:5])
            more = f" and {len(unreliable) - 5} more" if len(unreliable) > 5 else ""
            print(
                f"Note: PSI is unreliable on {len(reference)} reference rows for {shown}{more}: "
                f"fewer than {MIN_ROWS_PER_BIN} rows per bin (20 or fewer distinct values take "
                "one bin each), so one row moves it a lot; trust the test's verdict, or use a "
                "larger reference."
            )
        word = "DATASET DRIFT" if verdict["dataset_drift"] else "no dataset drift"
        print(f"{int(table['drift'].sum())} of {len(table)} columns drift -> {word}")
    return 1 if verdict["dataset_drift"] else 0


def run_plot(args: argparse.Namespace) -> int:
    report = _history(args, args.metrics, args.days)
    history = report["history"].dropna(how="all")
    if history.empty:
        raise CliError(
            f"No value of {args.metrics} in {_experiment(args)!r} yet: labels may not have "
            f"arrived. Add them with `{PROG} track ... --labels labels.csv`."
        )
    from mlops_course.plots import trend_figure

    fig = trend_figure(history, baseline_days=args.baseline_days)
    with argtypes.replacing(args.output) as partial:
        fig.savefig(partial, dpi=100)
    if args.json:
        print(json.dumps({"output": str(args.output), "n_batches": len(history)}))
    else:
        print(f"Wrote {args.output} ({len(history)} batches, {', '.join(history.columns)})")
    return 0
