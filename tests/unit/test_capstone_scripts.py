"""The capstone's workflows as shell scripts (``capstone/*.sh``): each one run with bash, its
``mlops-course`` calls reaching the session's MLflow server, then checked by what it left in
MLflow (aliases, tags, runs), never by its output alone.

The scripts share one registered model, in the order a learner runs them (01 makes the
champion that 02 and 03 need; 04 brings its own two releases). Data and search sizes are
shrunk through the scripts' own ``CAPSTONE_*`` variables.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from mlflow import MlflowClient

from mlops_course import naming

CAPSTONE = Path(__file__).resolve().parents[2] / "capstone"
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.skipif(
    not (shutil.which("bash") and shutil.which("curl")), reason="needs bash and curl"
)


@pytest.fixture(scope="module")
def env(mlflow_tracking_uri, tmp_path_factory) -> dict[str, str]:
    suffix = uuid.uuid4().hex[:8]
    return {
        **os.environ,
        "MLFLOW_TRACKING_URI": mlflow_tracking_uri,
        "MLOPS_COURSE_HOME": str(tmp_path_factory.mktemp("capstone-home")),
        "MLOPS_COURSE": str(BIN / "mlops-course"),
        "CAPSTONE_PYTHON": sys.executable,
        "CAPSTONE_MODEL": f"capstone-test-{suffix}",
        "CAPSTONE_EXPERIMENT": f"tests/capstone-{suffix}",
        "CAPSTONE_ROWS": "400",
        "CAPSTONE_TRAIN_MODELS": "RandomForest LogisticRegression",
        "CAPSTONE_TRAFFIC_ROWS": "40",
        "CAPSTONE_TUNE_ITER": "2",
        "CAPSTONE_TUNE_CV": "2",
        "CAPSTONE_WINDOW": "1",
        "CAPSTONE_ROWS_PER_DAY": "150",
    }


@pytest.fixture(scope="module")
def client(mlflow_tracking_uri) -> MlflowClient:
    return MlflowClient(mlflow_tracking_uri)


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("capstone-work")


class Ran:
    """One script's run: its exit code, output, working folder and monitoring experiment."""

    def __init__(self, proc: subprocess.CompletedProcess, folder: Path, monitoring: str):
        self.code, self.out, self.err = proc.returncode, proc.stdout, proc.stderr
        self.folder, self.monitoring = folder, monitoring

    def json(self, name: str) -> dict:
        return json.loads((self.folder / name).read_text())

    def __repr__(self) -> str:  # what a failed assert shows
        return f"exit {self.code}\n--- stdout\n{self.out[-3000:]}\n--- stderr\n{self.err[-6000:]}"


def run(script: str, env: dict[str, str], work: Path, **overrides: str) -> Ran:
    run_id = f"{script[:2]}-{uuid.uuid4().hex[:6]}"
    folder = work / run_id
    started = time.perf_counter()
    proc = subprocess.run(
        ["bash", str(CAPSTONE / script)],
        env={**env, "CAPSTONE_RUN": run_id, "CAPSTONE_WORK": str(folder), **overrides},
        cwd=work,
        capture_output=True,
        text=True,
        timeout=900,
    )
    print(f"{script}: exit {proc.returncode} in {time.perf_counter() - started:.0f} s")
    experiment = overrides.get("CAPSTONE_EXPERIMENT", env["CAPSTONE_EXPERIMENT"])
    return Ran(proc, folder, f"{naming.student()}/{experiment}-monitoring-{run_id}")


def day_runs(client: MlflowClient, experiment_name: str) -> dict[int, object]:
    experiment = client.get_experiment_by_name(experiment_name)
    assert experiment is not None, f"no monitoring experiment {experiment_name}"
    runs = client.search_runs([experiment.experiment_id], "tags.`monitoring.day` != ''")
    return {int(r.data.tags["monitoring.day"]): r for r in runs}


@pytest.fixture(scope="module")
def model_name(env) -> str:
    return naming.model_name(env["CAPSTONE_MODEL"])


@pytest.fixture(scope="module")
def first(env, work) -> Ran:
    return run("01_train_to_production.sh", env, work)


def test_01_trains_promotes_serves_and_tracks(first, client, model_name):
    assert first.code == 0, first
    trained = {r["run_id"] for r in first.json("train.json")["runs"]}
    champion = client.get_model_version_by_alias(model_name, "champion")
    assert champion.run_id == first.json("train.json")["best_run_id"]
    assert champion.run_id in trained
    assert "challenger" not in client.get_registered_model(model_name).aliases, "it has won"
    assert champion.tags["validation_decision"] == "promote"
    # The served answers, tracked as day 0 by the version that answered them.
    answered = (first.folder / "predictions.csv").read_text().splitlines()[1:]
    assert answered, first
    day0 = day_runs(client, first.monitoring)[0]
    assert day0.data.metrics["n_rows"] == len(answered)
    assert "prediction_mean" in day0.data.metrics
    # The prediction server was stopped by its PID.
    pid = int((first.folder / "serve.pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_02_tunes_and_lets_mcnemar_decide(first, env, work, client, model_name):
    assert first.code == 0, first
    before = client.get_registered_model(model_name).aliases["champion"]
    second = run("02_model_update.sh", env, work)
    assert second.code in (0, 1), second
    validation = second.json("validate.json")
    version = second.json("register.json")["version"]
    assert validation["promoted"] is (second.code == 0), "exit 0 means promoted"
    assert validation["challenger_version"] == version
    assert validation["champion_version"] == before
    assert validation["mcnemar"] is not None, "a champion to compare with: McNemar ran"
    tuned = client.get_model_version(model_name, version)
    assert tuned.run_id == second.json("tune.json")["parent_run_id"]
    assert tuned.tags["validation_decision"] == validation["decision"]
    assert tuned.tags["validation_run_id"] == validation["run_id"]
    aliases = client.get_registered_model(model_name).aliases
    if second.code == 0:
        assert aliases["champion"] == version
        assert aliases["previous_champion"] == before
    else:
        assert aliases["champion"] == before
        assert aliases["challenger"] == version
    assert validation["reason"] in second.out, "the reason is shown"


def test_03_scores_tracks_labels_later_and_checks(first, env, work, client, model_name):
    assert first.code == 0, first
    # Accuracy falls from the drifted day on: the check finds it and the script exits 1.
    third = run("03_batch_pipeline.sh", env, work, CAPSTONE_DRIFT="data")
    assert third.code == 1, third
    assert third.json("check.json")["degraded"] is True
    assert "DEGRADED" in third.err
    champion = client.get_registered_model(model_name).aliases["champion"]
    days = day_runs(client, third.monitoring)
    assert sorted(days) == [0, 1]
    for day, tracked in days.items():
        predictions = third.json(f"day_{day:03d}_predictions.json")
        assert predictions["model_version"] == champion
        assert tracked.data.metrics["n_rows"] == predictions["rows"] == 150
        assert {"prediction_mean", "accuracy", "f1_score"} <= set(tracked.data.metrics)
        assert third.json(f"day_{day:03d}_tracked.json")["labels"] is False, "labels come later"
    assert days[1].data.metrics["accuracy"] < days[0].data.metrics["accuracy"]


def test_04_rolls_back_and_the_registry_says_why(env, work, client, model_name):
    fourth = run("04_rollback.sh", env, work)
    assert fourth.code == 0, fourth
    old, new = fourth.json("old.json")["version"], fourth.json("new.json")["version"]
    model = client.get_registered_model(model_name)
    assert model.aliases["champion"] == old
    rolled_back = client.get_model_version(model_name, new).tags
    assert rolled_back["rollback_reason"].startswith("accuracy fell")
    assert rolled_back["rolled_back_by"] == naming.student()
    assert rolled_back["previous_version"] == old
    assert fourth.json("check.json")["degraded"] is True


@pytest.mark.parametrize(
    ("script", "override", "failed_step"),
    [
        ("01_train_to_production.sh", {"CAPSTONE_TRAIN_MODELS": "RandomForest Nope"}, "train"),
        ("03_batch_pipeline.sh", {"CAPSTONE_MODEL": "no-such-model"}, "find the model"),
    ],
)
def test_a_broken_step_stops_the_script_naming_it(env, work, script, override, failed_step):
    broken = run(script, env, work, **override, CAPSTONE_EXPERIMENT=f"tests/broken-{script[:2]}")
    assert broken.code == 2, broken
    assert f'step "{failed_step}" failed (exit 2)' in broken.err, broken
    assert "==> " not in broken.err.split(f'step "{failed_step}" failed')[1], "it stopped there"


def test_a_failure_while_serving_still_stops_the_server(first, env, work, tmp_path):
    # An mlops-course whose `monitor` fails, the step after the traffic; `train` and `validate`
    # answer what they answered in the first run (they are not what this test is about).
    fake = tmp_path / "mlops-course"
    fake.write_text(
        "#!/usr/bin/env bash\n"
        'case "$1" in\n'
        f"  train) cat {first.folder / 'train.json'} ;;\n"
        f"  validate) cat {first.folder / 'validate.json'}; exit 1 ;;\n"
        '  monitor) echo "error: monitoring is down" >&2; exit 2 ;;\n'
        f'  *) exec {BIN / "mlops-course"} "$@" ;;\n'
        "esac\n"
    )
    fake.chmod(0o755)
    broken = run("01_train_to_production.sh", env, work, MLOPS_COURSE=str(fake))
    assert broken.code == 2, broken
    assert 'step "monitor track" failed (exit 2)' in broken.err, broken
    assert "stopping the prediction server" in broken.err
    assert (broken.folder / "predictions.csv").exists(), "it served traffic first"
    pid = int((broken.folder / "serve.pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
