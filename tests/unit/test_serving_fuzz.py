"""Property-based test of the course API's request handling: no input yields a 500.

The app is built from the solutions on a model saved to a local folder (no tracking server
needed); hypothesis sends JSON-ish bodies of every shape to every POST route.
"""

from __future__ import annotations

import json

import mlflow.sklearn
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sklearn.tree import DecisionTreeClassifier

from mlops_course import data, target
from mlops_course.models import sklearn_log_kwargs

COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    X, y = data.load_classification("iris")
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    path = tmp_path_factory.mktemp("fuzz") / "model"
    mlflow.sklearn.save_model(
        model,
        path,
        **sklearn_log_kwargs(model, X),
    )
    serving = target.load("serving", "solutions")
    app = serving.create_app(str(path), batch_limit=20, max_body_bytes=5_000)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
keys = st.one_of(
    st.sampled_from([*COLUMNS, "features", "instances", "columns", "data"]), st.text(max_size=6)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=6), st.dictionaries(keys, inner, max_size=6)),
    max_leaves=30,
)
rows = st.one_of(
    st.lists(st.one_of(st.floats(allow_nan=True), st.integers(), scalars), min_size=0, max_size=6),
    st.dictionaries(st.sampled_from(COLUMNS + ["x"]), st.one_of(st.floats(), scalars), max_size=5),
    json_values,
)
bodies = st.one_of(
    json_values,
    rows.map(lambda r: {"features": r}),
    st.lists(rows, max_size=25).map(lambda r: {"instances": r}),
    st.sampled_from(["dataframe_split", "dataframe_records", "instances", "inputs"]).flatmap(
        lambda key: json_values.map(lambda v: {key: v})
    ),
    st.lists(rows, max_size=5).map(lambda r: {"dataframe_split": {"columns": COLUMNS, "data": r}}),
)
routes = st.sampled_from(["/predict", "/predict/batch", "/invocations"])


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(route=routes, body=bodies)
# Found by this test: fits the signature (a finite double), overflows the tree's float32.
@example(route="/predict", body={"features": [0.0, 0.0, 0.0, 3.4028235677973366e38]})
@example(route="/invocations", body={"inputs": {c: [1e300] for c in COLUMNS}})
def test_no_json_body_yields_a_server_error(api, route, body):
    content = json.dumps(body, allow_nan=True).encode()
    answer = api.post(route, content=content, headers={"content-type": "application/json"})
    assert answer.status_code < 500, (route, body, answer.text)
    if answer.status_code >= 400:
        assert answer.json()["detail"], "every refusal says why"


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    route=routes,
    raw=st.binary(max_size=6_000),
    content_type=st.sampled_from(
        [None, "application/json", "application/json; charset=utf-8", "text/plain", "text/csv", ""]
    ),
)
def test_no_raw_body_yields_a_server_error(api, route, raw, content_type):
    headers = {"content-type": content_type} if content_type is not None else {}
    answer = api.post(route, content=raw, headers=headers)
    assert answer.status_code < 500, (route, raw[:80], content_type, answer.text)
