"""The non-graded helpers of module 03 (:mod:`mlops_course.serving_tools`), without a server."""

from __future__ import annotations

import argparse
import socket

import httpx
import pandas as pd
import pytest
from fastapi import FastAPI

from mlops_course import serving_tools as st


@pytest.mark.parametrize(
    "uri, expected",
    [
        ("models:/alice.iris@champion", ("alice.iris", None, "champion")),
        ("models:/alice.iris/3", ("alice.iris", "3", None)),
        ("models:/alice.iris", ("alice.iris", None, None)),
        ("models:/m-0123abcd", (None, None, None)),
        ("runs:/abc/model", (None, None, None)),
        ("/tmp/model", (None, None, None)),
    ],
)
def test_parse_model_uri(uri, expected):
    assert st.parse_model_uri(uri) == expected


def _args(**kw):
    base = dict(model_name=None, alias=None, version=None, run_id=None)
    return argparse.Namespace(**{**base, **kw})


def test_model_uri_from_args():
    assert st.model_uri_from_args(_args(model_name="m")) == "models:/m@champion"
    assert st.model_uri_from_args(_args(model_name="m", alias="b")) == "models:/m@b"
    assert st.model_uri_from_args(_args(model_name="m", version="4")) == "models:/m/4"
    assert st.model_uri_from_args(_args(run_id="r1")) == "runs:/r1/model"
    for bad in (_args(), _args(model_name="m", run_id="r"), _args(run_id="r", alias="a"),
                _args(model_name="m", version="x")):  # fmt: skip
        with pytest.raises(st.CommandError):
            st.model_uri_from_args(bad)


def test_parse_feature_line():
    cols = ["a", "b"]
    assert st.parse_feature_line("5.1, 3", cols) == [5.1, 3]
    assert st.parse_feature_line("a=1; b=x", cols) == {"a": 1, "b": "x"}
    assert st.parse_feature_line("true,null", cols) == [True, None]
    assert st.parse_feature_line("   ", cols) == []


def test_demo_rows_match_a_dataset():
    rows = st.demo_rows(["petal_width", "sepal_length"], n=3)
    assert list(rows.columns) == ["petal_width", "sepal_length"] and len(rows) == 3
    assert st.demo_rows(["nothing_like_this"]) is None


def test_port_is_free_and_free_port():
    port = st.free_port()
    assert st.port_is_free("127.0.0.1", port)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert not st.port_is_free("127.0.0.1", busy.getsockname()[1])


def test_background_server_serves_and_stops():
    app = FastAPI()

    @app.get("/hello")
    def hello():
        return {"hi": 1}

    with st.BackgroundServer(app) as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{server.url}/hello").json() == {"hi": 1}
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{server.url}/hello", timeout=1)


def test_iter_csv_chunks(tmp_path):
    path = tmp_path / "x.csv"
    pd.DataFrame({"a": range(25)}).to_csv(path, index=False)
    sizes = [len(c) for c in st.iter_csv_chunks(path, chunk_size=10)]
    assert sizes == [10, 10, 5]
    sizes = [len(c) for c in st.iter_csv_chunks(path, chunk_size=10, progress=True)]
    assert sizes == [10, 10, 5]
