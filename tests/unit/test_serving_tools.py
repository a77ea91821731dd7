"""The non-graded helpers of module 03 without a model: :mod:`mlops_course.serving_tools` (what
the graded code imports), :mod:`mlops_course.serving_harness`, and the serving commands' support."""

from __future__ import annotations

import argparse
import json
import socket

import httpx
import pandas as pd
import pytest
from fastapi import FastAPI, Request

from mlops_course import proc, serving_harness
from mlops_course import serving_tools as st
from mlops_course.cli import serving_support as support
from mlops_course.cli.args import CliError


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
    assert support.model_uri_from_args(_args(model_name="m")) == "models:/m@champion"
    assert support.model_uri_from_args(_args(model_name="m", alias="b")) == "models:/m@b"
    assert support.model_uri_from_args(_args(model_name="m", version="4")) == "models:/m/4"
    assert support.model_uri_from_args(_args(run_id="r1")) == "runs:/r1/model"
    for bad in (_args(), _args(model_name="m", run_id="r"), _args(run_id="r", alias="a"),
                _args(model_name="m", version="x")):  # fmt: skip
        with pytest.raises(CliError):
            support.model_uri_from_args(bad)


def test_parse_feature_line():
    cols = ["a", "b"]
    assert support.parse_feature_line("5.1, 3", cols) == [5.1, 3]
    assert support.parse_feature_line("a=1; b=x", cols) == {"a": 1, "b": "x"}
    assert support.parse_feature_line("true,null", cols) == [True, None]
    assert support.parse_feature_line("   ", cols) == []


def test_demo_rows_match_a_dataset():
    rows = support.demo_rows(["petal_width", "sepal_length"], n=3)
    assert list(rows.columns) == ["petal_width", "sepal_length"] and len(rows) == 3
    assert support.demo_rows(["nothing_like_this"]) is None


def test_port_is_free_and_free_port():
    port = proc.free_port()
    assert proc.port_is_free(port)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert not proc.port_is_free(busy.getsockname()[1], "127.0.0.1")


def test_background_server_serves_and_stops():
    app = FastAPI()

    @app.get("/hello")
    def hello():
        return {"hi": 1}

    with serving_harness.BackgroundServer(app) as server:
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


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_client_that_writes_the_whole_body_first_still_reads_the_413(declared):
    """urllib writes the whole body before it reads a byte of the answer. A server that answers
    413 and closes at once leaves the body unread, and the client gets a broken pipe or a reset
    instead of the 413; the server reads and discards a bounded amount first (a lingering
    close, as nginx does)."""
    import urllib.error
    import urllib.request

    from fastapi.responses import JSONResponse

    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request):
        try:
            return await st.read_json(request, max_body_bytes=1_000)
        except st.InvalidInput as exc:
            return JSONResponse({"detail": exc.message}, status_code=exc.status_code)

    body = b'{"x": "' + b"a" * 3_000_000 + b'"}'
    with serving_harness.BackgroundServer(app) as server:
        chunks = iter([body[i : i + 65536] for i in range(0, len(body), 65536)])
        data = body if declared else chunks
        request = urllib.request.Request(
            f"{server.url}/echo", data=data, headers={"Content-Type": "application/json"}
        )
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(request, timeout=30)
        assert answer.value.code == 413
        assert "over the limit" in json.loads(answer.value.read())["detail"]
