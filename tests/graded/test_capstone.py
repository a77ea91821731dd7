"""Graded checks of module 06, the capstone (exercises 6.1 to 6.5).

Each check runs one workflow on the generated predictive-maintenance data (strings, missing
readings, 7 % failures) and then asks MLflow what it left: runs, versions, aliases and tags.
Expected values are computed here from the logged models and the data, never copied from the
reference. The set-up (champions, monitoring days) is written with ``MlflowClient`` directly,
so a check depends only on the exercise it grades and on the earlier functions it composes.
"""

from __future__ import annotations

import tempfile
from types import SimpleNamespace

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric
from sklearn.dummy import DummyClassifier
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import GridSearchCV

from mlops_course import data, models, target
from mlops_course.grading import debris

DAY_TAG = "monitoring.day"  # what 5.4 tags a day's run with


@pytest.fixture
def capstone(mlflow_tracking_uri):
    """The graded module of 06_capstone, from the selected target."""
    return target.load("capstone")


@pytest.fixture(scope="module")
def client(mlflow_tracking_uri) -> MlflowClient:
    return MlflowClient(mlflow_tracking_uri)


@pytest.fixture(scope="module")
def split():
    X, y = data.load_maintenance(600, seed=3)
    X_train, X_test, y_train, y_test = data.split(X, y)
    return SimpleNamespace(X_train=X_train, X_test=X_test, y_train=y_train, y_test=y_test)


def dummy(X, **kwargs):
    """A pipeline (imputation, one-hot) ending in a DummyClassifier: a model that learns nothing."""
    pipeline = models.make_model("LogisticRegression", X)
    return pipeline.set_params(classifier=DummyClassifier(**kwargs))


def predictions(model_uri: str, X) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        return np.asarray(mlflow.pyfunc.load_model(model_uri, dst_path=tmp).predict(X))


def champion_version(client: MlflowClient, name: str, alias: str = "champion") -> str | None:
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except mlflow.exceptions.MlflowException:
        return None


def register(client, name: str, model, split, *, alias: str | None = None, tags=None) -> str:
    """A fitted copy of ``model`` as the next version of ``name`` (set-up, not graded)."""
    model.fit(split.X_train, split.y_train)
    experiment = debris.experiment_name("capstone-setup")  # never the Default experiment
    version = models.register_sklearn(
        model, split.X_train, name, alias=alias, experiment=experiment
    )
    for key, value in (tags or {}).items():
        client.set_model_version_tag(name, version, key, value)
    return version


# --------------------------------------------------------------------------- 6.1
@pytest.mark.exercise(
    "6.1",
    points=2,
    hints=(
        "A new version becomes champion because the paired evidence says it is better, and the promotion leaves the tags a rollback needs.",
        "Notebook 06, '1. Challenge the champion'; your 4.5 (validate_challenger) to decide, your 2.2 (promote_to_alias) to promote.",
        "Set @challenger with MlflowClient.set_registered_model_alias, call validate_challenger(challenger_version=version, auto_promote=False, experiment_name=...), and when result.recommendation.promote, promote_to_alias(..., alias='champion', reason=recommendation.reason).",
    ),
)
def test_a_better_version_takes_over(capstone, client, split):
    name = debris.model_name("capstone-challenge", "6.1")
    experiment = debris.experiment_name("capstone-challenge", "6.1")
    old = register(client, name, dummy(split.X_train, strategy="constant", constant=1), split,
                   alias="champion")  # fmt: skip
    new = register(client, name, models.make_model("LogisticRegression", split.X_train), split)
    returned = capstone.challenge(name, new, split.X_test, split.y_test, experiment_name=experiment)
    assert isinstance(returned, dict), "return a dict (see the docstring)"
    assert returned["decision"] == "promote" and returned["promoted"] is True, (
        "a model that always says 'failure' is beaten by one that learned something"
    )
    assert champion_version(client, name) == new
    tags = client.get_model_version(name, new).tags
    assert tags.get("previous_version") == old, "promote with 2.2: a rollback knows its way"
    assert tags.get("promotion_reason") == returned["reason"], "the recommendation's reason"
    assert tags.get("validation_decision") == "promote", "validate with 4.5 first"
    run = client.get_run(returned["validation_run_id"])
    assert run.info.experiment_id == client.get_experiment_by_name(experiment).experiment_id
    assert run.data.tags.get("decision") == "promote"


@pytest.mark.exercise(
    "6.1",
    points=2,
    hints=(
        "A version that is not better is labelled challenger and goes no further; the champion does not move.",
        "Notebook 06, '1. Challenge the champion'; @challenger is a label, a promotion is 2.2 with its tags.",
        "Promote only when result.recommendation.promote is True; never let validate_challenger auto-promote.",
    ),
)
def test_a_worse_version_stays_challenger(capstone, client, split):
    name = debris.model_name("capstone-keep-champion", "6.1")
    experiment = debris.experiment_name("capstone-keep-champion", "6.1")
    old = register(client, name, models.make_model("LogisticRegression", split.X_train), split,
                   alias="champion")  # fmt: skip
    new = register(client, name, dummy(split.X_train, strategy="constant", constant=1), split)
    returned = capstone.challenge(name, new, split.X_test, split.y_test, experiment_name=experiment)
    assert returned["promoted"] is False and returned["decision"] != "promote"
    assert champion_version(client, name) == old, "the champion stays"
    assert champion_version(client, name, "challenger") == new, "the new version is @challenger"
    tags = client.get_model_version(name, new).tags
    assert tags.get("validation_decision") == returned["decision"], "validated with 4.5"
    assert "promotion_reason" not in tags, "@challenger is a label, not a promotion"


@pytest.mark.exercise(
    "6.1",
    points=1,
    hints=(
        "The very first version has no champion to beat: it goes to production, and its tags say there was none before.",
        "Notebook 06, '1. Challenge the champion'; 4.5 without a champion recommends promoting.",
        "Nothing special to write: validate, then promote with 2.2 as for any other winner.",
    ),
)
def test_the_first_version_is_promoted(capstone, client, split):
    name = debris.model_name("capstone-first", "6.1")
    experiment = debris.experiment_name("capstone-first", "6.1")
    first = register(client, name, models.make_model("LogisticRegression", split.X_train), split)
    returned = capstone.challenge(name, first, split.X_test, split.y_test,
                                  experiment_name=experiment)  # fmt: skip
    assert returned["promoted"] is True and champion_version(client, name) == first
    assert client.get_model_version(name, first).tags.get("previous_version") == "none"


# --------------------------------------------------------------------------- 6.2
@pytest.fixture(scope="module")
def first_release(mlflow_tracking_uri, client, split):
    """6.1 on a registered model that has no version yet, with three candidates."""
    name = debris.model_name("capstone-release", "6.2")
    experiment = debris.experiment_name("capstone-release", "6.2")
    candidates = {
        "dummy": dummy(split.X_train, strategy="most_frequent"),
        "logistic": models.make_model("LogisticRegression", split.X_train),
        "forest": models.make_model("RandomForest", split.X_train),
    }
    returned = target.load("capstone").train_to_production(
        name, candidates, split.X_train, split.y_train, split.X_test, split.y_test,
        experiment_name=experiment,
    )  # fmt: skip
    return SimpleNamespace(name=name, experiment=experiment, returned=returned)


@pytest.mark.exercise(
    "6.2",
    points=3,
    hints=(
        "Every candidate gets its own run; the best of those runs (by the test metric) is the one registered, and the evidence puts the first model in production.",
        "Notebook 06, '1. From training to production'; your 1.1 for each candidate, 2.1 for the best run, then your 6.1.",
        "Log each candidate with log_training_run(run_name=name), read each run's metrics[metric], register the argmax with tags={'capstone.candidate': name}, then challenge(model_name, version, ...).",
    ),
)
def test_the_best_candidate_goes_to_production(capstone, client, split, first_release):
    returned, name = first_release.returned, first_release.name
    assert isinstance(returned, dict), "return a dict (see the docstring)"
    runs = returned["runs"]
    assert set(runs) == {"dummy", "logistic", "forest"}, "one run per candidate, by name"
    experiment = client.get_experiment_by_name(first_release.experiment)
    assert experiment is not None, "log the runs in experiment_name"
    for candidate, run_id in runs.items():
        run = client.get_run(run_id)
        assert run.info.run_name == candidate, "name each run after its candidate"
        assert run.info.experiment_id == experiment.experiment_id

    # The best by f1_macro, from what each logged model predicts (not from the logged numbers).
    scores = {
        candidate: f1_score(
            split.y_test, predictions(f"runs:/{run_id}/model", split.X_test), average="macro"
        )
        for candidate, run_id in runs.items()
    }
    best = max(scores, key=scores.get)
    assert returned["best_run_id"] == runs[best], (
        f"the best run by f1_macro is {best!r}'s ({scores[best]:.3f}); scores: "
        + ", ".join(f"{k} {v:.3f}" for k, v in scores.items())
    )
    version = returned["version"]
    assert isinstance(version, str), "the version as a string"
    registered = client.get_model_version(name, version)
    assert registered.run_id == runs[best], "register the best run's model"
    assert registered.tags.get("capstone.candidate") == best
    assert champion_version(client, name) == version, "no champion yet: the first model wins"
    assert returned["promoted"] is True and returned["decision"] == "promote"
    assert registered.tags.get("previous_version") == "none", "promote with 2.2 (its tags)"
    assert registered.tags.get("promotion_reason"), "the recommendation's reason as the reason"
    assert registered.tags.get("validation_decision") == "promote", "validate with 4.5 first"


@pytest.mark.exercise(
    "6.2",
    points=2,
    hints=(
        "A new best candidate is only a challenger until the evidence says otherwise: a worse model must never reach production.",
        "Notebook 06, '1. From training to production', the second release; 4.5's recommendation decides, not the training metric.",
        "Hand the new version to your challenge (6.1): it promotes only when the recommendation says so.",
    ),
)
def test_a_worse_release_stays_challenger(capstone, client, split, first_release):
    name = first_release.name
    before = champion_version(client, name)
    returned = capstone.train_to_production(
        name, {"constant": dummy(split.X_train, strategy="constant", constant=1)},
        split.X_train, split.y_train, split.X_test, split.y_test,
        experiment_name=first_release.experiment,
    )  # fmt: skip
    assert champion_version(client, name) == before, "a model that always says 'failure' loses"
    assert champion_version(client, name, "challenger") == returned["version"]
    assert returned["promoted"] is False and returned["decision"] != "promote"
    tags = client.get_model_version(name, returned["version"]).tags
    assert tags.get("validation_decision") == returned["decision"], "validated with 4.5"
    assert "promotion_reason" not in tags, "@challenger is a label, not a promotion"


@pytest.mark.exercise(
    "6.2",
    points=1,
    hints=(
        "No candidates is a mistake to report before anything is written.",
        "Notebook 06, '1. From training to production'; the Raises section of the docstring.",
        "Check that candidates is not empty first and raise ValueError; no run, no version.",
    ),
)
def test_no_candidates_is_refused(capstone, client, split):
    name = debris.model_name("capstone-empty", "6.2")
    experiment = debris.experiment_name("capstone-empty", "6.2")
    with pytest.raises(ValueError):
        capstone.train_to_production(
            name, {}, split.X_train, split.y_train, split.X_test, split.y_test,
            experiment_name=experiment,
        )  # fmt: skip
    assert client.search_registered_models(f"name = '{name}'") == []
    found = client.get_experiment_by_name(experiment)
    assert found is None or not client.search_runs([found.experiment_id])


# --------------------------------------------------------------------------- 6.3
GRID = {"classifier__C": [0.01, 1.0], "classifier__class_weight": [None, "balanced"]}


def tune_expected(split):
    """What scikit-learn's own search picks on the same folds and scorer."""
    search = GridSearchCV(
        models.make_model("LogisticRegression", split.X_train), GRID, cv=3, scoring="f1_macro"
    )
    return search.fit(split.X_train, split.y_train).best_params_


@pytest.mark.exercise(
    "6.3",
    points=3,
    hints=(
        "The tuned model is a new version; it replaces the champion only because McNemar's test says it is really better, and the registry records why.",
        "Notebook 06, '2. A model update'; your 1.4 for the search, best_combination for its winner, 1.1 for the final fit, 2.1, then 6.1.",
        "Read the parent's best_run_id tag, best_combination(param_grid, that child's params), clone(estimator).set_params(**best), log it with 1.1 as 'tuned' (tag tuning_run_id), register, challenge, then tag update_decision and update_reason.",
    ),
)
def test_a_tuned_challenger_replaces_a_bad_champion(capstone, client, split):
    name = debris.model_name("capstone-update", "6.3")
    experiment = debris.experiment_name("capstone-update", "6.3")
    old = register(client, name, dummy(split.X_train, strategy="constant", constant=1), split,
                   alias="champion")  # fmt: skip
    estimator = models.make_model("LogisticRegression", split.X_train)
    returned = capstone.update_with_tuning(
        name, estimator, GRID, split.X_train, split.y_train, split.X_test, split.y_test,
        experiment_name=experiment,
    )  # fmt: skip
    assert returned["best_params"] == tune_expected(split), "the search's best combination"
    children = client.search_runs(
        [client.get_experiment_by_name(experiment).experiment_id],
        f"tags.mlflow.parentRunId = '{returned['parent_run_id']}'",
    )
    assert len(children) == 4, "one child run per combination (1.4)"
    tuned = client.get_run(returned["run_id"])
    assert (
        tuned.info.run_name == "tuned"
        and tuned.data.tags.get("tuning_run_id") == (returned["parent_run_id"])
    ), "the tuned run names its search"
    for key, value in returned["best_params"].items():
        assert tuned.data.params.get(key) == str(value), f"the final fit uses {key}={value!r}"
    assert not hasattr(estimator.named_steps["classifier"], "coef_"), "leave estimator unfitted"

    version = returned["version"]
    tags = client.get_model_version(name, version).tags
    assert client.get_model_version(name, version).run_id == returned["run_id"]
    assert returned["decision"] == "promote" and returned["promoted"] is True
    assert champion_version(client, name) == version, "clearly better: promoted"
    assert tags.get("previous_version") == old, "promoted with 2.2: a rollback knows its way"
    assert tags.get("update_decision") == "promote"
    assert tags.get("update_reason"), "why it won, in words"
    assert tags.get("validation_decision") == "promote", "the decision is the validation's"


@pytest.mark.exercise(
    "6.3",
    points=2,
    hints=(
        "A challenger that is not better stays a challenger, and the registry says why it lost.",
        "Notebook 06, '2. A model update': the decision and its reason are recorded whatever they are.",
        "challenge (6.1) promotes only when allowed; set the tags update_decision and update_reason on the new version in both cases.",
    ),
)
def test_a_tuned_challenger_that_is_not_better_is_kept_out(capstone, client, split):
    name = debris.model_name("capstone-keep", "6.3")
    experiment = debris.experiment_name("capstone-keep", "6.3")
    old = register(client, name, models.make_model("RandomForest", split.X_train), split,
                   alias="champion")  # fmt: skip
    grid = {"classifier__strategy": ["most_frequent", "prior"]}
    returned = capstone.update_with_tuning(
        name, dummy(split.X_train), grid, split.X_train, split.y_train, split.X_test,
        split.y_test, experiment_name=experiment,
    )  # fmt: skip
    assert champion_version(client, name) == old, "a model that learns nothing is not promoted"
    assert champion_version(client, name, "challenger") == returned["version"]
    assert returned["promoted"] is False and returned["decision"] != "promote"
    tags = client.get_model_version(name, returned["version"]).tags
    assert tags.get("update_decision") == returned["decision"]
    assert tags.get("update_reason"), "say why it was not promoted"
    assert tags.get("validation_decision") == returned["decision"]


# --------------------------------------------------------------------------- 6.4
@pytest.fixture(scope="module")
def production(mlflow_tracking_uri, client, split):
    """A model with two versions (champion: 1), and one day of rows with ids, as a CSV."""
    name = debris.model_name("capstone-batch", "6.4")
    first = register(client, name, models.make_model("LogisticRegression", split.X_train), split,
                     alias="champion")  # fmt: skip
    second = register(client, name, dummy(split.X_train, strategy="most_frequent"), split)
    X, y = data.load_maintenance(150, seed=11, ids=True)
    X.insert(0, "reading_id", range(1000, 1000 + len(X)))  # a numeric id: still not a feature
    folder = tempfile.mkdtemp(prefix="capstone-6.4-")
    csv = f"{folder}/day.csv"
    X.to_csv(csv, index=False)
    return SimpleNamespace(
        name=name, versions=(first, second), X=X, y=y, csv=csv, folder=folder,
        experiment=debris.experiment_name("capstone-batch", "6.4"),
    )  # fmt: skip


IDS = ["reading_id", "machine_id", "timestamp"]


def features(X: pd.DataFrame) -> pd.DataFrame:
    return X.drop(columns=IDS)


@pytest.mark.exercise(
    "6.4",
    points=2,
    hints=(
        "A day's batch job leaves two things: the predictions file, and a monitoring run that says which version predicted and what the inputs looked like.",
        "Notebook 06, '3. The batch prediction pipeline'; your 3.5 (predict_csv) and 5.4 (track_batch).",
        "predict_csv(models:/name@alias, input, output); track the version it reports with the input's signature columns only (mlflow.models.get_model_info(...).signature.inputs.input_names()); tag the run model_version.",
    ),
)
def test_a_day_is_scored_and_tracked(capstone, client, production):
    output = f"{production.folder}/predictions-day-3.csv"
    returned = capstone.score_day(
        production.name, production.csv, output, day=3, experiment_name=production.experiment
    )
    first = production.versions[0]
    assert returned["rows"] == len(production.X) and returned["model_version"] == first
    written = pd.read_csv(output)
    expected = predictions(f"models:/{production.name}/{first}", features(production.X))
    assert written["prediction"].tolist() == expected.tolist(), "the champion's predictions"
    assert written["machine_id"].tolist() == production.X["machine_id"].tolist(), "ids kept"
    run = client.get_run(returned["run_id"])
    assert run.data.tags.get(DAY_TAG) == "3", "tracked with 5.4 as day 3"
    assert run.data.tags.get("model_version") == first, "tag the version that predicted"
    assert run.data.metrics.get("n_rows") == len(production.X)
    assert run.data.metrics.get("temperature_mean") == pytest.approx(
        production.X["temperature"].mean()
    )
    assert not any(key.startswith(tuple(IDS)) for key in run.data.metrics), (
        "an id is not a feature: track the model's columns only"
    )
    assert "accuracy" not in run.data.metrics, "no labels yet"


@pytest.mark.exercise(
    "6.4",
    points=1,
    hints=(
        "Labels arrive days later: the same day's run gets them, it is not a second day.",
        "Notebook 06, '3. The batch prediction pipeline'; 5.4's second call for a day.",
        "Pass y_true on to track_batch; it logs into the day's existing run.",
    ),
)
def test_labels_that_arrive_later_join_the_day(capstone, client, production):
    experiment = production.experiment + "-labels"
    out = f"{production.folder}/labels.csv"
    first = capstone.score_day(production.name, production.csv, out, day=5,
                               experiment_name=experiment)  # fmt: skip
    again = capstone.score_day(production.name, production.csv, out, day=5,
                               experiment_name=experiment, y_true=production.y)  # fmt: skip
    assert again["run_id"] == first["run_id"], "one run per day"
    predicted = predictions(f"models:/{production.name}/{production.versions[0]}",
                            features(production.X))  # fmt: skip
    logged = client.get_run(first["run_id"]).data.metrics
    assert logged.get("accuracy") == pytest.approx(accuracy_score(production.y, predicted))


@pytest.mark.exercise(
    "6.4",
    points=1,
    hints=(
        "When the alias moves, tomorrow's batch is scored by the new version, and the records say so.",
        "Notebook 06, '3. The batch prediction pipeline'; the version 3.5 reports.",
        "Take the version from predict_csv's summary (or resolve the alias once), use it for the tracked model and the model_version tag.",
    ),
)
def test_the_version_in_production_is_the_one_recorded(capstone, client, production):
    experiment = production.experiment + "-moved"
    name, (_, second) = production.name, production.versions
    client.set_registered_model_alias(name, "staging-capstone", second)
    output = f"{production.folder}/moved.csv"
    returned = capstone.score_day(name, production.csv, output, day=4, experiment_name=experiment,
                                  alias="staging-capstone")  # fmt: skip
    assert returned["model_version"] == second
    assert set(pd.read_csv(output)["model_version"].astype(str)) == {second}
    run = client.get_run(returned["run_id"])
    assert run.data.tags.get("model_version") == second
    majority = float(predictions(f"models:/{name}/{second}", features(production.X)).mean())
    assert run.data.metrics.get("prediction_mean") == pytest.approx(majority), (
        "track the version that predicted, not the champion"
    )


# --------------------------------------------------------------------------- 6.5
def released(client, split, label: str) -> tuple[str, str, str]:
    """A model whose version 2 was promoted over version 1 (as 2.2 records it)."""
    name = debris.model_name(label, "6.5")
    first = register(client, name, dummy(split.X_train, strategy="most_frequent"), split)
    second = register(client, name, dummy(split.X_train, strategy="prior"), split,
                      alias="champion", tags={"previous_version": first})  # fmt: skip
    client.set_registered_model_alias(name, "previous_champion", first)
    return name, first, second


def monitored(client, label: str, accuracy: list[float | None]) -> str:
    """A monitoring experiment with one run per day; None: no labels that day."""
    name = debris.experiment_name(label, "6.5")
    experiment_id = client.create_experiment(name)
    for day, value in enumerate(accuracy):
        run = client.create_run(experiment_id, tags={DAY_TAG: str(day)}, run_name=f"day-{day:03d}")
        metrics = [Metric("n_rows", 100, 0, day)]
        if value is not None:
            metrics.append(Metric("accuracy", value, 0, day))
        client.log_batch(run.info.run_id, metrics=metrics)
        client.set_terminated(run.info.run_id)
    return name


@pytest.mark.exercise(
    "6.5",
    points=2,
    hints=(
        "When the last labelled days are clearly worse than the days before, production goes back to the previous champion, and the registry says why.",
        "Notebook 06, '4. Rollback'; your 5.5 (monitoring_report), 5.3 (degradation) and 2.5 (rollback).",
        "history = report['history'][metric].dropna(); degradation(history, window=window, baseline='preceding', threshold=threshold); when degraded, rollback(name, alias=alias, reason='accuracy fell ...').",
    ),
)
def test_a_degraded_champion_is_rolled_back(capstone, client, split):
    name, first, second = released(client, split, "capstone-rollback")
    accuracy = [0.92, 0.93, 0.91, 0.80, 0.78, 0.79]
    experiment = monitored(client, "capstone-rollback", accuracy)
    returned = capstone.rollback_if_degraded(name, experiment_name=experiment)
    expected_drop = 1 - np.mean(accuracy[3:]) / np.mean(accuracy[:3])
    assert returned["degraded"] is True and returned["rolled_back"] is True
    assert returned["relative_drop"] == pytest.approx(expected_drop)
    assert returned["champion_version"] == first and champion_version(client, name) == first
    tags = client.get_model_version(name, second).tags  # the registry alone tells the story
    assert "accuracy" in tags.get("rollback_reason", ""), "the reason names the metric"
    assert f"{expected_drop:.1%}" in tags["rollback_reason"], "and says by how much it fell"
    assert tags.get("rolled_back_by"), "rolled back with 2.5"


@pytest.mark.exercise(
    "6.5",
    points=2,
    hints=(
        "A dip that stays under the threshold, or days whose labels have not arrived, are no reason to roll back.",
        "Notebook 06, '4. Rollback'; the days without labels have NaN in 5.5's history.",
        "Drop the NaN days before calling degradation; only a degraded verdict rolls back.",
    ),
)
def test_a_healthy_champion_stays(capstone, client, split):
    name, _, second = released(client, split, "capstone-healthy")
    # The unlabelled days (None) would look like a collapse if they counted as zeros.
    accuracy = [0.92, None, 0.93, 0.91, None, 0.90, 0.91, 0.90, None]
    experiment = monitored(client, "capstone-healthy", accuracy)
    returned = capstone.rollback_if_degraded(name, experiment_name=experiment)
    labelled = [a for a in accuracy if a is not None]
    expected_drop = 1 - np.mean(labelled[3:]) / np.mean(labelled[:3])
    assert expected_drop < 0.05
    assert returned["degraded"] is False and returned["rolled_back"] is False
    assert returned["relative_drop"] == pytest.approx(expected_drop)
    assert champion_version(client, name) == second and returned["champion_version"] == second
    assert "rollback_reason" not in client.get_model_version(name, second).tags


@pytest.mark.exercise(
    "6.5",
    points=1,
    hints=(
        "Too few labelled days is no verdict: a monitoring job that runs every morning must not roll back on day two.",
        "Notebook 06, '4. Rollback'; 5.3 needs 2 * window values and says so with a ValueError.",
        "Count the labelled days first; with fewer than 2 * window, return degraded False, rolled_back False, relative_drop None, and change nothing.",
    ),
)
def test_too_few_labelled_days_change_nothing(capstone, client, split):
    name, _, second = released(client, split, "capstone-early")
    experiment = monitored(client, "capstone-early", [0.95, None, 0.40, 0.41, None])
    returned = capstone.rollback_if_degraded(name, experiment_name=experiment)
    assert returned == {
        "degraded": False,
        "rolled_back": False,
        "champion_version": second,
        "relative_drop": None,
    }
    assert champion_version(client, name) == second
    assert "rollback_reason" not in client.get_model_version(name, second).tags
