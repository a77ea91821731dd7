"""What the serving commands (``serve``, ``predict``) share: which model the options name, where
the tracking server is, loading with MLflow's errors explained, rows typed in or demonstrated."""

from __future__ import annotations

import argparse
import json
import os
from typing import TYPE_CHECKING, Any

from mlops_course.cli.args import CliError, stage_hint
from mlops_course.serving_tools import ServedModel, load_served_model, parse_model_uri

if TYPE_CHECKING:
    import pandas as pd


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """``--model-name NAME [--alias A | --version N] | --run-id ID`` on an argparse parser."""
    parser.add_argument("--model-name", help="registered model name (as in the registry)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--alias", help="serve the version this alias points to (default champion)")
    which.add_argument("--version", help="serve this version number")
    parser.add_argument("--run-id", help="serve the model logged by this run (runs:/ID/model)")


def model_uri_from_args(args: argparse.Namespace, tracking_uri: str | None = None) -> str:
    """The model URI a command's ``--model-name/--alias/--version/--run-id`` ask for; with
    ``tracking_uri``, a short name is the learner's ``<you>.<name>`` when that is registered."""
    if args.run_id and args.model_name:
        raise CliError("give either --model-name or --run-id, not both.")
    if args.run_id:
        if args.alias or args.version:
            raise CliError("--alias and --version go with --model-name, not --run-id.")
        return f"runs:/{args.run_id}/model"
    if not args.model_name:
        raise CliError(
            "say which model: --model-name NAME [--alias A | --version N], or --run-id ID "
            "(list registered models with `mlops-course registry list`)."
        )
    if tracking_uri:
        from mlflow import MlflowClient

        from mlops_course.registry_tools import registered_name

        args.model_name = registered_name(MlflowClient(tracking_uri), args.model_name)
    if args.version:
        if not str(args.version).isdigit():
            raise CliError(f"--version must be a number, got {args.version!r}.")
        return f"models:/{args.model_name}/{args.version}"
    return f"models:/{args.model_name}@{args.alias or 'champion'}"


def tracking_uri_or_error() -> str:
    """The tracking server to use: ``MLFLOW_TRACKING_URI``, else the course's running server."""
    from mlops_course import server

    uri = server.env_tracking_uri()
    if uri:
        return uri
    info, verdict = server.status()
    if info is None or verdict != "running":
        if os.environ.get("MLFLOW_TRACKING_URI"):
            return os.environ["MLFLOW_TRACKING_URI"]
        raise CliError(
            f"no MLflow server to read models from (the course server is {verdict}): "
            "run `mlops-course server start`, or set MLFLOW_TRACKING_URI."
        )
    return info.uri


def load_or_explain(model_uri: str, tracking_uri: str) -> ServedModel:
    """:func:`load_served_model`, turning MLflow's errors into a :class:`CliError`."""
    from mlflow.exceptions import MlflowException

    name, version, alias = parse_model_uri(model_uri)
    try:
        return load_served_model(model_uri, tracking_uri=tracking_uri)
    except MlflowException as exc:
        text = str(exc)
        if name and alias and "alias" in text.lower():
            raise CliError(
                f"no version of {name!r} has the alias {alias!r} (or the model does not exist): "
                f"see `mlops-course registry details {name}`, set one with "
                f"`mlops-course registry promote`, or pass --version N.{stage_hint(alias)}"
            ) from exc
        if name:
            raise CliError(
                f"model {name!r}{f' version {version}' if version else ''} not found on "
                f"{tracking_uri}: list models with `mlops-course registry list`."
            ) from exc
        raise CliError(f"cannot load {model_uri}: {text.splitlines()[0][:300]}") from exc
    except (ValueError, OSError) as exc:
        raise CliError(f"cannot load {model_uri}: {exc}") from exc


def parse_feature_line(line: str, columns: list[str]) -> list[Any] | dict[str, Any]:
    """One typed-in row: ``5.1,3.5,1.4,0.2`` (values in column order) or
    ``sepal_length=5.1, ...`` (named). Values are JSON-like: numbers, true/false, text."""

    def value(text: str) -> Any:
        text = text.strip()
        try:
            return json.loads(text)
        except ValueError:
            return text

    parts = [p for p in line.replace(";", ",").split(",") if p.strip()] if line.strip() else []
    if parts and all("=" in p for p in parts):
        return {k.strip(): value(v) for k, v in (p.split("=", 1) for p in parts)}
    return [value(p) for p in parts]


def demo_rows(columns: list[str], n: int = 5) -> pd.DataFrame | None:
    """A few real rows for a model trained on one of the course's datasets, or None."""
    from mlops_course import data

    for name in data.CLASSIFICATION_DATASETS:
        X, _ = data.load_classification(name)
        if set(columns) <= set(X.columns):
            return X[columns].sample(n, random_state=0)
    for name in data.REGRESSION_DATASETS:
        X, _ = data.load_regression(name)
        if set(columns) <= set(X.columns):
            return X[columns].sample(n, random_state=0)
    return None
