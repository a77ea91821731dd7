"""``mlops-course registry``: the reference registry tool, against a real MLflow server.

Every command runs in process through ``mlops_course.cli.main`` (the race test runs two real
processes). Each test builds its own registered model, with a unique name in the learner's
namespace; the versions share logged-model entities made without artifacts, so set-up is fast.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from types import SimpleNamespace

import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric
from mlflow.exceptions import MlflowException

from mlops_course import naming
from mlops_course.cli import main


@pytest.fixture(scope="module")
def client(mlflow_tracking_uri) -> MlflowClient:
    return MlflowClient(mlflow_tracking_uri)


@pytest.fixture(scope="module")
def experiment_id(client) -> str:
    return client.create_experiment(f"{naming.student()}/cli-registry-{uuid.uuid4().hex[:8]}")


def run_with_model(client, experiment_id, metrics: dict[str, float]) -> SimpleNamespace:
    """A run with these metrics and a logged model called ``model`` (no files). Left running:
    ending it prints a "View run" line into the captured output."""
    run = client.create_run(experiment_id)
    run_id = run.info.run_id
    client.log_batch(run_id, metrics=[Metric(k, v, 0, 0) for k, v in metrics.items()])
    model = client.create_logged_model(experiment_id, name="model", source_run_id=run_id)
    return SimpleNamespace(run_id=run_id, model_id=model.model_id)


@pytest.fixture
def make_model(client, experiment_id):
    def make(metric_sets: list[dict[str, float]]) -> str:
        name = naming.model_name(f"cli-{uuid.uuid4().hex[:10]}")
        client.create_registered_model(name)
        for metrics in metric_sets:
            run = run_with_model(client, experiment_id, metrics)
            client.create_model_version(
                name, f"models:/{run.model_id}", run_id=run.run_id, model_id=run.model_id
            )
        return name

    return make


def snapshot(client, name: str):
    model = client.get_registered_model(name)
    versions = client.search_model_versions(f"name = '{name}'")
    return dict(model.aliases), {v.version: dict(v.tags) for v in versions}


def as_json(capsys) -> dict | list:
    return json.loads(capsys.readouterr().out)


# ----------------------------------------------------------------------------- reading
def test_list_shows_my_models_with_versions_and_aliases(client, make_model, capsys):
    name = make_model([{"accuracy": 0.9}, {"accuracy": 0.8}, {"accuracy": 0.7}])
    client.set_registered_model_alias(name, "champion", "2")
    assert main(["registry", "list", "--json"]) == 0
    rows = {r["name"]: r for r in as_json(capsys)}
    assert rows[name]["versions"] == 3
    assert rows[name]["latest_version"] == "3"
    assert rows[name]["aliases"] == {"champion": "2"}
    assert all(n.startswith(f"{naming.student()}.") for n in rows), "your namespace by default"

    assert main(["registry", "list"]) == 0
    out = capsys.readouterr().out
    assert name in out and "@champion → v2" in out


def test_list_all_and_prefix(client, make_model, capsys):
    name = make_model([{"accuracy": 0.9}])
    outsider = f"zz-other-learner-{uuid.uuid4().hex[:6]}.model"
    client.create_registered_model(outsider)
    assert main(["registry", "list", "--all", "--json"]) == 0
    names = {r["name"] for r in as_json(capsys)}
    assert {name, outsider} <= names
    assert main(["registry", "list", "--prefix", name, "--json"]) == 0
    assert [r["name"] for r in as_json(capsys)] == [name]


def test_details_accepts_a_bare_name_in_my_namespace(client, make_model, capsys):
    name = make_model([{"accuracy": 0.9}, {"accuracy": 0.95}])
    client.set_registered_model_alias(name, "challenger", "2")
    client.set_model_version_tag(name, "2", "team", "a")
    bare = name.split(".", 1)[1]
    assert main(["registry", "details", bare, "--json"]) == 0
    info = as_json(capsys)
    assert info["name"] == name
    assert [v["version"] for v in info["versions"]] == ["2", "1"]
    assert info["versions"][0]["aliases"] == ["challenger"]
    assert info["versions"][0]["tags"] == {"team": "a"}
    assert main(["registry", "details", name]) == 0
    assert "@challenger" in capsys.readouterr().out


def test_compare_prints_a_table_and_json(make_model, capsys):
    name = make_model([{"accuracy": 0.8, "f1_macro": 0.7}, {"accuracy": 0.9, "rmse": 2.0}])
    assert main(["registry", "compare", name, "1", "2", "--json"]) == 0
    result = as_json(capsys)
    assert result["metrics"]["accuracy"] == {"1": 0.8, "2": 0.9}
    assert result["metrics"]["rmse"] == {"1": None, "2": 2.0}
    assert main(["registry", "compare", name, "1", "2", "--metric", "accuracy"]) == 0
    out = capsys.readouterr().out
    assert "0.8000" in out and "+0.1000" in out and "rmse" not in out


# ----------------------------------------------------------------------------- changing
def test_register_a_short_name_in_your_namespace_then_list_shows_it(client, experiment_id, capsys):
    """The source material's "register, then list the models": a name without your prefix
    becomes `<you>.NAME` (as every other command reads it), so `list` shows it."""
    run = run_with_model(client, experiment_id, {"accuracy": 0.9})
    short = f"cli-short-{uuid.uuid4().hex[:8]}"
    argv = ["registry", "register", "--run-id", run.run_id, "--name", short, "--json"]
    assert main(argv) == 0
    assert as_json(capsys)["name"] == naming.model_name(short)
    assert main(["registry", "list", "--json"]) == 0
    assert naming.model_name(short) in {m["name"] for m in as_json(capsys)}
    assert main(argv) == 0  # the short name again: the same model, a second version
    assert as_json(capsys)["version"] == "2"


def test_register_with_alias_tags_and_description(client, experiment_id, capsys):
    run = run_with_model(client, experiment_id, {"accuracy": 0.9})
    name = naming.model_name(f"cli-register-{uuid.uuid4().hex[:8]}")
    argv = ["registry", "register", "--run-id", run.run_id, "--name", name]
    argv += ["--alias", "challenger", "--tag", "team=a", "--tag", "data=iris", "--json"]
    assert main([*argv, "--description", "first"]) == 0
    assert as_json(capsys)["version"] == "1"
    version = client.get_model_version(name, "1")
    assert version.tags["team"] == "a" and version.tags["data"] == "iris"
    assert version.description == "first"
    assert dict(client.get_registered_model(name).aliases) == {"challenger": "1"}


def test_promote_asks_first_and_changes_nothing_on_no(client, make_model, monkeypatch, capsys):
    name = make_model([{"accuracy": 0.8}, {"accuracy": 0.9}])
    client.set_registered_model_alias(name, "champion", "1")
    before = snapshot(client, name)
    monkeypatch.setattr(sys, "stdin", type("TTY", (), {"isatty": lambda self: True})())
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert main(["registry", "promote", name, "2"]) == 1
    assert snapshot(client, name) == before
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert main(["registry", "promote", name, "2", "--reason", "better"]) == 0
    assert dict(client.get_registered_model(name).aliases) == {
        "champion": "2",
        "previous_champion": "1",
    }
    tags = client.get_model_version(name, "2").tags
    assert tags["previous_version"] == "1" and tags["promotion_reason"] == "better"
    capsys.readouterr()


@pytest.mark.parametrize(
    "argv",
    [
        ["promote", "{name}", "1"],
        ["auto-promote", "{name}", "1", "--metric", "accuracy", "--threshold", "0.5"],
        ["rollback", "{name}", "--to", "1"],
    ],
    ids=["promote", "auto-promote", "rollback"],
)
def test_without_a_terminal_a_question_is_refused_not_waited_on(argv, client, make_model, capsys):
    name = make_model([{"accuracy": 0.8}, {"accuracy": 0.9}])
    client.set_registered_model_alias(name, "champion", "2")
    before = snapshot(client, name)
    capsys.readouterr()  # MLflow's "Waiting ... for model version" lines
    with open(os.devnull) as no_terminal, pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "stdin", no_terminal)
        mp.setattr("builtins.input", lambda prompt: pytest.fail("asked without a terminal"))
        code = main(["registry", *[a.format(name=name) for a in argv]])
    out, err = capsys.readouterr()
    assert code == 2 and out == "", (out, err)
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("error: ") and "no terminal; pass --yes" in err
    assert snapshot(client, name) == before


def test_promote_without_a_terminal_needs_yes(client, make_model, capsys):
    name = make_model([{"accuracy": 0.8}])
    assert main(["registry", "promote", name, "1"]) == 2  # pytest's stdin is no terminal
    assert "--yes" in capsys.readouterr().err
    assert dict(client.get_registered_model(name).aliases) == {}
    assert main(["registry", "promote", name, "1", "--yes", "--json"]) == 0
    assert as_json(capsys)["changed"] is True
    assert main(["registry", "promote", name, "1", "--yes", "--json"]) == 0
    assert as_json(capsys)["changed"] is False


def test_every_promotion_records_the_previous_champion_the_same_way(client, make_model, capsys):
    """promote, register --alias and auto-promote leave what validate leaves: previous_version
    on the new champion, @previous_champion on the old one, no @challenger on the winner."""
    name = make_model([{"accuracy": 0.8}, {"accuracy": 0.9}, {"accuracy": 0.95}])
    assert main(["registry", "promote", name, "1", "--yes"]) == 0
    capsys.readouterr()
    client.set_registered_model_alias(name, "challenger", "2")
    assert main(["registry", "promote", name, "2", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "@champion → v2 (was v1)" in out
    assert "servers of @champion switch within 5 s" in out
    assert dict(client.get_registered_model(name).aliases) == {
        "champion": "2",
        "previous_champion": "1",
    }
    assert client.get_model_version(name, "2").tags["previous_version"] == "1"

    base = ["--metric", "accuracy", "--threshold", "0.5", "--yes", "--json"]
    assert main(["registry", "auto-promote", name, "3", *base]) == 0
    assert as_json(capsys)["promoted"] is True
    assert dict(client.get_registered_model(name).aliases) == {
        "champion": "3",
        "previous_champion": "2",
    }

    run = client.get_run(client.get_model_version(name, "1").run_id)
    argv = ["registry", "register", "--run-id", run.info.run_id, "--name", name]
    assert main([*argv, "--alias", "champion", "--yes", "--json"]) == 0
    new = as_json(capsys)["version"]
    assert dict(client.get_registered_model(name).aliases) == {
        "champion": new,
        "previous_champion": "3",
    }
    assert client.get_model_version(name, new).tags["previous_version"] == "3"


def test_auto_promote_and_rollback(client, make_model, capsys):
    name = make_model([{"accuracy": 0.9}, {"accuracy": 0.85}, {"accuracy": 0.95}])
    base = ["--metric", "accuracy", "--threshold", "0.8", "--yes", "--json"]
    assert main(["registry", "auto-promote", name, "1", *base]) == 0
    assert as_json(capsys)["promoted"] is True
    assert main(["registry", "auto-promote", name, "2", *base]) == 0
    assert as_json(capsys)["promoted"] is False, "0.85 does not beat the champion's 0.9"
    assert main(["registry", "auto-promote", name, "3", *base]) == 0
    assert as_json(capsys)["holder"] == "3"

    assert main(["registry", "rollback", name, "--yes", "--json"]) == 0
    assert as_json(capsys)["version"] == "1"
    # The version rolled back from is the previous champion now.
    assert dict(client.get_registered_model(name).aliases) == {
        "champion": "1",
        "previous_champion": "3",
    }
    assert client.get_model_version(name, "3").tags["rolled_back_by"] == naming.student()
    assert main(["registry", "rollback", name, "--to", "2", "--yes"]) == 0
    assert dict(client.get_registered_model(name).aliases) == {
        "champion": "2",
        "previous_champion": "1",
    }
    capsys.readouterr()


# ----------------------------------------------------------------------------- bad input
BAD = {
    "unknown model": ["promote", "{missing}", "1", "--yes"],
    "unknown model (details)": ["details", "{missing}"],
    "unknown version": ["promote", "{name}", "7", "--yes"],
    "not a version": ["promote", "{name}", "two", "--yes"],
    "deleted version": ["promote", "{name}", "3", "--yes"],
    "reserved alias": ["promote", "{name}", "2", "--alias", "latest", "--yes"],
    "unknown run": ["register", "--run-id", "0" * 32, "--name", "{name}", "--yes"],
    "name MLflow rejects": ["register", "--run-id", "{run_id}", "--name", "a/b:c", "--yes"],
    "bad tag": ["register", "--run-id", "{run_id}", "--name", "{name}", "--tag", "oops"],
    "missing metric": ["auto-promote", "{name}", "2", "--metric", "auc", "--threshold", "0", "-y"],
    "threshold nan": ["auto-promote", "{name}", "2", "--metric", "accuracy", "--threshold", "nan"],
    "threshold -inf": ["auto-promote", "{name}", "2", "--metric", "accuracy", "--threshold=-inf"],
    "no action": [],
    "unknown action": ["demote", "{name}"],
    "compare missing metric": ["compare", "{name}", "1", "2", "--metric", "auc"],
    "compare unknown version": ["compare", "{name}", "1", "9"],
    "nothing to roll back": ["rollback", "{name}", "--yes"],
    "rollback to deleted": ["rollback", "{name}", "--to", "3", "--yes"],
    "no such alias": ["rollback", "{name}", "--alias", "challenger", "--yes"],
}


@pytest.fixture(scope="module")
def victim(client, experiment_id):
    """One model for every bad-input case (each checks that nothing changed): v1 @champion
    with no previous champion recorded, v2, and v3 deleted; plus a run with a model."""
    name = naming.model_name(f"cli-bad-{uuid.uuid4().hex[:8]}")
    client.create_registered_model(name)
    for accuracy in (0.8, 0.9, 0.7):
        run = run_with_model(client, experiment_id, {"accuracy": accuracy})
        client.create_model_version(
            name, f"models:/{run.model_id}", run_id=run.run_id, model_id=run.model_id
        )
    client.set_registered_model_alias(name, "champion", "1")
    client.delete_model_version(name, "3")
    run = run_with_model(client, experiment_id, {"accuracy": 0.5})
    return SimpleNamespace(name=name, run_id=run.run_id)


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_line_exit_2_and_changes_nothing(case, client, victim, capsys):
    name = victim.name
    missing = naming.model_name(f"missing-{uuid.uuid4().hex[:6]}")
    before = snapshot(client, name)
    models_before = {m.name for m in client.search_registered_models(max_results=1000)}

    argv = [a.format(name=name, missing=missing, run_id=victim.run_id) for a in BAD[case]]
    capsys.readouterr()  # drop what the set-up printed
    assert main(["registry", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    assert snapshot(client, name) == before
    assert {m.name for m in client.search_registered_models(max_results=1000)} <= models_before


def test_two_promotions_racing_leave_exactly_one_champion(client, make_model, mlflow_tracking_uri):
    name = make_model([{"accuracy": 0.8}, {"accuracy": 0.9}])
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow_tracking_uri}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "mlops_course.cli", "registry", "promote", name, v, "--yes"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for v in ("1", "2")
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    champion = client.get_registered_model(name).aliases.get("champion")
    assert champion in {"1", "2"}
    holders = [v for v in ("1", "2") if "champion" in client.get_model_version(name, v).aliases]
    assert holders == [champion], "exactly one version holds @champion"
    assert client.get_model_version_by_alias(name, "champion").version == champion
    with pytest.raises(MlflowException):
        client.get_model_version_by_alias(name, "challenger")
