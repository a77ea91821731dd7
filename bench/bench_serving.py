"""Benchmark the course's prediction API against ``mlflow models serve``, same model, same run.

1. latency: single-row ``POST /invocations`` requests, sent one after the other, alternating
   between the two servers (so load on the machine hits both alike): median and p95;
2. throughput: 1,000-row ``dataframe_split`` batches to ``/invocations``: rows per second;
3. with ``--load``: a load test of the course API from a second process (20 concurrent
   keep-alive clients for 30 s on loopback): zero 5xx, zero dropped connections, p99 printed.

Targets (course / MLflow): latency ratio ≤ 1.0, throughput ratio ≥ 1.0.

    .venv/bin/python bench/bench_serving.py [--quick] [--load] [--json PATH]

Both servers run as subprocesses with one uvicorn worker on 127.0.0.1: the course API through
``mlops-course serve`` (solutions), MLflow's through ``mlflow models serve --env-manager local``.
The tracking server is ``MLFLOW_TRACKING_URI`` when set, else a temporary course server this
script starts and stops. Only processes this script starts are stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import numpy as np
from rich.console import Console
from rich.table import Table

from mlops_course import data, server
from mlops_course.models import register_sklearn
from mlops_course.proc import stop_group
from mlops_course.serving_harness import free_port, mlflow_scoring_server, venv_env


@contextlib.contextmanager
def tracking_server():
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        yield uri
        return
    home = Path(tempfile.mkdtemp(prefix="bench-serving-home-"))
    try:
        yield server.ensure_server(home).uri
    finally:
        server.stop(home)
        shutil.rmtree(home, ignore_errors=True)


def register_model(tracking_uri: str) -> str:
    import mlflow
    import mlflow.sklearn
    from sklearn.ensemble import RandomForestClassifier

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment("bench-serving")
    X, y = data.load_classification("iris")
    model = RandomForestClassifier(n_estimators=50, max_depth=5, random_state=0).fit(X, y)
    name = f"bench-serving-{uuid.uuid4().hex[:8]}"
    register_sklearn(model, X, name, alias="champion")
    return name


@contextlib.contextmanager
def course_api(name: str, tracking_uri: str):
    port = free_port()
    exe = Path(sys.executable).parent / "mlops-course"
    proc = subprocess.Popen(
        [str(exe), "serve", "--model-name", name, "--port", str(port)],
        env=venv_env(tracking_uri),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError("mlops-course serve exited")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("mlops-course serve did not start")
            time.sleep(0.2)
        yield url
    finally:
        stop_group(proc, grace=15)


def timed_post(http: httpx.Client, path: str, payload: dict) -> float:
    start = time.perf_counter()
    answer = http.post(path, json=payload)
    elapsed = time.perf_counter() - start
    answer.raise_for_status()
    return elapsed


def measure(ours: str, theirs: str, *, requests: int, batches: int) -> dict:
    X, _ = data.load_classification("iris")
    rng = np.random.default_rng(0)
    rows = X.sample(requests, replace=True, random_state=0)
    batch = X.sample(1000, replace=True, random_state=1)
    one = [
        {"dataframe_split": rows.iloc[[i]].to_dict(orient="split", index=False)}
        for i in range(requests)
    ]
    big = {"dataframe_split": batch.to_dict(orient="split", index=False)}
    results = {
        "ours": {"single": [], "batch": [], "predict": []},
        "theirs": {"single": [], "batch": []},
    }
    with (
        httpx.Client(base_url=ours, timeout=60) as a,
        httpx.Client(base_url=theirs, timeout=60) as b,
    ):
        for _ in range(20):  # warm-up
            timed_post(a, "/invocations", one[0]), timed_post(b, "/invocations", one[0])
        for i in range(requests):
            pair = [("ours", a), ("theirs", b)]
            for who, http in pair if rng.random() < 0.5 else pair[::-1]:
                results[who]["single"].append(timed_post(http, "/invocations", one[i]))
            results["ours"]["predict"].append(
                timed_post(a, "/predict", {"features": rows.iloc[i].tolist()})
            )
        for _ in range(batches):
            pair = [("ours", a), ("theirs", b)]
            for who, http in pair if rng.random() < 0.5 else pair[::-1]:
                results[who]["batch"].append(timed_post(http, "/invocations", big))

    def summary(r):
        ms = np.array(r["single"]) * 1000
        return {
            "median_ms": float(np.median(ms)),
            "p95_ms": float(np.percentile(ms, 95)),
            "rows_per_s": 1000 * len(r["batch"]) / sum(r["batch"]),
        }

    out = {"ours": summary(results["ours"]), "theirs": summary(results["theirs"])}
    ms = np.array(results["ours"]["predict"]) * 1000
    out["ours_predict"] = {
        "median_ms": float(np.median(ms)),
        "p95_ms": float(np.percentile(ms, 95)),
    }
    return out


def load(url: str, *, clients: int, seconds: float) -> dict:
    X, _ = data.load_classification("iris")
    payload = json.dumps({"features": X.iloc[0].tolist()})
    out = subprocess.run(
        [sys.executable, "-m", "mlops_course.serving_harness", url, "/predict", payload,
         str(clients), str(seconds)],
        capture_output=True, text=True, timeout=seconds + 120, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)


def report(console: Console, m: dict, load_result: dict | None, args) -> None:
    table = Table(title=f"Course API vs mlflow models serve ({args.requests} single rows, "
                  f"{args.batches} batches of 1,000 rows)")  # fmt: skip
    for col in ("measure", "course API", "mlflow models serve", "ratio", "target", "verdict"):
        table.add_column(col, justify="right" if col != "measure" else "left")

    def row(label, ours, theirs, fmt, target, lower_is_better):
        ratio = ours / theirs
        ok = ratio <= target if lower_is_better else ratio >= target
        sign = "≤" if lower_is_better else "≥"
        table.add_row(label, fmt.format(ours), fmt.format(theirs), f"{ratio:.2f}",
                      f"{sign} {target}", "[green]PASS[/]" if ok else "[red]MISS[/]")  # fmt: skip

    o, t = m["ours"], m["theirs"]
    row("latency median, 1 row (ms)", o["median_ms"], t["median_ms"], "{:.2f}", 1.0, True)
    row("latency p95, 1 row (ms)", o["p95_ms"], t["p95_ms"], "{:.2f}", 1.0, True)
    row(
        "throughput, 1,000-row batches (rows/s)",
        o["rows_per_s"],
        t["rows_per_s"],
        "{:,.0f}",
        1.0,
        False,
    )
    p = m["ours_predict"]
    table.add_row("course /predict (+ probabilities), median / p95 ms",
                  f"{p['median_ms']:.2f} / {p['p95_ms']:.2f}", "", "", "", "")  # fmt: skip
    console.print(table)
    if load_result:
        lt = Table(title=f"Load test: {args.clients} clients × {args.seconds:g} s, POST /predict")
        for col in ("requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "5xx", "dropped", "verdict"):
            lt.add_column(col, justify="right")
        ok = load_result["server_errors"] == 0 and load_result["dropped"] == 0
        lt.add_row(
            f"{load_result['requests']:,}", f"{load_result['requests_per_second']:.0f}",
            f"{load_result['p50_ms']:.1f}", f"{load_result['p95_ms']:.1f}",
            f"{load_result['p99_ms']:.1f}", str(load_result["server_errors"]),
            str(load_result["dropped"]), "[green]PASS[/]" if ok else "[red]MISS[/]",
        )  # fmt: skip
        console.print(lt)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests (a quick look)")
    parser.add_argument("--load", action="store_true", help="also run the load test")
    parser.add_argument("--json", type=Path, help="write the measures here")
    args = parser.parse_args(argv)
    args.requests, args.batches = (100, 10) if args.quick else (500, 30)
    args.clients, args.seconds = (5, 5.0) if args.quick else (20, 30.0)
    console = Console()
    with tracking_server() as uri:
        name = register_model(uri)
        model_uri = f"models:/{name}@champion"
        with (
            course_api(name, uri) as ours,
            mlflow_scoring_server(model_uri, tracking_uri=uri) as theirs,
        ):
            console.print(f"course API {ours} · mlflow models serve {theirs}")
            m = measure(ours, theirs, requests=args.requests, batches=args.batches)
            load_result = (
                load(ours, clients=args.clients, seconds=args.seconds) if args.load else None
            )
    report(console, m, load_result, args)
    if args.json:
        args.json.write_text(json.dumps({"measures": m, "load": load_result}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
