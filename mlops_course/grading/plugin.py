"""The course's pytest plugin (registered through the ``pytest11`` entry point).

It adds:

* ``--target`` (same values as ``MLOPS_COURSE_TARGET``) and ``--exercise ID`` (repeatable) to
  select what is graded;
* the marker ``@pytest.mark.exercise("1.1", points=2, hint="...")`` on every graded test;
* the fixtures ``mlflow_tracking_uri`` (a healthy server: the user's, or one this session
  starts in a temporary home and stops at the end) and ``unique_name``;
* ``--mlops-events FILE``: one JSON line per event (collected, start, result), read by the
  grading runner so it survives a test that hangs or kills its process;
* for notebooks collected by nbval, the same session server, exported to the kernels through
  ``MLFLOW_TRACKING_URI`` before they start.

Outcomes: passed, failed, not_started (the stub's NotImplementedError), error (the learner's
module does not import, or a fixture broke), env_unavailable (no MLflow server); the runner adds
timeout and crashed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from mlops_course.grading.warm import ENV_ERROR_VAR

OUTCOMES = ("passed", "failed", "not_started", "timeout", "crashed", "error", "env_unavailable")
MESSAGE_LIMIT = 1500
DETAIL_LIMIT = 20000
VERBOSE_VAR = "MLOPS_COURSE_VERBOSE"
EVENTS = pytest.StashKey["_Events"]()  # where this session reports to the grader
RESULTS = pytest.StashKey[dict]()  # nodeid -> this session's result of that check


class EnvUnavailable(RuntimeError):
    """The MLflow server the tests need cannot be reached."""


# ----------------------------------------------------------------------------- options, markers
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mlops-course")
    group.addoption(
        "--target",
        default=None,
        help="what to grade: exercises (default), solutions, or a folder of modules",
    )
    group.addoption(
        "--exercise",
        action="append",
        default=[],
        metavar="ID",
        help="grade only this exercise (e.g. 1.2); repeatable",
    )
    group.addoption("--mlops-events", default=None, help=argparse.SUPPRESS)  # the grader's


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "exercise(id, points=1, hints=(idea, where, nudge)): a graded check of exercise `id` "
        "worth `points`, with three hint levels",
    )
    target = config.getoption("--target")
    if target:
        os.environ["MLOPS_COURSE_TARGET"] = target
    config.stash[EVENTS] = _Events(config.getoption("--mlops-events"))
    config.stash[RESULTS] = {}


def pytest_unconfigure(config: pytest.Config) -> None:
    _SessionServer.stop()


def exercise_meta(item: pytest.Item) -> dict | None:
    """The ``exercise`` marker of a test as a dict (id, points, hint), or None."""
    mark = item.get_closest_marker("exercise")
    if mark is None:
        return None
    ex_id = mark.args[0] if mark.args else mark.kwargs.get("id")
    hints = mark.kwargs.get("hints")
    if hints is None:  # one hint of one level (the marker's older form)
        hints = [mark.kwargs["hint"]] if mark.kwargs.get("hint") else []
    return {
        "exercise": str(ex_id),
        "points": float(mark.kwargs.get("points", 1)),
        "hints": [str(h) for h in hints],
    }


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = {e.strip() for e in config.getoption("--exercise") for e in e.split(",") if e.strip()}
    if wanted:
        keep: list[pytest.Item] = []
        drop: list[pytest.Item] = []
        for item in items:
            meta = exercise_meta(item)
            (keep if meta and meta["exercise"] in wanted else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep
    if any(str(getattr(item, "path", "")).endswith(".ipynb") for item in items):
        # Kernels inherit the environment when they start: set it before the first one does.
        _SessionServer.ensure()


def check_title(item: pytest.Item) -> str:
    """A readable name for a graded check: its docstring's first line, else its function name
    in words (``test_run_logs_test_metrics`` -> "run logs test metrics")."""
    doc = (getattr(getattr(item, "obj", None), "__doc__", None) or "").strip()
    if doc:
        return doc.splitlines()[0].rstrip(".")
    name = getattr(item, "originalname", None) or item.name.split("[")[0]
    title = name.removeprefix("test_").replace("_", " ")
    param = item.name[len(name) :] if item.name.startswith(name) else ""
    return f"{title} {param}".strip()


def pytest_collection_finish(session: pytest.Session) -> None:
    events = session.config.stash[EVENTS]
    if not events:
        return
    tests = []
    for item in session.items:
        meta = exercise_meta(item) or {"exercise": None, "points": 0.0, "hints": []}
        tests.append({"nodeid": item.nodeid, "title": check_title(item), **meta})
    events.write({"event": "collected", "tests": tests})


# ----------------------------------------------------------------------------- the running check
@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem) -> None:
    """Name what this check creates in MLflow after its exercise (see :mod:`debris`)."""
    from mlops_course.grading import debris

    meta = exercise_meta(item)
    debris.set_current_exercise(meta["exercise"] if meta else None)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A check of an exercise whose function is still the untouched stub is "not started" at
    once: no fixture runs, so nothing is created in MLflow. ``MLOPS_COURSE_STUB_SHORTCUT=0``
    runs such checks for real (CI does, to prove each one fails on the stub)."""
    if os.environ.get("MLOPS_COURSE_STUB_SHORTCUT", "1") == "0":
        return
    meta = exercise_meta(item)
    if meta and (function := _untouched_stub(meta["exercise"])):
        raise NotImplementedError(f"Exercise {meta['exercise']}: write {function}()")


_STUBS: dict[tuple, bool] = {}


def _untouched_stub(exercise: str) -> str | None:
    """The function's name when the target's function for ``exercise`` only raises
    NotImplementedError (the generated stub), else None."""
    import ast

    from mlops_course.grading.catalog import catalog
    from mlops_course.target import TargetLoadError, resolve

    ex = catalog().get(exercise)
    if ex is None:
        return None
    try:
        path = resolve() / f"{ex.module}.py"
        key = (str(path), path.stat().st_mtime_ns, ex.function)
    except (OSError, TargetLoadError):
        return None
    if key not in _STUBS:
        _STUBS[key] = False
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            return None  # the import error is reported by the check itself
        for node in tree.body:
            if (
                isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.name == ex.function
            ):
                body = node.body[1:] if ast.get_docstring(node) is not None else node.body
                _STUBS[key] = (
                    len(body) == 1
                    and isinstance(body[0], ast.Raise)
                    and "NotImplementedError" in ast.unparse(body[0])
                )
    return ex.function if _STUBS[key] else None


# ----------------------------------------------------------------------------- outcomes
def classify(excinfo: pytest.ExceptionInfo | None, when: str) -> str:
    """The course outcome for one failed phase of a test."""
    from mlops_course.target import TargetLoadError

    if excinfo is None:
        return "passed"
    chain = _exception_chain(excinfo.value)
    if any(isinstance(e, EnvUnavailable) for e in chain):
        return "env_unavailable"
    if any(isinstance(e, TargetLoadError) for e in chain):
        return "error"
    if any(type(e) is NotImplementedError for e in chain):
        return "not_started"
    if _looks_like_connection_error(chain) and not _SessionServer.healthy():
        return "env_unavailable"
    return "failed" if when == "call" else "error"


def _is_import_error(excinfo: pytest.ExceptionInfo) -> bool:
    from mlops_course.target import TargetLoadError

    return any(isinstance(e, TargetLoadError) for e in _exception_chain(excinfo.value))


def _exception_chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _looks_like_connection_error(chain: list[BaseException]) -> bool:
    text = " ".join(f"{type(e).__name__} {e}"[:500] for e in chain)
    return any(
        s in text
        for s in ("ConnectionError", "Connection refused", "Max retries exceeded", "API request to")
    )


def message_for(excinfo: pytest.ExceptionInfo, limit: int = MESSAGE_LIMIT) -> str:
    """A short message: the exception, and where in the learner's file it happened."""
    from mlops_course.target import TargetLoadError

    load_error = next(
        (e for e in _exception_chain(excinfo.value) if isinstance(e, TargetLoadError)), None
    )
    if load_error is not None:
        return cap(str(load_error), limit)  # it names the file and line itself
    text = readable(excinfo.exconly().strip())
    where = _learner_location(excinfo)
    if where:
        text = f"{text}\n  (at {where})"
    return cap(text, limit)


def readable(text: str) -> str:
    """An assertion message as a learner reads it: the check's own sentence first, then the
    learner's value against the expected one (see :func:`pytest_assertrepr_compare`), without
    pytest's object addresses and ``+ where`` plumbing."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("AssertionError"):
        return text
    keep = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if index == 0:
            stripped = stripped.removeprefix("AssertionError").lstrip(": ").strip()
        if " at 0x" in stripped or stripped.startswith(_NOISE):
            continue
        if stripped.startswith("assert ") and any(k in stripped for k in YOURS_EXPECTED):
            stripped = stripped.removeprefix("assert ")  # our own comparison's first line
        keep.append(stripped)
    return "\n".join(k for k in keep if k) or text


YOURS_EXPECTED = ("yours:    ", "yours and expected differ:")
_NOISE = ("+", "-", "Full diff", "Use -v", "Omitting", "where ", "?")


def _short(value: object, limit: int = 120) -> str:
    import reprlib

    if isinstance(value, float):
        return f"{value:.6g}"
    short = reprlib.Repr()
    short.maxstring, short.maxother, short.maxlist, short.maxdict = limit, limit, 8, 8
    return short.repr(value)


def pytest_assertrepr_compare(config: pytest.Config, op: str, left: object, right: object):
    """``assert yours == expected`` explained as "yours: X / expected: Y" (graded tests put the
    learner's value on the left); for dicts, only the keys that differ."""
    if op != "==":
        return None
    if isinstance(left, dict) and isinstance(right, dict):
        lines = ["yours and expected differ:"]
        for key in sorted(set(left) | set(right), key=str):
            if key not in left:
                lines.append(f"  {key}: missing (expected {_short(right[key])})")
            elif key not in right:
                continue  # extra keys are compared by the check itself when they matter
            elif left[key] != right[key]:
                lines.append(f"  {key}: yours {_short(left[key])}, expected {_short(right[key])}")
        return lines if len(lines) > 1 else None
    if type(right).__name__ == "ApproxScalar":
        approx: Any = right  # pytest's ApproxScalar: .expected and .tolerance
        expected = f"{_short(approx.expected)} (± {approx.tolerance:.1g})"
    elif type(right).__name__.startswith("Approx"):
        expected = repr(right)
    else:
        expected = _short(right)
    return [f"yours:    {_short(left)}", f"expected: {expected}"]


def cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 40] + f"\n… [{len(text) - limit + 40} more characters cut]"


def _learner_location(excinfo: pytest.ExceptionInfo) -> str | None:
    try:
        from mlops_course.target import resolve

        folder = resolve()
    except Exception:
        return None
    for entry in reversed(excinfo.traceback):
        path = Path(str(entry.path))
        if folder in path.parents:
            return f"{path.parent.name}/{path.name}, line {entry.lineno + 1}"
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    results = item.config.stash[RESULTS]
    current = results.setdefault(item.nodeid, {"outcome": "passed", "message": "", "duration": 0.0})
    current["duration"] += getattr(report, "duration", 0.0) or 0.0
    if report.failed and current["outcome"] == "passed":
        current["outcome"] = classify(call.excinfo, call.when)
        current["message"] = message_for(call.excinfo) if call.excinfo else report.longreprtext
        if call.excinfo and _is_import_error(call.excinfo):
            current["import_error"] = True  # reported once, at the top of the scoreboard
        if os.environ.get(VERBOSE_VAR) == "1":  # grade --verbose: the whole story
            current["detail"] = cap(report.longreprtext, DETAIL_LIMIT)
    elif report.skipped and current["outcome"] == "passed":
        current["outcome"] = "error"
        current["message"] = f"skipped: {report.longrepr[-1] if report.longrepr else ''}"


def pytest_runtest_logstart(nodeid: str, location) -> None:
    events = _config_events()
    if events:
        events.write({"event": "start", "nodeid": nodeid, "time": time.time()})


def pytest_runtest_logfinish(nodeid: str, location) -> None:
    events = _config_events()
    if events:
        result = _CONFIG["config"].stash[RESULTS].get(nodeid, {"outcome": "error"})
        events.write({"event": "result", "nodeid": nodeid, **result})


_CONFIG: dict = {}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    _CONFIG["config"] = session.config


def _config_events() -> _Events | None:
    config = _CONFIG.get("config")
    return config.stash.get(EVENTS, None) if config else None


class _Events:
    """Append-only JSON lines, flushed at once so a crash loses nothing written before it."""

    def __init__(self, path: str | None):
        self.path = path

    def __bool__(self) -> bool:
        return bool(self.path)

    def write(self, event: dict) -> None:
        if not self.path:
            return
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(event, default=str) + "\n")
            fh.flush()


# ----------------------------------------------------------------------------- the server
class _SessionServer:
    """The tracking server for one pytest session: the user's, or a temporary local one."""

    uri: str | None = None
    home: str | None = None
    error: str | None = None

    @classmethod
    def ensure(cls) -> str:
        from mlops_course import server

        if cls.uri:
            return cls.uri
        cls.error = cls.error or os.environ.get(ENV_ERROR_VAR)
        if cls.error:
            raise EnvUnavailable(cls.error)
        try:
            if server.env_tracking_uri():
                cls.uri = server.ensure_server().uri
            else:
                cls.home = tempfile.mkdtemp(prefix="mlops-course-test-home-")
                cls.uri = server.ensure_server(Path(cls.home)).uri
                os.environ["MLFLOW_TRACKING_URI"] = cls.uri
        except server.ServerError as exc:
            cls.error = str(exc)
            raise EnvUnavailable(cls.error) from exc
        return cls.uri

    @classmethod
    def healthy(cls) -> bool:
        from mlops_course import server

        uri = cls.uri or server.env_tracking_uri()
        return bool(uri) and server.is_healthy(str(uri))

    @classmethod
    def stop(cls) -> None:
        if cls.home:
            from mlops_course import server

            server.stop(Path(cls.home))
            if os.environ.get("MLFLOW_TRACKING_URI") == cls.uri:
                del os.environ["MLFLOW_TRACKING_URI"]
            shutil.rmtree(cls.home, ignore_errors=True)
            cls.home = cls.uri = None


@pytest.fixture(scope="session")
def mlflow_tracking_uri() -> str:
    """A healthy tracking server's URI, set as MLflow's tracking URI for the session."""
    uri = _SessionServer.ensure()
    import mlflow

    mlflow.set_tracking_uri(uri)
    return uri


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> str:
    """A new experiment name for this check, in the learner's grading folder (see :mod:`debris`)."""
    from mlops_course.grading import debris

    return debris.experiment_name(request.node.name.replace("[", "-").replace("]", "")[:40])
