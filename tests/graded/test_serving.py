"""Graded checks of module 03, model serving (exercises 3.1 to 3.6).

The models are trained and registered here (with ``MlflowClient``), and the learner's app is
checked through real requests: FastAPI's ``TestClient`` for the unit-level checks, a real
uvicorn server on a free loopback port for the end-to-end ones, and MLflow's own
``mlflow models serve`` as the reference for the scoring protocol. Expected predictions come
from the scikit-learn models fitted here, never from the reference solution.
"""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime
from types import SimpleNamespace

import httpx
import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
import pytest
import sklearn
from fastapi.testclient import TestClient
from mlflow import MlflowClient
from mlflow.models import infer_signature
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier

from mlops_course import data, target
from mlops_course.grading import debris
from mlops_course.serving_harness import BackgroundServer, mlflow_scoring_server

COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
DOUBLES = ["double"] * 4


# --------------------------------------------------------------------------- shared helpers


def register(model, X: pd.DataFrame, name: str, tracking_uri: str) -> str:
    """Log ``model`` and register it as a new version of ``name``; the version as a string."""
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(debris.experiment_name("serving"))
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(X, model.predict(X)),
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
            pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
            registered_model_name=name,
        )
    return str(info.registered_model_version)


def proba_dicts(model, X: pd.DataFrame) -> list[dict[str, float]]:
    return [
        {str(c): float(p) for c, p in zip(model.classes_, row, strict=True)}
        for row in model.predict_proba(X)
    ]


@pytest.fixture(scope="module")
def serving(mlflow_tracking_uri):
    return target.load("serving")


@pytest.fixture(scope="module")
def iris():
    X, y = data.load_classification("iris")
    return SimpleNamespace(X=X, y=y)


@pytest.fixture(scope="module")
def champion(mlflow_tracking_uri, iris):
    """A random forest registered as version 1 of a fresh model, alias ``champion``."""
    model = RandomForestClassifier(n_estimators=15, max_depth=3, random_state=0)
    model.fit(iris.X, iris.y)
    name = debris.model_name("serve")
    version = register(model, iris.X, name, mlflow_tracking_uri)
    client = MlflowClient(mlflow_tracking_uri)
    client.set_registered_model_alias(name, "champion", version)
    return SimpleNamespace(
        model=model,
        name=name,
        version=version,
        uri=f"models:/{name}@champion",
        run_id=client.get_model_version(name, version).run_id,
    )


def movable(mlflow_tracking_uri, iris) -> SimpleNamespace:
    """A model with two versions that predict differently; ``champion`` on version 1."""
    first = RandomForestClassifier(n_estimators=10, max_depth=3, random_state=0)
    first.fit(iris.X, iris.y)
    second = DummyClassifier(strategy="constant", constant=2).fit(iris.X, iris.y)
    name = debris.model_name("reload")
    v1 = register(first, iris.X, name, mlflow_tracking_uri)
    v2 = register(second, iris.X, name, mlflow_tracking_uri)
    client = MlflowClient(mlflow_tracking_uri)
    client.set_registered_model_alias(name, "champion", v1)
    return SimpleNamespace(
        name=name, v1=v1, v2=v2, uri=f"models:/{name}@champion", client=client, first=first
    )


# --------------------------------------------------------------------------- 3.1
@pytest.mark.exercise(
    "3.1",
    points=1,
    hints=(
        (
            "A valid request becomes the table the model expects: the signature's columns, in"
            " its order, each with its type, whatever order a client wrote the names in."
        ),
        (
            "Notebook 03, 'Exercise 3.1: Validate request rows against the model's "
            "signature'; DTYPES maps MLflow's types to pandas dtypes."
        ),
        (
            "Put every row in the order of `columns` (a dict row: look each column up by "
            "name), then build one array per column with dtype DTYPES[type]."
        ),
    ),
)
def test_valid_rows_become_a_typed_frame(serving):
    columns = ["age", "income", "city", "member"]
    types = ["long", "double", "string", "boolean"]
    rows = [
        [31, 52000.5, "Lyon", True],
        {"member": False, "city": "Oslo", "income": 1, "age": 44},  # any key order
    ]
    frame = serving.validate_rows(rows, columns, types, batch_limit=10)
    expected = pd.DataFrame(
        {
            "age": pd.Series([31, 44], dtype="int64"),
            "income": pd.Series([52000.5, 1.0], dtype="float64"),
            "city": pd.Series(["Lyon", "Oslo"], dtype="object"),
            "member": pd.Series([True, False], dtype="bool"),
        }
    )
    pd.testing.assert_frame_equal(frame.reset_index(drop=True), expected, check_dtype=False)
    assert [str(frame[c].dtype) for c in ("age", "income", "member")] == [
        "int64",
        "float64",
        "bool",
    ]
    assert pd.api.types.is_string_dtype(frame["city"]), "a string column holds text"


@pytest.mark.exercise(
    "3.1",
    points=1,
    hints=(
        (
            "Refuse a request as a whole before looking at its rows: not a list, an empty "
            "list, or more rows than the server agreed to take."
        ),
        (
            "Notebook 03, 'Exercise 3.1'; InvalidInput(message, status_code): 422 for a "
            "request that does not fit, 413 for one too large."
        ),
        (
            "Check isinstance(rows, list), then len(rows) == 0, then len(rows) > batch_limit "
            "(exactly batch_limit rows is allowed); put both numbers in the 413 message."
        ),
    ),
)
def test_empty_and_oversized_batches_are_refused(serving, iris):
    rows = iris.X.head(6).values.tolist()
    assert len(serving.validate_rows(rows[:5], COLUMNS, DOUBLES, batch_limit=5)) == 5
    with pytest.raises(serving.InvalidInput) as too_many:
        serving.validate_rows(rows, COLUMNS, DOUBLES, batch_limit=5)
    assert too_many.value.status_code == 413
    assert "6" in too_many.value.message and "5" in too_many.value.message
    for bad in ([], {"sepal_length": 1.0}, "5.1,3.5,1.4,0.2", None):
        with pytest.raises(serving.InvalidInput) as caught:
            serving.validate_rows(bad, COLUMNS, DOUBLES, batch_limit=5)
        assert caught.value.status_code == 422, f"{bad!r} should be a 422"
        assert caught.value.message


@pytest.mark.exercise(
    "3.1",
    points=1,
    hints=(
        (
            "Each row must have exactly the model's columns: a list the right number of "
            "values, an object exactly the right names. Tell the client which names are "
            "wrong."
        ),
        ("Notebook 03, 'Exercise 3.1'; compare a row with `columns` before looking at any value."),
        (
            "For a list row compare len(row) with len(columns); for a dict row collect the "
            "columns not in it AND the keys not in columns, and name them all in one message."
        ),
    ),
)
def test_wrong_shapes_are_422_naming_the_problem(serving):
    good = [4.9, 3.0, 1.4, 0.2]
    cases = {
        "too few values": ([5.1, 3.5, 1.4], ["3", "4"]),
        "too many values": ([5.1, 3.5, 1.4, 0.2, 9.9], ["5", "4"]),
        "a missing name": (
            {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4},
            ["petal_width"],
        ),
        "a misspelt name": (
            {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_wdth": 0.2},
            ["petal_width", "petal_wdth"],
        ),
        "a row that is a number": (42, []),
    }
    for case, (row, must_mention) in cases.items():
        with pytest.raises(serving.InvalidInput) as caught:
            serving.validate_rows([good, row], COLUMNS, DOUBLES)
        assert caught.value.status_code == 422, case
        for word in must_mention:
            assert word in caught.value.message, f"{case}: the message should mention {word!r}"


@pytest.mark.exercise(
    "3.1",
    points=2,
    hints=(
        (
            "A value that does not fit its column's type is the client's mistake, not a "
            "number for the model: NaN, infinity, null, text or true in a number column, 1.5 "
            "in a whole-number column."
        ),
        (
            "Notebook 03, 'Exercise 3.1'; the Python types JSON decodes to (int, float, str, "
            "bool, None) and math.isfinite."
        ),
        (
            "Test the exact type: bool is a subclass of int, so isinstance(True, int) is "
            "True; check float(value).is_integer() for long/integer; name the column with "
            "repr(column)."
        ),
    ),
)
def test_bad_values_are_422_naming_the_column(serving):
    cases = [
        (float("nan"), "double"),
        (float("inf"), "double"),
        (None, "double"),
        ("0.2", "double"),
        (True, "double"),
        ([0.2], "double"),
        (1.5, "long"),
        (3, "string"),
        ("yes", "boolean"),
    ]
    for value, kind in cases:
        types = ["double", "double", "double", kind]
        good = [5.0, 3.0, 1.0, {"double": 0.5, "long": 1, "string": "a", "boolean": False}[kind]]
        assert len(serving.validate_rows([good], COLUMNS, types)) == 1
        with pytest.raises(serving.InvalidInput) as caught:
            serving.validate_rows([good, [5.0, 3.0, 1.0, value]], COLUMNS, types)
        case = f"{value!r} in a {kind} column"
        assert caught.value.status_code == 422, case
        assert "'petal_width'" in caught.value.message, f"{case}: name the column ('petal_width')"


# --------------------------------------------------------------------------- 3.2
@pytest.fixture(scope="module")
def api(serving, champion, mlflow_tracking_uri):
    app = serving.create_app(
        champion.uri, tracking_uri=mlflow_tracking_uri, batch_limit=50, max_body_bytes=20_000
    )
    with TestClient(app) as client:
        yield client


@pytest.mark.exercise(
    "3.2",
    points=1,
    hints=(
        (
            "An API says whether it is up and which model answers: name, version, alias, run "
            "and signature."
        ),
        (
            "Notebook 03, 'A FastAPI app in ten lines' (routes with @app.get) and "
            "ServedModel.info()."
        ),
        (
            "GET /health answers a small dict with the served version; GET /model/info "
            "answers what info() of the model in app.state.served returns."
        ),
    ),
)
def test_health_and_model_info(api, champion, iris):
    health = api.get("/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["model_loaded"] is True
    assert str(health.json()["model_version"]) == champion.version
    info = api.get("/model/info").json()
    assert info["name"] == champion.name
    assert str(info["version"]) == champion.version
    assert info["alias"] == "champion"
    assert info["run_id"] == champion.run_id
    assert [c["name"] for c in info["signature"]["inputs"]] == list(iris.X.columns)


@pytest.mark.exercise(
    "3.2",
    points=2,
    hints=(
        (
            "One row can come as a list of values, as named values under 'features', or as "
            "named values alone; each gets the same prediction, its class probabilities and "
            "the version."
        ),
        (
            "Notebook 03, 'Exercise 3.2: Build the prediction API'; your validate_rows and "
            "predict_frame from serving_tools."
        ),
        (
            "If the body's only key is 'features', the row is body['features'], else the body"
            " itself; validate [row], then take element 0 of predict_frame's predictions and "
            "probabilities."
        ),
    ),
)
def test_predict_one_row_three_ways(api, champion, iris):
    rows = iris.X.iloc[[0, 60, 120]]
    expected = champion.model.predict(rows)
    probas = proba_dicts(champion.model, rows)
    for i, (_, row) in enumerate(rows.iterrows()):
        named = {k: float(v) for k, v in row.items()}
        for body in ({"features": row.tolist()}, {"features": named}, named):
            answer = api.post("/predict", json=body)
            assert answer.status_code == 200, answer.text
            out = answer.json()
            assert out["prediction"] == expected[i], f"wrong prediction for {body}"
            assert out["probabilities"] == pytest.approx(probas[i])
            assert str(out["model_version"]) == champion.version


@pytest.mark.exercise(
    "3.2",
    points=1,
    hints=(
        (
            "A batch is many rows in one request, answered in the same order, with "
            "probabilities and the version."
        ),
        (
            "Notebook 03, 'Exercise 3.2: Build the prediction API'; predict_frame returns the"
            " batch answer as is."
        ),
        (
            "Validate body['instances'] (lists or dicts) with your validate_rows and return "
            "predict_frame(served, frame)."
        ),
    ),
)
def test_predict_batch(api, champion, iris):
    rows = iris.X.sample(30, random_state=1)
    out = api.post("/predict/batch", json={"instances": rows.values.tolist()})
    assert out.status_code == 200, out.text
    body = out.json()
    assert body["predictions"] == champion.model.predict(rows).tolist()
    assert len(body["probabilities"]) == 30
    for got, want in zip(body["probabilities"], proba_dicts(champion.model, rows), strict=True):
        assert got == pytest.approx(want)
    assert str(body["model_version"]) == champion.version
    records = api.post("/predict/batch", json={"instances": rows.to_dict("records")})
    assert records.json()["predictions"] == body["predictions"]


BAD_REQUESTS = {
    "wrong-count": (dict(json={"features": [5.1, 3.5]}), {422}, "2"),
    "wrong-name": (
        dict(json={"features": {"sepal_length": 1, "sepal_width": 1, "petal_length": 1, "x": 1}}),
        {422},
        "petal_width",
    ),
    "string-value": (dict(json={"features": [5.1, 3.5, "big", 0.2]}), {422}, "petal_length"),
    "nan": (
        dict(
            content=b'{"features": [5.1, NaN, 1.4, 0.2]}',
            headers={"content-type": "application/json"},
        ),
        {422},
        "sepal_width",
    ),
    "not-an-object": (dict(json=[5.1, 3.5, 1.4, 0.2]), {400, 422}, ""),
    "not-json": (
        dict(content=b"{features: [1,2", headers={"content-type": "application/json"}),
        {400},
        "JSON",
    ),
    "text-plain": (
        dict(content=b"5.1,3.5,1.4,0.2", headers={"content-type": "text/plain"}),
        {415},
        "",
    ),
    "no-content-type": (dict(content=b'{"features": [5.1, 3.5, 1.4, 0.2]}'), {415}, ""),
    "body-too-large": (dict(json={"features": [1.0] * 5000}), {413}, ""),
}


@pytest.mark.exercise(
    "3.2",
    points=2,
    hints=(
        (
            "A bad request is the client's mistake: answer a 4xx that says what is wrong, "
            "never a 500 (which says the server broke)."
        ),
        (
            "Notebook 03, 'A FastAPI app in ten lines' (an exception handler); read_json "
            "already raises InvalidInput 400/413/415."
        ),
        (
            "Register @app.exception_handler(InvalidInput) returning JSONResponse({'detail': "
            "exc.message}, status_code=exc.status_code), and read every body with await "
            "read_json(...)."
        ),
    ),
)
def test_bad_single_requests_are_4xx_with_a_message(api):
    for case, (kwargs, statuses, mention) in BAD_REQUESTS.items():
        answer = api.post("/predict", **kwargs)
        assert answer.status_code in statuses, f"{case}: got {answer.status_code} {answer.text}"
        detail = answer.json().get("detail")
        assert detail, f"{case}: answer {{'detail': '<what is wrong>'}}"
        assert mention in json.dumps(detail), f"{case}: the message should mention {mention!r}"


@pytest.mark.exercise(
    "3.2",
    points=1,
    hints=(
        (
            "A batch has limits too: not empty, not over the server's batch_limit, and the "
            "rows where the client was told to put them."
        ),
        (
            "Notebook 03, 'Exercise 3.2'; the batch_limit argument of create_app and of "
            "validate_rows."
        ),
        (
            "Refuse a body without 'instances' with InvalidInput naming it, and pass "
            "batch_limit=batch_limit on to validate_rows."
        ),
    ),
)
def test_bad_batches_are_4xx(api, iris):
    rows = iris.X.head(51).values.tolist()  # the app allows 50
    assert api.post("/predict/batch", json={"instances": rows[:50]}).status_code == 200
    over = api.post("/predict/batch", json={"instances": rows})
    assert over.status_code == 413 and "50" in over.json()["detail"]
    empty = api.post("/predict/batch", json={"instances": []})
    assert empty.status_code == 422 and empty.json()["detail"]
    no_key = api.post("/predict/batch", json={"rows": rows[:2]})
    assert no_key.status_code == 422 and "instances" in no_key.json()["detail"]


@pytest.mark.exercise(
    "3.2",
    points=1,
    hints=(
        ("The same app must work behind a real server, over real HTTP, not only in TestClient."),
        (
            "Notebook 03, 'Exercise 3.2' (the BackgroundServer cell) and 'A FastAPI app in "
            "ten lines'."
        ),
        (
            "Avoid state that only lives in TestClient: create the model in create_app and "
            "keep it in app.state.served; every route reads it from there."
        ),
    ),
)
def test_real_http_server(serving, champion, iris, mlflow_tracking_uri):
    app = serving.create_app(champion.uri, tracking_uri=mlflow_tracking_uri)
    rows = iris.X.iloc[[10, 70]]
    with BackgroundServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.get("/health").status_code == 200
        out = http.post("/predict/batch", json={"instances": rows.values.tolist()})
        assert out.status_code == 200
        assert out.json()["predictions"] == champion.model.predict(rows).tolist()
        bad = http.post("/predict", content=b"oops", headers={"content-type": "application/json"})
        assert bad.status_code == 400


# --------------------------------------------------------------------------- 3.3
def scoring_payloads(X: pd.DataFrame) -> dict[str, dict]:
    return {
        "dataframe_split": {"dataframe_split": X.to_dict(orient="split", index=False)},
        "dataframe_records": {"dataframe_records": X.to_dict(orient="records")},
        "instances-records": {"instances": X.to_dict(orient="records")},
        "inputs-columns": {"inputs": X.to_dict(orient="list")},
    }


@pytest.mark.exercise(
    "3.3",
    points=2,
    hints=(
        (
            "MLflow's protocol has four ways to send the same table; each must give the same "
            "frame, and names (not positions) decide which value is which column."
        ),
        (
            "Notebook 03, '3. Way 2: MLflow's scoring server' (the four payloads) and "
            "DataFrame.to_dict(orient=...)."
        ),
        (
            "Turn every format into a list of {column: value} rows (dataframe_split: zip its "
            "columns with each data row; a dict of columns: one row per index), then call "
            "validate_rows."
        ),
    ),
)
def test_each_scoring_format_gives_the_frame(serving, iris):
    X = iris.X.sample(7, random_state=3)
    # Columns in another order than the signature: names, not positions, must decide.
    shuffled = X[list(reversed(COLUMNS))]
    payloads = scoring_payloads(X)
    payloads["dataframe_split-shuffled"] = {
        "dataframe_split": shuffled.to_dict(orient="split", index=False)
    }
    for label, payload in payloads.items():
        frame = serving.parse_scoring_payload(payload, COLUMNS, DOUBLES)
        assert list(frame.columns) == COLUMNS, label
        np.testing.assert_allclose(frame.to_numpy(), X.to_numpy(), err_msg=label)


@pytest.mark.exercise(
    "3.3",
    points=1,
    hints=(
        (
            "A payload MLflow cannot read is malformed (400), unlike rows that do not fit the"
            " signature (422); say which formats exist."
        ),
        "Notebook 03, '3. Way 2: MLflow's scoring server' (how it rejects bad input).",
        (
            "Find which of SCORING_FORMATS are keys of the body; not exactly one -> "
            "InvalidInput(..., status_code=400) listing them; dataframe_split without columns"
            " or data, or rows without names -> 400."
        ),
    ),
)
def test_unknown_scoring_format_is_400(serving, iris):
    rows = iris.X.head(2).values.tolist()
    for body in ({"data": rows}, rows, {"instances": rows[:1], "inputs": rows[:1]}):
        with pytest.raises(serving.InvalidInput) as caught:
            serving.parse_scoring_payload(body, COLUMNS, DOUBLES)
        assert caught.value.status_code == 400
        assert "dataframe_split" in caught.value.message and "instances" in caught.value.message
    with pytest.raises(serving.InvalidInput) as caught:
        serving.parse_scoring_payload({"dataframe_split": {"data": rows}}, COLUMNS, DOUBLES)
    assert caught.value.status_code == 400, "dataframe_split without columns: 400, as in MLflow"
    with pytest.raises(serving.InvalidInput) as caught:
        serving.parse_scoring_payload({"instances": rows}, COLUMNS, DOUBLES)
    assert caught.value.status_code == 400, "rows without names: 400, as in MLflow"
    records = [dict(zip(COLUMNS, r, strict=True)) for r in rows]
    records[1]["petal_width"] = "wide"
    with pytest.raises(serving.InvalidInput) as caught:
        serving.parse_scoring_payload({"dataframe_records": records}, COLUMNS, DOUBLES)
    assert caught.value.status_code == 422 and "petal_width" in caught.value.message


@pytest.fixture(scope="module")
def mlflow_server(champion, mlflow_tracking_uri):
    with mlflow_scoring_server(champion.uri, tracking_uri=mlflow_tracking_uri) as url:
        yield url


@pytest.mark.exercise(
    "3.3",
    points=2,
    hints=(
        (
            "A client written for `mlflow models serve` must work unchanged: same answers for"
            " the same payloads, a 4xx where MLflow refuses."
        ),
        (
            "Notebook 03, 'Exercise 3.3: Read MLflow's scoring protocol'; MLflow answers "
            "{'predictions': [...]} and nothing else."
        ),
        (
            "POST /invocations: read the body, frame = parse_scoring_payload(...), return "
            "{'predictions': model_predict(served, frame)}; GET /ping returns 200."
        ),
    ),
)
def test_invocations_match_mlflow_models_serve(api, champion, iris, mlflow_server):
    X = iris.X.sample(12, random_state=4)
    assert api.get("/ping").status_code == 200
    with httpx.Client(base_url=mlflow_server, timeout=30) as mlflow_http:
        refused = {
            "instances-lists": {"instances": X.values.tolist()},
            "dataframe_split-no-columns": {"dataframe_split": {"data": X.values.tolist()}},
            "unknown-format": {"rows": X.values.tolist()},
            "missing-column": {
                "dataframe_records": X.drop(columns="petal_width").to_dict("records")
            },
        }
        for label, payload in refused.items():
            ours = api.post("/invocations", json=payload)
            theirs = mlflow_http.post("/invocations", json=payload)
            assert theirs.status_code == 400, f"{label}: mlflow models serve said {theirs.text}"
            assert 400 <= ours.status_code < 500 and ours.json()["detail"], (
                f"{label}: mlflow models serve refuses it with {theirs.status_code}; "
                f"you answered {ours.status_code}"
            )
        for label, payload in scoring_payloads(X).items():
            ours = api.post("/invocations", json=payload)
            theirs = mlflow_http.post("/invocations", json=payload)
            assert theirs.status_code == 200, f"{label}: mlflow models serve said {theirs.text}"
            assert ours.status_code == 200, f"{label}: {ours.text}"
            assert ours.json() == theirs.json(), label
            assert ours.json()["predictions"] == champion.model.predict(X).tolist()


# --------------------------------------------------------------------------- 3.4
@pytest.mark.exercise(
    "3.4",
    points=2,
    hints=(
        (
            "An alias is resolved once, when a model is loaded; to follow it, compare where "
            "it points now with the version you serve."
        ),
        "Notebook 03, 'Where an alias points now' (MlflowClient's alias look-up).",
        (
            "No alias -> None; ask the registry for the version of (served.name, "
            "served.alias); the same as served.version -> None; else load served.model_uri "
            "again and return it."
        ),
    ),
)
def test_reload_if_moved_follows_the_alias(serving, iris, mlflow_tracking_uri):
    from mlops_course.serving_tools import load_served_model

    reg = movable(mlflow_tracking_uri, iris)
    served = load_served_model(reg.uri, tracking_uri=mlflow_tracking_uri)
    assert serving.reload_if_moved(served, tracking_uri=mlflow_tracking_uri) is None
    pinned = load_served_model(f"models:/{reg.name}/{reg.v1}", tracking_uri=mlflow_tracking_uri)
    reg.client.set_registered_model_alias(reg.name, "champion", reg.v2)
    assert serving.reload_if_moved(pinned, tracking_uri=mlflow_tracking_uri) is None, (
        "a model served by version never moves"
    )
    new = serving.reload_if_moved(served, tracking_uri=mlflow_tracking_uri)
    assert new is not None, "the alias moved: load the version it points to now"
    assert str(new.version) == reg.v2
    assert new.pyfunc.predict(iris.X.head(3)).tolist() == [2, 2, 2]
    assert serving.reload_if_moved(new, tracking_uri=mlflow_tracking_uri) is None


@pytest.mark.exercise(
    "3.4",
    points=1,
    hints=(
        ("Reloading is only useful if the new model is the one that answers the next request."),
        (
            "Notebook 03, 'Exercise 3.4: Follow the alias when it moves'; app.state holds the"
            " served model."
        ),
        (
            "POST /reload: new = reload_if_moved(app.state.served, ...); if new is not None "
            "put it in app.state.served; answer reloaded and the version served now."
        ),
    ),
)
def test_reload_endpoint_serves_the_new_version(serving, iris, mlflow_tracking_uri):
    reg = movable(mlflow_tracking_uri, iris)
    app = serving.create_app(reg.uri, tracking_uri=mlflow_tracking_uri)
    row = {"features": iris.X.iloc[0].tolist()}  # a setosa: version 1 says 0, version 2 says 2
    with TestClient(app) as api:
        assert (
            api.post("/predict", json=row).json()["prediction"]
            == reg.first.predict(iris.X.head(1))[0]
        )
        first = api.post("/reload").json()
        assert first["reloaded"] is False and str(first["model_version"]) == reg.v1
        reg.client.set_registered_model_alias(reg.name, "champion", reg.v2)
        second = api.post("/reload").json()
        assert second["reloaded"] is True and str(second["model_version"]) == reg.v2
        assert str(api.get("/model/info").json()["version"]) == reg.v2
        answer = api.post("/predict", json=row).json()
        assert answer["prediction"] == 2 and str(answer["model_version"]) == reg.v2


@pytest.mark.exercise(
    "3.4",
    points=1,
    hints=(
        (
            "A server can notice a promotion by itself: look at the registry every few "
            "seconds while it runs."
        ),
        (
            "Notebook 03, 'Exercise 3.4'; FastAPI's lifespan (code that runs while the app "
            "runs) and asyncio tasks."
        ),
        (
            "In a lifespan context manager, start an asyncio task that loops: await "
            "asyncio.sleep(poll_seconds), then reload_if_moved in a thread "
            "(asyncio.to_thread), swap when not None, skip errors."
        ),
    ),
)
def test_polling_picks_up_a_moved_alias_without_restart(serving, iris, mlflow_tracking_uri):
    reg = movable(mlflow_tracking_uri, iris)
    app = serving.create_app(reg.uri, tracking_uri=mlflow_tracking_uri, poll_seconds=0.3)
    with BackgroundServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        assert str(http.get("/model/info").json()["version"]) == reg.v1
        reg.client.set_registered_model_alias(reg.name, "champion", reg.v2)
        deadline = time.monotonic() + 20
        version = reg.v1
        while time.monotonic() < deadline and version != reg.v2:
            time.sleep(0.2)
            version = str(http.get("/model/info").json()["version"])
        assert version == reg.v2, "the server should pick up the new version by itself"


# --------------------------------------------------------------------------- 3.5
@pytest.fixture(scope="module")
def batch_input(tmp_path_factory, iris):
    rng = np.random.default_rng(0)
    n = 2_500
    X = iris.X.sample(n, replace=True, random_state=0).reset_index(drop=True)
    X = X + rng.normal(0, 0.05, size=X.shape)
    frame = X.assign(customer_id=np.arange(n))[["customer_id", *COLUMNS]]
    path = tmp_path_factory.mktemp("batch") / "input.csv"
    frame.to_csv(path, index=False)
    return SimpleNamespace(path=path, frame=pd.read_csv(path))


@pytest.fixture(scope="module")
def batch_run(serving, champion, batch_input, mlflow_tracking_uri, tmp_path_factory):
    """predict_csv on 2,500 rows in chunks of 600, recording how many rows each predict saw."""
    output = tmp_path_factory.mktemp("batch-out") / "predictions.csv"
    output.write_text("old,results\n1,2\n3,4\n")  # an earlier job's output: to be replaced
    seen: list[int] = []
    original = mlflow.pyfunc.PyFuncModel.predict

    def recording_predict(self, data, *args, **kwargs):
        seen.append(len(data))
        return original(self, data, *args, **kwargs)

    mlflow.pyfunc.PyFuncModel.predict = recording_predict
    started = datetime.now(UTC)
    try:
        summary = serving.predict_csv(
            champion.uri,
            batch_input.path,
            output,
            chunk_size=600,
            tracking_uri=mlflow_tracking_uri,
        )
    finally:
        mlflow.pyfunc.PyFuncModel.predict = original
    return SimpleNamespace(summary=summary, output=output, seen=seen, started=started)


@pytest.mark.exercise(
    "3.5",
    points=2,
    hints=(
        (
            "Batch output is the input plus the answer: every row, in order, with its own "
            "columns, its prediction, one job timestamp and the model version."
        ),
        (
            "Notebook 03, '5. Batch prediction' and 'Reading a file in chunks, replacing a "
            "file safely'."
        ),
        (
            "Per chunk: assign prediction, predicted_at (taken once with datetime.now(UTC) "
            "before the loop) and model_version, and append it; the header only with the "
            "first chunk."
        ),
    ),
)
def test_predict_csv_writes_every_row(batch_run, batch_input, champion):
    out = pd.read_csv(batch_run.output)
    expected = champion.model.predict(batch_input.frame[COLUMNS])
    assert len(out) == len(batch_input.frame)
    assert {"customer_id", *COLUMNS, "prediction", "predicted_at", "model_version"} <= set(out)
    assert "old" not in out.columns, "an existing output is replaced, not appended to"
    assert out["customer_id"].tolist() == batch_input.frame["customer_id"].tolist()
    assert out["prediction"].tolist() == expected.tolist()
    assert out["model_version"].astype(str).unique().tolist() == [champion.version]
    stamps = out["predicted_at"].unique()
    assert len(stamps) == 1, "one timestamp for the whole job"
    stamp = datetime.fromisoformat(stamps[0])
    assert stamp.tzinfo is not None, "a UTC timestamp with its offset (datetime.now(UTC))"
    assert abs((stamp - batch_run.started).total_seconds()) < 120
    leftovers = sorted(p.name for p in batch_run.output.parent.iterdir())
    assert leftovers == ["predictions.csv"], f"only the output should remain, found {leftovers}"


@pytest.mark.exercise(
    "3.5",
    points=1,
    hints=(
        (
            "A batch job reports what it did: how many rows, by which version, how the "
            "predictions are spread, how long it took."
        ),
        "Notebook 03, '5. Batch prediction'; a running count across chunks.",
        (
            "Keep one dict of counts for the whole job and add each chunk's counts of "
            "str(prediction) to it; measure the time from the start of the job."
        ),
    ),
)
def test_predict_csv_summary(batch_run, batch_input, champion):
    expected = pd.Series(champion.model.predict(batch_input.frame[COLUMNS])).astype(str)
    summary = batch_run.summary
    assert summary["rows"] == len(batch_input.frame)
    assert str(summary["model_version"]) == champion.version
    assert {str(k): int(v) for k, v in summary["distribution"].items()} == (
        expected.value_counts().to_dict()
    )
    assert summary["seconds"] > 0 and math.isfinite(summary["seconds"])


@pytest.mark.exercise(
    "3.5",
    points=2,
    hints=(
        "Memory must not grow with the file: never read it whole, never predict it whole.",
        (
            "Notebook 03, 'Reading a file in chunks, replacing a file safely' (pd.read_csv's "
            "chunksize)."
        ),
        (
            "Iterate over pd.read_csv(input_path, chunksize=chunk_size) (or `chunks` when "
            "given) and predict each chunk on its own."
        ),
    ),
)
def test_predict_csv_works_in_chunks(batch_run, batch_input):
    assert batch_run.seen, "predict with served.pyfunc.predict(chunk[served.columns])"
    assert max(batch_run.seen) <= 600, f"a predict call saw {max(batch_run.seen)} rows"
    assert sum(batch_run.seen) == len(batch_input.frame)


@pytest.mark.exercise(
    "3.5",
    points=1,
    hints=(
        (
            "A file without one of the model's columns cannot be scored: say which column is "
            "missing."
        ),
        "Notebook 03, '5. Batch prediction'; InvalidInput from serving_tools.",
        (
            "Before predicting a chunk, list the served.columns not in chunk.columns; raise "
            "InvalidInput naming them."
        ),
    ),
)
def test_predict_csv_missing_column(serving, champion, iris, mlflow_tracking_uri, tmp_path):
    path = tmp_path / "partial.csv"
    iris.X.drop(columns=["petal_width"]).head(20).to_csv(path, index=False)
    with pytest.raises(serving.InvalidInput) as caught:
        serving.predict_csv(
            champion.uri, path, tmp_path / "out.csv", tracking_uri=mlflow_tracking_uri
        )
    assert "petal_width" in caught.value.message


@pytest.mark.exercise(
    "3.5",
    points=1,
    hints=(
        (
            "A job that fails must not destroy the last good result: write the new file aside"
            " and swap it in only once it is complete."
        ),
        (
            "Notebook 03, 'Reading a file in chunks, replacing a file safely' (a temporary "
            "file in the same folder, then one replace)."
        ),
        (
            "Write every chunk to a temporary file beside output_path "
            "(tempfile.mkstemp(dir=...)), Path.replace it onto output_path after the last "
            "chunk, and delete it in a finally block."
        ),
    ),
)
def test_predict_csv_keeps_the_old_output_when_it_fails(
    serving, champion, batch_input, mlflow_tracking_uri, tmp_path
):
    # A value the model cannot take, far into the file: the job fails after some chunks.
    frame = batch_input.frame.head(1_500).astype({"petal_length": object})
    frame.loc[1_300, "petal_length"] = "oops"
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    folder = tmp_path / "out"
    folder.mkdir()
    output = folder / "predictions.csv"
    before = "customer_id,prediction\n7,1\n"
    output.write_text(before)
    with pytest.raises(ValueError):
        serving.predict_csv(
            champion.uri, bad, output, chunk_size=400, tracking_uri=mlflow_tracking_uri
        )
    assert output.read_text() == before, "a failed job must leave the existing output as it was"
    leftovers = sorted(p.name for p in folder.iterdir())
    assert leftovers == ["predictions.csv"], f"a failed job left files behind: {leftovers}"
    missing = tmp_path / "missing.csv"
    batch_input.frame.drop(columns="petal_width").head(50).to_csv(missing, index=False)
    with pytest.raises(serving.InvalidInput):
        serving.predict_csv(champion.uri, missing, output, tracking_uri=mlflow_tracking_uri)
    assert output.read_text() == before, "a failed job must leave the existing output as it was"


# --------------------------------------------------------------------------- 3.6 (open)
@pytest.fixture(scope="module")
def ab(mlflow_tracking_uri, iris):
    """Two versions that disagree: champion a forest (setosa -> 0), challenger always 2."""
    forest = RandomForestClassifier(n_estimators=10, max_depth=3, random_state=1)
    forest.fit(iris.X, iris.y)
    constant = DummyClassifier(strategy="constant", constant=2).fit(iris.X, iris.y)
    name = debris.model_name("ab")
    v1 = register(forest, iris.X, name, mlflow_tracking_uri)
    v2 = register(constant, iris.X, name, mlflow_tracking_uri)
    client = MlflowClient(mlflow_tracking_uri)
    client.set_registered_model_alias(name, "champion", v1)
    client.set_registered_model_alias(name, "challenger", v2)
    return SimpleNamespace(name=name, v1=v1, v2=v2, forest=forest)


@pytest.fixture(scope="module")
def ab_api(serving, ab, mlflow_tracking_uri):
    app = serving.create_ab_app(ab.name, tracking_uri=mlflow_tracking_uri)
    with TestClient(app) as client:
        yield client


AB_ROWS = [0, 1, 60, 120]  # two setosas (the forest says 0), a versicolor, a virginica


@pytest.mark.exercise(
    "3.6",
    points=2,
    hints=(
        (
            "Two versions can run side by side: each request is answered by the one its "
            "client asked for, and says which one answered."
        ),
        (
            "Notebook 03, 'Exercise 3.6: Serve champion and challenger side by side'; "
            "request.headers in 'A FastAPI app in ten lines'."
        ),
        (
            "Load one ServedModel per alias into a dict when the app is created; per request "
            "pick dict[request.headers.get('X-Model-Alias', aliases[0])] and answer its "
            "predictions and version."
        ),
    ),
)
def test_ab_app_routes_by_header(ab_api, ab, iris):
    rows = iris.X.iloc[AB_ROWS]
    body = {"instances": rows.values.tolist()}
    champion = ab.forest.predict(rows).tolist()
    assert champion != [2] * len(AB_ROWS), "the test's two versions must disagree"
    for headers, alias, version, expected in (
        ({}, "champion", ab.v1, champion),
        ({"X-Model-Alias": "challenger"}, "challenger", ab.v2, [2] * len(AB_ROWS)),
        ({"X-Model-Alias": "champion"}, "champion", ab.v1, champion),
    ):
        answer = ab_api.post("/predict", json=body, headers=headers)
        case = f"header {headers or 'none'}"
        assert answer.status_code == 200, f"{case}: {answer.status_code} {answer.text}"
        out = answer.json()
        assert out["predictions"] == expected, f"{case}: answered by the wrong version"
        assert str(out["model_version"]) == version, f"{case}: the version that answered"
        assert out["alias"] == alias, case
    named = {"instances": rows.to_dict("records")}
    challenger = ab_api.post("/predict", json=named, headers={"X-Model-Alias": "challenger"})
    assert challenger.status_code == 200, challenger.text
    assert challenger.json()["predictions"] == [2] * len(AB_ROWS), "rows as objects too"


@pytest.mark.exercise(
    "3.6",
    points=1,
    hints=(
        (
            "An alias the server does not serve is the client's mistake: a 4xx naming the "
            "aliases it serves, not a 500 and not silently the champion."
        ),
        "Notebook 03, 'Exercise 3.6'; your exception handler of exercise 3.2.",
        (
            "Check the header's alias is a key of your dict before predicting; raise "
            "InvalidInput(..., 404) listing the aliases; validate rows as in 3.1."
        ),
    ),
)
def test_ab_app_refuses_what_it_cannot_answer(ab_api, iris):
    good = {"instances": iris.X.head(2).values.tolist()}
    unknown = ab_api.post("/predict", json=good, headers={"X-Model-Alias": "staging"})
    assert 400 <= unknown.status_code < 500, (
        f"an alias not served: a 4xx, not {unknown.status_code} {unknown.text}"
    )
    detail = json.dumps(unknown.json().get("detail", ""))
    assert "champion" in detail and "challenger" in detail, "name the aliases served"
    bad_rows = {
        "a text value": {"instances": [[5.1, 3.5, "wide", 0.2]]},
        "too few values": {"instances": [[5.1, 3.5]]},
        "no instances": {"rows": [[5.1, 3.5, 1.4, 0.2]]},
    }
    for case, body in bad_rows.items():
        for headers in ({}, {"X-Model-Alias": "challenger"}):
            answer = ab_api.post("/predict", json=body, headers=headers)
            assert 400 <= answer.status_code < 500, f"{case}: got {answer.status_code}"
            assert answer.json().get("detail"), f"{case}: answer {{'detail': '<what is wrong>'}}"


@pytest.mark.exercise(
    "3.6",
    points=1,
    hints=(
        (
            "Routing must hold when requests for both versions arrive one after the other on "
            "a real server."
        ),
        "Notebook 03, 'Exercise 3.6' (the BackgroundServer cell of exercise 3.2).",
        (
            "Keep no 'current alias' in shared state between requests: choose the model from "
            "each request's own header."
        ),
    ),
)
def test_ab_app_over_real_http(serving, ab, iris, mlflow_tracking_uri):
    app = serving.create_ab_app(ab.name, tracking_uri=mlflow_tracking_uri)
    row = {"instances": iris.X.iloc[[0]].values.tolist()}  # a setosa: 0 for the forest
    with BackgroundServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        for i in range(6):
            alias = ("champion", "challenger")[i % 2]
            answer = http.post("/predict", json=row, headers={"X-Model-Alias": alias}).json()
            assert answer["predictions"] == [0 if alias == "champion" else 2], alias
            assert str(answer["model_version"]) == (ab.v1 if alias == "champion" else ab.v2)
