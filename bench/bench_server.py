"""Benchmark the course's local MLflow server against a bare ``mlflow server`` with defaults.

Both are measured in the same run, on this machine, with a fresh SQLite database each time:

1. start: seconds from process start to ``/health`` answering 200;
2. memory: resident memory (RSS) of the server process and all its children, the larger of two
   samples (right after health is OK, and after the client script);
3. client script: a subprocess with ``MLFLOW_TRACKING_URI`` set that creates an experiment and a
   run, makes 100 individual ``log_metric`` calls and logs one scikit-learn model. The script
   times its own work (after its imports and the model fit); its subprocess wall time is also kept.

Each measure is repeated ``--repeat`` times (course and baseline alternate which goes first) and
the medians are compared with the targets: course/baseline ≤ 0.7 (start), ≤ 0.25 (memory),
≤ 0.5 (client script).

    .venv/bin/python bench/bench_server.py [--repeat N] [--json PATH]

Only processes this script starts are stopped (their own process groups), and every temporary
folder it creates is removed, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil
from rich.console import Console
from rich.table import Table

from mlops_course import server
from mlops_course.proc import tail

TARGETS = {"start_s": 0.7, "rss_mib": 0.25, "client_s": 0.5}
CLIENT_TIMEOUT = 300.0
START_TIMEOUT = 180.0
HUEY_ENV = "_MLFLOW_HUEY_STORAGE_PATH"  # a temp folder the default server makes and never removes

CLIENT_SCRIPT = """\
import time
import warnings

warnings.filterwarnings("ignore")

import cloudpickle
import mlflow
import mlflow.sklearn
import sklearn
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

X, y = load_iris(return_X_y=True)
model = LogisticRegression(max_iter=1000).fit(X, y)
requirements = [
    f"mlflow=={mlflow.__version__}",
    f"scikit-learn=={sklearn.__version__}",
    f"cloudpickle=={cloudpickle.__version__}",
]

t0 = time.perf_counter()
experiment_id = mlflow.create_experiment(f"bench-{time.time_ns()}")
with mlflow.start_run(experiment_id=experiment_id):
    for i in range(100):
        mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
    mlflow.sklearn.log_model(
        model,
        name="model",
        pip_requirements=requirements,
        serialization_format="cloudpickle",
    )
elapsed = time.perf_counter() - t0
print(f"BENCH_CLIENT_SECONDS={elapsed:.6f}", flush=True)
"""

console = Console()


@dataclass
class Sample:
    """One start-measure-stop cycle of one server."""

    start_s: float
    rss_mib: float
    rss_after_health_mib: float
    rss_after_client_mib: float
    processes: int
    client_s: float
    client_wall_s: float


class Tracker:
    """Every process seen in a server's tree, so none outlives the benchmark."""

    def __init__(self) -> None:
        self.procs: dict[int, psutil.Process] = {}
        self.huey_dirs: set[str] = set()

    def tree(self, pid: int) -> list[psutil.Process]:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
        for p in procs:
            self.procs.setdefault(p.pid, p)
            with contextlib.suppress(psutil.Error):
                if d := p.environ().get(HUEY_ENV):
                    self.huey_dirs.add(d)
        return procs

    def rss_mib(self, pid: int) -> tuple[float, int]:
        total, count = 0, 0
        for p in self.tree(pid):
            with contextlib.suppress(psutil.NoSuchProcess, psutil.ZombieProcess):
                total += p.memory_info().rss
                count += 1
        return total / 2**20, count

    def sweep(self) -> None:
        """Kill what survived its group's stop (psutil checks the PID was not reused)."""
        for p in self.procs.values():
            with contextlib.suppress(psutil.Error):
                if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                    p.kill()
        for d in self.huey_dirs:
            path = Path(d)
            ours = {"/dev/shm", tempfile.gettempdir()}
            if path.name.startswith("tmp") and str(path.parent) in ours:
                shutil.rmtree(path, ignore_errors=True)


def run_client(uri: str, workdir: Path, script: Path) -> tuple[float, float]:
    """Run the client script against ``uri``; (its own timing, subprocess wall time)."""
    env = dict(os.environ)
    env["MLFLOW_TRACKING_URI"] = uri
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CLIENT_TIMEOUT,
    )
    wall = time.perf_counter() - t0
    match = re.search(r"^BENCH_CLIENT_SECONDS=([0-9.]+)$", proc.stdout, re.MULTILINE)
    if proc.returncode != 0 or not match:
        raise RuntimeError(
            f"client script failed against {uri} (exit {proc.returncode}):\n"
            f"{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
        )
    return float(match.group(1)), wall


def measure(pid: int, uri: str, start_s: float, tracker: Tracker, workdir: Path, script: Path):
    rss_health, n_health = tracker.rss_mib(pid)
    client_s, client_wall_s = run_client(uri, workdir / "client", script)
    if not server.is_healthy(uri, timeout=5):
        raise RuntimeError(f"{uri} stopped answering during the client script")
    rss_client, n_client = tracker.rss_mib(pid)
    return Sample(
        start_s=start_s,
        rss_mib=max(rss_health, rss_client),
        rss_after_health_mib=rss_health,
        rss_after_client_mib=rss_client,
        processes=max(n_health, n_client),
        client_s=client_s,
        client_wall_s=client_wall_s,
    )


def _kill_by_home(marker: str) -> None:
    """Stop a server whose command line names our own temp folder (an interrupted start)."""
    for p in psutil.process_iter(["pid", "cmdline"]):
        with contextlib.suppress(psutil.Error):
            if marker in " ".join(p.info["cmdline"] or []) and os.getpgid(p.pid) == p.pid:
                server._terminate(p.pid)


def run_course(workdir: Path, script: Path) -> Sample:
    home = workdir / "course-home"
    home.mkdir(parents=True)
    tracker = Tracker()
    info = None
    try:
        t0 = time.perf_counter()
        info = server.ensure_server(home)
        start_s = time.perf_counter() - t0
        if info.external or not info.pid:
            raise RuntimeError(f"ensure_server did not start a local server: {info}")
        return measure(info.pid, info.uri, start_s, tracker, workdir, script)
    finally:
        with contextlib.suppress(Exception):
            server.stop(home)
        if info is None:
            _kill_by_home(str(home / "mlflow.db"))
        tracker.sweep()


def baseline_command(port: int, home: Path) -> list[str]:
    return [
        sys.executable, "-m", "mlflow", "server",
        "--host", server.HOST,
        "--port", str(port),
        "--backend-store-uri", f"sqlite:///{home / 'mlflow.db'}",
        "--artifacts-destination", str(home / "artifacts"),
    ]  # fmt: skip


def baseline_env() -> dict[str, str]:
    env = server._server_env()  # the course server's environment...
    env.pop("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", None)  # ...with the job runner left at default
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    return env


def run_baseline(workdir: Path, script: Path, attempts: int = 3) -> Sample:
    home = workdir / "baseline-home"
    home.mkdir(parents=True)
    log_path = home / "server.log"
    tracker = Tracker()
    proc: subprocess.Popen | None = None
    try:
        for _ in range(attempts):
            port = server.free_port()
            uri = f"http://{server.HOST}:{port}"
            with open(log_path, "ab") as log:
                t0 = time.perf_counter()
                proc = subprocess.Popen(
                    baseline_command(port, home),
                    cwd=home,
                    env=baseline_env(),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            if server._wait_healthy(uri, proc.pid, timeout=START_TIMEOUT, proc=proc):
                start_s = time.perf_counter() - t0
                return measure(proc.pid, uri, start_s, tracker, workdir, script)
            server._terminate(proc.pid)
            proc.wait(timeout=10)
            last_lines = tail(log_path)
            if "address already in use" not in last_lines.lower():
                raise RuntimeError(f"baseline server did not start:\n{last_lines}")
        raise RuntimeError("baseline server: no free port after several attempts")
    finally:
        if proc is not None:
            with contextlib.suppress(psutil.Error):
                tracker.tree(proc.pid)  # an interrupted start: note its children and temp folder
            server._terminate(proc.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
        tracker.sweep()


def _raise_exit(signum, _frame):
    raise SystemExit(128 + signum)


def ratio(course: float, baseline: float) -> float:
    return course / baseline if baseline else float("inf")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="cycles per server (default 3)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    signal.signal(signal.SIGTERM, _raise_exit)
    signal.signal(signal.SIGHUP, _raise_exit)
    # The course's ensure_server would otherwise use a server named there instead of starting one.
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"

    import mlflow

    t_all = time.perf_counter()
    samples: dict[str, list[Sample]] = {"course": [], "baseline": []}
    runners = {"course": run_course, "baseline": run_baseline}
    root = Path(tempfile.mkdtemp(prefix="mlops-bench-"))
    try:
        script = root / "client.py"
        script.write_text(CLIENT_SCRIPT)
        for rep in range(args.repeat):
            order = ["course", "baseline"] if rep % 2 == 0 else ["baseline", "course"]
            for name in order:
                workdir = root / f"{name}-{rep}"
                try:
                    s = runners[name](workdir, script)
                finally:
                    shutil.rmtree(workdir, ignore_errors=True)
                samples[name].append(s)
                console.print(
                    f"[dim]{rep + 1}/{args.repeat} {name:8}[/] start {s.start_s:5.2f} s  "
                    f"RSS {s.rss_mib:7.1f} MiB ({s.processes} processes)  "
                    f"client {s.client_s:5.2f} s (wall {s.client_wall_s:5.2f} s)"
                )
    finally:
        shutil.rmtree(root, ignore_errors=True)

    fields = ["start_s", "rss_mib", "client_s", "client_wall_s", "processes"]
    medians = {
        name: {f: statistics.median(getattr(s, f) for s in ss) for f in fields}
        for name, ss in samples.items()
    }
    ratios = {f: ratio(medians["course"][f], medians["baseline"][f]) for f in fields}
    verdicts = {f: "PASS" if ratios[f] <= t else "MISS" for f, t in TARGETS.items()}
    total_s = time.perf_counter() - t_all

    rows = [
        ("start_s", "Start to /health 200", "s", "{:.2f}"),
        ("rss_mib", "RSS, server + children", "MiB", "{:.0f}"),
        ("client_s", "Client script, its work", "s", "{:.2f}"),
        ("client_wall_s", "Client script, wall", "s", "{:.2f}"),
        ("processes", "Server processes", "", "{:.0f}"),
    ]
    table = Table(
        title=f"Course server vs bare `mlflow server` (MLflow {mlflow.__version__}, "
        f"medians of {args.repeat}, {os.cpu_count()} CPUs)"
    )
    for col, justify in [
        ("measure", "left"),
        ("course", "right"),
        ("baseline", "right"),
        ("ratio", "right"),
        ("target", "right"),
        ("verdict", "center"),
    ]:
        table.add_column(col, justify=justify)
    for f, label, unit, fmt in rows:
        suffix = f" {unit}" if unit else ""
        verdict = verdicts.get(f)
        table.add_row(
            label,
            fmt.format(medians["course"][f]) + suffix,
            fmt.format(medians["baseline"][f]) + suffix,
            f"{ratios[f]:.2f}×",
            f"≤ {TARGETS[f]:.2f}×" if f in TARGETS else "(info)",
            {"PASS": "[green]PASS[/]", "MISS": "[red]MISS[/]"}.get(verdict, "–"),
        )
    console.print(table)
    console.print(f"[dim]Total benchmark time: {total_s:.0f} s[/]")

    if args.json:
        result = {
            "mlflow_version": mlflow.__version__,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "repeat": args.repeat,
            "targets": TARGETS,
            "medians": medians,
            "ratios": ratios,
            "verdicts": verdicts,
            "samples": {name: [asdict(s) for s in ss] for name, ss in samples.items()},
            "total_seconds": total_s,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        console.print(f"[dim]Results written to {args.json}[/]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
