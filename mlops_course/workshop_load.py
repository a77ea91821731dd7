"""A class at once: N learners grading on one server, each with its own credentials and course
home. The workshop's scale test and ``bench/bench_workshop.py`` share it."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from mlops_course.workshop import ENV_KEYS


@dataclass
class ClassRun:
    """What a class's grading did: per learner, its exit code, seconds and report."""

    wall_seconds: float
    seconds: dict[str, float]
    returncodes: dict[str, int]
    reports: dict[str, dict]
    outputs: dict[str, str]
    peak_rss_bytes: int = 0
    errors: list[str] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        values = sorted(self.seconds.values())
        if len(values) == 1:
            return values[0]
        return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]


class PeakMemory:
    """The largest resident memory of a process and its descendants, sampled every 0.5 s."""

    def __init__(self, pid: int | None):
        self.pid, self.peak = pid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        import psutil

        while not self._stop.is_set() and self.pid:
            try:
                root = psutil.Process(self.pid)
                procs = [root, *root.children(recursive=True)]
                total = 0
                for proc in procs:
                    try:
                        total += proc.memory_info().rss
                    except psutil.Error:
                        continue
                self.peak = max(self.peak, total)
            except psutil.Error:
                pass
            self._stop.wait(0.5)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def learner_env(values: dict[str, str], home: Path) -> dict[str, str]:
    """A learner's environment: only its own connection and course home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLOPS_COURSE_"))}
    env.update({k: values[k] for k in ENV_KEYS if k in values})
    env["MLOPS_COURSE_HOME"] = str(home)
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    return env


def grade_class(
    learners: dict[str, dict[str, str]],
    workdir: Path,
    *,
    exercises: tuple[str, ...] = ("1.1", "1.2", "1.3", "1.4", "1.5"),
    submit: bool = True,
    server_pid: int | None = None,
    timeout: float = 1200.0,
) -> ClassRun:
    """Start every learner's ``mlops-course grade --target solutions`` at once and wait.

    Args:
        learners: name -> its connection (the ``.env`` values).
        workdir: where each learner's course home and report go.
        server_pid: the server whose peak memory (with its workers) is measured.
        timeout: seconds for the whole class; a learner still grading then is killed.
    """
    procs: dict[str, tuple[subprocess.Popen, float, Path, Path]] = {}
    with PeakMemory(server_pid) as memory:
        start = time.perf_counter()
        for name, values in learners.items():
            home = workdir / name
            home.mkdir(parents=True, exist_ok=True)
            report = home / "report.json"
            cmd = [
                sys.executable, "-m", "mlops_course.cli", "grade", *exercises,
                "--target", "solutions", "--quiet", "--timeout", "600", "--report", str(report),
            ]  # fmt: skip
            if submit:
                cmd.append("--submit")
            out = home / "grade.log"
            with open(out, "wb") as log:
                proc = subprocess.Popen(
                    cmd,
                    env=learner_env(values, home),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            procs[name] = (proc, time.perf_counter(), report, out)
        seconds: dict[str, float] = {}
        codes: dict[str, int] = {}
        reports: dict[str, dict] = {}
        outputs: dict[str, str] = {}
        errors: list[str] = []
        deadline = start + timeout
        while len(codes) < len(procs):
            for name, (proc, began, _report, _out) in procs.items():
                if name not in codes and proc.poll() is not None:
                    seconds[name] = time.perf_counter() - began
                    codes[name] = proc.returncode
            if time.perf_counter() > deadline:
                from mlops_course.proc import stop_group

                for name, (proc, began, _report, _out) in procs.items():
                    if name not in codes:
                        stop_group(proc)
                        errors.append(f"{name}: still grading after {timeout:g} s; stopped")
                        seconds[name] = time.perf_counter() - began
                        codes[name] = proc.returncode if proc.returncode is not None else -9
                break
            time.sleep(0.2)
        for name, (_proc, _began, report, out) in procs.items():
            outputs[name] = out.read_text(errors="replace")
            try:
                reports[name] = json.loads(report.read_text())
            except (OSError, ValueError) as exc:
                errors.append(f"{name}: no report ({exc})")
        wall = time.perf_counter() - start
    return ClassRun(wall, seconds, codes, reports, outputs, memory.peak, errors)
