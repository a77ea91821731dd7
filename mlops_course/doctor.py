"""``mlops-course doctor``: is this machine ready for the course? One line per check."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from importlib import metadata

REQUIRED = {
    "mlflow": "3.17",
    "scikit-learn": "1.5",
    "pandas": "2.2",
    "numpy": "1.26",
    "matplotlib": "3.8",
    "jupyterlab": "4.2",
    "pytest": "8",
    "nbval": "0.11",
}
MIN_FREE_GB = 2.0


@dataclass
class Check:
    ok: bool
    what: str
    fix: str = ""

    def line(self) -> str:
        mark = "[ OK ]" if self.ok else "[FAIL]"
        return f"{mark} {self.what}" + (
            "" if self.ok or not self.fix else f"\n       -> {self.fix}"
        )


def _version_tuple(v: str) -> tuple[int, ...]:
    out = []
    for part in v.split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        if not digits:
            break
        out.append(int(digits))
    return tuple(out)


def run_checks(*, server: bool = True) -> list[Check]:
    checks = [
        Check(
            sys.version_info >= (3, 10),
            f"Python {sys.version.split()[0]} ({sys.executable})",
            "Install Python 3.10 or newer (3.11 is what the course is tested on).",
        )
    ]
    for pkg, minimum in REQUIRED.items():
        try:
            version = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            checks.append(
                Check(
                    False, f"{pkg} is not installed", "Run `make course` (or `pip install -e .`)."
                )
            )
            continue
        ok = _version_tuple(version) >= _version_tuple(minimum)
        checks.append(
            Check(ok, f"{pkg} {version}", f"Needs {pkg} >= {minimum}: run `pip install -e .`.")
        )
    from mlops_course.paths import course_home

    home = course_home()
    free_gb = shutil.disk_usage(home).free / 2**30
    checks.append(
        Check(
            free_gb >= MIN_FREE_GB,
            f"{free_gb:.1f} GB free for the course home {home}",
            f"Free at least {MIN_FREE_GB:g} GB (models and artifacts are stored there).",
        )
    )
    if server:
        checks.append(_server_check())
    return checks


def _server_check() -> Check:
    from mlops_course import server as srv

    uri = srv.env_tracking_uri()
    if uri:
        ok = srv.is_healthy(uri, timeout=5)
        return Check(
            ok,
            f"MLflow server {uri} (from MLFLOW_TRACKING_URI) is reachable",
            "Start that server, or `unset MLFLOW_TRACKING_URI` to use the course's own.",
        )
    info, verdict = srv.status()
    if verdict == "running" and info is not None:
        problem = srv.write_probe(info.uri)
        if problem:
            return Check(
                False,
                f"course MLflow server at {info.uri} runs but {problem.split(' ', 1)[1]}",
                f"Check that {info.home}/mlflow.db exists and is writable, then "
                "`mlops-course server stop && mlops-course server start`.",
            )
        return Check(True, f"course MLflow server running at {info.uri} (PID {info.pid})")
    return Check(
        False,
        f"course MLflow server: {verdict}",
        "Run `mlops-course server start` (or `make course`, or mlops_course.setup() in a notebook).",
    )
