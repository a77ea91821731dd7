"""Each validation keeps its record: the versions' ``validation_*`` tags point at the latest
run, and ``registry details`` lists every validation run of the model, newest first."""

from __future__ import annotations

import json
import uuid

import mlflow
import mlflow.sklearn
from mlflow import MlflowClient
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

from mlops_course import data, naming
from mlops_course.cli import main
from mlops_course.models import register_sklearn


def test_registry_details_lists_every_validation(mlflow_tracking_uri, capsys):
    X_train, _, y_train, _ = data.split(*data.load_classification("iris"))
    name = f"{naming.student()}.history-{uuid.uuid4().hex[:8]}"
    mlflow.set_experiment(f"{naming.student()}/tests/validation-history")
    for model in (DummyClassifier(strategy="most_frequent"), LogisticRegression(max_iter=500)):
        register_sklearn(model.fit(X_train, y_train), X_train, name)
    client = MlflowClient(mlflow_tracking_uri)
    client.set_registered_model_alias(name, "champion", "1")
    client.set_registered_model_alias(name, "challenger", "2")
    experiment = f"{naming.student()}/tests/validation-history-{uuid.uuid4().hex[:6]}"
    base = ["validate", "--model-name", name, "--dataset", "iris", "--experiment", experiment]
    run_ids = []
    capsys.readouterr()  # MLflow's run links from the training runs
    for confidence in ("0.95", "0.999999"):  # the second asks for more evidence than 38 rows hold
        main([*base, "--confidence", confidence, "--json"])
        run_ids.append(json.loads(capsys.readouterr().out)["run_id"])

    assert main(["registry", "details", name, "--json"]) == 0
    validations = json.loads(capsys.readouterr().out)["validations"]
    assert [v["run_id"] for v in validations] == run_ids[::-1]  # both kept, newest first
    assert {(v["challenger_version"], v["champion_version"]) for v in validations} == {("2", "1")}
    assert all(v["experiment"] == experiment for v in validations)
    # The tags name the latest validation only.
    assert client.get_model_version(name, "2").tags["validation_run_id"] == run_ids[-1]

    assert main(["registry", "details", name]) == 0
    out = capsys.readouterr().out
    assert "Validations, newest first (2 shown)" in out
