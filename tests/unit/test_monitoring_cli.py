"""``mlops-course monitor``: the reference monitoring tool, against a real MLflow server."""

from __future__ import annotations

import json
import uuid

import mlflow
import mlflow.sklearn
import pandas as pd
import pytest
from mlflow import MlflowClient
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlops_course import data, naming, target
from mlops_course.cli import main
from mlops_course.models import register_sklearn


@pytest.fixture(scope="module")
def stream():
    return data.production_stream(days=8, drift_day=4, batch_size=150, kind="data")


@pytest.fixture(scope="module")
def champion(mlflow_tracking_uri, stream):
    """A registered churn model whose version 1 holds the alias champion."""
    numeric = [c for c in stream.reference_X.columns if c != "region"]
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["region"]), (StandardScaler(), numeric)
        ),
        LogisticRegression(max_iter=500),
    ).fit(stream.reference_X, stream.reference_y)
    name = naming.model_name(f"cli-monitor-{uuid.uuid4().hex[:8]}")
    experiment = f"{naming.student()}/tests/cli-monitor"
    register_sklearn(model, stream.reference_X, name, experiment=experiment, alias="champion",
                     input_example=stream.reference_X.head(3))  # fmt: skip
    return name


def write_day(tmp_path, stream, day):
    batch = stream.batches[day]
    features, labels = tmp_path / f"day{day}.csv", tmp_path / f"labels{day}.csv"
    batch.X.to_csv(features, index=False)
    batch.y.to_frame().to_csv(labels, index=False)
    return str(features), str(labels)


def test_drift_command_matches_the_solution(tmp_path, capsys, stream):
    ref, stable, drifted = tmp_path / "ref.csv", tmp_path / "stable.csv", tmp_path / "drift.csv"
    stream.reference_X.to_csv(ref, index=False)
    stream.batches[0].X.to_csv(stable, index=False)
    stream.batches[7].X.to_csv(drifted, index=False)
    args = ["monitor", "drift", "--reference", str(ref), "--categorical", "is_premium", "--json"]
    assert main([*args, "--current", str(drifted)]) == 1
    out = json.loads(capsys.readouterr().out)
    expected = target.load("monitoring", "solutions").drift_report(
        stream.reference_X, stream.batches[7].X, categorical=["is_premium"]
    )
    assert out["dataset_drift"] is True
    assert [c["column"] for c in out["columns"] if c["drift"]] == list(
        expected.loc[expected["drift"], "column"]
    )
    assert {"method", "score", "threshold", "psi"} <= set(out["columns"][0])
    assert main(args[:-1] + ["--current", str(stable)]) == 0
    assert "columns drift" in capsys.readouterr().out


def test_drift_says_when_psi_is_unreliable_on_few_rows(tmp_path, capsys):
    """A 38-row reference whose column has 20 distinct values gets one bin per value: PSI
    swings on a row or two, and the output says so (a large reference gets no note)."""
    import numpy as np

    rng = np.random.default_rng(0)
    small = pd.DataFrame({"x": np.arange(38) % 20, "y": rng.normal(size=38)})
    current = pd.DataFrame({"x": rng.integers(0, 20, 38), "y": rng.normal(size=38)})
    ref, cur = tmp_path / "ref.csv", tmp_path / "cur.csv"
    small.to_csv(ref, index=False)
    current.to_csv(cur, index=False)
    argv = ["monitor", "drift", "--reference", str(ref), "--current", str(cur)]
    main(argv)
    out = capsys.readouterr().out
    assert "Note: PSI is unreliable on 38 reference rows for x (20 bins)" in out, out
    main([*argv, "--json"])
    columns = {c["column"]: c for c in json.loads(capsys.readouterr().out)["columns"]}
    assert columns["x"]["psi_reliable"] is False

    big = pd.DataFrame({"x": rng.integers(0, 20, 2000), "y": rng.normal(size=2000)})
    big.to_csv(ref, index=False)
    main(argv)
    assert "unreliable" not in capsys.readouterr().out


def test_drift_command_bad_input(tmp_path, capsys, stream):
    ref = tmp_path / "ref.csv"
    stream.reference_X.to_csv(ref, index=False)
    stream.batches[0].X.drop(columns=["income"]).to_csv(tmp_path / "cur.csv", index=False)
    base = ["monitor", "drift", "--reference", str(ref)]
    assert main([*base, "--current", str(tmp_path / "missing.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main([*base, "--current", str(tmp_path / "cur.csv")]) == 2
    assert "lacks the reference's columns ['income']" in capsys.readouterr().err
    assert main([*base, "--current", str(ref), "--categorical", "nope"]) == 2
    assert "unknown columns ['nope']" in capsys.readouterr().err


def test_track_report_check_and_plot(tmp_path, capsys, stream, champion, mlflow_tracking_uri):
    experiment = f"{naming.student()}/tests/monitor-{uuid.uuid4().hex[:8]}"
    exp = ["--experiment", experiment]

    # Nothing tracked yet: a clear error, exit 2.
    assert main(["monitor", "check-degradation", *exp]) == 2
    assert "No monitoring experiment" in capsys.readouterr().err

    for day in range(3):
        features, labels = write_day(tmp_path, stream, day)
        code = main(
            ["monitor", "track", "--model-name", champion, "--input", features, "--labels", labels]
            + [*exp, "--json"]
        )
        captured = capsys.readouterr()
        assert code == 0, captured.err
        tracked = json.loads(captured.out)
        assert tracked["day"] == day  # the day after the last one, by default
        assert tracked["labels"] is True and tracked["metrics"]["n_rows"] == 150

    assert main(["monitor", "check-degradation", "--window", "2", *exp]) == 2
    err = capsys.readouterr().err
    assert "Insufficient data for degradation analysis: 3 batches" in err and "need 4" in err

    # Day 3 arrives without labels, then its labels a day later: still one run for the day.
    features, labels = write_day(tmp_path, stream, 3)
    assert main(["monitor", "track", "--model-name", champion, "--input", features, *exp]) == 0
    assert "Tracked day 3" in capsys.readouterr().out
    args = ["--input", features, "--labels", labels, "--day", "3", *exp]
    assert main(["monitor", "track", "--model-name", champion, *args]) == 0
    assert "with labels" in capsys.readouterr().out
    runs = MlflowClient().search_runs(
        [MlflowClient().get_experiment_by_name(experiment).experiment_id]
    )
    assert len(runs) == 4

    code = main(["monitor", "check-degradation", "--window", "2", "--threshold", "0.5", *exp, "--json"])  # fmt: skip
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_batches"] == 4 and result["degraded"] is False
    assert main(["monitor", "check-degradation", "--window", "2", "--threshold", "-1", *exp]) == 1
    assert "DEGRADED" in capsys.readouterr().out

    assert main(["monitor", "report", "--days", "3", *exp, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n_batches"] == 3 and report["days"] == [1, 2, 3]
    assert set(report["summary"]) == {"accuracy", "f1_score"}
    assert main(["monitor", "report", *exp]) == 0
    assert "4 batches" in capsys.readouterr().out

    output = tmp_path / "plots" / "trend.png"
    assert main(["monitor", "plot", "--output", str(output), *exp]) == 0
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_track_unknown_model(tmp_path, capsys, stream, mlflow_tracking_uri):
    features, _ = write_day(tmp_path, stream, 0)
    experiment = f"{naming.student()}/tests/monitor-{uuid.uuid4().hex[:8]}"
    code = main(["monitor", "track", "--model-name", "no-such-model", "--input", features])
    assert code == 2
    assert "registry list" in capsys.readouterr().err
    assert MlflowClient().get_experiment_by_name(experiment) is None  # nothing changed
    assert main(["monitor"]) == 2


# ----------------------------------------------------------------------------- nothing is lost
def runs_of(experiment: str) -> list:
    found = MlflowClient().get_experiment_by_name(experiment)
    return [] if found is None else MlflowClient().search_runs([found.experiment_id])


def test_track_columns_mlflow_refuses_in_metric_names(tmp_path, capsys, mlflow_tracking_uri):
    """scikit-learn's own frames name columns `sepal length (cm)`: MLflow refuses parentheses
    in metric names. They are tracked under safe names, the run keeps the mapping."""
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    name = naming.model_name(f"cli-monitor-sklearn-names-{uuid.uuid4().hex[:8]}")
    experiment = f"{naming.student()}/tests/cli-monitor"
    register_sklearn(
        model, X, name, experiment=experiment, alias="champion", input_example=X.head(3)
    )
    X.to_csv(tmp_path / "batch.csv", index=False)
    y.to_frame("target").to_csv(tmp_path / "labels.csv", index=False)
    experiment = f"{naming.student()}/tests/monitor-{uuid.uuid4().hex[:8]}"
    argv = ["monitor", "track", "--model-name", name, "--input", str(tmp_path / "batch.csv")]
    argv += ["--labels", str(tmp_path / "labels.csv"), "--experiment", experiment, "--json"]
    assert main(argv) == 0, capsys.readouterr().err
    tracked = json.loads(capsys.readouterr().out)
    assert tracked["renamed_columns"]["sepal length cm"] == "sepal length (cm)"

    run = MlflowClient().get_run(tracked["run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.metrics["sepal length cm_mean"] == pytest.approx(X["sepal length (cm)"].mean())
    assert run.data.metrics["prediction_mean"] == pytest.approx(model.predict(X).mean())
    assert run.data.metrics["accuracy"] == pytest.approx((model.predict(X) == y).mean())
    mapping = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/column_names.json")
    assert mapping == {
        "sepal length cm": "sepal length (cm)",
        "sepal width cm": "sepal width (cm)",
        "petal length cm": "petal length (cm)",
        "petal width cm": "petal width (cm)",
    }
    assert [r.info.status for r in runs_of(experiment)] == ["FINISHED"]


def test_track_non_numeric_cells_is_one_line(tmp_path, capsys, stream, champion):
    batch = stream.batches[0].X.astype(object)
    batch.iloc[7, list(batch.columns).index("income")] = "a lot"
    batch.to_csv(tmp_path / "batch.csv", index=False)
    experiment = f"{naming.student()}/tests/monitor-{uuid.uuid4().hex[:8]}"
    argv = ["monitor", "track", "--model-name", champion, "--input", str(tmp_path / "batch.csv")]
    assert main([*argv, "--experiment", experiment]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    assert "the model cannot score" in err and "column income" in err, err
    assert runs_of(experiment) == [], "nothing tracked"


def test_a_run_left_open_by_a_failure_is_marked_failed(
    tmp_path, capsys, stream, champion, monkeypatch
):
    """The graded code opens the day's run with MlflowClient.create_run; when MLflow refuses
    what follows, the run must end FAILED, not stay RUNNING."""
    from mlops_course.cli import monitoring as monitor

    solutions = target.load("monitoring", "solutions")

    def track_batch(model, X, *, day, experiment_name, y_true=None, tracking_uri=None):
        client = MlflowClient(tracking_uri)
        experiment_id = client.create_experiment(experiment_name)
        run = client.create_run(experiment_id, tags={solutions.DAY_TAG: str(day)})
        client.log_metric(run.info.run_id, "mean (cm)", 1.0)  # MLflow refuses the name
        return run.info.run_id

    monkeypatch.setattr(
        monitor,
        "_monitoring",
        lambda: type("M", (), {"DAY_TAG": solutions.DAY_TAG, "track_batch": track_batch}),
    )
    features, _ = write_day(tmp_path, stream, 0)
    experiment = f"{naming.student()}/tests/monitor-{uuid.uuid4().hex[:8]}"
    argv = ["monitor", "track", "--model-name", champion, "--input", features]
    assert main([*argv, "--experiment", experiment]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    assert "MLflow refused" in err and "marked FAILED" in err, err
    assert [r.info.status for r in runs_of(experiment)] == ["FAILED"]


def test_experiment_is_kept_in_the_namespace(tmp_path, capsys, stream, champion):
    topic = f"tests/monitor-{uuid.uuid4().hex[:8]}"
    features, _ = write_day(tmp_path, stream, 0)
    argv = ["monitor", "track", "--model-name", champion, "--input", features, "--json"]
    assert main([*argv, "--experiment", topic]) == 0
    assert json.loads(capsys.readouterr().out)["experiment"] == f"{naming.student()}/{topic}"
    assert MlflowClient().get_experiment_by_name(topic) is None
    assert main(["monitor", "report", "--experiment", topic, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_batches"] == 1


def test_track_asks_which_version_when_a_prediction_log_holds_two(tmp_path, capsys):
    log = tmp_path / "predictions.csv"
    pd.DataFrame(
        {
            "logged_at": ["2026-12-01T10:00:00", "2026-12-01T10:05:00"],
            "request_id": ["a", "b"],
            "model_version": [1, 2],
            "x": [0.5, 0.7],
            "prediction": [0, 1],
        }
    ).to_csv(log, index=False)
    argv = ["monitor", "track", "--model-name", "m", "--input", str(log)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "holds answers of versions 1, 2: pass --version V" in err and len(err.splitlines()) == 1
    assert main([*argv, "--version", "3"]) == 2
    assert "no answer of version 3 (versions in it: 1, 2)" in capsys.readouterr().err
