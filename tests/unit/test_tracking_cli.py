"""``mlops-course train`` and ``tune``, against a real MLflow server: what they print, and
what MLflow really holds afterwards (checked with MlflowClient and independent oracles)."""

from __future__ import annotations

import contextlib
import io
import json
import sys
import uuid

import mlflow
import mlflow.sklearn
import pytest
from mlflow import MlflowClient
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV, ParameterGrid

from mlops_course import data, models, naming
from mlops_course.cli import main
from mlops_course.cli import tracking as tracking_cli

ROWS = "400"  # small: every test stays a few seconds
TRAINED = ["RandomForest", "SVM_Linear", "LogisticRegression"]


def _experiment(topic: str) -> str:
    return f"tests/cli-{topic}-{uuid.uuid4().hex[:8]}"


def _json(argv: list[str]) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def trained(mlflow_tracking_uri):
    experiment = _experiment("train")
    argv = ["train", "--models", *TRAINED, "--rows", ROWS, "--experiment", experiment, "--json"]
    return f"{naming.student()}/{experiment}", _json(argv)


@pytest.fixture(scope="module")
def split():
    return data.split(*data.load_maintenance(int(ROWS)))


def test_train_prints_the_json_contract(trained):
    _, out = trained
    assert set(out) == {"runs", "best_run_id"}
    assert [run["model"] for run in out["runs"]] == TRAINED
    for run in out["runs"]:
        assert set(run) == {"model", "run_id", "metrics"}
        assert {"accuracy", "f1_macro", "recall", "roc_auc"} <= set(run["metrics"])
    assert out["best_run_id"] in {run["run_id"] for run in out["runs"]}


def test_train_runs_hold_params_metrics_model_and_data(trained, split):
    experiment, out = trained
    client = MlflowClient()
    _, X_test, _, _ = split
    for entry in out["runs"]:
        run = client.get_run(entry["run_id"])
        assert run.info.status == "FINISHED"
        assert client.get_experiment(run.info.experiment_id).name == experiment
        assert run.data.metrics == entry["metrics"], "the JSON reports what MLflow holds"
        assert run.data.tags["model_name"] == entry["model"]
        assert run.info.run_name == entry["model"]
        assert "classifier__C" in run.data.params or "classifier__n_estimators" in run.data.params
        contexts = {
            tag.value
            for dataset_input in run.inputs.dataset_inputs
            for tag in dataset_input.tags
            if tag.key == "mlflow.data.context"
        }
        assert contexts == {"training", "evaluation"}
        info = mlflow.models.get_model_info(f"runs:/{entry['run_id']}/model")
        inputs = {spec.name: str(spec.type) for spec in info.signature.inputs.inputs}
        assert set(inputs) == set(data.MAINTENANCE_FEATURES)
        assert "string" in inputs["equipment_type"].lower()
        assert info.signature.outputs is not None
        assert info.saved_input_example_info is not None
    experiment_tags = client.get_experiment_by_name(experiment).tags
    assert experiment_tags.get("mlflow.experimentKind") == "custom_model_development"


def test_the_best_run_is_the_best_on_the_test_set(trained, split):
    """Recomputed from the logged models, not read from the metrics the command logged."""
    _, out = trained
    _, X_test, _, y_test = split
    scores = {}
    for entry in out["runs"]:
        model = mlflow.sklearn.load_model(f"runs:/{entry['run_id']}/model")
        scores[entry["run_id"]] = f1_score(y_test, model.predict(X_test), average="macro")
        assert scores[entry["run_id"]] == pytest.approx(entry["metrics"]["f1_macro"])
    assert scores[out["best_run_id"]] == max(scores.values())


def test_train_prints_a_table_into_the_default_experiment(mlflow_tracking_uri, monkeypatch, capsys):
    monkeypatch.setenv("MLOPS_COURSE_STUDENT", f"t-{uuid.uuid4().hex[:8]}")
    argv = ["train", "--models", "logisticregression", "--dataset", "iris"]
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # as a person at a terminal
    assert main(argv) == 0
    captured = capsys.readouterr()
    runs = mlflow.search_runs(experiment_names=[naming.experiment_name("training")])
    assert len(runs) == 1
    run_id = runs["run_id"][0]
    assert f"Best run: LogisticRegression ({run_id})" in captured.out
    assert "f1_macro" in captured.out
    assert "training" in captured.err and "100%" in captured.err, "a progress bar on stderr"


def test_an_unknown_model_is_one_line_listing_the_known_ones(mlflow_tracking_uri, capsys):
    experiment = _experiment("unknown")
    argv = ["train", "--models", "RandomForest", "XGBoost", "--experiment", experiment]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), captured.err
    assert "Traceback" not in captured.err and "'XGBoost'" in lines[0]
    for name in models.MODEL_NAMES:
        assert name in lines[0]
    assert MlflowClient().get_experiment_by_name(f"{naming.student()}/{experiment}") is None


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["tune", "--model", "LogisticRegression", "--n-iter", "3"], "--n-iter is for --search"),
        (["tune", "--model", "LogisticRegression", "--cv", "1"], "at least 2 folds"),
        (["train", "--models", "RandomForest", "--dataset", "iris", "--rows", "9"], "fixed size"),
        (["train", "--models", "RandomForest", "--dataset", "mnist"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line(mlflow_tracking_uri, capsys, argv, needle):
    assert main([*argv, "--experiment", _experiment("bad")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err, err


def test_the_cli_offers_the_data_modules_datasets():
    assert tracking_cli.DATASETS == data.TRAINING_DATASETS


# ----------------------------------------------------------------------------- tune
def _children(client: MlflowClient, parent) -> list:
    return client.search_runs(
        [parent.info.experiment_id], f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'"
    )


def test_tune_grid_one_child_per_candidate_and_the_best_on_the_parent(mlflow_tracking_uri, split):
    experiment = _experiment("tune")
    argv = ["tune", "--model", "LogisticRegression", "--search", "grid", "--rows", ROWS]
    out = _json([*argv, "--experiment", experiment, "--json"])
    assert set(out) == {"parent_run_id", "best_run_id", "best_params"}

    client = MlflowClient()
    parent = client.get_run(out["parent_run_id"])
    children = _children(client, parent)
    grid = models.param_grid("LogisticRegression")
    assert len(children) == len(ParameterGrid(grid)) == int(parent.data.params["n_candidates"])
    tagged = [c.info.run_id for c in children if c.data.tags.get("best_candidate") == "true"]
    assert tagged == [out["best_run_id"]] == [parent.data.tags["best_run_id"]]

    # The oracle: scikit-learn's own grid search, on the same training split and folds.
    X_train, X_test, y_train, _ = split
    search = GridSearchCV(models.make_model("LogisticRegression", X_train), grid, cv=3,
                          scoring="f1_macro").fit(X_train, y_train)  # fmt: skip
    assert out["best_params"] == search.best_params_
    best_child = client.get_run(out["best_run_id"])
    assert best_child.data.metrics["mean_cv_score"] == pytest.approx(search.best_score_)

    # The parent holds the winner, refitted, with its signature and its data.
    info = mlflow.models.get_model_info(f"runs:/{out['parent_run_id']}/model")
    assert info.signature.outputs is not None and info.saved_input_example_info is not None
    model = mlflow.sklearn.load_model(f"runs:/{out['parent_run_id']}/model")
    params = model.get_params()
    assert {k: params[k] for k in out["best_params"]} == out["best_params"]
    assert (model.predict(X_test) == search.best_estimator_.predict(X_test)).all()
    assert "test_f1_macro" in parent.data.metrics
    assert parent.info.status == "FINISHED"
    assert {d.dataset.name for d in parent.inputs.dataset_inputs} == {"train", "test"}


def test_tune_random_draws_n_iter_seeded_candidates(mlflow_tracking_uri, monkeypatch, capsys):
    experiment = _experiment("tune-random")
    argv = ["tune", "--model", "LogisticRegression", "--search", "random", "--n-iter", "3"]
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main([*argv, "--rows", ROWS, "--cv", "2", "--experiment", experiment]) == 0
    captured = capsys.readouterr()
    assert "candidates" in captured.err and "3/3" in captured.err, "a progress bar on stderr"
    assert "Parent run" in captured.out

    client = MlflowClient()
    exp = client.get_experiment_by_name(f"{naming.student()}/{experiment}")
    parents = client.search_runs([exp.experiment_id], "tags.search = 'random'")
    assert len(parents) == 1
    children = _children(client, parents[0])
    drawn = models.sample_candidates("LogisticRegression", 3, random_state=0)
    logged = [{k: c.data.params[k] for k in drawn[0]} for c in children]
    expected = [{k: str(v) for k, v in candidate.items()} for candidate in drawn]
    assert sorted(logged, key=str) == sorted(expected, key=str)
    scores = {c.info.run_id: c.data.metrics["mean_cv_score"] for c in children}
    assert scores[parents[0].data.tags["best_run_id"]] == max(scores.values())
