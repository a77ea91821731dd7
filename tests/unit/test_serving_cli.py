"""``mlops-course serve`` and ``mlops-course predict batch|realtime`` against a real server."""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pandas as pd
import pytest
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression

from mlops_course import cli, data, naming
from mlops_course.models import register_sklearn
from mlops_course.proc import stop_group
from mlops_course.serving_harness import free_port, venv_env


def log_iris(name: str, *, max_iter: int = 500) -> LogisticRegression:
    """Fit a logistic regression on iris and register it as the next version of ``name``."""
    X, y = data.load_classification("iris")
    model = LogisticRegression(max_iter=max_iter).fit(X, y)
    register_sklearn(model, X, name, experiment=f"{naming.student()}/tests/cli-serve")
    return model


@contextlib.contextmanager
def serving(uri: str, *args: str):
    """A real ``mlops-course serve`` process with ``args``, healthy: yields (url, process).
    Stopped by its process group afterwards; its log must hold no traceback."""
    port = free_port()
    exe = Path(sys.executable).parent / "mlops-course"
    proc = subprocess.Popen(
        [str(exe), "serve", *args, "--port", str(port)],
        env=venv_env(uri),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read().decode()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            assert time.monotonic() < deadline, "mlops-course serve did not start"
            time.sleep(0.2)
        yield url, proc
    finally:
        stop_group(proc, grace=15)
    proc.log = proc.stdout.read().decode()
    assert "Traceback" not in proc.log and "Exception in ASGI application" not in proc.log, proc.log


@pytest.fixture(scope="module")
def registered(mlflow_tracking_uri):
    X, _ = data.load_classification("iris")
    name = naming.model_name(f"test-cli-serve-{uuid.uuid4().hex[:8]}")
    model = log_iris(name)
    run_id = MlflowClient().get_model_version(name, "1").run_id
    MlflowClient().set_registered_model_alias(name, "champion", "1")
    return type("Reg", (), {"name": name, "model": model, "X": X, "run_id": run_id})


def test_realtime_predict_one_row(registered, capsys):
    code = cli.main(
        [
            "predict",
            "realtime",
            "--model-name",
            registered.name,
            "--predict",
            "5.1,3.5,1.4,0.2",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    expected = registered.model.predict(
        pd.DataFrame([[5.1, 3.5, 1.4, 0.2]], columns=registered.X.columns)
    )
    assert out[0]["prediction"] == expected[0]
    assert out[0]["model_version"] == "1"
    assert sum(out[0]["probabilities"].values()) == pytest.approx(1.0)


def test_realtime_bad_row_is_explained(registered, capsys):
    code = cli.main(
        ["predict", "realtime", "--model-name", registered.name, "--predict", "5.1,abc"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "2 values" in err and "petal_width" in err


def test_realtime_demo_and_run_id(registered, capsys):
    assert (
        cli.main(["predict", "realtime", "--model-name", registered.name, "--demo", "--json"]) == 0
    )
    assert len(json.loads(capsys.readouterr().out)) == 5
    args = ["predict", "realtime", "--run-id", registered.run_id, "--predict", "6,3,5,2", "--json"]
    assert cli.main(args) == 0
    assert json.loads(capsys.readouterr().out)[0]["prediction"] == 2


def test_realtime_interactive_explains_bad_lines(registered, capsys, monkeypatch):
    lines = (
        "5.1,3.5,1.4,0.2\n1,2\nsepal_length=6,sepal_width=3,petal_length=5,petal_width=x\n\nquit\n"
    )
    monkeypatch.setattr(sys, "stdin", io.StringIO(lines))
    assert cli.main(["predict", "realtime", "--model-name", registered.name]) == 0
    out = capsys.readouterr().out
    assert out.count("prediction:") == 1
    assert out.count("not a valid row") == 2
    assert "'petal_width'" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--model-name", "nobody.nothing"], "not found"),
        (["--alias", "nope"], "alias 'nope'"),
        ([], "--model-name"),
        (["--run-id", "abc"], "not both"),
        (["--version", "x"], "--version takes a version number"),
    ],
    ids=["unknown-model", "unknown-alias", "no-model", "both", "bad-version"],
)
def test_model_errors_exit_2_with_advice(registered, capsys, argv, message):
    base = ["predict", "realtime", "--predict", "1,2,3,4"]
    if argv[:1] != ["--model-name"] and argv != []:
        argv = ["--model-name", registered.name, *argv]
    assert cli.main(base + argv) == 2
    assert message in capsys.readouterr().err


def test_batch_writes_predictions_and_logs_a_run(registered, tmp_path, capsys):
    source = registered.X.sample(1_234, replace=True, random_state=0)
    source.to_csv(tmp_path / "in.csv", index=False)
    argv = [
        "predict", "batch", "--model-name", registered.name,
        "--input", str(tmp_path / "in.csv"), "--output", str(tmp_path / "out.csv"),
        "--chunk-size", "500", "--log-to-mlflow", "--json",
    ]  # fmt: skip
    assert cli.main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    out = pd.read_csv(tmp_path / "out.csv")
    assert summary["rows"] == len(out) == 1_234
    assert out["prediction"].tolist() == registered.model.predict(source).tolist()
    run = MlflowClient().get_run(summary["run_id"])
    assert run.data.metrics["rows"] == 1_234
    assert sum(v for k, v in run.data.metrics.items() if k.startswith("predicted_")) == 1_234


def test_the_short_name_registry_register_gave_works_everywhere(registered, tmp_path, capsys):
    """`registry register --name iris` makes `<you>.iris`; every command taking --model-name
    reads the short name the same way (predict, serve, validate, monitor)."""
    short = registered.name.removeprefix(f"{naming.student()}.")
    assert short != registered.name
    registered.X.head(20).to_csv(tmp_path / "in.csv", index=False)
    argv = ["predict", "batch", "--model-name", short, "--input", str(tmp_path / "in.csv")]
    assert cli.main([*argv, "--output", str(tmp_path / "out.csv"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 20
    argv = ["monitor", "track", "--model-name", short, "--input", str(tmp_path / "in.csv")]
    experiment = f"{naming.student()}/tests/short-name-{uuid.uuid4().hex[:6]}"
    assert cli.main([*argv, "--experiment", experiment, "--json"]) == 0, capsys.readouterr().err


def test_batch_pretty_output_and_sample(registered, tmp_path, capsys):
    registered.X.head(40).to_csv(tmp_path / "in.csv", index=False)
    argv = [
        "predict", "batch", "--model-name", registered.name, "--input", str(tmp_path / "in.csv"),
        "--output", str(tmp_path / "out.csv"), "--show-sample", "2",
    ]  # fmt: skip
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "Prediction distribution" in out and "40 predictions" in out
    # The sample never wraps at 80 columns: the prediction first, the rest as they fit.
    assert max(len(line) for line in out.splitlines()) <= 80, out
    sample = out[out.index("Sample: the first 2 rows") :].splitlines()
    assert sample[1].split()[0] == "prediction" and len(sample[2].split()) >= 2, sample
    assert len(sample) == 5 and "more column(s), in out.csv" in sample[-1], sample


def test_batch_at_a_terminal_shows_one_progress_bar(registered, mlflow_tracking_uri, tmp_path):
    """At a terminal, the work's own bar and nothing else: no MLflow download bar."""
    import fcntl
    import pty
    import struct
    import termios

    pd.concat([registered.X] * 20).to_csv(tmp_path / "in.csv", index=False)
    exe = Path(sys.executable).parent / "mlops-course"
    argv = [
        str(exe), "predict", "batch", "--model-name", registered.name,
        "--input", str(tmp_path / "in.csv"), "--output", str(tmp_path / "out.csv"),
    ]  # fmt: skip
    leader, follower = pty.openpty()  # a terminal of 24 x 80 (tqdm draws nothing at width 0)
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    proc = subprocess.Popen(
        argv, env=venv_env(mlflow_tracking_uri), stdout=subprocess.PIPE, stderr=follower
    )
    os.close(follower)
    seen = b""
    with contextlib.suppress(OSError):  # EIO once the process closes its end
        while chunk := os.read(leader, 4096):
            seen += chunk
    os.close(leader)
    assert proc.wait(timeout=120) == 0
    bars = seen.decode(errors="replace")
    assert "reading" in bars and "Downloading" not in bars, bars
    assert "Wrote 3,000 predictions" in proc.stdout.read().decode()


def test_batch_errors(registered, tmp_path, capsys):
    base = [
        "predict",
        "batch",
        "--model-name",
        registered.name,
        "--output",
        str(tmp_path / "o.csv"),
    ]
    assert cli.main([*base, "--input", str(tmp_path / "missing.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
    registered.X.drop(columns="petal_width").head(5).to_csv(tmp_path / "in.csv", index=False)
    assert cli.main([*base, "--input", str(tmp_path / "in.csv")]) == 2
    assert "petal_width" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists(), "nothing written on error"


def test_batch_never_loses_the_previous_output(registered, tmp_path, capsys):
    """A failure part-way (a bad cell in the third chunk) leaves the old output as it was; a
    success replaces it whole, with its permissions, and leaves no temporary file behind."""
    out = tmp_path / "out.csv"
    out.write_text("yesterday's predictions\n")
    out.chmod(0o640)
    rows = registered.X.head(40).copy()
    bad = rows.astype(object)
    bad.iloc[25, 3] = "abc"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    ragged = tmp_path / "ragged.csv"
    rows.head(5).to_csv(ragged, index=False)
    with ragged.open("a") as fh:
        fh.write("1,2,3,4,5,6\n")
    base = ["predict", "batch", "--model-name", registered.name, "--chunk-size", "10"]
    for source, reason in ((tmp_path / "bad.csv", "abc"), (ragged, "Expected 4 fields")):
        assert cli.main([*base, "--input", str(source), "--output", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and "\n" not in err, err
        assert "cannot be scored" in err and reason in err and "was not changed" in err, err
        assert out.read_text() == "yesterday's predictions\n"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "out.csv", "ragged.csv"]

    rows.to_csv(tmp_path / "good.csv", index=False)
    assert cli.main([*base, "--input", str(tmp_path / "good.csv"), "--output", str(out)]) == 0
    assert len(pd.read_csv(out)) == 40
    assert out.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bad.csv",
        "good.csv",
        "out.csv",
        "ragged.csv",
    ]


def test_batch_logs_labels_mlflow_refuses_as_metric_names(mlflow_tracking_uri, tmp_path, capsys):
    X, y = data.load_classification("iris")
    labels = y.map({0: "setosa (a)", 1: "versicolor (b)", 2: "virginica (c)"})
    model = LogisticRegression(max_iter=500).fit(X, labels)
    name = naming.model_name(f"test-cli-labels-{uuid.uuid4().hex[:8]}")
    register_sklearn(model, X, name, experiment=f"{naming.student()}/tests/cli-serve")
    X.to_csv(tmp_path / "in.csv", index=False)
    argv = ["predict", "batch", "--model-name", name, "--version", "1", "--log-to-mlflow"]
    argv += ["--input", str(tmp_path / "in.csv"), "--output", str(tmp_path / "o.csv"), "--json"]
    assert cli.main(argv) == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out)
    run = MlflowClient().get_run(summary["run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.metrics["predicted_setosa a"] == summary["distribution"]["setosa (a)"]


def test_serve_refuses_a_busy_port(registered, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert cli.main(["serve", "--model-name", registered.name, "--port", str(port)]) == 2
    assert f"port {port}" in capsys.readouterr().err


def closed_after(sock: socket.socket, limit: float = 15.0) -> tuple[float, bytes]:
    """Seconds until the server closes ``sock``, and what it sent before."""
    sock.settimeout(limit)
    start, received = time.monotonic(), b""
    while True:
        try:
            chunk = sock.recv(4096)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        received += chunk
    return time.monotonic() - start, received


def test_serve_answers_over_http_and_drops_slow_senders(registered, mlflow_tracking_uri):
    timeouts = ["--header-timeout", "1", "--body-timeout", "1"]
    with serving(mlflow_tracking_uri, "--model-name", registered.name, *timeouts) as (url, proc):
        port = int(url.rsplit(":", 1)[1])
        answer = httpx.post(f"{url}/predict", json={"features": [6.0, 3.0, 5.0, 2.0]}).json()
        assert answer["prediction"] == 2 and answer["model_version"] == "1"
        assert httpx.get(f"{url}/model/info").json()["name"] == registered.name

        # Half the headers, then nothing: the connection is closed once the bound (1 s) passes.
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty")
            seconds, _ = closed_after(sock)
        assert 0.5 < seconds < 5, seconds
        # Nothing at all: the same bound.
        with socket.create_connection(("127.0.0.1", port)) as sock:
            seconds, _ = closed_after(sock)
        assert seconds < 5, seconds
        # Trickling a byte at a time does not extend the bound.
        with socket.create_connection(("127.0.0.1", port)) as sock:
            start = time.monotonic()
            with contextlib.suppress(OSError):
                for byte in b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: yes":
                    sock.sendall(bytes([byte]))
                    time.sleep(0.25)
                    if time.monotonic() - start > 8:
                        break
            closed_after(sock)
        assert time.monotonic() - start < 5
        # The headers, then half the body: 408 and the connection closed.
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(
                b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nContent-Length: 200\r\n\r\n"
                b'{"features": [6.0,'
            )
            seconds, received = closed_after(sock)
        assert 0.5 < seconds < 5, seconds
        assert received.startswith(b"HTTP/1.1 408"), received[:200]
        # And the server still answers everyone else.
        assert httpx.get(f"{url}/health").status_code == 200
        assert proc.poll() is None


def test_serve_follows_its_alias_by_default(mlflow_tracking_uri, capsys):
    """After `registry promote`, a running `serve` answers with the new version within
    FOLLOW_SECONDS, without POST /reload, and says which version answered."""
    from mlops_course.cli.serving_runtime import FOLLOW_SECONDS

    X, _ = data.load_classification("iris")
    name = naming.model_name(f"test-cli-follow-{uuid.uuid4().hex[:8]}")
    log_iris(name, max_iter=500)
    log_iris(name, max_iter=50)
    MlflowClient().set_registered_model_alias(name, "champion", "1")
    row = {"features": [6.0, 3.0, 5.0, 2.0]}
    with serving(mlflow_tracking_uri, "--model-name", name) as (url, proc):
        answer = httpx.post(f"{url}/predict", json=row)
        assert answer.json()["model_version"] == "1" and answer.headers["x-model-version"] == "1"

        assert cli.main(["registry", "promote", name, "2", "--yes"]) == 0
        assert f"switch within {FOLLOW_SECONDS:g} s" in capsys.readouterr().out
        moved = time.monotonic()
        while httpx.post(f"{url}/predict", json=row).json()["model_version"] != "2":
            assert time.monotonic() - moved < FOLLOW_SECONDS + 5, "serve did not follow @champion"
            time.sleep(0.25)
        answer = httpx.post(
            f"{url}/invocations", json={"dataframe_records": X.head(1).to_dict("records")}
        )
        assert answer.status_code == 200 and answer.headers["x-model-version"] == "2"
    assert "follows @champion" in proc.log, proc.log
    assert "@champion moved: now serving version 2 (was 1)" in proc.log, proc.log


def test_serve_logs_what_it_answered_and_monitor_tracks_it(
    registered, mlflow_tracking_uri, tmp_path, capsys
):
    """`serve --log-predictions` keeps every answered row (time, request id, version); the
    log is what `monitor track --input` tracks, with the version that answered."""
    log = tmp_path / "predictions.csv"
    rows = registered.X.head(5)
    with serving(
        mlflow_tracking_uri, "--model-name", registered.name, "--log-predictions", str(log)
    ) as (url, proc):
        one = httpx.post(
            f"{url}/predict",
            json={"features": [6.0, 3.0, 5.0, 2.0]},
            headers={"X-Request-ID": "r-1"},
        )
        assert one.headers["x-request-id"] == "r-1"
        batch = httpx.post(f"{url}/predict/batch", json={"instances": rows.values.tolist()})
        scoring = httpx.post(
            f"{url}/invocations", json={"dataframe_records": rows.to_dict("records")}
        )
        assert httpx.post(f"{url}/predict", json={"features": [1]}).status_code == 422
    assert [r.status_code for r in (one, batch, scoring)] == [200, 200, 200]
    logged = pd.read_csv(log)
    assert list(logged.columns) == [
        "logged_at", "request_id", "model_version", *registered.X.columns, "prediction",
    ]  # fmt: skip
    assert len(logged) == 11  # 1 + 5 + 5 answered rows; the refused request left none
    assert logged["request_id"].iloc[0] == "r-1"
    assert logged["request_id"].nunique() == 3 and set(logged["model_version"]) == {1}
    assert logged["prediction"].tolist()[1:6] == registered.model.predict(rows).tolist()
    assert f"logs every answer to {log}" in proc.log

    experiment = f"{naming.student()}/tests/served-{uuid.uuid4().hex[:6]}"
    argv = ["monitor", "track", "--model-name", registered.name, "--input", str(log)]
    assert cli.main([*argv, "--experiment", experiment, "--json"]) == 0
    tracked = json.loads(capsys.readouterr().out)
    assert tracked["rows"] == 11 and tracked["metrics"]["n_rows"] == 11
    assert tracked["prediction_log"]["version"] == "1"
    assert tracked["prediction_log"]["requests"] == 3


def test_the_prediction_log_is_bounded_and_never_takes_over_another_file(tmp_path):
    from mlops_course.cli.args import CliError
    from mlops_course.cli.serving_runtime import PredictionLog

    path = tmp_path / "log.csv"
    log = PredictionLog(path, max_rows=4)
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    log.append(frame, [0, 1, 0], version="1", request_id="x")
    log.append(frame, [1, 1, 1], version="1", request_id="y")  # 6 > 4: the first moves to .1
    assert len(pd.read_csv(path)) == 3 and len(pd.read_csv(log.rotated())) == 3
    assert pd.read_csv(path)["request_id"].tolist() == ["y"] * 3
    # A reopened log counts what it holds; another signature starts a new file.
    again = PredictionLog(path, max_rows=4)
    again.append(pd.DataFrame({"b": ["u"]}), ["k"], version="2", request_id="z")
    assert list(pd.read_csv(path).columns) == [
        "logged_at",
        "request_id",
        "model_version",
        "b",
        "prediction",
    ]
    assert pd.read_csv(log.rotated())["request_id"].tolist() == ["y"] * 3

    precious = tmp_path / "precious.csv"
    precious.write_text("name,score\nada,1\n")
    with pytest.raises(CliError, match="is not a prediction log"):
        PredictionLog(precious)
    assert precious.read_text() == "name,score\nada,1\n"
