"""The reproducible pipeline (module 06), run for real against a tracking server.

* ``mlflow run . -e train``: the repository's MLproject logs the run ``mlops-course train``
  logs, INTO the run ``mlflow run`` created (one run in the experiment, not two);
* ``mlops-course train`` and ``tune`` under MLflow's variables (``MLFLOW_RUN_ID``,
  ``MLFLOW_EXPERIMENT_ID``), in process: one run resumes the project's, several nest in it;
* the DVC pipeline of ``pipeline/``, copied into a temporary git repository with a local
  remote: ``dvc repro``, ``dvc push``, the data's md5 on the run, nothing re-run when nothing
  changed, ``train`` re-run when its parameter changes.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import mlflow
import pytest
import yaml
from mlflow import MlflowClient

from mlops_course import naming
from mlops_course.cli import main
from mlops_course.cli import tracking as tracking_cli

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the virtualenv's: mlflow, mlops-course, dvc, python
ROWS = "600"  # small: each command stays a few seconds
PROJECT_PARAMS = {"model", "dataset", "rows", "seed"}  # the train entry point's own
TIMEOUT = 300


def _name(topic: str) -> str:
    return f"tests/pipeline-{topic}-{uuid.uuid4().hex[:8]}"


# `mlflow.set_experiment()` exports MLFLOW_EXPERIMENT_ID for child processes: the tests before
# leave one behind, and `mlflow run --experiment-name` refuses to run with it.
MLFLOW_RUN_VARS = ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME")


def _env(uri: str, home: Path) -> dict[str, str]:
    """The environment of a command run here: this virtualenv first on PATH, the test's
    server, a course home of its own (so the server in the environment is the one used)."""
    inherited = {k: v for k, v in os.environ.items() if k not in MLFLOW_RUN_VARS}
    return {
        **inherited,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "MLFLOW_TRACKING_URI": uri,
        "MLOPS_COURSE_HOME": str(home),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DVC_NO_ANALYTICS": "1",
        "DVC_SITE_CACHE_DIR": str(home / "dvc-site-cache"),  # not /var/tmp/dvc
    }


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


def _json(argv: list[str]) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    return json.loads(out.getvalue())


def _inputs(run) -> set[tuple[str, str, str]]:
    """``(name, digest, context)`` of each dataset input of a run."""
    return {
        (d.dataset.name, d.dataset.digest, tag.value)
        for d in run.inputs.dataset_inputs
        for tag in d.tags
        if tag.key == "mlflow.data.context"
    }


def _runs(client: MlflowClient, experiment: str) -> list:
    found = client.get_experiment_by_name(experiment)
    assert found is not None, f"no experiment {experiment}"
    return client.search_runs([found.experiment_id])


# ----------------------------------------------------------------------------- mlflow run
@pytest.fixture(scope="module")
def project_run(mlflow_tracking_uri, tmp_path_factory):
    """``mlflow run`` of the train entry point: (its experiment, the finished process)."""
    experiment = _name("mlproject")
    argv = [str(BIN / "mlflow"), "run", str(REPO), "-e", "train", "-P", "model=RandomForest"]
    argv += ["-P", f"rows={ROWS}", "--env-manager", "local", "--experiment-name", experiment]
    home = tmp_path_factory.mktemp("home")
    return experiment, _run(argv, tmp_path_factory.mktemp("cwd"), _env(mlflow_tracking_uri, home))


@pytest.fixture(scope="module")
def cli_run(mlflow_tracking_uri):
    """The same model, seed and rows through ``mlops-course train --json``: its run."""
    argv = ["train", "--models", "RandomForest", "--rows", ROWS, "--seed", "0"]
    out = _json([*argv, "--experiment", _name("cli"), "--json"])
    return MlflowClient().get_run(out["runs"][0]["run_id"])


def test_mlflow_run_logs_one_run_the_project_run(project_run):
    experiment, proc = project_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = _runs(MlflowClient(), experiment)
    assert len(runs) == 1, "the project's run IS the training run, no second run beside it"
    run = runs[0]
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlflow.project.entryPoint"] == "train"
    assert run.info.run_name == "RandomForest"
    assert f"in run with ID '{run.info.run_id}'" in proc.stderr
    experiment_tags = MlflowClient().get_experiment_by_name(experiment).tags
    assert experiment_tags.get("mlflow.experimentKind") == "custom_model_development"


def test_mlflow_run_holds_what_mlops_course_train_logs(project_run, cli_run):
    experiment, proc = project_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = _runs(MlflowClient(), experiment)[0]
    # The model's params as the command logs them, plus the entry point's own parameters.
    project_params = {k: run.data.params[k] for k in PROJECT_PARAMS}
    assert project_params == {
        "model": "RandomForest",
        "dataset": "maintenance",
        "rows": ROWS,
        "seed": "0",
    }
    params = {k: v for k, v in run.data.params.items() if k not in PROJECT_PARAMS}
    assert params == cli_run.data.params
    assert run.data.metrics == pytest.approx(cli_run.data.metrics)
    assert {"accuracy", "f1_macro", "recall", "roc_auc"} <= set(run.data.metrics)
    for tag in ("model_type", "model_name", "dataset"):
        assert run.data.tags[tag] == cli_run.data.tags[tag]
    assert _inputs(run) == _inputs(cli_run)
    assert {context for _, _, context in _inputs(run)} == {"training", "evaluation"}
    info = mlflow.models.get_model_info(f"runs:/{run.info.run_id}/model")
    cli_info = mlflow.models.get_model_info(f"runs:/{cli_run.info.run_id}/model")
    assert info.signature == cli_info.signature
    assert info.saved_input_example_info is not None


def test_mlflow_run_with_a_bad_parameter_fails(mlflow_tracking_uri, tmp_path):
    experiment = _name("bad")
    argv = [str(BIN / "mlflow"), "run", str(REPO), "-e", "train", "-P", "model=XGBoost"]
    argv += ["--env-manager", "local", "--experiment-name", experiment]
    proc = _run(argv, tmp_path, _env(mlflow_tracking_uri, tmp_path / "home"))
    assert proc.returncode != 0
    assert "unknown model 'XGBoost'" in proc.stderr
    runs = _runs(MlflowClient(), experiment)
    assert [run.info.status for run in runs] == ["FAILED"], "only the project's run, failed"


# ----------------------------------------------------------------------------- MLflow's variables
@pytest.fixture
def env_run(mlflow_tracking_uri, monkeypatch):
    """A run made as ``mlflow run`` makes it, and the variables it gives its command."""
    client = MlflowClient()
    experiment_id = client.create_experiment(_name("env"))
    run = client.create_run(experiment_id, tags={"mlflow.project.entryPoint": "train"})
    monkeypatch.setenv("MLFLOW_RUN_ID", run.info.run_id)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", experiment_id)
    yield run
    client.set_terminated(run.info.run_id)  # what `mlflow run` does once its command ends


def test_several_models_nest_in_the_project_run(env_run):
    out = _json(
        ["train", "--models", "LogisticRegression", "SVM_Linear", "--rows", "400", "--json"]
    )
    client = MlflowClient()
    project_id = env_run.info.run_id
    assert project_id not in {run["run_id"] for run in out["runs"]}
    for entry in out["runs"]:
        run = client.get_run(entry["run_id"])
        assert run.info.experiment_id == env_run.info.experiment_id
        assert run.data.tags[tracking_cli.PARENT_RUN_TAG] == project_id
    assert client.get_run(project_id).data.tags["best_run_id"] == out["best_run_id"]
    assert "MLFLOW_RUN_ID" not in os.environ


def test_a_search_under_mlflow_run_uses_the_project_run_as_parent(env_run):
    argv = ["tune", "--model", "LogisticRegression", "--search", "random", "--n-iter", "2"]
    out = _json([*argv, "--rows", "400", "--json"])
    client = MlflowClient()
    assert out["parent_run_id"] == env_run.info.run_id
    best = client.get_run(out["best_run_id"])
    assert best.data.tags[tracking_cli.PARENT_RUN_TAG] == env_run.info.run_id
    assert len(client.search_runs([env_run.info.experiment_id])) == 3  # the parent, 2 children


def test_an_explicit_experiment_elsewhere_leaves_the_project_run_alone(env_run):
    argv = ["train", "--models", "LogisticRegression", "--experiment", _name("elsewhere")]
    out = _json([*argv, "--rows", "400", "--json"])
    run = MlflowClient().get_run(out["runs"][0]["run_id"])
    assert run.info.run_id != env_run.info.run_id
    assert run.info.experiment_id != env_run.info.experiment_id
    assert tracking_cli.PARENT_RUN_TAG not in run.data.tags


def test_an_experiment_id_left_by_set_experiment_is_not_a_project(mlflow_tracking_uri, monkeypatch):
    """Every ``mlflow.set_experiment()`` exports MLFLOW_EXPERIMENT_ID: alone, it must not
    move the command's default experiment (only MLFLOW_RUN_ID means ``mlflow run``)."""
    monkeypatch.setenv("MLOPS_COURSE_STUDENT", f"t-{uuid.uuid4().hex[:8]}")
    other = MlflowClient().create_experiment(_name("other"))
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", other)
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    out = _json(["train", "--models", "LogisticRegression", "--dataset", "iris", "--json"])
    run = MlflowClient().get_run(out["runs"][0]["run_id"])
    default = MlflowClient().get_experiment_by_name(naming.experiment_name("training"))
    assert run.info.experiment_id == default.experiment_id != other


# ----------------------------------------------------------------------------- DVC
@pytest.fixture(scope="module")
def dvc_repo(mlflow_tracking_uri, tmp_path_factory):
    """pipeline/ copied into a new git repository with DVC and a local remote, after a first
    ``dvc repro`` and ``dvc push``: (the repository, its remote, the environment, the first
    repro's process)."""
    if shutil.which("dvc", path=str(BIN)) is None:
        pytest.skip("dvc is not installed: pip install -e '.[pipeline]'")
    root = tmp_path_factory.mktemp("dvc")
    repo, remote = root / "repo", root / "remote"
    leftovers = ("__pycache__", "data", "run.json", "metrics.json", "dvc.lock", ".dvc")
    shutil.copytree(REPO / "pipeline", repo, ignore=shutil.ignore_patterns(*leftovers))
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["data"]["rows"] = int(ROWS)
    params["train"]["experiment"] = _name("dvc")
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = _env(mlflow_tracking_uri, root / "home")
    dvc = str(BIN / "dvc")
    for argv in (
        ["git", "init", "-q"],
        [dvc, "init", "-q"],
        [dvc, "remote", "add", "-d", "local", str(remote)],
    ):
        proc = _run(argv, repo, env)
        assert proc.returncode == 0, proc.stderr
    repro = _run([dvc, "repro"], repo, env)
    assert repro.returncode == 0, repro.stdout[-3000:] + repro.stderr[-3000:]
    push = _run([dvc, "push"], repo, env)
    assert push.returncode == 0, push.stderr
    return repo, remote, env, repro


def _lock_md5(repo: Path, stage: str, path: str) -> str:
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    (entry,) = [out for out in lock["stages"][stage]["outs"] if out["path"] == path]
    return str(entry["md5"])


def test_dvc_repro_runs_every_stage_and_writes_the_outputs(dvc_repo):
    repo, _, _, repro = dvc_repo
    for stage in ("prepare", "train", "evaluate"):
        assert f"Running stage '{stage}'" in repro.stdout
    for output in ("data/train.csv", "data/test.csv", "run.json", "metrics.json", "dvc.lock"):
        assert (repo / output).is_file(), output
    n_train = len((repo / "data/train.csv").read_text().splitlines()) - 1
    n_test = len((repo / "data/test.csv").read_text().splitlines()) - 1
    assert n_train + n_test == int(ROWS)


def test_dvc_push_puts_the_data_in_the_remote(dvc_repo):
    repo, remote, _, _ = dvc_repo
    for path in ("data/train.csv", "data/test.csv"):
        md5 = _lock_md5(repo, "prepare", path)
        stored = remote / "files" / "md5" / md5[:2] / md5[2:]
        assert stored.read_bytes() == (repo / path).read_bytes()


def test_the_run_records_the_data_version_dvc_recorded(dvc_repo):
    repo, _, _, _ = dvc_repo
    record = json.loads((repo / "run.json").read_text())
    run = MlflowClient().get_run(record["run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.tags["data.dvc_md5"] == _lock_md5(repo, "prepare", "data/train.csv")
    assert run.data.tags["data.dvc_md5_test"] == _lock_md5(repo, "prepare", "data/test.csv")
    assert {context for _, _, context in _inputs(run)} == {"training", "evaluation"}
    assert run.data.params["classifier__n_estimators"]  # logged by the graded log_training_run
    metrics = json.loads((repo / "metrics.json").read_text())
    # evaluate.py reloaded the logged model and scored the test file: what the run measured.
    for name in ("accuracy", "f1_macro", "roc_auc"):
        assert metrics[name] == pytest.approx(run.data.metrics[name])


def test_a_second_repro_does_nothing_and_a_param_change_retrains(dvc_repo):
    repo, _, env, _ = dvc_repo
    dvc = str(BIN / "dvc")
    first_run_id = json.loads((repo / "run.json").read_text())["run_id"]
    again = _run([dvc, "repro"], repo, env)
    assert again.returncode == 0, again.stderr
    assert "Running stage" not in again.stdout
    assert "Data and pipelines are up to date" in again.stdout
    for stage in ("prepare", "train", "evaluate"):
        assert f"Stage '{stage}' didn't change" in again.stdout

    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["train"]["model"] = "LogisticRegression"
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    changed = _run([dvc, "repro"], repo, env)
    assert changed.returncode == 0, changed.stdout[-3000:] + changed.stderr[-3000:]
    assert "Stage 'prepare' didn't change" in changed.stdout
    assert "Running stage 'train'" in changed.stdout
    assert "Running stage 'evaluate'" in changed.stdout
    run_id = json.loads((repo / "run.json").read_text())["run_id"]
    assert run_id != first_run_id
    run = MlflowClient().get_run(run_id)
    assert run.data.tags["model_type"] == "Pipeline"
    assert run.data.tags["model_name"] == "LogisticRegression"
    assert run.data.tags["data.dvc_md5"] == _lock_md5(repo, "prepare", "data/train.csv")


def test_mlflow_run_validate_is_the_validation_run(mlflow_tracking_uri, tmp_path):
    """``mlflow run . -e validate``: the project's run, in the experiment asked for, IS the
    validation run (its decision tag, its McNemar metrics), and exit code 1 (not promoted) is
    still a finished project run."""
    from sklearn.dummy import DummyClassifier

    from mlops_course import data, models

    X, y = data.load_maintenance(int(ROWS), seed=0)
    X_train, _, y_train, _ = data.split(X, y)
    name = naming.model_name(f"tests.pipeline-validate-{uuid.uuid4().hex[:8]}")
    good = models.make_model("LogisticRegression", X_train).fit(X_train, y_train)
    bad = models.make_model("LogisticRegression", X_train)
    bad.set_params(classifier=DummyClassifier(strategy="constant", constant=1))
    models.register_sklearn(good, X_train, name, alias="champion")
    models.register_sklearn(bad.fit(X_train, y_train), X_train, name, alias="challenger")
    experiment = _name("validate")
    argv = [str(BIN / "mlflow"), "run", str(REPO), "-e", "validate", "-P", f"model_name={name}"]
    argv += ["-P", "dataset=maintenance", "-P", f"rows={ROWS}", "--env-manager", "local"]
    argv += ["--experiment-name", experiment]
    proc = _run(argv, tmp_path, _env(mlflow_tracking_uri, tmp_path / "home"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = _runs(MlflowClient(), experiment)
    assert len(runs) == 1, "one run: the project's is the validation's"
    (run,) = runs
    assert run.data.tags["mlflow.project.entryPoint"] == "validate"
    assert run.data.tags.get("decision") == "keep_champion", "a constant model does not win"
    assert "mcnemar_pvalue" in run.data.metrics
