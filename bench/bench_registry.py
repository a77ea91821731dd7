"""Benchmark ``mlops-course registry list`` against a plain ``MlflowClient`` loop, same run.

A temporary course server (one worker, SQLite, bound to 127.0.0.1) is filled with ``--models``
registered models of ``--versions`` versions each (default 200 x 10 = 2,000 versions; written
straight into its SQLite store, which is quick, before anything is timed), every model with an
alias. Then, ``--repeat`` times, alternating which goes first:

* **course**: ``mlops-course registry list --json`` run in process (``cli.main``, its output
  captured): one paged ``search_registered_models`` (1,000 a page) and one paged
  ``search_model_versions`` (10,000 a page) for the whole namespace;
* **plain loop**: what one writes first with ``MlflowClient``: ``search_registered_models``
  (default pages of 100), then ``search_model_versions("name = '...'")`` for each model.

Both build the same rows (name, version count, latest version, aliases); the script checks
they agree. Target: course / plain loop <= 1.0 (no slower), medians.

    .venv/bin/python bench/bench_registry.py            # 200 models, 2,000 versions
    .venv/bin/python bench/bench_registry.py --quick    # 20 models, 200 versions
    .venv/bin/python bench/bench_registry.py --json out.json

Only the server this script starts is stopped, and its temporary home is removed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from mlops_course import naming, server

TARGET_RATIO = 1.0


def populate(home: Path, prefix: str, n_models: int, n_versions: int) -> float:
    """Registered models and versions written into the server's SQLite store; seconds taken."""
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore

    t0 = time.perf_counter()
    store = SqlAlchemyStore(f"sqlite:///{home / 'mlflow.db'}")
    for i in range(n_models):
        name = f"{prefix}bench-{i:04d}"
        store.create_registered_model(name, description=f"benchmark model {i}")
        for _ in range(n_versions):
            store.create_model_version(name, f"file:///bench/{name}/model")
        store.set_registered_model_alias(name, "champion", str(n_versions))
        if n_versions > 1:
            store.set_registered_model_alias(name, "challenger", str(n_versions - 1))
    store.engine.dispose()
    return time.perf_counter() - t0


def course_list(prefix: str) -> tuple[list[dict], float]:
    """``mlops-course registry list --json --prefix P`` in process; (rows, seconds)."""
    from mlops_course.cli import main

    out = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = main(["registry", "list", "--prefix", prefix, "--json"])
    seconds = time.perf_counter() - t0
    if code != 0:
        raise RuntimeError(f"registry list exited {code}")
    return json.loads(out.getvalue()), seconds


def plain_loop(uri: str, prefix: str) -> tuple[list[dict], float, int]:
    """The one-by-one listing with a plain MlflowClient; (rows, seconds, requests)."""
    from mlflow import MlflowClient

    t0 = time.perf_counter()
    client = MlflowClient(uri)
    models, token, requests = [], None, 0
    while True:
        page = client.search_registered_models(
            filter_string=f"name LIKE '{prefix}%'", page_token=token
        )
        requests += 1
        models.extend(page)
        token = page.token
        if not token:
            break
    rows = []
    for model in sorted(models, key=lambda m: m.name):
        versions = client.search_model_versions(f"name = '{model.name}'")
        requests += 1
        numbers = [int(v.version) for v in versions]
        rows.append(
            {
                "name": model.name,
                "versions": len(numbers),
                "latest_version": str(max(numbers)) if numbers else None,
                "aliases": dict(sorted(model.aliases.items())),
            }
        )
    return rows, time.perf_counter() - t0, requests


def comparable(rows: list[dict]) -> list[tuple]:
    return [(r["name"], r["versions"], r["latest_version"], r["aliases"]) for r in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 models x 10 versions")
    parser.add_argument("--models", type=int, default=None)
    parser.add_argument("--versions", type=int, default=10, help="versions per model")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", dest="json_path", default=None)
    args = parser.parse_args()
    n_models = args.models or (20 if args.quick else 200)
    console = Console(width=None if sys.stdout.isatty() else 120)  # a log: do not cut at 80

    home = Path(tempfile.mkdtemp(prefix="mlops-course-bench-registry-"))
    saved_uri = os.environ.pop("MLFLOW_TRACKING_URI", None)
    try:
        t0 = time.perf_counter()
        info = server.ensure_server(home, use_env=False)
        start_s = time.perf_counter() - t0
        prefix = f"{naming.student()}.bench{os.getpid()}."
        fill_s = populate(home, prefix, n_models, args.versions)
        os.environ["MLFLOW_TRACKING_URI"] = info.uri  # what the CLI uses
        console.print(
            f"server {info.uri} up in {start_s:.1f} s; {n_models} models x {args.versions} "
            f"versions written in {fill_s:.1f} s"
        )
        # Warm up both paths once (imports, connection pool, SQLite page cache).
        course_rows, _ = course_list(prefix)
        plain_rows, _, requests = plain_loop(info.uri, prefix)
        if comparable(course_rows) != comparable(plain_rows):
            raise SystemExit(
                "the two listings disagree: the benchmark is not comparing like for like"
            )
        if len(course_rows) != n_models:
            raise SystemExit(f"expected {n_models} models, listed {len(course_rows)}")

        course_s, plain_s = [], []
        for i in range(args.repeat):
            order = ("course", "plain") if i % 2 == 0 else ("plain", "course")
            for which in order:
                if which == "course":
                    course_s.append(course_list(prefix)[1])
                else:
                    plain_s.append(plain_loop(info.uri, prefix)[1])
    finally:
        if saved_uri is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = saved_uri
        server.stop(home)
        shutil.rmtree(home, ignore_errors=True)

    course, plain = statistics.median(course_s), statistics.median(plain_s)
    ratio = course / plain
    course_requests = -(-n_models // 1000) + -(-(n_models * args.versions) // 10_000)
    table = Table(
        title=f"registry list: {n_models} models, {n_models * args.versions} versions "
        f"(median of {args.repeat})"
    )
    for column in ("measure", "course (s)", "plain loop (s)", "ratio", "target", "verdict"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    verdict = "[green]PASS[/]" if ratio <= TARGET_RATIO else "[red]MISS[/]"
    table.add_row(
        "`registry list --json`",
        f"{course:.3f}",
        f"{plain:.3f}",
        f"{ratio:.3f}",
        f"≤ {TARGET_RATIO:g}",
        verdict,
    )
    table.add_row("search requests", str(course_requests), str(requests), "", "", "")
    console.print(table)
    if args.json_path:
        Path(args.json_path).write_text(
            json.dumps(
                {
                    "models": n_models,
                    "versions": n_models * args.versions,
                    "course_s": course_s,
                    "plain_s": plain_s,
                    "ratio": ratio,
                    "target": TARGET_RATIO,
                    "pass": ratio <= TARGET_RATIO,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
