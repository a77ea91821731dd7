"""Graded checks of module 03, model serving (exercises 3.1 to 3.5).

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
from mlops_course.serving_tools import BackgroundServer, mlflow_scoring_server

COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
DOUBLES = ["double"] * 4


# --------------------------------------------------------------------------- shared helpers
# A registered-model name no other check uses, in the learner's grading folder.
fresh_name = debris.model_name


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
    name = fresh_name("serve")
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
    name = fresh_name("reload")
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
    hint="Build pd.DataFrame(rows, columns=columns) from lists, or reorder dict rows by columns, "
    "then .astype each column to DTYPES[type].",
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
    hint="Raise InvalidInput(message, 422) for a non-list or an empty list, and "
    "InvalidInput(message, 413) for more rows than batch_limit.",
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
    hint="Compare len(row) with len(columns); for dict rows list every missing and every unknown "
    "name in the message.",
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
    hint="Reject bool, None, str, NaN and infinity in numeric columns (math.isfinite), "
    "non-whole numbers in long columns; name the column with repr().",
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
    hint="GET /health -> {'status': 'ok', 'model_loaded': True, 'model_version': ...}; "
    "GET /model/info -> app.state.served.info().",
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
    hint="POST /predict takes {'features': [...]}, {'features': {...}} or {name: value}; answer "
    "the prediction, its class probabilities and the model version.",
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
    hint="POST /predict/batch {'instances': [...]} -> predict_frame(served, frame).",
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
    hint="Register an exception handler for InvalidInput and read bodies with read_json(): every "
    "bad request must be a 4xx with a 'detail' message, never a 500.",
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
    hint="/predict/batch: an empty list is a 422, more than batch_limit rows a 413, a body "
    "without 'instances' a 422.",
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
    hint="The same app must work behind a real server: serve it with uvicorn and call it over HTTP.",
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
    hint="Find which of dataframe_split / dataframe_records / instances / inputs is present, turn "
    "its content into rows, then return validate_rows(rows, ...).",
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
    hint="A body with none (or several) of the four keys is a 400 whose message lists them.",
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
    hint="POST /invocations must answer {'predictions': [...]} like mlflow models serve, for all "
    "four payload formats, and refuse what it refuses; GET /ping answers 200.",
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
    hint="get_model_version_by_alias(served.name, served.alias): same version -> None; else "
    "return load_served_model(served.model_uri, ...).",
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
    hint="POST /reload calls reload_if_moved and stores a new model in app.state.served.",
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
    hint="With poll_seconds set, start an asyncio task in the app's lifespan that calls "
    "reload_if_moved every poll_seconds.",
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
    hint="For each chunk write its columns plus prediction, predicted_at (one UTC timestamp for "
    "the job) and model_version; header once, no index.",
)
def test_predict_csv_writes_every_row(batch_run, batch_input, champion):
    out = pd.read_csv(batch_run.output)
    expected = champion.model.predict(batch_input.frame[COLUMNS])
    assert len(out) == len(batch_input.frame)
    assert {"customer_id", *COLUMNS, "prediction", "predicted_at", "model_version"} <= set(out)
    assert out["customer_id"].tolist() == batch_input.frame["customer_id"].tolist()
    assert out["prediction"].tolist() == expected.tolist()
    assert out["model_version"].astype(str).unique().tolist() == [champion.version]
    stamps = out["predicted_at"].unique()
    assert len(stamps) == 1, "one timestamp for the whole job"
    stamp = datetime.fromisoformat(stamps[0])
    assert stamp.tzinfo is not None, "a UTC timestamp with its offset (datetime.now(UTC))"
    assert abs((stamp - batch_run.started).total_seconds()) < 120


@pytest.mark.exercise(
    "3.5",
    points=1,
    hint="Return {'rows', 'model_version', 'distribution': {str(label): count}, 'seconds'}.",
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
    hint="Read with pd.read_csv(input_path, chunksize=chunk_size) and call served.pyfunc.predict "
    "on each chunk: never the whole file at once.",
)
def test_predict_csv_works_in_chunks(batch_run, batch_input):
    assert batch_run.seen, "predict with served.pyfunc.predict(chunk[served.columns])"
    assert max(batch_run.seen) <= 600, f"a predict call saw {max(batch_run.seen)} rows"
    assert sum(batch_run.seen) == len(batch_input.frame)


@pytest.mark.exercise(
    "3.5",
    points=1,
    hint="Check the chunk has every signature column; raise InvalidInput naming the missing ones.",
)
def test_predict_csv_missing_column(serving, champion, iris, mlflow_tracking_uri, tmp_path):
    path = tmp_path / "partial.csv"
    iris.X.drop(columns=["petal_width"]).head(20).to_csv(path, index=False)
    with pytest.raises(serving.InvalidInput) as caught:
        serving.predict_csv(
            champion.uri, path, tmp_path / "out.csv", tracking_uri=mlflow_tracking_uri
        )
    assert "petal_width" in caught.value.message
