"""Graded checks of module 01, experiment tracking (exercises 1.1 to 1.7).

Every check asks the MLflow server what was really logged; expected values are recomputed
here with scikit-learn and numpy, never copied from the reference solution. Expensive runs are
made once per module by fixtures that call the learner's code, so a stub's NotImplementedError
still reaches every test that depends on it.
"""

from __future__ import annotations

import json
import time
from io import StringIO
from types import SimpleNamespace

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.inspection import permutation_importance
from sklearn.linear_model import RidgeClassifier, SGDClassifier
from sklearn.metrics import (
    accuracy_score,
    classification_report,
    f1_score,
    mean_absolute_error,
    mean_absolute_percentage_error,
    r2_score,
    root_mean_squared_error,
)
from sklearn.model_selection import ParameterGrid, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.validation import check_is_fitted

from mlops_course import data, target
from mlops_course.grading import debris

# --------------------------------------------------------------------------- shared helpers


def runs_of(client: MlflowClient, experiment_name: str, filter_string: str = "") -> list:
    experiment = client.get_experiment_by_name(experiment_name)
    assert experiment is not None, f"no experiment named {experiment_name!r} was created"
    return client.search_runs([experiment.experiment_id], filter_string=filter_string)


def as_logged(params: dict) -> dict[str, str]:
    """Params as MLflow stores them: every value turned into a string."""
    return {name: str(value) for name, value in params.items()}


@pytest.fixture(scope="module")
def client(mlflow_tracking_uri) -> MlflowClient:
    return MlflowClient(mlflow_tracking_uri)


@pytest.fixture(scope="module")
def iris():
    X, y = data.load_classification("iris")
    X_train, X_test, y_train, y_test = data.split(X, y, random_state=0)
    return SimpleNamespace(X=X, y=y, X_train=X_train, X_test=X_test, y_train=y_train, y_test=y_test)


# --------------------------------------------------------------------------- 1.1
@pytest.fixture(scope="module")
def training_run(mlflow_tracking_uri, iris):
    """One call of log_training_run with a small random forest, shared by the 1.1 checks."""
    tracking = target.load("tracking")
    model = RandomForestClassifier(n_estimators=10, max_depth=3, random_state=0)
    name = debris.experiment_name("training-run")
    run_id = tracking.log_training_run(
        model,
        iris.X_train,
        iris.y_train,
        iris.X_test,
        iris.y_test,
        experiment_name=name,
        run_name="rf-baseline",
        tracking_uri=mlflow_tracking_uri,
    )
    return SimpleNamespace(run_id=run_id, model=model, experiment_name=name)


@pytest.mark.exercise(
    "1.1",
    points=1,
    hints=(
        "One call, one run: everything about this training lands in a single, finished run, "
        "and its id is what you return.",
        "Notebook 01, '1. Experiments, runs, parameters, metrics and tags': a run opened as a "
        "context manager ends by itself; mlflow.start_run takes the run's name.",
        "Log everything inside one `with mlflow.start_run(run_name=run_name) as run:` block "
        "and return the id that run.info holds.",
    ),
)
def test_training_run_is_one_finished_run(client, training_run):
    runs = runs_of(client, training_run.experiment_name)
    assert [r.info.run_id for r in runs] == [training_run.run_id], (
        "the experiment should hold exactly one run, the one whose id is returned"
    )
    run = runs[0]
    assert run.info.status == "FINISHED", "end the run (use `with mlflow.start_run(...)`)"
    assert run.info.run_name == "rf-baseline", "name the run with run_name"


@pytest.mark.exercise(
    "1.1",
    points=1,
    hints=(
        "A run must say which settings produced it: all the model's params, as the model "
        "reports them, and a label naming the kind of model.",
        "Notebook 01, '1. Experiments, runs, parameters, metrics and tags': params take a "
        "dict, tags are set by key; a scikit-learn model lists its settings with get_params().",
        "Log the dict model.get_params() as params, and set the tag model_type to the name "
        "of the model's class (type(...) has it).",
    ),
)
def test_training_run_logs_all_params_and_model_type(client, training_run):
    run = client.get_run(training_run.run_id)
    expected = as_logged(training_run.model.get_params())
    logged = {name: run.data.params.get(name) for name in expected}  # extra params are fine
    assert logged == expected
    assert run.data.tags.get("model_type") == "RandomForestClassifier"


def reference_model(training_run, iris):
    """The grader's own copy of the learner's model, fitted on the training set only."""
    return clone(training_run.model).fit(iris.X_train, iris.y_train)


@pytest.mark.exercise(
    "1.1",
    points=1,
    hints=(
        "Metrics must describe data the model never saw, measured by a model that learnt "
        "from the training set alone.",
        "Notebook 01, '1. Experiments, runs, parameters, metrics and tags': the first run "
        "fits on X_train and scores on X_test; sklearn.metrics has accuracy_score and f1_score "
        "(with its `average` argument).",
        "Fit on X_train, y_train only; predict X_test; log accuracy and the macro-averaged "
        "f1 of y_test against those predictions.",
    ),
)
def test_training_run_logs_test_set_metrics(client, training_run, iris):
    check_is_fitted(
        training_run.model, msg="the model passed in should be fitted in place by log_training_run"
    )
    y_pred = reference_model(training_run, iris).predict(iris.X_test)
    metrics = client.get_run(training_run.run_id).data.metrics
    assert metrics.get("accuracy") == pytest.approx(accuracy_score(iris.y_test, y_pred)), (
        "the logged accuracy is not the test set's"
    )
    assert metrics.get("f1_macro") == pytest.approx(
        f1_score(iris.y_test, y_pred, average="macro")
    ), "the logged f1_macro is not the test set's"


@pytest.mark.exercise(
    "1.1",
    points=1,
    hints=(
        "'Which data was this model trained on?' The run must record the training set "
        "(features and labels), not the test set.",
        "Notebook 01, '3. The training data as a run input': a DataFrame becomes a dataset "
        "with a name and its targets column, and is attached to the run with a context.",
        "Build the dataset from X_train with a `target` column, named 'train', targets "
        "'target'; log it as an input with context 'training'.",
    ),
)
def test_training_run_logs_the_training_dataset(client, training_run, iris):
    inputs = client.get_run(training_run.run_id).inputs.dataset_inputs
    training = [
        d
        for d in inputs
        if {t.key: t.value for t in d.tags}.get("mlflow.data.context") == "training"
    ]
    assert len(training) == 1, "log one dataset input with context='training'"
    dataset = training[0].dataset
    assert dataset.name == "train"
    assert json.loads(dataset.profile)["num_rows"] == len(iris.X_train), (
        "the dataset should be the training set"
    )
    columns = [c["name"] for c in json.loads(dataset.schema)["mlflow_colspec"]]
    assert set(columns) == {*iris.X_train.columns, "target"}


@pytest.mark.exercise(
    "1.1",
    points=1,
    hints=(
        "The run must hold the model itself, the one trained on the training set, so that it "
        "can be loaded back and used.",
        "Notebook 01, '2. Logging a model': the sklearn flavor logs a model under a name; "
        "read why the default format refuses a random forest, and which one to pick.",
        "Log the fitted model under the name 'model' with a serialization format that accepts "
        "tree models; fit it on X_train, y_train only.",
    ),
)
def test_logged_model_predicts_like_the_fitted_model(training_run, iris, tmp_path):
    loaded = mlflow.pyfunc.load_model(f"runs:/{training_run.run_id}/model", dst_path=str(tmp_path))
    predicted = np.asarray(loaded.predict(iris.X_test)).ravel()
    np.testing.assert_array_equal(predicted, training_run.model.predict(iris.X_test))
    expected = reference_model(training_run, iris).predict(iris.X_test)
    np.testing.assert_array_equal(
        predicted, expected, err_msg="the model should be fitted on the training set only"
    )


@pytest.mark.exercise(
    "1.1",
    points=1,
    hints=(
        "Whoever loads the model must know what to send and what comes back: a signature "
        "(inputs and outputs) and a few real example rows.",
        "Notebook 01, '2. Logging a model': mlflow.models.infer_signature builds a signature "
        "from data; log_model takes it, and an input example.",
        "Infer the signature from X_train AND the model's predictions on it; pass the first "
        "5 rows of X_train as the input example.",
    ),
)
def test_logged_model_has_signature_and_input_example(training_run, iris):
    info = mlflow.models.get_model_info(f"runs:/{training_run.run_id}/model")
    assert info.signature is not None, "log the model with a signature"
    assert info.signature.inputs.input_names() == list(iris.X_train.columns)
    assert info.signature.outputs is not None, "infer the signature from inputs AND predictions"
    assert info.saved_input_example_info is not None, "log the model with an input_example"
    example_path = info.saved_input_example_info["artifact_path"]
    example = json.loads(
        mlflow.artifacts.load_text(f"runs:/{training_run.run_id}/model/{example_path}")
    )
    assert example["columns"] == list(iris.X_train.columns)
    np.testing.assert_allclose(example["data"], iris.X_train.head(5).to_numpy())


# --------------------------------------------------------------------------- 1.2
@pytest.fixture(scope="module")
def cancer():
    X, y = data.load_classification("breast_cancer")
    X_train, X_val, y_train, y_val = data.split(X, y, random_state=0)
    return SimpleNamespace(X_train=X_train, X_val=X_val, y_train=y_train, y_val=y_val)


@pytest.fixture(scope="module")
def learning_curve_run(mlflow_tracking_uri, cancer):
    tracking = target.load("tracking")
    run_id = tracking.log_learning_curve(
        cancer.X_train,
        cancer.y_train,
        cancer.X_val,
        cancer.y_val,
        experiment_name=debris.experiment_name("learning-curve"),
        epochs=6,
        random_state=3,
        tracking_uri=mlflow_tracking_uri,
    )
    return SimpleNamespace(run_id=run_id, epochs=6, random_state=3)


def history(client: MlflowClient, run_id: str, key: str) -> list:
    return sorted(client.get_metric_history(run_id, key), key=lambda m: m.step)


@pytest.mark.exercise(
    "1.2",
    points=2,
    hints=(
        "A curve is one value per step: both accuracies once after every epoch, at steps 0 to "
        "epochs - 1, plus the run's settings as params.",
        "Notebook 01, '4. Metrics over steps: a learning curve': a metric logged with a step "
        "keeps its whole history.",
        "Inside the loop over range(epochs), log train_accuracy and val_accuracy with "
        "step=epoch; log epochs and random_state as params once.",
    ),
)
def test_learning_curve_has_one_step_per_epoch(client, learning_curve_run):
    run = client.get_run(learning_curve_run.run_id)
    assert run.data.params.get("epochs") == str(learning_curve_run.epochs)
    assert run.data.params.get("random_state") == str(learning_curve_run.random_state)
    for key in ("train_accuracy", "val_accuracy"):
        steps = [m.step for m in history(client, learning_curve_run.run_id, key)]
        assert steps == list(range(learning_curve_run.epochs)), (
            f"{key} should have exactly one value at each step 0..epochs-1, got steps {steps}"
        )


@pytest.mark.exercise(
    "1.2",
    points=1,
    hints=(
        "The model must really learn: each epoch continues from the last one, and ends with "
        "a high accuracy on both sets.",
        "Notebook 01, '4. Metrics over steps: a learning curve'; scikit-learn's SGDClassifier "
        "learns one pass at a time with partial_fit (fit starts from scratch).",
        "Create the SGDClassifier once, before the loop; in the loop call partial_fit on the "
        "scaled training set, then score both sets.",
    ),
)
def test_learning_curve_shows_learning(client, learning_curve_run):
    for key in ("train_accuracy", "val_accuracy"):
        values = [m.value for m in history(client, learning_curve_run.run_id, key)]
        assert values and all(0.0 <= v <= 1.0 for v in values), f"{key} should be accuracies"
        # Standardised breast-cancer data is nearly linearly separable: a trained model scores high.
        assert values[-1] >= 0.9, f"the last {key} is {values[-1]:.3f}: was the model trained?"


@pytest.mark.exercise(
    "1.2",
    points=1,
    hints=(
        "The curve is compared with the recipe's own, value by value: same scaling (learnt "
        "from the training set only), same model, same seed, same data per epoch.",
        "Notebook 01, '4. Metrics over steps: a learning curve', and the docstring; "
        "sklearn.preprocessing.StandardScaler, SGDClassifier.partial_fit and its `classes`.",
        "Fit the StandardScaler on X_train and transform both sets; SGDClassifier(loss="
        "'log_loss', random_state=random_state); partial_fit with every class of y_train.",
    ),
)
def test_learning_curve_matches_the_recipe(client, learning_curve_run, cancer):
    scaler = StandardScaler().fit(cancer.X_train)
    X_train, X_val = scaler.transform(cancer.X_train), scaler.transform(cancer.X_val)
    model = SGDClassifier(loss="log_loss", random_state=learning_curve_run.random_state)
    expected_train, expected_val = [], []
    for _ in range(learning_curve_run.epochs):
        model.partial_fit(X_train, cancer.y_train, classes=np.unique(cancer.y_train))
        expected_train.append(model.score(X_train, cancer.y_train))
        expected_val.append(model.score(X_val, cancer.y_val))
    logged_train = [m.value for m in history(client, learning_curve_run.run_id, "train_accuracy")]
    logged_val = [m.value for m in history(client, learning_curve_run.run_id, "val_accuracy")]
    assert logged_train == pytest.approx(expected_train)
    assert logged_val == pytest.approx(expected_val)


# --------------------------------------------------------------------------- 1.3
@pytest.fixture
def existing_run(client, unique_name):
    """A finished run, as log_training_run leaves one, for 1.3 to add files to."""
    experiment_id = client.create_experiment(unique_name)
    run = client.create_run(experiment_id, run_name="to-evaluate")
    client.set_terminated(run.info.run_id)
    return SimpleNamespace(run_id=run.info.run_id, experiment_name=unique_name)


def importance_table(run_id: str) -> pd.DataFrame:
    return pd.read_csv(
        StringIO(mlflow.artifacts.load_text(f"runs:/{run_id}/feature_importance.csv"))
    )


def assert_importance(table: pd.DataFrame, columns, importance) -> None:
    assert list(table.columns) == ["feature", "importance"]
    assert sorted(table["feature"]) == sorted(columns), "one row per column of X_test"
    assert list(table["importance"]) == sorted(table["importance"], reverse=True), (
        "sort by importance, largest first"
    )
    expected = dict(zip(columns, np.asarray(importance, dtype=float), strict=True))
    logged = dict(zip(table["feature"], table["importance"], strict=True))
    assert logged == pytest.approx(expected)


@pytest.mark.exercise(
    "1.3",
    points=1,
    hints=(
        "The files belong to a run that already exists (and has finished): add them to it, "
        "do not start another run, and return the three paths.",
        "Notebook 01, '5. Artifacts: figures and tables': MlflowClient has the same logging "
        "methods as mlflow.*, taking a run id first.",
        "With MlflowClient(), log the confusion-matrix figure, the CSV text and the report "
        "dict into run_id under the three names; return those names.",
    ),
)
def test_evaluation_artifacts_go_into_the_existing_run(tracking, client, existing_run, iris):
    model = RandomForestClassifier(n_estimators=10, max_depth=3, random_state=0)
    model.fit(iris.X_train, iris.y_train)
    returned = tracking.log_evaluation_artifacts(
        existing_run.run_id, model, iris.X_test, iris.y_test
    )
    names = {"confusion_matrix.png", "feature_importance.csv", "classification_report.json"}
    logged = {a.path for a in client.list_artifacts(existing_run.run_id)}
    assert names <= logged, f"missing artifacts: {sorted(names - logged)}"
    assert sorted(returned) == sorted(names), "return the list of the artifact paths you logged"
    runs = runs_of(client, existing_run.experiment_name)
    assert len(runs) == 1, "do not create a new run: add the files to run_id"
    image = mlflow.artifacts.load_image(f"runs:/{existing_run.run_id}/confusion_matrix.png")
    assert image.size[0] > 100 and image.size[1] > 100, "confusion_matrix.png should be a figure"


@pytest.mark.exercise(
    "1.3",
    points=1,
    hints=(
        "A tree ensemble measures its own feature importances; the table has one row per "
        "feature, the most important first.",
        "Notebook 01, '5. Artifacts: figures and tables': the importance table of the forest, "
        "written as CSV text without the index.",
        "Use the model's feature_importances_ when it has them; sort the DataFrame by "
        "importance, descending; to_csv without the index.",
    ),
)
def test_feature_importance_of_a_tree_model(tracking, existing_run, iris):
    model = RandomForestClassifier(n_estimators=10, max_depth=3, random_state=0)
    model.fit(iris.X_train, iris.y_train)
    tracking.log_evaluation_artifacts(existing_run.run_id, model, iris.X_test, iris.y_test)
    table = importance_table(existing_run.run_id)
    assert_importance(table, iris.X_test.columns, model.feature_importances_)


@pytest.mark.exercise(
    "1.3",
    points=1,
    hints=(
        "A linear model has no feature_importances_, but its coefficients say how much each "
        "feature weighs: their size, whatever their sign.",
        "Notebook 01, '5. Artifacts: figures and tables'; a multi-class linear model's coef_ "
        "has one row per class and one column per feature.",
        "Take the absolute value of coef_ and average it over the classes (the rows), giving "
        "one number per feature.",
    ),
)
def test_feature_importance_of_a_linear_model(tracking, existing_run, iris):
    model = RidgeClassifier().fit(iris.X_train, iris.y_train)
    tracking.log_evaluation_artifacts(existing_run.run_id, model, iris.X_test, iris.y_test)
    table = importance_table(existing_run.run_id)
    assert_importance(table, iris.X_test.columns, np.abs(model.coef_).mean(axis=0))


@pytest.mark.exercise(
    "1.3",
    points=1,
    hints=(
        "Any model, even one without importances or coefficients, can be asked how much its "
        "test score drops when one feature is shuffled.",
        "Notebook 01, '5. Artifacts: figures and tables'; sklearn.inspection has "
        "permutation_importance, seeded with random_state.",
        "Run permutation importance on the test set with random_state=0 and keep the mean "
        "importance of each feature.",
    ),
)
def test_feature_importance_falls_back_to_permutation(tracking, existing_run, iris):
    model = KNeighborsClassifier(n_neighbors=5).fit(iris.X_train, iris.y_train)
    tracking.log_evaluation_artifacts(existing_run.run_id, model, iris.X_test, iris.y_test)
    expected = permutation_importance(model, iris.X_test, iris.y_test, random_state=0)
    table = importance_table(existing_run.run_id)
    assert_importance(table, iris.X_test.columns, expected.importances_mean)


@pytest.mark.exercise(
    "1.3",
    points=1,
    hints=(
        "The report compares the truth with the predictions on the test set, per class: "
        "which comes first matters (precision and recall swap).",
        "Notebook 01, '5. Artifacts: figures and tables': a dict is logged as JSON; "
        "sklearn.metrics.classification_report can return a dict.",
        "classification_report of y_test against the predictions on X_test, as a dict, "
        "logged as classification_report.json.",
    ),
)
def test_classification_report_is_logged(tracking, existing_run, iris):
    model = RidgeClassifier().fit(iris.X_train, iris.y_train)
    tracking.log_evaluation_artifacts(existing_run.run_id, model, iris.X_test, iris.y_test)
    logged = mlflow.artifacts.load_dict(f"runs:/{existing_run.run_id}/classification_report.json")
    expected = classification_report(iris.y_test, model.predict(iris.X_test), output_dict=True)
    assert set(logged) == {str(k) for k in expected}
    for key, value in expected.items():  # per-class dicts of numbers, and "accuracy"
        assert logged[str(key)] == pytest.approx(value), f"entry {key!r} differs"


# --------------------------------------------------------------------------- 1.4
GRID = {"max_depth": [1, 2, 3], "criterion": ["gini", "entropy"]}
GRID_CV, GRID_SCORING = 4, "f1_macro"  # not the defaults: both must be passed through


@pytest.fixture(scope="module")
def grid_search(mlflow_tracking_uri, client, iris):
    tracking = target.load("tracking")
    estimator = DecisionTreeClassifier(random_state=0)
    params_before = estimator.get_params()
    name = debris.experiment_name("grid-search")
    parent_id = tracking.log_grid_search(
        estimator,
        GRID,
        iris.X,
        iris.y,
        experiment_name=name,
        cv=GRID_CV,
        scoring=GRID_SCORING,
        tracking_uri=mlflow_tracking_uri,
    )
    children = runs_of(client, name, f"tags.mlflow.parentRunId = '{parent_id}'")
    children.sort(key=lambda r: r.info.start_time)
    return SimpleNamespace(
        parent_id=parent_id,
        children=children,
        estimator=estimator,
        params_before=params_before,
        experiment_name=name,
    )


@pytest.mark.exercise(
    "1.4",
    points=2,
    hints=(
        "A search is one parent run and one child per candidate, linked to the parent, each "
        "child saying which combination it tried.",
        "Notebook 01, '7. A hyperparameter search as nested runs'; "
        "sklearn.model_selection.ParameterGrid lists the combinations in order.",
        "Inside the parent's `with` block, loop over ParameterGrid(param_grid) and open each "
        "child with start_run(nested=True); log its params there.",
    ),
)
def test_grid_search_has_one_nested_child_per_candidate(client, grid_search):
    candidates = list(ParameterGrid(GRID))
    all_runs = runs_of(client, grid_search.experiment_name)
    assert grid_search.parent_id in {r.info.run_id for r in all_runs}
    assert len(grid_search.children) == len(candidates), (
        f"expected {len(candidates)} nested runs with tag mlflow.parentRunId = the parent's id, "
        f"found {len(grid_search.children)}"
    )
    assert len(all_runs) == len(candidates) + 1, "one parent and one child per candidate, no more"
    logged = [{k: r.data.params.get(k) for k in GRID} for r in grid_search.children]
    assert logged == [as_logged(p) for p in candidates], (
        "each child logs its combination's params, in the order of ParameterGrid"
    )


@pytest.mark.exercise(
    "1.4",
    points=1,
    hints=(
        "Each candidate is scored by cross-validation with the folds and the scorer you were "
        "given, on a copy of the estimator: the one passed in stays as it came.",
        "Notebook 01, '7. A hyperparameter search as nested runs'; "
        "sklearn.model_selection.cross_val_score (cv, scoring) and sklearn.base.clone.",
        "Score clone(estimator) with the candidate's params set, passing cv and scoring on; "
        "log the mean and the std of the fold scores.",
    ),
)
def test_grid_search_children_log_cv_scores(grid_search, iris):
    assert grid_search.estimator.get_params() == grid_search.params_before, (
        "the estimator passed in was changed: set the params on a clone of it"
    )
    assert grid_search.children, "no nested child runs found"
    for child in grid_search.children:
        logged = child.data.params
        params = {"max_depth": int(logged["max_depth"]), "criterion": logged["criterion"]}
        model = clone(grid_search.estimator).set_params(**params)
        scores = cross_val_score(model, iris.X, iris.y, cv=GRID_CV, scoring=GRID_SCORING)
        metrics = child.data.metrics
        assert metrics.get("mean_cv_score") == pytest.approx(scores.mean()), f"params {params}"
        assert metrics.get("std_cv_score") == pytest.approx(scores.std()), f"params {params}"


@pytest.mark.exercise(
    "1.4",
    points=2,
    hints=(
        "The parent sums the search up once every child is done: how many were tried, which "
        "one won (highest mean score), with which params and score.",
        "Notebook 01, '7. A hyperparameter search as nested runs', and the docstring's list of "
        "names; remember each child's id and score as you go.",
        "Keep the best (score, params, child run id) in the loop, replacing it only on a "
        "strictly higher score; after the loop log n_candidates, best_<name>, best_cv_score "
        "and the tag best_run_id on the parent.",
    ),
)
def test_grid_search_parent_names_the_best_child(client, grid_search):
    assert grid_search.children, "no nested child runs found"
    parent = client.get_run(grid_search.parent_id)
    assert "mlflow.parentRunId" not in parent.data.tags, "return the parent run's id"
    scores = {c.info.run_id: c.data.metrics.get("mean_cv_score") for c in grid_search.children}
    best_score = max(s for s in scores.values() if s is not None)

    assert parent.data.params.get("n_candidates") == str(len(ParameterGrid(GRID)))
    best_run_id = parent.data.tags.get("best_run_id")
    assert best_run_id in scores, "tag best_run_id should be the id of one of the child runs"
    assert scores[best_run_id] == pytest.approx(best_score), "best_run_id is not the best child"
    assert parent.data.metrics.get("best_cv_score") == pytest.approx(best_score)
    best_child = next(c for c in grid_search.children if c.info.run_id == best_run_id)
    for name in GRID:
        value = best_child.data.params.get(name)
        assert parent.data.params.get(f"best_{name}") == value, f"param best_{name}"


@pytest.mark.exercise(
    "1.4",
    points=1,
    hints=(
        "Two candidates can score exactly the same; the docstring says which one wins then: "
        "the first one tried.",
        "Notebook 01, '7. A hyperparameter search as nested runs'; compare your update rule "
        "with 'highest mean_cv_score, the first on a tie'.",
        "Replace the best so far only when a score is strictly greater (>), never when equal.",
    ),
)
def test_grid_search_keeps_the_first_of_tied_candidates(client, mlflow_tracking_uri, iris):
    tracking = target.load("tracking")
    # Both strategies always predict the most frequent class: their scores are equal.
    grid = {"strategy": ["most_frequent", "prior"]}
    name = debris.experiment_name("grid-search-tie")
    parent_id = tracking.log_grid_search(
        DummyClassifier(),
        grid,
        iris.X,
        iris.y,
        experiment_name=name,
        tracking_uri=mlflow_tracking_uri,
    )
    parent = client.get_run(parent_id)
    children = runs_of(client, name, f"tags.mlflow.parentRunId = '{parent_id}'")
    by_strategy = {c.data.params.get("strategy"): c.info.run_id for c in children}
    assert set(by_strategy) == set(grid["strategy"]), "one child per candidate"
    assert parent.data.params.get("best_strategy") == "most_frequent", (
        "on a tie the first candidate of ParameterGrid wins"
    )
    assert parent.data.tags.get("best_run_id") == by_strategy["most_frequent"]


# --------------------------------------------------------------------------- 1.5
# (param kind, accuracy or None): created oldest first, so the newest run has no accuracy and
# a search without order_by would wrongly return it.
SEARCH_RUNS = [
    ("a", 0.80),
    ("b", 0.95),
    ("a", 0.60),
    ("a", None),
    ("b", 0.85),
    ("c", None),
    ("a", None),
]


@pytest.fixture(scope="module")
def searchable(client):
    name = debris.experiment_name("find-best")
    experiment_id = client.create_experiment(name)
    ids, start = [], int(time.time() * 1000)
    for i, (kind, accuracy) in enumerate(SEARCH_RUNS):
        # Explicit start times, a second apart: the creation order is the search order.
        run = client.create_run(experiment_id, run_name=f"run-{i}", start_time=start + 1000 * i)
        metrics = [Metric("loss", 1.0 - i / 10, 0, 0)]
        if accuracy is not None:
            metrics.append(Metric("accuracy", accuracy, 0, 0))
        client.log_batch(
            run.info.run_id,
            metrics=metrics,
            params=[Param("kind", kind)],
            tags=[RunTag("position", str(i))],
        )
        client.set_terminated(run.info.run_id)
        ids.append(run.info.run_id)
    return SimpleNamespace(experiment_name=name, ids=ids)


def expected_best(ids, *, kinds=None, maximize=True):
    scored = [
        (acc, run_id)
        for (kind, acc), run_id in zip(SEARCH_RUNS, ids, strict=True)
        if acc is not None and (kinds is None or kind in kinds)
    ]
    if not scored:
        return None
    return (max if maximize else min)(scored)[1]


@pytest.mark.exercise(
    "1.5",
    points=1,
    hints=(
        "Best means highest when maximizing and lowest when not: rank the runs by the metric "
        "in the right direction and take the top one.",
        "Notebook 01, '8. Searching and comparing runs': search_runs takes order_by, a list "
        "of 'metrics.<name> DESC' or 'ASC'.",
        "MlflowClient().search_runs on the experiment's id with order_by=[f'metrics.{metric} "
        "...'], DESC when maximize, else ASC; return the first run's id.",
    ),
)
def test_find_best_run_maximizes_and_minimizes(tracking, searchable):
    name = searchable.experiment_name
    assert tracking.find_best_run(name, "accuracy") == expected_best(searchable.ids)
    assert tracking.find_best_run(name, "accuracy", maximize=False) == expected_best(
        searchable.ids, maximize=False
    )


@pytest.mark.exercise(
    "1.5",
    points=1,
    hints=(
        "Only the runs that match the filter compete; the filter is MLflow's own language, "
        "so the server can apply it.",
        "Notebook 01, '8. Searching and comparing runs': search_runs' filter_string.",
        "Pass filter_string to search_runs unchanged, together with order_by.",
    ),
)
def test_find_best_run_applies_the_filter(tracking, searchable):
    name = searchable.experiment_name
    ids = searchable.ids
    only_a = "params.kind = 'a'"
    assert tracking.find_best_run(name, "accuracy", filter_string=only_a) == expected_best(
        ids, kinds={"a"}
    )
    assert tracking.find_best_run(
        name, "accuracy", maximize=False, filter_string="params.kind = 'b'"
    ) == expected_best(ids, kinds={"b"}, maximize=False)


@pytest.mark.exercise(
    "1.5",
    points=1,
    hints=(
        "A run that never logged the metric cannot be the best by it, even when it comes "
        "first; when no run has the metric, there is no best run.",
        "Notebook 01, '8. Searching and comparing runs': runs lacking the metric are sorted "
        "last, but they are still returned; run.data.metrics is a dict.",
        "Walk the sorted runs and return the first whose data.metrics holds the metric (not "
        "NaN); return None after the loop.",
    ),
)
def test_find_best_run_ignores_runs_without_the_metric(tracking, searchable):
    name = searchable.experiment_name
    assert tracking.find_best_run(name, "accuracy", filter_string="params.kind = 'c'") is None
    assert tracking.find_best_run(name, "no_such_metric") is None
    # "loss" exists in every run: minimizing it picks the newest run, maximizing the oldest.
    assert tracking.find_best_run(name, "loss", maximize=False) == searchable.ids[-1]
    assert tracking.find_best_run(name, "loss") == searchable.ids[0]


@pytest.mark.exercise(
    "1.5",
    points=1,
    hints=(
        "A misspelt experiment name is a mistake to report, not a search with no results: "
        "fail loudly, naming what was not found.",
        "MlflowClient's get_experiment_by_name returns None for a name it does not know.",
        "If get_experiment_by_name(experiment_name) is None, raise ValueError with the name "
        "in the message.",
    ),
)
def test_find_best_run_rejects_an_unknown_experiment(tracking, mlflow_tracking_uri):
    missing = debris.experiment_name("does-not-exist")
    with pytest.raises(ValueError, match="does-not-exist"):
        tracking.find_best_run(missing, "accuracy")


# --------------------------------------------------------------------------- 1.6
def _regression_case(kind: str):
    rng = np.random.default_rng(7)
    y_true = rng.uniform(-50, 200, size=40)
    y_true[np.abs(y_true) < 1] += 5  # keep MAPE away from division by ~0
    y_pred = y_true + rng.normal(0, 15, size=40)
    if kind == "lists":
        return y_true.tolist(), y_pred.tolist()
    if kind == "series":
        return pd.Series(y_true, index=range(100, 140)), pd.Series(y_pred)
    return y_true.reshape(-1), y_pred.astype(np.float32)


@pytest.mark.exercise(
    "1.6",
    points=1,
    hints=(
        "Each metric is one formula over the errors e = y_pred - y_true; lists, arrays and "
        "Series (with any index) are all just numbers in order.",
        "Notebook 01, '9. A regression example': the table of the four formulas; numpy's "
        "asarray, mean, sqrt, abs and sum.",
        "Turn both inputs into float arrays with np.asarray(...).ravel(); r2 divides by the "
        "spread around mean(y_true); mape stays a fraction (no * 100); wrap results in float().",
    ),
)
@pytest.mark.parametrize("kind", ["lists", "series", "arrays"])
def test_regression_metrics_match_sklearn(tracking, kind):
    y_true, y_pred = _regression_case(kind)
    result = tracking.regression_metrics(y_true, y_pred)
    assert isinstance(result, dict) and set(result) == {"rmse", "mae", "r2", "mape"}
    assert all(isinstance(v, float) for v in result.values()), "return Python floats"
    t, p = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    assert result["rmse"] == pytest.approx(root_mean_squared_error(t, p)), (
        "rmse differs from sklearn's root_mean_squared_error"
    )
    assert result["mae"] == pytest.approx(mean_absolute_error(t, p)), (
        "mae differs from sklearn's mean_absolute_error"
    )
    assert result["r2"] == pytest.approx(r2_score(t, p)), "r2 differs from sklearn's r2_score"
    assert result["mape"] == pytest.approx(mean_absolute_percentage_error(t, p)), (
        "mape differs from sklearn's mean_absolute_percentage_error"
    )


@pytest.mark.exercise(
    "1.6",
    points=1,
    hints=(
        "Metrics of nothing, or of predictions that do not pair up with the truth, are "
        "meaningless: refuse them instead of returning a number.",
        "numpy broadcasts a single prediction against many true values without complaint: "
        "compare sizes yourself.",
        "Raise ValueError when either array has size 0 or their shapes differ, before "
        "computing anything.",
    ),
)
def test_regression_metrics_rejects_bad_input(tracking):
    with pytest.raises(ValueError):
        tracking.regression_metrics([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError):  # numpy would silently broadcast one prediction
        tracking.regression_metrics([1.0, 2.0, 3.0], [2.0])
    with pytest.raises(ValueError):
        tracking.regression_metrics([], [])
    perfect = tracking.regression_metrics([3.0, -1.0, 2.5], [3.0, -1.0, 2.5])
    assert perfect["rmse"] == pytest.approx(0.0) and perfect["r2"] == pytest.approx(1.0)


# --------------------------------------------------------------------------- 1.7
HONESTY_MARGIN = 0.15  # the docstring's promise: an estimate at most this much above ours


@pytest.fixture(scope="module")
def challenger(mlflow_tracking_uri, client):
    """The learner's challenger, logged next to a stump baseline the grader logs first."""
    X, y = data.load_classification("wine")
    X_train, X_test, y_train, y_test = data.split(X, y)  # the notebook's split
    stump = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X_train, y_train)
    stump_f1 = f1_score(y_test, stump.predict(X_test), average="macro")
    name = debris.experiment_name("beat-the-baseline")
    experiment_id = client.create_experiment(name)
    baseline = client.create_run(experiment_id, run_name="baseline-stump")
    client.log_metric(baseline.info.run_id, "f1_macro", stump_f1)
    client.set_terminated(baseline.info.run_id)

    tracking = target.load("tracking")
    run_id = tracking.beat_the_baseline(
        X_train, y_train, experiment_name=name, tracking_uri=mlflow_tracking_uri
    )
    return SimpleNamespace(
        run_id=run_id,
        baseline_id=baseline.info.run_id,
        stump_f1=stump_f1,
        experiment_id=experiment_id,
        X_test=X_test,
        y_test=y_test,
    )


def challenger_f1(challenger, tmp_path) -> float:
    """The macro F1 of the learner's logged model on the grader's unseen test data."""
    uri = f"runs:/{challenger.run_id}/model"
    loaded = mlflow.pyfunc.load_model(uri, dst_path=str(tmp_path))
    predicted = np.asarray(loaded.predict(challenger.X_test)).ravel()
    return f1_score(challenger.y_test, predicted, average="macro")


@pytest.mark.exercise(
    "1.7",
    points=2,
    hints=(
        "A baseline is the score any model must beat to be worth keeping; the grader loads "
        "the model your run logged and scores it on data you never saw.",
        "Notebook 01, '10. Beating a baseline, honestly': the stump and what it misses; "
        "'2. Logging a model' for logging it under the name 'model'.",
        "Try a model that uses every feature (wine's columns need scaling for a linear one: "
        "a pipeline); fit it on all of X_train and log it as 'model'.",
    ),
)
def test_challenger_beats_the_stump_on_unseen_data(challenger, tmp_path):
    measured = challenger_f1(challenger, tmp_path)
    assert measured > challenger.stump_f1, (
        f"your model's f1_macro on the grader's test data is {measured:.3f}; "
        f"the stump scores {challenger.stump_f1:.3f}"
    )


@pytest.mark.exercise(
    "1.7",
    points=1,
    hints=(
        "A model nobody can find is not picked: the run must be ranked first among the "
        "experiment's runs by the metric the baseline logged.",
        "Notebook 01, '8. Searching and comparing runs': ranking by metrics.f1_macro DESC; "
        "'1. Experiments, runs, parameters, metrics and tags' for logging a metric.",
        "Log your estimate under exactly the name f1_macro, in a run of experiment_name that "
        "you end, and return that run's id.",
    ),
)
def test_the_challenger_is_found_as_the_best_run(client, challenger):
    runs = client.search_runs(
        [challenger.experiment_id], order_by=["metrics.f1_macro DESC"], max_results=5
    )
    ranked = [r.info.run_id for r in runs if "f1_macro" in r.data.metrics]
    assert challenger.run_id in ranked, "your run should log the metric f1_macro"
    assert ranked[0] == challenger.run_id, (
        "ranking the experiment's runs by f1_macro does not put yours first"
    )
    assert client.get_run(challenger.run_id).info.status == "FINISHED", "end your run"


@pytest.mark.exercise(
    "1.7",
    points=1,
    hints=(
        "Your f1_macro must estimate the score on NEW data: a model scored on the rows it "
        "learnt from looks better than it is.",
        "Notebook 01, '10. Beating a baseline, honestly': hold out part of X_train, or "
        "cross-validate (sklearn.model_selection).",
        "Log the mean of cross_val_score(model, X_train, y_train, scoring='f1_macro'), or the "
        "score on a validation split, never the training score.",
    ),
)
def test_the_logged_f1_is_an_honest_estimate(client, challenger, tmp_path):
    logged = client.get_run(challenger.run_id).data.metrics.get("f1_macro")
    assert logged is not None, "log your estimate as the metric f1_macro"
    measured = challenger_f1(challenger, tmp_path)
    assert 0.0 <= logged <= 1.0, f"f1_macro is a fraction, you logged {logged}"
    assert logged <= measured + HONESTY_MARGIN, (
        f"you logged f1_macro = {logged:.3f}, but the model scores {measured:.3f} on unseen "
        "data: was it measured on the training rows?"
    )
