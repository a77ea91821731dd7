"""Graded checks of module 02, the model registry (exercises 2.1 to 2.6).

Every check asks the registry what is really there (versions, aliases, tags, descriptions)
through ``MlflowClient``. Each test builds its own registered model, with a unique name in the
learner's namespace, from runs whose metrics the test chose; one small scikit-learn model is
logged once per module and shared by the versions, so the checks stay fast.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import cloudpickle
import mlflow
import mlflow.sklearn
import pandas as pd
import pytest
import sklearn
from mlflow import MlflowClient
from mlflow.entities import Metric
from mlflow.exceptions import MlflowException
from sklearn.linear_model import LogisticRegression

from mlops_course import data, naming, target
from mlops_course.grading import debris

MISSING_RUN = "0" * 32


# --------------------------------------------------------------------------- shared helpers
# A registered-model name no other check uses, in the learner's grading folder.
fresh_name = debris.model_name


@pytest.fixture(scope="module")
def client(mlflow_tracking_uri) -> MlflowClient:
    return MlflowClient(mlflow_tracking_uri)


@pytest.fixture
def registry(mlflow_tracking_uri):
    """The graded module of 02_model_registry, from the selected target."""
    return target.load("registry")


@pytest.fixture(scope="module")
def logged(client, mlflow_tracking_uri):
    """One run that logged a small model (``name="model"``), in a fresh experiment."""
    experiment_id = client.create_experiment(debris.experiment_name("registry"))
    X, y = data.load_classification("iris")
    model = LogisticRegression(max_iter=300).fit(X, y)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_metric("accuracy", model.score(X, y))
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            serialization_format="cloudpickle",
            pip_requirements=[
                f"scikit-learn=={sklearn.__version__}",
                f"cloudpickle=={cloudpickle.__version__}",
            ],
        )
    return SimpleNamespace(
        experiment_id=experiment_id, run_id=run.info.run_id, model_id=info.model_id
    )


def make_model(client, logged, metric_sets: list[dict[str, float]], label: str) -> str:
    """A registered model with one version per entry, each from its own run with those metrics."""
    name = fresh_name(label)
    client.create_registered_model(name)
    for metrics in metric_sets:
        run = client.create_run(logged.experiment_id)
        client.log_batch(run.info.run_id, metrics=[Metric(k, v, 0, 0) for k, v in metrics.items()])
        client.set_terminated(run.info.run_id)
        client.create_model_version(
            name, f"models:/{logged.model_id}", run_id=run.info.run_id, model_id=logged.model_id
        )
    return name


def aliases(client, name: str) -> dict[str, str]:
    return dict(client.get_registered_model(name).aliases)


def version_tags(client, name: str, version) -> dict[str, str]:
    return dict(client.get_model_version(name, str(version)).tags)


def snapshot(client, name: str) -> tuple:
    """Everything a registry operation could change on one model: aliases and version tags."""
    versions = client.search_model_versions(f"name = '{name}'")
    return aliases(client, name), {v.version: (dict(v.tags), v.description) for v in versions}


def model_exists(client, name: str) -> bool:
    try:
        client.get_registered_model(name)
    except MlflowException:
        return False
    return True


# --------------------------------------------------------------------------- 2.1
@pytest.mark.exercise(
    "2.1",
    points=2,
    hint="mlflow.register_model(f'runs:/{run_id}/{artifact_path}', model_name, tags=tags), then client.update_model_version(..., description=...).",
)
def test_register_creates_versions_with_description_and_tags(registry, client, logged):
    name = fresh_name("register")
    first = registry.register_model_version(
        logged.run_id, name, description="Baseline: logistic regression.", tags={"dataset": "iris"}
    )
    assert isinstance(first, str), "return the version as a string, e.g. '1'"
    assert first == "1"
    version = client.get_model_version(name, first)
    assert version.run_id == logged.run_id, "register the model logged by run_id"
    assert logged.model_id in version.source or logged.run_id in version.source
    assert version.description == "Baseline: logistic regression."
    assert version.tags.get("dataset") == "iris"

    second = registry.register_model_version(logged.run_id, name, tags={"dataset": "iris-v2"})
    assert second == "2", "registering again under the same name adds version 2"
    assert client.get_model_version(name, "2").tags.get("dataset") == "iris-v2"
    assert len(client.search_model_versions(f"name = '{name}'")) == 2


@pytest.mark.exercise(
    "2.1",
    points=1,
    hint="Before registering, check client.get_run(run_id) and search_logged_models(...); raise ValueError and register nothing.",
)
def test_register_rejects_an_unknown_run_or_model_and_creates_nothing(registry, client, logged):
    name = fresh_name("register-bad")
    with pytest.raises(ValueError):
        registry.register_model_version(MISSING_RUN, name)
    assert not model_exists(client, name), (
        "an unknown run must not leave an empty registered model behind"
    )
    with pytest.raises(ValueError):
        registry.register_model_version(logged.run_id, name, artifact_path="no-such-model")
    assert not model_exists(client, name), (
        "a run without that model must not leave an empty registered model behind"
    )


# --------------------------------------------------------------------------- 2.2
@pytest.mark.exercise(
    "2.2",
    points=2,
    hint="Read the current holder from get_registered_model(name).aliases, set_registered_model_alias, then tag promoted_by, promotion_reason, previous_version.",
)
def test_promote_moves_the_alias_and_records_who_why_and_previous(registry, client, logged):
    name = make_model(client, logged, [{"accuracy": 0.8}, {"accuracy": 0.9}], "promote")
    assert registry.promote_to_alias(name, 1, promoted_by="alice", reason="first model") is None
    assert aliases(client, name) == {"champion": "1"}
    tags = version_tags(client, name, 1)
    assert tags.get("promoted_by") == "alice"
    assert tags.get("promotion_reason") == "first model"
    assert tags.get("previous_version") == "none", "no version held the alias before: 'none'"

    assert registry.promote_to_alias(name, "2", promoted_by="bob", reason="better") == "1"
    assert aliases(client, name) == {"champion": "2"}, "exactly one champion: the alias moved"
    tags = version_tags(client, name, 2)
    assert (tags.get("promoted_by"), tags.get("promotion_reason")) == ("bob", "better")
    assert tags.get("previous_version") == "1"
    assert version_tags(client, name, 1).get("promoted_by") == "alice", "leave v1's tags alone"


@pytest.mark.exercise(
    "2.2",
    points=1,
    hint="Use the alias argument (not always 'champion'); promoted_by=None means naming.student().",
)
def test_promote_to_another_alias_by_default_user(registry, client, logged):
    name = make_model(client, logged, [{"accuracy": 0.8}, {"accuracy": 0.9}], "challenger")
    client.set_registered_model_alias(name, "champion", "1")
    assert registry.promote_to_alias(name, 2, alias="challenger") is None
    assert aliases(client, name) == {"champion": "1", "challenger": "2"}
    assert version_tags(client, name, 2).get("promoted_by") == naming.student()


@pytest.mark.exercise(
    "2.2",
    points=2,
    hint="Check model and version first (ValueError); if the version already holds the alias return it untouched; move the alias BEFORE writing tags.",
)
def test_promote_bad_input_changes_nothing(registry, client, logged):
    name = make_model(client, logged, [{"accuracy": 0.8}, {"accuracy": 0.9}], "promote-bad")
    registry.promote_to_alias(name, 1, promoted_by="alice", reason="first")
    before = snapshot(client, name)

    with pytest.raises(ValueError):
        registry.promote_to_alias(fresh_name("missing"), 1)
    with pytest.raises(ValueError):
        registry.promote_to_alias(name, 7)
    assert snapshot(client, name) == before, "an unknown version must change nothing"

    assert registry.promote_to_alias(name, 1, promoted_by="bob", reason="again") == "1"
    assert snapshot(client, name) == before, (
        "v1 already holds the alias: change nothing (above all, not previous_version)"
    )

    with pytest.raises((ValueError, MlflowException)):  # MLflow reserves "latest"
        registry.promote_to_alias(name, 2, alias="latest")
    assert snapshot(client, name) == before, "a refused alias must leave no tags behind"


# --------------------------------------------------------------------------- 2.3
@pytest.mark.exercise(
    "2.3",
    points=2,
    hint="Read the metric from client.get_run(version.run_id).data.metrics; promote when value >= threshold and there is no champion.",
)
def test_auto_promote_meets_threshold_or_changes_nothing(registry, client, logged):
    name = make_model(client, logged, [{"accuracy": 0.80}, {"accuracy": 0.92}], "auto")
    before = snapshot(client, name)
    assert registry.auto_promote(name, 1, metric="accuracy", threshold=0.85) is False
    assert snapshot(client, name) == before, "below the threshold: change nothing"

    assert registry.auto_promote(name, "2", metric="accuracy", threshold=0.92) is True, (
        "a value equal to the threshold meets it"
    )
    assert aliases(client, name) == {"champion": "2"}
    tags = version_tags(client, name, 2)
    assert tags.get("previous_version") == "none"
    assert "accuracy" in tags.get("promotion_reason", ""), "the reason names the metric"
    assert tags.get("promoted_by") == naming.student()


@pytest.mark.exercise(
    "2.3",
    points=2,
    hint="Look up the current holder of the alias; the candidate must beat its metric strictly.",
)
def test_auto_promote_must_beat_the_champion(registry, client, logged):
    scores = [{"accuracy": 0.92}, {"accuracy": 0.90}, {"accuracy": 0.92}, {"accuracy": 0.95}]
    name = make_model(client, logged, scores, "beat")
    client.set_registered_model_alias(name, "champion", "1")
    before = snapshot(client, name)
    assert registry.auto_promote(name, 2, metric="accuracy", threshold=0.85) is False
    assert registry.auto_promote(name, 3, metric="accuracy", threshold=0.85) is False, (
        "a tie does not beat the champion"
    )
    assert snapshot(client, name) == before
    assert registry.auto_promote(name, 4, metric="accuracy", threshold=0.85) is True
    assert aliases(client, name) == {"champion": "4"}
    assert version_tags(client, name, 4).get("previous_version") == "1"
    assert registry.auto_promote(name, 4, metric="accuracy", threshold=0.85) is False, (
        "the version already holds the alias: nothing to promote"
    )


@pytest.mark.exercise(
    "2.3",
    points=1,
    hint="With greater_is_better=False both comparisons flip: value <= threshold and value < champion's.",
)
def test_auto_promote_when_lower_is_better(registry, client, logged):
    name = make_model(client, logged, [{"rmse": 40.0}, {"rmse": 55.0}, {"rmse": 30.0}], "rmse")
    kwargs = {"metric": "rmse", "threshold": 50.0, "greater_is_better": False}
    assert registry.auto_promote(name, 1, **kwargs) is True
    assert registry.auto_promote(name, 2, **kwargs) is False
    assert registry.auto_promote(name, 3, alias="challenger", **kwargs) is True
    assert aliases(client, name) == {"champion": "1", "challenger": "3"}
    assert registry.auto_promote(name, 3, **kwargs) is True
    assert aliases(client, name) == {"champion": "3", "challenger": "3"}


@pytest.mark.exercise(
    "2.3",
    points=1,
    hint="Unknown model or version, or a metric the run did not log: raise ValueError before changing anything.",
)
def test_auto_promote_bad_input_changes_nothing(registry, client, logged):
    name = make_model(client, logged, [{"accuracy": 0.9}, {"f1": 0.9}], "auto-bad")
    before = snapshot(client, name)
    with pytest.raises(ValueError):
        registry.auto_promote(name, 2, metric="accuracy", threshold=0.5)
    with pytest.raises(ValueError):
        registry.auto_promote(name, 9, metric="accuracy", threshold=0.5)
    with pytest.raises(ValueError):
        registry.auto_promote(fresh_name("missing"), 1, metric="accuracy", threshold=0.5)
    assert snapshot(client, name) == before


# --------------------------------------------------------------------------- 2.4
@pytest.mark.exercise(
    "2.4",
    points=2,
    hint="One column per version (as str), one row per metric (index named 'metric', sorted), NaN where a run lacks it.",
)
def test_compare_puts_versions_side_by_side(registry, client, logged):
    runs = [{"accuracy": 0.81, "f1_macro": 0.79}, {"accuracy": 0.88, "rmse": 1.5}]
    name = make_model(client, logged, runs, "compare")
    table = registry.compare_versions(name, [1, 2])
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == ["1", "2"], "one column per version, labelled '1', '2'"
    assert table.index.name == "metric"
    assert list(table.index) == ["accuracy", "f1_macro", "rmse"], "every metric, sorted by name"
    for column, metrics in zip(["1", "2"], runs, strict=True):
        for metric in table.index:
            expected = metrics.get(metric, math.nan)
            assert table.loc[metric, column] == pytest.approx(expected, nan_ok=True), (
                f"version {column}, {metric}"
            )


@pytest.mark.exercise(
    "2.4",
    points=1,
    hint="Keep the order of `versions` and of `metrics`; raise ValueError for an unknown version or a metric no run logged.",
)
def test_compare_chosen_metrics_and_bad_input(registry, client, logged):
    runs = [{"accuracy": 0.81, "f1_macro": 0.79}, {"accuracy": 0.88, "f1_macro": 0.9}]
    name = make_model(client, logged, runs, "compare-some")
    table = registry.compare_versions(name, ["2", "1"], metrics=["f1_macro", "accuracy"])
    assert list(table.columns) == ["2", "1"]
    assert list(table.index) == ["f1_macro", "accuracy"]
    assert table.loc["f1_macro", "2"] == pytest.approx(0.9)
    assert table.loc["accuracy", "1"] == pytest.approx(0.81)
    with pytest.raises(ValueError):
        registry.compare_versions(name, [1, 5])
    with pytest.raises(ValueError):
        registry.compare_versions(name, [1, 2], metrics=["accuracy", "auc"])
    with pytest.raises(ValueError):
        registry.compare_versions(fresh_name("missing"), [1])


# --------------------------------------------------------------------------- 2.5
def promoted_chain(client, logged, label: str, n: int = 3) -> str:
    """v1 -> v2 -> ... -> vn promoted in turn, tagged as promote_to_alias leaves them."""
    name = make_model(client, logged, [{"accuracy": 0.8 + i / 100} for i in range(n)], label)
    previous = "none"
    for version in range(1, n + 1):
        client.set_registered_model_alias(name, "champion", str(version))
        client.set_model_version_tag(name, str(version), "previous_version", previous)
        client.set_model_version_tag(name, str(version), "promoted_by", "alice")
        previous = str(version)
    return name


@pytest.mark.exercise(
    "2.5",
    points=2,
    hint="Move the alias to the current holder's previous_version tag; tag the demoted version rolled_back_by and rollback_reason.",
)
def test_rollback_moves_the_alias_back_one_step_at_a_time(registry, client, logged):
    name = promoted_chain(client, logged, "rollback")
    target_tags = version_tags(client, name, 2)
    assert registry.rollback(name, rolled_back_by="carol", reason="errors up") == "2"
    assert aliases(client, name) == {"champion": "2"}
    tags = version_tags(client, name, 3)
    assert (tags.get("rolled_back_by"), tags.get("rollback_reason")) == ("carol", "errors up")
    assert version_tags(client, name, 2) == target_tags, "do not change the target's tags"
    assert registry.rollback(name) == "1", "a second rollback goes one step further back"
    assert aliases(client, name) == {"champion": "1"}
    assert version_tags(client, name, 2).get("rolled_back_by") == naming.student()


@pytest.mark.exercise(
    "2.5",
    points=1,
    hint="to_version, when given, is the target; the alias argument says which alias to move.",
)
def test_rollback_to_a_chosen_version_and_alias(registry, client, logged):
    name = promoted_chain(client, logged, "rollback-to", n=4)
    client.set_registered_model_alias(name, "challenger", "4")
    assert registry.rollback(name, to_version=1) == "1"
    assert aliases(client, name) == {"champion": "1", "challenger": "4"}
    client.set_model_version_tag(name, "4", "previous_version", "2")
    assert registry.rollback(name, alias="challenger") == "2"
    assert aliases(client, name) == {"champion": "1", "challenger": "2"}


@pytest.mark.exercise(
    "2.5",
    points=2,
    hint="ValueError, nothing changed, when: no model, no version holds the alias, previous_version is 'none', or the target was deleted.",
)
def test_rollback_bad_input_changes_nothing(registry, client, logged):
    with pytest.raises(ValueError):
        registry.rollback(fresh_name("missing"))

    name = promoted_chain(client, logged, "rollback-bad", n=3)
    with pytest.raises(ValueError):
        registry.rollback(name, alias="challenger")  # no version holds it
    client.set_registered_model_alias(name, "champion", "1")  # v1 records no previous champion
    before = snapshot(client, name)
    with pytest.raises(ValueError):
        registry.rollback(name)
    assert snapshot(client, name) == before

    client.set_registered_model_alias(name, "champion", "3")
    client.delete_model_version(name, "2")  # the previous champion is gone
    before = snapshot(client, name)
    with pytest.raises(ValueError):
        registry.rollback(name)
    with pytest.raises(ValueError):
        registry.rollback(name, to_version=8)
    assert snapshot(client, name) == before
    assert registry.rollback(name, to_version=3) == "3", "already there: return it unchanged"
    assert snapshot(client, name) == before


# --------------------------------------------------------------------------- 2.6
@pytest.fixture(scope="module")
def tagged_model(client, logged):
    """A model with 11 versions; versions 2 and 10 are validated, only 10 by team b."""
    name = make_model(client, logged, [{"accuracy": 0.5}] * 11, "find")
    client.set_model_version_tag(name, "2", "validation_status", "passed")
    client.set_model_version_tag(name, "2", "team", "a")
    client.set_model_version_tag(name, "10", "validation_status", "passed")
    client.set_model_version_tag(name, "10", "team", "b")
    client.set_model_version_tag(name, "5", "validation_status", "failed")
    client.set_model_version_tag(name, "5", "team", "b")
    return name


@pytest.mark.exercise(
    "2.6",
    points=1,
    hint="search_model_versions(\"name = '...' AND tags.`key` = 'value'\"); sort the versions with key=int.",
)
def test_find_versions_by_tags(registry, tagged_model):
    assert registry.find_versions(tagged_model, tags={"validation_status": "passed"}) == [
        "2",
        "10",
    ], "sort numerically: '2' before '10'"
    assert registry.find_versions(
        tagged_model, tags={"validation_status": "passed", "team": "b"}
    ) == ["10"], "every tag must match (AND)"
    assert registry.find_versions(tagged_model, tags={"team": "c"}) == []


@pytest.mark.exercise(
    "2.6", points=1, hint="No tags: every version of that model only; an unknown model: []."
)
def test_find_versions_without_tags_and_for_unknown_models(registry, client, tagged_model, logged):
    other = make_model(client, logged, [{"accuracy": 0.5}], "find-other")
    client.set_model_version_tag(other, "1", "validation_status", "passed")
    assert registry.find_versions(tagged_model) == [str(v) for v in range(1, 12)]
    assert registry.find_versions(tagged_model, tags={}) == [str(v) for v in range(1, 12)]
    assert registry.find_versions(other, tags={"validation_status": "passed"}) == ["1"]
    assert registry.find_versions(fresh_name("missing")) == []
