"""Graded checks of module 02, the model registry (exercises 2.1 to 2.7).

Every check asks the registry what is really there (versions, aliases, tags, descriptions)
through ``MlflowClient``. Each test builds its own registered model, with a unique name in the
learner's namespace, from runs whose metrics the test chose; one small scikit-learn model is
logged once per module and shared by the versions, so the checks stay fast.
"""

from __future__ import annotations

import math
import tempfile
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
from sklearn.metrics import accuracy_score

from mlops_course import data, naming, target
from mlops_course.grading import debris

MISSING_RUN = "0" * 32


# --------------------------------------------------------------------------- shared helpers


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
    name = debris.model_name(label)
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
    hints=(
        "A registered version is a pointer to a model a run logged, plus what you say about it: its tags and its description belong to the version, not to the run.",
        "Notebook 02, '2. Three ways to register' (way 1, from a run) and 'Descriptions and tags'; mlflow.register_model and MlflowClient.update_model_version.",
        "Register 'runs:/<run_id>/<artifact_path>' under model_name with the tags in the same call, then set the description on the version it returned; return version as str.",
    ),
)
def test_register_creates_versions_with_description_and_tags(registry, client, logged):
    name = debris.model_name("register")
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
    hints=(
        "Check before you write: registering first and validating afterwards leaves an empty registered model behind.",
        "Notebook 02, '2. Three ways to register', the cell that checks a run before registering; MlflowClient.get_run and search_logged_models.",
        "get_run raises MlflowException for an unknown id: turn it into ValueError; search the run's experiment for a logged model with source_run_id and name = artifact_path, none found: ValueError.",
    ),
)
def test_register_rejects_an_unknown_run_or_model_and_creates_nothing(registry, client, logged):
    name = debris.model_name("register-bad")
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
    hints=(
        "A promotion is an alias that moves, plus a record on the new holder: who, why, and which version held the alias before (the way back).",
        "Notebook 02, '3. Aliases: which version plays which role'; get_registered_model(...).aliases, set_registered_model_alias, set_model_version_tag.",
        "Read the old holder from the model's aliases dict BEFORE moving it; then tag the promoted version promoted_by, promotion_reason, previous_version (old holder or 'none').",
    ),
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
    hints=(
        "The function promotes to any alias, not only champion, and someone is always responsible: no name given means you.",
        "Notebook 02, '3. Aliases: which version plays which role' (a version may carry several aliases); naming.student().",
        "Pass the alias argument through everywhere you wrote 'champion'; promoted_by or naming.student().",
    ),
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
    hints=(
        "Bad input, or a promotion that is already done, must leave the registry exactly as it was.",
        "Notebook 02, 'Bad input changes nothing' in section 3; MlflowException from get_registered_model and get_model_version; reserved aliases latest and v<digits>.",
        "Look up model and version first (ValueError); return early when the version already holds the alias; call set_registered_model_alias before any set_model_version_tag.",
    ),
)
def test_promote_bad_input_changes_nothing(registry, client, logged):
    name = make_model(client, logged, [{"accuracy": 0.8}, {"accuracy": 0.9}], "promote-bad")
    registry.promote_to_alias(name, 1, promoted_by="alice", reason="first")
    before = snapshot(client, name)

    with pytest.raises(ValueError):
        registry.promote_to_alias(debris.model_name("missing"), 1)
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
    hints=(
        "A gate: promote only when the candidate's own metric is good enough; a value equal to the threshold meets it.",
        "Notebook 02, '5. An approval workflow'; a version's metrics live in its run: client.get_run(version.run_id).data.metrics.",
        "value >= threshold (not >); when the gate opens, promote as 2.2 does, with a reason that contains the metric's name and value.",
    ),
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
    hints=(
        "Meeting the threshold is not enough: a challenger must be strictly better than the champion, and a tie is no evidence of improvement.",
        "Notebook 02, '5. An approval workflow', steps 3 and 4; the current holder comes from the registered model's aliases.",
        "Read the metric of the version holding the alias too, and promote only when value > that (strictly); already the holder: return False.",
    ),
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
    hints=(
        "For an error such as rmse, smaller is better: both comparisons, the threshold and the champion, turn around.",
        "Notebook 02, '5. An approval workflow'; the greater_is_better argument.",
        "With greater_is_better=False use value <= threshold and value < champion's value; the alias argument picks which holder to beat.",
    ),
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
    hints=(
        "A candidate that cannot be judged (unknown, or its run never logged the metric) is an error, not a quiet 'no'.",
        "Notebook 02, 'Bad input changes nothing' in section 3, and '5. An approval workflow'.",
        "Raise ValueError for an unknown model or version (MlflowException) and when the metric is missing from the run's metrics, before touching anything.",
    ),
)
def test_auto_promote_bad_input_changes_nothing(registry, client, logged):
    name = make_model(client, logged, [{"accuracy": 0.9}, {"f1": 0.9}], "auto-bad")
    before = snapshot(client, name)
    with pytest.raises(ValueError):
        registry.auto_promote(name, 2, metric="accuracy", threshold=0.5)
    with pytest.raises(ValueError):
        registry.auto_promote(name, 9, metric="accuracy", threshold=0.5)
    with pytest.raises(ValueError):
        registry.auto_promote(debris.model_name("missing"), 1, metric="accuracy", threshold=0.5)
    assert snapshot(client, name) == before


# --------------------------------------------------------------------------- 2.4
@pytest.mark.exercise(
    "2.4",
    points=2,
    hints=(
        "One column per version, one row per metric: the shape in which a difference shows at a glance; a metric a run never logged is missing (NaN), not zero.",
        "Notebook 02, '6. Comparing versions side by side'; pandas.DataFrame from a dict of columns, pd.Index(..., name=...).",
        "Collect each version's run metrics into {str(version): {metric: value}}, take the union of the names sorted, and fill math.nan where one is absent.",
    ),
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
    # The first version's metrics come last in the alphabet: sorted, not in the order seen.
    name = make_model(client, logged, [{"val_loss": 0.3}, {"accuracy": 0.9}], "compare-sort")
    assert list(registry.compare_versions(name, [1, 2]).index) == ["accuracy", "val_loss"], (
        "every metric of any run, sorted by name (not in the order first seen)"
    )


@pytest.mark.exercise(
    "2.4",
    points=1,
    hints=(
        "The caller decides the order: versions and metrics appear as asked; asking for something that does not exist is an error.",
        "Notebook 02, '6. Comparing versions side by side'; the metrics argument.",
        "Keep the order of versions and of metrics; ValueError for an unknown version (MlflowException) and for a metric that no run logged.",
    ),
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
        registry.compare_versions(debris.model_name("missing"), [1])


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
    hints=(
        "A rollback follows the record the promotion left: the alias goes back to the previous holder, and the demoted version says who rolled it back and why.",
        "Notebook 02, '7. Rolling back'; the previous_version tag written by 2.2.",
        "Target = previous_version tag of the current holder; move the alias there; tag the version it left rolled_back_by and rollback_reason; leave the target's tags alone.",
    ),
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
    hints=(
        "A rollback may go to a version you name, and may move any alias, not only champion.",
        "Notebook 02, '7. Rolling back'; the to_version and alias arguments.",
        "When to_version is not None it is the target (skip the tag); read and move the alias given as argument.",
    ),
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
    hints=(
        "No way back is an error, and an error changes nothing: no holder, no recorded previous version, or a target that was deleted.",
        "Notebook 02, 'Bad input changes nothing' in section 3, and '7. Rolling back'.",
        "ValueError when: the model is unknown, the alias has no holder, previous_version is missing or 'none', get_model_version(target) fails; target == current: return it.",
    ),
)
def test_rollback_bad_input_changes_nothing(registry, client, logged):
    with pytest.raises(ValueError):
        registry.rollback(debris.model_name("missing"))

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
    hints=(
        "Let the server filter: every tag you ask for must match (AND), and version numbers sort as numbers, not as text.",
        "Notebook 02, '8. Searching the registry'; search_model_versions with a filter string on name and tags.",
        "Join name = '...' and one tags.`key` = 'value' clause per tag with AND; sort the versions with key=int.",
    ),
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
    "2.6",
    points=1,
    hints=(
        "No tags asked: every version of that one model (and only that model); an unknown model simply has none.",
        "Notebook 02, '8. Searching the registry'; the name clause of the filter.",
        "Always filter on name = the model's name; tags None or {} adds no clause; an unknown name returns [] (not an error).",
    ),
)
def test_find_versions_without_tags_and_for_unknown_models(registry, client, tagged_model, logged):
    other = make_model(client, logged, [{"accuracy": 0.5}], "find-other")
    client.set_model_version_tag(other, "1", "validation_status", "passed")
    assert registry.find_versions(tagged_model) == [str(v) for v in range(1, 12)]
    assert registry.find_versions(tagged_model, tags={}) == [str(v) for v in range(1, 12)]
    assert registry.find_versions(other, tags={"validation_status": "passed"}) == ["1"]
    assert registry.find_versions(debris.model_name("missing")) == []


@pytest.mark.exercise(
    "2.6",
    points=1,
    hints=(
        "A tag value is any text, quotes included: a search must still find O'Brien's version.",
        "Notebook 02, '8. Searching the registry', the part on quotes in filter strings.",
        "MLflow's filter strings have no escape character: put a value containing ' between "
        'double quotes (one with " between single quotes), and check the tags of what comes back.',
    ),
)
def test_find_versions_with_quotes_in_tags(registry, client, logged):
    name = make_model(client, logged, [{"accuracy": 0.5}] * 4, "find-quotes")
    values = {"1": "O'Brien", "2": 'say "hi"', "3": 'it\'s "x"', "4": "plain"}
    for version, value in values.items():
        client.set_model_version_tag(name, version, "owner", value)
        client.set_model_version_tag(name, version, "data.source", f"s{version}")
    for version, value in values.items():
        assert registry.find_versions(name, tags={"owner": value}) == [version], (
            f"the version whose owner tag is {value!r}"
        )
    assert registry.find_versions(name, tags={"owner": "O'Brien", "data.source": "s1"}) == ["1"]
    assert registry.find_versions(name, tags={"owner": "O'Brien", "data.source": "s2"}) == []


# --------------------------------------------------------------------------- 2.7 (open)
@pytest.fixture(scope="module")
def flowers(mlflow_tracking_uri):
    """What the learner's set_up_flowers_champion leaves, called once for the three checks."""
    name = debris.model_name("flowers")
    returned = target.load("registry").set_up_flowers_champion(
        name, experiment_name=debris.experiment_name("flowers")
    )
    X, y = data.load_classification("iris")
    _, X_test, _, y_test = data.split(X, y)
    return SimpleNamespace(name=name, returned=returned, X_test=X_test, y_test=y_test)


def predictions(uri: str, X) -> list:
    with tempfile.TemporaryDirectory() as tmp:
        model = mlflow.pyfunc.load_model(uri, dst_path=tmp)
    return list(pd.Series(model.predict(X)).to_numpy().ravel())


def held_out_accuracies(client, flowers) -> dict[str, float]:
    """Every version's accuracy on the test part of the course's iris split, measured here."""
    versions = client.search_model_versions(f"name = '{flowers.name}'")
    return {
        v.version: accuracy_score(
            flowers.y_test, predictions(f"models:/{flowers.name}/{v.version}", flowers.X_test)
        )
        for v in versions
    }


@pytest.mark.exercise(
    "2.7",
    points=1,
    hints=(
        "Serving code only knows models:/<name>@champion: that URI must load a model that "
        "predicts iris species.",
        "Notebook 02, '9. Putting it together'; your own 2.1 and 2.2, and mlflow.pyfunc.load_model.",
        "Train and log at least two different classifiers, register each under model_name, put "
        "champion on one, and return model_name.",
    ),
)
def test_flowers_champion_alias_serves_a_model(flowers, client):
    assert flowers.returned == flowers.name, "return the registered model's name"
    assert "champion" in aliases(client, flowers.name), "no version holds the alias champion"
    predicted = predictions(f"models:/{flowers.name}@champion", flowers.X_test)
    assert len(predicted) == len(flowers.X_test)
    assert set(predicted) <= set(flowers.y_test), "the champion predicts iris labels (0, 1, 2)"


@pytest.mark.exercise(
    "2.7",
    points=2,
    hints=(
        "'Best' is judged on data no version was trained on, and among every version of the "
        "model, not only those you just made.",
        "Notebook 02, '9. Putting it together' and '6. Comparing versions side by side'; "
        "data.split gives the course's train and test parts.",
        "Score each version on X_test from data.split(X, y), e.g. with accuracy_score, and "
        "promote the version with the highest score.",
    ),
)
def test_flowers_champion_is_the_best_version_on_held_out_data(flowers, client):
    scores = held_out_accuracies(client, flowers)
    assert len(scores) >= 2, "register at least two versions: a champion needs a rival"
    distinct = {tuple(predictions(f"models:/{flowers.name}/{v}", flowers.X_test)) for v in scores}
    assert len(distinct) >= 2, "at least two versions must predict differently"
    champion = aliases(client, flowers.name).get("champion")
    assert champion in scores, "no version holds the alias champion"
    assert scores[champion] == pytest.approx(max(scores.values())), (
        f"champion v{champion} scores {scores[champion]:.3f} on held-out data; "
        f"the best version scores {max(scores.values()):.3f} ({scores})"
    )


@pytest.mark.exercise(
    "2.7",
    points=1,
    hints=(
        "A champion you can trust has a way back: the version to return to is recorded.",
        "Notebook 02, '7. Rolling back': rollback reads the champion's previous_version tag.",
        "Promote another version to champion first, then the best one, with your "
        "promote_to_alias: the second promotion records the first as previous_version.",
    ),
)
def test_flowers_a_rollback_target_exists(flowers, client):
    champion = aliases(client, flowers.name).get("champion")
    assert champion, "no version holds the alias champion"
    previous = version_tags(client, flowers.name, champion).get("previous_version")
    assert previous and previous != "none", (
        f"champion v{champion} records no previous_version: a rollback has nowhere to go"
    )
    assert previous != champion, "the rollback target must be another version"
    existing = {v.version for v in client.search_model_versions(f"name = '{flowers.name}'")}
    assert previous in existing, f"previous_version {previous} is not a version of the model"
