"""``mlops-course train`` and ``mlops-course tune``: module 01's experiment tracking, as commands.

The reference training tools, backed by the graded functions of ``solutions/tracking.py``
(through :func:`mlops_course.target.load`): ``log_training_run`` logs each model's run,
``find_best_run`` names the best, ``log_grid_search`` runs a search as a parent run with one
child per candidate. The models are the pipelines of :mod:`mlops_course.models` (imputation,
scaling and one-hot encoding in front of the classifier); the data is a course dataset
(default: the generated predictive-maintenance data, :func:`mlops_course.data.load_maintenance`),
split as :func:`mlops_course.data.split` does, so ``mlops-course validate`` can use the same
hold-out set.

Runs go to the learner's ``<you>/training`` (``train``) and ``<you>/tuning`` (``tune``)
experiments unless ``--experiment`` says otherwise, or MLflow's own variables do: run as an
entry point of the repository's ``MLproject`` (``mlflow run . -e train ...``), a command logs
into the run that ``mlflow run`` made (``MLFLOW_RUN_ID``) and its experiment, so the
project's run IS the training run, not an empty run beside it.

Runs are ranked by ``f1_macro`` on the test set: with an imbalanced label (7 % failures)
accuracy rewards a model that never predicts one.

Exit codes: 0 done; 2 bad input (an unknown model: one line listing the known ones), nothing
logged.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from mlops_course.cli import args as argtypes
from mlops_course.cli.args import CliError, Subparsers

if TYPE_CHECKING:
    from types import ModuleType

    import pandas as pd
    from mlflow import MlflowClient
    from mlflow.entities import Run
    from rich.console import Console

SELECTION_METRIC = "f1_macro"  # what ranks runs and candidates (higher is better)
SESSION_TAG = "mlops_course.session"  # the runs of one `train` command
BEST_CANDIDATE_TAG = "best_candidate"  # on the best child of a search
# data.TRAINING_DATASETS, spelled out: importing mlops_course.data (pandas, scikit-learn) would
# slow every `mlops-course` command down by a second and a half (a test keeps them equal).
DATASETS = ("maintenance", "iris", "wine", "breast_cancer")
RUN_ID_VAR = argtypes.PROJECT_RUN_VAR
PARENT_RUN_TAG = "mlflow.parentRunId"  # MLflow's own: the UI nests the run under its parent
EXPERIMENT_KIND_TAG, CLASSIC_ML = "mlflow.experimentKind", "custom_model_development"
# The comparison table's metrics (all of them are in MLflow and in --json): at 80 columns
# a table of every metric would cut the run ids.
TABLE_METRICS = ("f1_macro", "accuracy", "recall", "roc_auc")


def register(sub: Subparsers) -> None:
    from mlops_course import models

    known = ", ".join(models.MODEL_NAMES)
    p = sub.add_parser(
        "train",
        help="train several models, one MLflow run each, and name the best",
        description=(
            "Fit each model on the training split, log it as one run (params, test metrics, "
            "the pipeline with its signature and an input example, the dataset as run input), "
            f"print a comparison and name the best run by {SELECTION_METRIC}. Models: {known}."
        ),
    )
    p.add_argument(
        "--models",
        nargs="+",
        required=True,
        type=_model_name,
        metavar="MODEL",
        help=f"one or more of {known}",
    )
    _common(p, DATASETS, "training")
    p.set_defaults(func=run_train)

    p = sub.add_parser(
        "tune",
        help="search a model's hyperparameters: a parent run, one child run per candidate",
        description=(
            "Score each candidate by cross-validation on the training split (one child run "
            f"each, ranked by mean {SELECTION_METRIC}), tag the best child, refit it on the "
            "whole training split and log that model, with its test metrics, on the parent run."
        ),
    )
    p.add_argument("--model", required=True, type=_model_name, help=f"one of {known}")
    p.add_argument("--search", choices=("grid", "random"), default="grid")
    p.add_argument(
        "--n-iter",
        type=argtypes.positive_int,
        help="candidates a random search draws (default 10; --search random only)",
    )
    p.add_argument(
        "--cv", type=_folds, default=3, help="cross-validation folds per candidate (default 3)"
    )
    _common(p, DATASETS, "tuning")
    p.set_defaults(func=run_tune)


def _common(p: argparse.ArgumentParser, datasets: tuple[str, ...], topic: str) -> None:
    p.add_argument(
        "--dataset", choices=datasets, default="maintenance", help="default: maintenance"
    )
    add_size_arguments(p)
    p.add_argument(
        "--experiment",
        type=argtypes.experiment_in_namespace,
        help=f"the experiment, in your namespace (default: <you>/{topic})",
    )
    p.add_argument("--json", action="store_true", help="print JSON, for scripts")


def add_size_arguments(p: argparse.ArgumentParser) -> None:
    """``--rows`` and ``--seed`` of the generated maintenance data: `train`, `tune` and
    `validate` take them alike, so the same values give the same split."""
    p.add_argument(
        "--rows",
        type=argtypes.positive_int,
        help="rows of the maintenance data (default 2000; the other datasets have a fixed size)",
    )
    p.add_argument(
        "--seed",
        type=argtypes.non_negative_int,
        default=0,
        help="seed of the generated data and of the models (default 0)",
    )


def _model_name(text: str) -> str:
    from mlops_course import models

    by_lower = {name.lower(): name for name in models.MODEL_NAMES}
    name = by_lower.get(str(text).strip().lower())
    if name is None:
        raise argparse.ArgumentTypeError(
            f"unknown model {text!r}; known models: {', '.join(models.MODEL_NAMES)}"
        )
    return name


def _folds(text: str) -> int:
    value = argtypes.positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"cross-validation needs at least 2 folds, got {text}")
    return value


# ----------------------------------------------------------------------------- plumbing
def _tracking() -> ModuleType:
    return argtypes.solutions("tracking")


_tracking_uri = argtypes.course_tracking_uri


def _experiment(client: MlflowClient, name: str) -> str:
    """The experiment's id, creating it tagged as classic ML (the UI then opens it in its
    "Model training" view, not the GenAI one)."""
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return str(experiment.experiment_id)
    return str(client.create_experiment(name, tags={EXPERIMENT_KIND_TAG: CLASSIC_ML}))


def _experiment_for(
    client: MlflowClient, chosen: str | None, topic: str, project: Run | None
) -> tuple[str, str]:
    """``(name, id)`` of the experiment a command logs into: ``--experiment``, else the
    project run's (``mlflow run --experiment-name``), else the learner's ``<you>/<topic>``."""
    from mlops_course import naming

    if chosen:
        return chosen, _experiment(client, chosen)
    if project is None:
        name = naming.experiment_name(topic)
        return name, _experiment(client, name)
    experiment = client.get_experiment(project.info.experiment_id)
    if not experiment.tags.get(EXPERIMENT_KIND_TAG):
        # `mlflow run --experiment-name` creates experiments untagged: tag it as ours are.
        client.set_experiment_tag(experiment.experiment_id, EXPERIMENT_KIND_TAG, CLASSIC_ML)
    return str(experiment.name), str(experiment.experiment_id)


def _join_project_run(project: Run | None, experiment_id: str, runs: int) -> str | None:
    """The project run's id when it is in the experiment ``experiment_id``; else None.

    When the command logs ONE run there (one model, or a search's parent), ``MLFLOW_RUN_ID``
    stays, and the graded code's ``mlflow.start_run()`` resumes that run: the project's run
    IS the command's run. Otherwise the variable is removed, so each run is a new one (the
    caller may nest them in the project's run with :data:`PARENT_RUN_TAG`).
    """
    if project is None:
        return None
    in_experiment = project.info.experiment_id == experiment_id
    if runs != 1 or not in_experiment:
        os.environ.pop(RUN_ID_VAR, None)
    return project.info.run_id if in_experiment else None


def split_dataset(
    args: argparse.Namespace,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    """``--dataset``, ``--rows`` and ``--seed`` as ``data.split`` splits them: the hold-out
    set `validate` scores is the one `train` and `tune` held out."""
    from mlops_course import data

    if args.dataset == "maintenance":
        X, y = data.load_maintenance(args.rows or 2000, seed=args.seed)
    elif args.rows is not None:
        raise CliError(
            f"--rows applies to the maintenance dataset; {args.dataset} has a fixed size."
        )
    else:
        X, y = data.load_classification(args.dataset)
    try:
        return data.split(X, y)
    except ValueError as exc:  # too few rows to hold out every class
        raise CliError(f"{args.dataset} with {len(X)} rows cannot be split: {exc}") from exc


@contextlib.contextmanager
def _quiet_known_warnings() -> Iterator[None]:
    """Hide the two warnings every model logged here triggers, which notebook 01 explains:
    cloudpickle is chosen on purpose (skops refuses tree models), and the integer column
    MLflow hints about is the predicted label, never missing."""
    import logging
    import warnings

    logger = logging.getLogger("mlflow.sklearn")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
            yield
    finally:
        logger.setLevel(level)


def _show_progress(args: argparse.Namespace) -> bool:
    # A progress bar is for a person at a terminal, not for a log file (as `predict` does).
    return not args.json and sys.stderr.isatty()


def _console(args: argparse.Namespace) -> Console:
    from rich.console import Console

    # Not a terminal: rich would wrap at 80 columns; run ids are long.
    return Console(stderr=args.json, width=None if sys.stdout.isatty() else 160)


def _log_datasets(test: tuple[Any, Any], train: tuple[Any, Any] | None = None) -> None:
    """Log ``(X, y)`` sets as inputs of the active run: ``test`` (context ``evaluation``) and,
    when given, ``train`` (context ``training``), each with ``y`` as a ``target`` column."""
    import mlflow
    import numpy as np
    from mlflow.data.pandas_dataset import from_pandas

    for name, context, part in (("train", "training", train), ("test", "evaluation", test)):
        if part is None:
            continue
        X, y = part
        frame = X.assign(target=np.asarray(y))
        mlflow.log_input(from_pandas(frame, targets="target", name=name), context=context)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "" if value != value else f"{value:.4f}"
    return "" if value is None else str(value)


# ----------------------------------------------------------------------------- train
def run_train(args: argparse.Namespace) -> int:
    import mlflow
    from mlflow import MlflowClient
    from tqdm.auto import tqdm

    from mlops_course import models

    names = list(dict.fromkeys(args.models))  # a model named twice is trained once
    X_train, X_test, y_train, y_test = split_dataset(args)
    tracking = _tracking()
    uri = _tracking_uri()
    client = MlflowClient(uri)
    project = argtypes.project_run(client)
    experiment, experiment_id = _experiment_for(client, args.experiment, "training", project)
    # Under `mlflow run`: one model is logged INTO the project's run; several are nested in it.
    project_run_id = _join_project_run(project, experiment_id, len(names))
    session = uuid.uuid4().hex[:12]
    argtypes.no_artifact_progress_bars()

    runs = []
    bar = tqdm(
        names, desc="training", unit="model", file=sys.stderr, disable=not _show_progress(args)
    )
    # MLflow may print to stdout; the command's output (--json) is ours.
    with (
        contextlib.redirect_stdout(sys.stderr),
        _quiet_known_warnings(),
        argtypes.failed_runs_on_error(uri, experiment),
    ):
        for name in bar:
            bar.set_postfix_str(name)
            model = models.make_model(name, X_train, random_state=args.seed)
            run_id = tracking.log_training_run(
                model,
                X_train,
                y_train,
                X_test,
                y_test,
                experiment_name=experiment,
                run_name=name,
                tracking_uri=uri,
            )
            # What the graded run does not hold: the scores an imbalanced label needs, the
            # test set, and which command made it (so the best is found among these runs).
            tags = {"model_name": name, "dataset": args.dataset, SESSION_TAG: session}
            if project_run_id is not None and run_id != project_run_id:
                tags[PARENT_RUN_TAG] = project_run_id
            with mlflow.start_run(run_id=run_id):
                mlflow.log_metrics(models.classification_scores(model, X_test, y_test))
                _log_datasets((X_test, y_test))
                mlflow.set_tags(tags)
            runs.append({"model": name, "run_id": run_id})
    bar.close()
    best_run_id = tracking.find_best_run(
        experiment,
        SELECTION_METRIC,
        filter_string=f"tags.`{SESSION_TAG}` = '{session}'",
        tracking_uri=uri,
    )
    if project_run_id is not None and best_run_id and best_run_id != project_run_id:
        client.set_tag(project_run_id, "best_run_id", best_run_id)  # the parent names its best
    for run in runs:
        run["metrics"] = dict(sorted(client.get_run(run["run_id"]).data.metrics.items()))

    if args.json:
        print(json.dumps({"runs": runs, "best_run_id": best_run_id}))
        return 0
    _print_train(_console(args), runs, best_run_id, experiment, experiment_id, uri)
    return 0


def _print_train(
    console: Console,
    runs: list[dict],
    best_run_id: str | None,
    experiment: str,
    experiment_id: str,
    uri: str,
) -> None:
    from rich.table import Table

    logged = {m for run in runs for m in run["metrics"]}
    metrics = [m for m in TABLE_METRICS if m in logged]
    table = Table(title=f"{len(runs)} run(s) in {experiment}, best {SELECTION_METRIC} first")
    table.add_column("model", no_wrap=True)
    table.add_column("run_id", no_wrap=True, min_width=32)
    for metric in metrics:
        table.add_column(metric, justify="right")
    ordered = sorted(runs, key=lambda r: -r["metrics"].get(SELECTION_METRIC, float("-inf")))
    for run in ordered:
        best = run["run_id"] == best_run_id
        cells = [_cell(run["metrics"].get(m)) for m in metrics]
        table.add_row(run["model"], run["run_id"], *cells, style="bold" if best else None)
    console.print(table)
    best = next((run for run in runs if run["run_id"] == best_run_id), None)
    if best is None:
        console.print(f"No run logged {SELECTION_METRIC}: no best run.")
        return
    console.print(
        f"Best run: {best['model']} ({best['run_id']}), {SELECTION_METRIC} "
        f"{best['metrics'][SELECTION_METRIC]:.4f}. Its model: runs:/{best['run_id']}/model"
    )
    console.print(f"In the UI: {uri}/#/experiments/{experiment_id}")


# ----------------------------------------------------------------------------- tune
def _candidates(args: argparse.Namespace) -> tuple[list[dict[str, Any]], Any]:
    """The candidates in the order they are tried, and the ``param_grid`` that makes
    ``log_grid_search`` try exactly those (ParameterGrid also takes a list of grids: one
    single-point grid per drawn candidate makes a random search)."""
    from sklearn.model_selection import ParameterGrid

    from mlops_course import models

    if args.search == "grid":
        if args.n_iter is not None:
            raise CliError("--n-iter is for --search random; a grid search tries every candidate.")
        grid: Any = models.param_grid(args.model)
        return list(ParameterGrid(grid)), grid
    drawn = models.sample_candidates(args.model, args.n_iter or 10, random_state=args.seed)
    grid = [{param: [value] for param, value in candidate.items()} for candidate in drawn]
    return list(ParameterGrid(grid)), grid


def _matching(candidates: list[dict[str, Any]], params: dict[str, str]) -> dict[str, Any]:
    """The candidate a child run logged (MLflow keeps params as text)."""
    for candidate in candidates:
        if all(params.get(k) == str(v) for k, v in candidate.items()):
            return candidate
    raise RuntimeError(f"the best child's params {params} match no candidate")


class _ChildProgress:
    """A tqdm bar of a search's finished child runs, polled from the tracking server (the
    graded ``log_grid_search`` runs the loop itself and reports nothing on the way)."""

    def __init__(self, client: MlflowClient, experiment_id: str, total: int, enabled: bool):
        self.client, self.experiment_id, self.total = client, experiment_id, total
        self.enabled = enabled
        self.started = int(time.time() * 1000) - 1000  # a second of slack for clock rounding
        self.done = threading.Event()

    def _finished(self) -> int:
        query = (
            f"attributes.start_time >= {self.started} AND attributes.status = 'FINISHED' "
            "AND tags.`mlflow.parentRunId` LIKE '%'"
        )
        return len(self.client.search_runs([self.experiment_id], query, max_results=1000))

    def _poll(self, bar: Any) -> None:
        while not self.done.wait(0.5):
            with contextlib.suppress(Exception):  # only the bar depends on it
                bar.n = min(self._finished(), self.total)
                bar.refresh()

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        if not self.enabled:
            yield
            return
        from tqdm.auto import tqdm

        bar = tqdm(total=self.total, desc="candidates", unit="run", file=sys.stderr)
        thread = threading.Thread(target=self._poll, args=(bar,), daemon=True)
        thread.start()
        try:
            yield
            bar.n = self.total
        finally:
            self.done.set()
            thread.join()
            bar.close()


def run_tune(args: argparse.Namespace) -> int:
    import mlflow
    import mlflow.sklearn
    from mlflow import MlflowClient

    from mlops_course import models

    candidates, grid = _candidates(args)
    X_train, X_test, y_train, y_test = split_dataset(args)
    tracking = _tracking()
    uri = _tracking_uri()
    client = MlflowClient(uri)
    project = argtypes.project_run(client)
    experiment, experiment_id = _experiment_for(client, args.experiment, "tuning", project)
    # Under `mlflow run`, the project's run becomes the search's parent run.
    _join_project_run(project, experiment_id, 1)
    argtypes.no_artifact_progress_bars()
    progress = _ChildProgress(client, experiment_id, len(candidates), _show_progress(args))

    with (
        contextlib.redirect_stdout(sys.stderr),
        _quiet_known_warnings(),
        argtypes.failed_runs_on_error(uri, experiment),
    ):
        with progress.running():
            parent_run_id = tracking.log_grid_search(
                models.make_model(args.model, X_train, random_state=args.seed),
                grid,
                X_train,
                y_train,
                experiment_name=experiment,
                cv=args.cv,
                scoring=SELECTION_METRIC,
                tracking_uri=uri,
            )
        best_run_id = client.get_run(parent_run_id).data.tags["best_run_id"]
        best_params = _matching(candidates, client.get_run(best_run_id).data.params)
        client.set_tag(best_run_id, BEST_CANDIDATE_TAG, "true")
        client.update_run(parent_run_id, name=f"{args.model}-{args.search}-search")

        # The winner, refitted on the whole training split, is the search's model.
        model = models.make_model(args.model, X_train, random_state=args.seed)
        model.set_params(**best_params).fit(X_train, y_train)
        with mlflow.start_run(run_id=parent_run_id):
            y_pred = model.predict(X_test)
            mlflow.log_metrics(_test_scores(model, X_test, y_test, y_pred))
            mlflow.set_tags(
                {"model_name": args.model, "dataset": args.dataset, "search": args.search}
            )
            _log_datasets((X_test, y_test), (X_train, y_train))
            mlflow.sklearn.log_model(
                model,
                name="model",
                input_example=X_train.head(5),
                **models.sklearn_log_kwargs(model, X_train),
            )

    result = {
        "parent_run_id": parent_run_id,
        "best_run_id": best_run_id,
        "best_params": best_params,
    }
    if args.json:
        print(json.dumps(result))
        return 0
    metrics = client.get_run(parent_run_id).data.metrics
    _print_tune(_console(args), args, result, metrics, len(candidates), uri, experiment_id)
    return 0


def _test_scores(model: Any, X_test: Any, y_test: Any, y_pred: Any) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    from mlops_course import models

    return {
        "test_accuracy": float(accuracy_score(y_test, y_pred)),
        "test_f1_macro": float(f1_score(y_test, y_pred, average="macro")),
        **{f"test_{k}": v for k, v in models.classification_scores(model, X_test, y_test).items()},
    }


def _print_tune(
    console: Console,
    args: argparse.Namespace,
    result: dict,
    metrics: dict[str, float],
    n_candidates: int,
    uri: str,
    experiment_id: str,
) -> None:
    from rich.table import Table

    table = Table(title=f"Best of {n_candidates} {args.model} candidates ({args.search} search)")
    table.add_column("param")
    table.add_column("value")
    for param, value in result["best_params"].items():
        table.add_row(param, str(value))
    console.print(table)
    cv = metrics.get("best_cv_score", float("nan"))
    console.print(
        f"Best child run {result['best_run_id']}: mean {SELECTION_METRIC} {cv:.4f} over "
        f"{args.cv} folds; refitted: test f1_macro {metrics.get('test_f1_macro', float('nan')):.4f}."
    )
    console.print(
        f"Parent run {result['parent_run_id']} holds it: runs:/{result['parent_run_id']}/model"
    )
    console.print(f"In the UI: {uri}/#/experiments/{experiment_id}")
