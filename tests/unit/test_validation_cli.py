"""`mlops-course validate`: exit codes (0 promoted, 1 not, 2 error), output, and what moved.

Runs in-process against the session's MLflow server; models are registered here with MLflow's
own API, so the tests do not depend on module 02.
"""

from __future__ import annotations

import json
import sys
import uuid

import mlflow
import mlflow.sklearn
import pytest
from mlflow import MlflowClient
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from mlops_course import data, naming, plots
from mlops_course.cli import main
from mlops_course.models import register_sklearn


@pytest.fixture(scope="module")
def cancer():
    X, y = data.load_classification("breast_cancer")
    return data.split(X, y)  # the same split as `--dataset breast_cancer`


@pytest.fixture(scope="module")
def client(mlflow_tracking_uri) -> MlflowClient:
    return MlflowClient(mlflow_tracking_uri)


def untrained(kind: str, columns):
    """ "weak": the most frequent class; "two-columns": a logistic regression that sees only the
    first two columns; "strong": a random forest."""
    if kind == "weak":
        return DummyClassifier(strategy="most_frequent")
    if kind == "two-columns":
        keep = ColumnTransformer([("keep", "passthrough", list(columns[:2]))])
        return make_pipeline(keep, LogisticRegression(max_iter=1000))
    return RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0)


@pytest.fixture
def make_model(mlflow_tracking_uri, client):
    """Register versions of a fresh model: make_model("weak", "strong") -> (name, versions),
    trained on the training split of ``dataset`` (default breast_cancer)."""
    mlflow.set_experiment(f"{naming.student()}/cli-validate-training")

    def make(*kinds: str, dataset: str = "breast_cancer") -> tuple[str, list[str]]:
        X_train, _, y_train, _ = data.split(*data.load_classification(dataset))
        name = f"{naming.student()}.cli-validate-{uuid.uuid4().hex[:8]}"
        versions = []
        for kind in kinds:
            model = untrained(kind, X_train.columns).fit(X_train, y_train)
            versions.append(register_sklearn(model, X_train, name))
        return name, versions

    return make


@pytest.fixture
def experiment() -> str:
    return f"{naming.student()}/cli-validate-{uuid.uuid4().hex[:8]}"


def aliases(client, name) -> dict[str, str]:
    return dict(client.get_registered_model(name).aliases)


def run_count(client, experiment_name) -> int:
    found = client.get_experiment_by_name(experiment_name)
    return 0 if found is None else len(client.search_runs([found.experiment_id]))


def test_dry_run_then_auto_promote(make_model, client, experiment, capsys, tmp_path):
    name, (weak, strong) = make_model("weak", "strong")
    client.set_registered_model_alias(name, "champion", weak)
    client.set_registered_model_alias(name, "challenger", strong)
    base = ["validate", "--model-name", name, "--dataset", "breast_cancer"]
    base += ["--experiment", experiment]

    assert main(base) == 1, "without --auto-promote nothing is promoted: exit 1"
    out = capsys.readouterr().out
    assert "Recommendation: promote" in out and "McNemar's test" in out and "f1_macro" in out
    assert "--auto-promote" in out
    assert aliases(client, name) == {"champion": weak, "challenger": strong}

    plots = tmp_path / "plots"
    assert main([*base, "--auto-promote", "--save-plots", str(plots), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["promoted"] is True and summary["decision"] == "promote"
    assert (summary["champion_version"], summary["challenger_version"]) == (weak, strong)
    assert summary["mcnemar"]["c"] > summary["mcnemar"]["b"]
    assert summary["power"] is None, "power explains insufficient evidence only"
    assert set(summary["metrics"]) >= {"accuracy", "f1_macro", "precision_weighted"}
    assert aliases(client, name) == {"champion": strong, "previous_champion": weak}
    assert sorted(p.name for p in plots.iterdir()) == [
        "confusion_matrices.png",
        "metrics_comparison.png",
    ]
    assert run_count(client, experiment) == 2

    # The promotion left what `registry promote` leaves: `registry rollback` needs no --to.
    assert client.get_model_version(name, strong).tags["previous_version"] == weak
    assert main(["registry", "rollback", name, "--yes", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == weak
    assert aliases(client, name)["champion"] == weak


def test_worse_challenger_from_a_csv_is_not_promoted(
    make_model, client, cancer, experiment, capsys, tmp_path, monkeypatch
):
    name, (weak, strong) = make_model("weak", "strong")
    client.set_registered_model_alias(name, "champion", strong)
    _, X_test, _, y_test = cancer
    csv = tmp_path / "holdout.csv"
    X_test.assign(label=y_test).to_csv(csv, index=False)
    args = ["validate", "--model-name", name, "--challenger-version", weak, "--auto-promote"]
    args += ["--test-data", str(csv), "--target-column", "label", "--experiment", experiment]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "keep_champion" in out and "Not promoted" in out
    assert aliases(client, name) == {"champion": strong}

    # Promoting it by hand anyway: a warning, and a question that says why.
    asked = []
    monkeypatch.setattr(sys, "stdin", type("TTY", (), {"isatty": lambda self: True})())
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or "n")
    assert main(["registry", "promote", name, weak]) == 1
    err = capsys.readouterr().err
    assert "Warning:" in err and "'keep_champion'" in err
    assert "keep_champion" in asked[0] and asked[0].endswith("[y/N] ")
    assert aliases(client, name) == {"champion": strong}
    assert main(["registry", "promote", name, weak, "--yes", "--json"]) == 0
    assert "keep_champion" in json.loads(capsys.readouterr().out)["warning"]
    assert aliases(client, name) == {"champion": weak, "previous_champion": strong}


def test_insufficient_evidence_says_why(make_model, client, experiment, capsys):
    """Iris's 38 test flowers: a forest 13 points more accurate than a model that sees only the
    two sepal measurements (b = 0, c = 5, exact p = 0.0625) is not significant. The report
    says how rarely 38 rows show a gain of that size, and how many rows would."""
    name, (sepals, forest) = make_model("two-columns", "strong", dataset="iris")
    client.set_registered_model_alias(name, "champion", sepals)
    client.set_registered_model_alias(name, "challenger", forest)
    base = ["validate", "--model-name", name, "--dataset", "iris", "--experiment", experiment]

    assert main([*base, "--auto-promote", "--json"]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["decision"] == "insufficient_evidence" and summary["promoted"] is False
    assert (summary["mcnemar"]["b"], summary["mcnemar"]["c"]) == (0, 5)
    gain = summary["metrics"]["accuracy"]["change"]
    assert gain == pytest.approx(5 / 38), "13 points of accuracy"
    power = summary["power"]
    assert (power["n_rows"], power["discordant"], power["alpha"]) == (38, 5, pytest.approx(0.05))
    # By enumerating every (b, c) of 38 rows (tests/unit/test_validation_tools.py): 38.37 %.
    assert power["power"] == pytest.approx(0.383748, abs=1e-6)
    assert 50 <= power["rows_needed"] <= 70 and power["target_power"] == 0.8
    assert aliases(client, name) == {"champion": sepals, "challenger": forest}

    assert main(base) == 1
    out = " ".join(capsys.readouterr().out.split())  # the console wraps long lines
    assert "Recommendation: insufficient_evidence" in out
    assert (
        "With 38 test rows and 5 disagreements, this test detects a gain of this size only "
        f"38 % of the time (power); about {power['rows_needed']} rows would give 80 %."
    ) in out


def test_plots_name_the_classes(make_model, client, experiment, capsys, tmp_path, monkeypatch):
    name, (weak, strong) = make_model("weak", "strong", dataset="iris")
    client.set_registered_model_alias(name, "champion", weak)
    client.set_registered_model_alias(name, "challenger", strong)
    shown = []
    original = plots.confusion_matrices_figure

    def spy(*args, **kwargs):
        figure = original(*args, **kwargs)
        shown.append([t.get_text() for t in figure.axes[0].get_xticklabels()])
        return figure

    monkeypatch.setattr(plots, "confusion_matrices_figure", spy)
    args = ["validate", "--model-name", name, "--experiment", experiment]
    args += ["--save-plots", str(tmp_path)]
    assert main([*args, "--dataset", "iris"]) == 1
    # The last figure is the one the CLI saves (the one before, logged by validate_challenger in
    # the validation run, has no names to show: the graded code only knows the labels).
    assert shown[-1] == data.class_names("iris"), "with --dataset: the dataset's names"
    assert (tmp_path / "confusion_matrices.png").stat().st_size > 0

    _, X_test, _, y_test = data.split(*data.load_classification("iris"))
    csv = tmp_path / "holdout.csv"
    X_test.assign(target=y_test).to_csv(csv, index=False)
    assert main([*args, "--test-data", str(csv)]) == 1
    assert shown[-1] == ["0", "1", "2"], "a CSV has labels only"
    assert (
        main([*args, "--test-data", str(csv), "--class-names", "Setosa, Versicolor,Virginica"]) == 1
    )
    assert shown[-1] == ["Setosa", "Versicolor", "Virginica"]
    capsys.readouterr()


def test_first_model_is_promoted_with_a_note(make_model, client, experiment, capsys):
    name, (only,) = make_model("strong")
    client.set_registered_model_alias(name, "challenger", only)
    args = ["validate", "--model-name", name, "--dataset", "breast_cancer", "--auto-promote"]
    assert main([*args, "--experiment", experiment]) == 0
    out = capsys.readouterr().out
    assert "No champion yet" in out and "not run" in out
    assert aliases(client, name) == {"champion": only}


def test_bad_input_exits_2_and_changes_nothing(
    make_model, client, cancer, experiment, capsys, tmp_path
):
    name, (weak, strong) = make_model("weak", "strong")
    client.set_registered_model_alias(name, "champion", weak)
    client.set_registered_model_alias(name, "challenger", strong)
    _, X_test, _, y_test = cancer
    no_column = tmp_path / "no_column.csv"
    X_test.drop(columns="mean_radius").assign(target=y_test).to_csv(no_column, index=False)
    no_target = tmp_path / "no_target.csv"
    X_test.to_csv(no_target, index=False)
    a_file = tmp_path / "plots.png"
    a_file.write_bytes(b"not a folder")
    base = ["validate", "--model-name", name, "--experiment", experiment, "--auto-promote"]
    cases = {
        "cannot score": [*base, "--test-data", str(no_column)],
        "no column 'target'": [*base, "--test-data", str(no_target)],
        "does not exist": [*base, "--test-data", str(tmp_path / "missing.csv")],
        "no hold-out data": base,
        "not both": [*base, "--test-data", str(no_column), "--dataset", "iris"],
        "both champion and challenger": [
            *base,
            "--dataset",
            "breast_cancer",
            "--champion-version",
            strong,
            "--challenger-version",
            strong,
        ],
        "no version 9": [*base, "--dataset", "breast_cancer", "--challenger-version", "9"],
        "alias @nobody": [*base, "--dataset", "breast_cancer", "--challenger-alias", "nobody"],
        "--confidence": [*base, "--dataset", "breast_cancer", "--confidence", "95"],
        "must be a finite number": [*base, "--dataset", "breast_cancer", "--confidence", "nan"],
        "is a file, not a folder": [
            *base,
            "--dataset",
            "breast_cancer",
            "--save-plots",
            str(a_file),
        ],
        "'..'": [*base, "--dataset", "breast_cancer", "--experiment", "../../evil"],
        "names separated by commas": [*base, "--dataset", "iris", "--class-names", "a,,c"],
        "is a folder": [*base, "--test-data", str(tmp_path)],
        "not found": [
            "validate",
            "--model-name",
            f"{name}-missing",
            "--dataset",
            "breast_cancer",
        ],
    }
    for expected, args in cases.items():
        assert main(args) == 2, expected
        err = capsys.readouterr().err
        last = err.strip().splitlines()[-1]
        assert last.startswith("error: ") and expected in last, (expected, err)
        assert "Traceback" not in err
    assert aliases(client, name) == {"champion": weak, "challenger": strong}
    assert run_count(client, experiment) == 0, "a failed validation logs no run"
    assert client.get_experiment_by_name("../../evil") is None
    assert a_file.read_bytes() == b"not a folder"


def test_alias_and_version_are_exclusive(capsys):
    argv = ["validate", "--model-name", "m", "--champion-alias", "a", "--champion-version", "1"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "not allowed with" in err


def test_the_validation_run_stays_in_my_namespace(make_model, client, capsys):
    name, (weak, strong) = make_model("weak", "strong")
    client.set_registered_model_alias(name, "champion", weak)
    topic = f"cli-validate-{uuid.uuid4().hex[:8]}"
    args = ["validate", "--model-name", name, "--challenger-version", strong]
    assert main([*args, "--dataset", "breast_cancer", "--experiment", topic, "--json"]) == 1
    run = client.get_run(json.loads(capsys.readouterr().out)["run_id"])
    assert client.get_experiment(run.info.experiment_id).name == f"{naming.student()}/{topic}"
    assert client.get_experiment_by_name(topic) is None
