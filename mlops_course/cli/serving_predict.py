"""``mlops-course predict batch|realtime``: predictions with a registered model, from a CSV
file (streamed in chunks) or typed in (one row at a time)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_course.cli import args as argtypes
from mlops_course.cli.args import Subparsers

if TYPE_CHECKING:
    from rich.console import Console

    from mlops_course.serving_tools import ServedModel


def register(sub: Subparsers) -> None:
    from mlops_course.cli.serving_support import add_model_arguments

    p = sub.add_parser("predict", help="batch (CSV in, CSV out) or real-time predictions")
    modes = p.add_subparsers(dest="mode", metavar="MODE", required=True)

    b = modes.add_parser("batch", help="predict a CSV file in chunks, write a CSV")
    add_model_arguments(b)
    b.add_argument(
        "--input", required=True, type=argtypes.input_file, help="CSV with the model's columns"
    )
    b.add_argument(
        "--output",
        required=True,
        type=argtypes.output_file,
        help="CSV to write (replaced only once every row is written)",
    )
    b.add_argument(
        "--chunk-size", type=argtypes.positive_int, default=10_000, help="rows per chunk"
    )
    b.add_argument("--log-to-mlflow", action="store_true", help="record the batch as a run")
    b.add_argument(
        "--show-sample",
        type=argtypes.non_negative_int,
        default=0,
        metavar="N",
        help="print N output rows",
    )
    b.add_argument("--json", action="store_true", help="print the summary as JSON")
    b.set_defaults(func=run_batch)

    r = modes.add_parser("realtime", help="predict typed-in rows, a demo, or one --predict row")
    add_model_arguments(r)
    what = r.add_mutually_exclusive_group()
    what.add_argument("--demo", action="store_true", help="predict 5 rows of the dataset")
    what.add_argument("--predict", metavar="V1,V2,...", help="one row, values in column order")
    r.add_argument("--json", action="store_true", help="print the answers as JSON")
    r.set_defaults(func=run_realtime)


# ----------------------------------------------------------------------------- batch
def run_batch(args: argparse.Namespace) -> int:
    from rich.console import Console

    from mlops_course import target
    from mlops_course.cli.serving_support import (
        load_or_explain,
        model_uri_from_args,
        tracking_uri_or_error,
    )
    from mlops_course.serving_tools import iter_csv_chunks

    console = Console(stderr=args.json)
    argtypes.no_artifact_progress_bars()  # one progress bar for the work, none per download
    model_uri_from_args(args)  # bad options are refused before anything else
    if args.output.resolve() == args.input.resolve():
        raise argtypes.CliError("--output must differ from --input.")
    header = list(argtypes.read_csv(args.input, "input file", rows=False, nrows=0).columns)
    tracking_uri = tracking_uri_or_error()
    model_uri = model_uri_from_args(args, tracking_uri)  # a short name: <you>.<name>
    served = load_or_explain(model_uri, tracking_uri)
    missing = [c for c in served.columns if c not in header]
    if missing:
        raise argtypes.CliError(
            f"{args.input} lacks the model's columns {', '.join(missing)} "
            f"(it has: {', '.join(header) or 'no header'})."
        )

    serving = target.load("serving", "solutions")
    # A progress bar is for a person at a terminal, not for a log file.
    progress = not args.json and sys.stderr.isatty()
    try:
        # The output is replaced only once complete: a failure part-way leaves it as it was.
        with argtypes.replacing(args.output) as partial:
            chunks = iter_csv_chunks(args.input, chunk_size=args.chunk_size, progress=progress)
            summary = serving.predict_csv(
                model_uri,
                args.input,
                partial,
                chunk_size=args.chunk_size,
                tracking_uri=tracking_uri,
                chunks=chunks,
            )
    except ValueError as exc:  # a cell the model cannot take, a ragged row (InvalidInput too)
        reason = argtypes.model_error(exc)
        raise argtypes.CliError(
            f"{args.input} cannot be scored: {reason}. Every row needs {_expected(served)}; "
            f"{args.output} was not changed."
        ) from exc
    summary = {
        "model_uri": model_uri,
        "input": str(args.input),
        "output": str(args.output),
        **summary,
    }
    if args.log_to_mlflow:
        import contextlib

        with contextlib.redirect_stdout(sys.stderr):  # MLflow prints run links: keep stdout clean
            summary["run_id"] = _log_batch(summary, tracking_uri)
    if args.json:
        print(json.dumps(summary, default=str))
        return 0
    _print_batch(console, summary, args)
    return 0


def _log_batch(summary: dict, tracking_uri: str) -> str:
    import mlflow

    from mlops_course import naming

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(naming.experiment_name("batch-predictions"))
    seconds = max(summary["seconds"], 1e-9)
    # Predictions are labels of any kind ("class (a)"): metric names must suit MLflow.
    safe = argtypes.metric_safe_names(summary["distribution"])
    with mlflow.start_run(run_name=f"batch-{Path(summary['input']).stem}") as run:
        mlflow.log_params(
            {
                "model_uri": summary["model_uri"],
                "model_version": summary["model_version"],
                "input": summary["input"],
                "output": summary["output"],
            }
        )
        mlflow.log_metrics(
            {
                "rows": summary["rows"],
                "seconds": summary["seconds"],
                "rows_per_second": summary["rows"] / seconds,
                **{f"predicted_{safe[k]}": v for k, v in summary["distribution"].items()},
            }
        )
        mlflow.log_dict(summary["distribution"], "prediction_distribution.json")
    return run.info.run_id


def _print_batch(console: Console, summary: dict, args: argparse.Namespace) -> None:
    from rich.table import Table

    rows, seconds = summary["rows"], max(summary["seconds"], 1e-9)
    console.print(
        f"Wrote {rows:,} predictions of {summary['model_uri']} (version "
        f"{summary['model_version']}) to {summary['output']} in {seconds:.1f} s "
        f"({rows / seconds:,.0f} rows/s)."
    )
    table = Table(title="Prediction distribution")
    table.add_column("prediction")
    table.add_column("rows", justify="right")
    table.add_column("share", justify="right")
    for label, count in sorted(summary["distribution"].items(), key=lambda kv: -kv[1])[:20]:
        table.add_row(str(label), f"{count:,}", f"{count / max(rows, 1):.1%}")
    console.print(table)
    if args.show_sample:
        _print_sample(console, args.output, args.show_sample)
    if summary.get("run_id"):
        console.print(f"Logged as run {summary['run_id']}.")


def _print_sample(console: Console, output: Path, rows: int) -> None:
    """The first ``rows`` rows of ``output``, the prediction first, in as many columns as the
    console's width holds (80 when it is no terminal): a line never wraps."""
    import pandas as pd

    sample = pd.read_csv(output, nrows=rows)
    first = [c for c in ("prediction", "model_version") if c in sample.columns]
    order = first + [c for c in sample.columns if c not in first]
    shown = order[:1]
    for column in order[1:]:
        if len(sample[[*shown, column]].to_string(index=False).splitlines()[0]) > console.width:
            break
        shown.append(column)
    # Plain text, as pandas laid it out (rich would re-wrap or crop it).
    print(f"Sample: the first {len(sample)} rows", file=console.file)
    print(sample[shown].to_string(index=False), file=console.file)
    hidden = len(order) - len(shown)
    if hidden:
        print(f"(+{hidden} more column(s), in {Path(output).name})", file=console.file)


# ----------------------------------------------------------------------------- realtime
def run_realtime(args: argparse.Namespace) -> int:
    from mlops_course import target
    from mlops_course.cli.serving_support import (
        demo_rows,
        load_or_explain,
        model_uri_from_args,
        parse_feature_line,
        tracking_uri_or_error,
    )
    from mlops_course.serving_tools import predict_frame

    model_uri_from_args(args)  # bad options are refused before anything else
    tracking_uri = tracking_uri_or_error()
    model_uri = model_uri_from_args(args, tracking_uri)  # a short name: <you>.<name>
    served = load_or_explain(model_uri, tracking_uri)
    demo = demo_rows(served.columns) if args.demo else None
    if args.demo and demo is None:
        raise argtypes.CliError(
            "no demo data for this model's columns "
            f"({', '.join(served.columns)}): use --predict V1,V2,..."
        )
    serving = target.load("serving", "solutions")

    def answer(row: Any) -> dict:
        frame = serving.validate_rows([row], served.columns, served.types, batch_limit=1)
        out = predict_frame(served, frame)
        return {
            "input": frame.iloc[0].to_dict(),
            "prediction": out["predictions"][0],
            "probabilities": out["probabilities"][0] if out["probabilities"] else None,
            "model_version": served.version,
        }

    if args.predict is not None or demo is not None:
        rows = (
            [parse_feature_line(args.predict, served.columns)]
            if args.predict is not None or demo is None
            else demo.to_dict("records")
        )
        try:
            answers = [answer(row) for row in rows]
        except serving.InvalidInput as exc:
            raise argtypes.CliError(f"{exc.message}. Expected: {_expected(served)}") from exc
        if args.json:
            print(json.dumps(answers, default=str))
        else:
            _print_answers(answers, served)
        return 0
    return _interactive(served, answer, serving.InvalidInput, parse_feature_line, args.json)


def _expected(served: ServedModel) -> str:
    return ", ".join(f"{c} ({t})" for c, t in zip(served.columns, served.types, strict=True))


def _print_answers(answers: list[dict], served: ServedModel) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{served.name or served.model_uri} · version {served.version}")
    for column in served.columns:
        table.add_column(column, justify="right")
    table.add_column("prediction", style="bold")
    if served.classes is not None:
        table.add_column("probability", justify="right")
    for a in answers:
        cells = [
            f"{a['input'][c]:g}" if isinstance(a["input"][c], float) else str(a["input"][c])
            for c in served.columns
        ]
        cells.append(str(a["prediction"]))
        if served.classes is not None:
            cells.append(f"{max(a['probabilities'].values()):.2f}")
        table.add_row(*cells)
    Console().print(table)


def _interactive(
    served: ServedModel,
    answer: Callable[[Any], dict],
    invalid: type[Exception],
    parse: Callable[[str, list[str]], Any],
    as_json: bool,
) -> int:
    print(f"Model {served.name or served.model_uri}, version {served.version}.")
    print(f"Type one row per line: {', '.join(served.columns)}")
    print("  as values in that order (5.1,3.5,...) or as name=value pairs; 'quit' to stop.")
    while True:
        try:
            line = input("> ")
        except EOFError:
            print()
            return 0
        if line.strip().lower() in ("quit", "exit", "q"):
            return 0
        if not line.strip():
            continue
        try:
            result = answer(parse(line, served.columns))
        except invalid as exc:
            print(f"  not a valid row: {getattr(exc, 'message', exc)}")
            print(f"  expected: {_expected(served)}")
            continue
        if as_json:
            print(json.dumps(result, default=str))
        else:
            proba = result["probabilities"]
            extra = f"  (p={max(proba.values()):.2f})" if proba else ""
            print(f"  prediction: {result['prediction']}{extra}")
