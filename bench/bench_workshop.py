"""Benchmark a class of learners grading at once: the workshop server against the local one.

Both are measured in the same run, on this machine, with the same learners doing the same work
(``mlops-course grade 1.1 ... 1.5 --target solutions --submit``, each with its own course home):

* **workshop**: ``mlops-course workshop up`` on a fresh home: PostgreSQL, MLflow's basic-auth
  app, 4 workers, one account per learner (each learner grades with its own credentials);
* **local**: the course's own server (``mlops_course.server``: SQLite, one worker, no auth),
  the learners told apart only by ``MLOPS_COURSE_STUDENT``.

Printed per server: the class's wall time, one learner's p50 and p95, the server's peak memory
(with its workers; PostgreSQL's own processes are not counted), and workshop/local ratios.

    .venv/bin/python bench/bench_workshop.py [--learners 30] [--json PATH]

Only processes this script starts are stopped, and its temporary folders are removed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mlops_course import workshop  # noqa: E402
from mlops_course.workshop_load import ClassRun, grade_class  # noqa: E402


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mlops_course.cli", *args],
        capture_output=True, text=True, env=env, check=False, timeout=600,
    )  # fmt: skip


def run_workshop(base: Path, names: list[str]) -> ClassRun:
    home = base / "workshop"
    roster = base / "roster.csv"
    roster.write_text("".join(f"{n}\n" for n in names))
    done = cli("workshop", "up", "--home", str(home), "--roster", str(roster))
    if done.returncode != 0:
        raise SystemExit(f"workshop up failed: {done.stderr.strip()}")
    try:
        state = workshop.read_state(home)
        learners = {n: workshop.read_env_file(home / "learners" / f"{n}.env") for n in names}
        return grade_class(learners, base / "workshop-class", server_pid=state["pid"])
    finally:
        cli("workshop", "down", "--home", str(home))


def run_local(base: Path, names: list[str]) -> ClassRun:
    import os

    home = base / "local"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLOPS_COURSE_"))}
    env["MLOPS_COURSE_HOME"] = str(home)
    done = cli("server", "start", env=env)
    if done.returncode != 0:
        raise SystemExit(f"server start failed: {done.stderr.strip()}")
    try:
        from mlops_course import server

        info = server.read_state(home)
        assert info is not None
        learners = {n: {"MLFLOW_TRACKING_URI": info.uri, "MLOPS_COURSE_STUDENT": n} for n in names}
        return grade_class(learners, base / "local-class", server_pid=info.pid)
    finally:
        cli("server", "stop", env=env)


def summary(run: ClassRun) -> dict:
    ok = sum(
        1
        for name, code in run.returncodes.items()
        if code == 0
        and run.reports.get(name, {}).get("summary", {}).get("points")
        == run.reports.get(name, {}).get("summary", {}).get("max_points")
    )
    return {
        "wall_s": round(run.wall_seconds, 1),
        "p50_s": round(run.percentile(50), 1),
        "p95_s": round(run.percentile(95), 1),
        "peak_memory_gib": round(run.peak_rss_bytes / 2**30, 2),
        "full_points": ok,
        "learners": len(run.returncodes),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=30)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    names = [f"learner{i:02d}" for i in range(args.learners)]
    base = Path(tempfile.mkdtemp(prefix="mlops-bench-workshop-"))
    base.chmod(0o711)  # PostgreSQL's non-root owner must enter it
    try:
        results = {"local": summary(run_local(base, names))}
        results["workshop"] = summary(run_workshop(base, names))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"{args.learners} learners grading module 01 at once (--submit), same run:")
    print(f"{'':10} {'wall s':>8} {'p50 s':>7} {'p95 s':>7} {'peak GiB':>9} {'full pts':>9}")
    for label, r in results.items():
        print(
            f"{label:10} {r['wall_s']:8.1f} {r['p50_s']:7.1f} {r['p95_s']:7.1f} "
            f"{r['peak_memory_gib']:9.2f} {r['full_points']:>5}/{r['learners']}"
        )
    w, loc = results["workshop"], results["local"]
    ratios = {k: round(w[k] / loc[k], 2) for k in ("wall_s", "p50_s", "p95_s", "peak_memory_gib")}
    print("workshop / local: " + ", ".join(f"{k} {v:.2f}x" for k, v in ratios.items()))
    if args.json:
        args.json.write_text(json.dumps({"results": results, "ratios": ratios}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
