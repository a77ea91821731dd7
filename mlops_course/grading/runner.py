"""The grading runner: pytest in a watched subprocess, so no learner code can take it down.

The graded tests run in a child ``pytest`` whose plugin writes one JSON line per event (the
collected tests, each test's start and result). This process watches those lines:

* a test running longer than the timeout: the child's process group is killed, the test is
  ``timeout``, and a new child runs the tests not yet graded;
* a child that dies during a test (``os._exit``, a segfault): that test is ``crashed``, the
  rest run in a new child;
* the child's own output goes to a file and is never read whole, so a learner's print loop
  cannot flood the scoreboard; each test's message is capped by the plugin.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from mlops_course import naming, server
from mlops_course import target as target_mod
from mlops_course.grading import debris
from mlops_course.grading import hints as hints_mod
from mlops_course.grading import report as report_mod
from mlops_course.grading.catalog import catalog, exercise_key
from mlops_course.grading.plugin import VERBOSE_VAR
from mlops_course.grading.warm import ENV_ERROR_VAR, child_env
from mlops_course.paths import repo_root
from mlops_course.proc import stop_group, tail

DEFAULT_TIMEOUT = 120.0


class GradingError(RuntimeError):
    """The grader itself cannot run (unknown exercise id, bad target): exit code 2."""


def default_timeout() -> float:
    try:
        return float(os.environ.get("MLOPS_COURSE_TEST_TIMEOUT", DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT


def grade(
    ids: Iterable[str] = (),
    *,
    target: str | None = None,
    timeout: float | None = None,
    tests_dir: Path | None = None,
    on_result: Callable[[dict], None] | None = None,
    warm: bool = False,
    verbose: bool = False,
    on_note: Callable[[str], None] | None = None,
    hints: str = "escalate",
) -> dict:
    """Grade exercises and return a schema-1 report (see :mod:`report`).

    Args:
        ids: exercise ids (``"1.1"``); empty means all.
        target: ``exercises``, ``solutions`` or a folder; default the selected target.
        timeout: seconds allowed per test; default ``MLOPS_COURSE_TEST_TIMEOUT`` or 120.
        tests_dir: where the graded tests are; default ``tests/graded`` of the course.
        on_result: called with each test's result as it arrives (for a progress display).
        warm: fork the tests from a process that has MLflow imported already (see
            :mod:`warm`); what ``check()`` uses for quick feedback.
        verbose: keep each failed check's full assertion and traceback (``detail``).
        on_note: called with a sentence for the learner as things happen (a server started).
        hints: ``escalate`` (one hint level per failure, see :mod:`hints`) or ``all``.

    What the checks create in MLflow is cleaned as :mod:`debris` describes; the report's
    ``notes`` say where a failed check's objects are kept.

    Raises:
        GradingError: for an unknown exercise id or target.
    """
    target = str(target or target_mod.current())
    if hints not in hints_mod.MODES:
        raise GradingError(f"hints: {hints!r} is not one of {', '.join(hints_mod.MODES)}.")
    try:
        target_mod.resolve(target)
    except target_mod.TargetLoadError as exc:
        raise GradingError(str(exc)) from exc
    known = catalog()
    ids = [i for raw in ids for i in str(raw).replace(",", " ").split()]
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise GradingError(
            f"Unknown exercise {', '.join(unknown)}. Known: {', '.join(known) or 'none'}."
        )
    timeout = timeout or default_timeout()
    tests_dir = tests_dir or repo_root() / "tests" / "graded"

    env = child_env(target)
    if verbose:
        env[VERBOSE_VAR] = "1"
    tracking_uri = None
    client = None
    try:
        info = server.ensure_server()
        tracking_uri = info.uri
        env["MLFLOW_TRACKING_URI"] = tracking_uri
        if info.started:
            if on_note:
                on_note(f"Started the course's MLflow server at {info.uri} (data in {info.home}).")
        problem = None if info.external else server.write_probe(info.uri)
        if problem:
            raise server.ServerError(
                f"{problem}. Check that {info.home}/mlflow.db exists and is writable, then "
                "restart it: `mlops-course server stop && mlops-course server start`."
            )
        client = _client(tracking_uri)
    except server.ServerError as exc:
        env[ENV_ERROR_VAR] = str(exc)
        tracking_uri = server.env_tracking_uri()

    selected = ids or list(known)
    _clean(client, selected, on_note)  # what earlier checks of these exercises left
    results, collected, problem = _run_watched(
        ids, target, env, timeout, tests_dir, on_result, warm, verbose
    )
    exercises = _group(collected, results, known)
    hints_mod.apply(exercises, target=target, mode=hints)
    if problem and not exercises:
        exercises = [
            _problem_entry(ids or list(known), known, problem, env_error=ENV_ERROR_VAR in env)
        ]
    report = report_mod.build(
        exercises, student=naming.student(), target=target, tracking_uri=tracking_uri
    )
    kept = {ex["id"] for ex in report["exercises"] if _keeps_debris(ex)}
    _clean(client, [e for e in selected if e not in kept], on_note)
    report["notes"] = _kept_notes(client, sorted(kept, key=exercise_key), tracking_uri)
    return report


def _keeps_debris(ex: dict) -> bool:
    """A failed check keeps what it created, so the learner can look at it in the UI (a file
    that does not import has nothing worth looking at)."""
    return any(
        t["outcome"] in ("failed", "timeout", "crashed")
        or (t["outcome"] == "error" and not t.get("import_error"))
        for t in ex["tests"]
    )


def _kept_notes(client, exercises: list[str], tracking_uri: str | None) -> list[str]:
    notes = []
    for ex_id in exercises:
        try:
            found = debris.find(client, [ex_id]) if client is not None else None
        except Exception:
            found = None
        if found:
            models = f" and models {debris.model_prefix(ex_id)}*" if found.models else ""
            notes.append(
                f"{ex_id}: what its checks created is kept for you to inspect in the MLflow UI "
                f"at {tracking_uri} (experiments {debris.experiment_prefix(ex_id)}*{models}); "
                "the next check of this exercise replaces it."
            )
    return notes


def _client(tracking_uri: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri)


def _clean(client, exercises: list[str], note: Callable[[str], None] | None) -> None:
    """Remove grading objects of these exercises; a failure to clean never fails grading."""
    if client is None or not exercises:
        return
    try:
        debris.remove(client, exercises)
    except Exception as exc:  # the server went away, a permission: grading goes on
        if note:
            note(f"Could not remove what earlier checks left in MLflow: {str(exc)[:200]}")


def _pytest_args(
    target: str, events: Path, selection: list[str], verbose: bool = False
) -> list[str]:
    return [
        *selection,
        "-q", "--tb=short" if verbose else "--tb=no", "--show-capture=no", "--no-header", "-p", "no:cacheprovider",
        "-p", "mlops_course.grading.plugin", "--rootdir", str(repo_root()),
        "--target", target, "--mlops-events", str(events),
    ]  # fmt: skip


def _launch(args: list[str], env: dict, log: Path, warm: bool):
    """Start one pytest child: forked from the warm zygote when asked and ready, else new."""
    if warm:
        from mlops_course.grading import warm as warm_mod

        zygote = warm_mod.zygote(env, wait=30)
        if zygote is not None:
            try:
                return zygote.spawn(args, env, str(repo_root()), str(log))
            except RuntimeError:
                pass  # fall back to a plain process
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "pytest", *args], cwd=repo_root(), env=env,
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def _run_watched(ids, target, env, timeout, tests_dir, on_result, warm=False, verbose=False):
    """Run the tests, restarting pytest after a timeout or a crash. Returns
    (results by node id, collected tests, a problem message or None)."""
    results: dict[str, dict] = {}
    collected: list[dict] = []
    problem = None
    with tempfile.TemporaryDirectory(prefix="mlops-course-grade-") as tmp:
        events = Path(tmp) / "events.jsonl"
        log = Path(tmp) / "pytest.log"
        selection = [str(tests_dir)] + [f"--exercise={i}" for i in ids]
        for _attempt in range(1000):  # bounded: each round grades at least one test or stops
            events.write_text("")
            proc = _launch(_pytest_args(target, events, selection, verbose), env, log, warm)
            round_collected, ended = _watch(proc, events, timeout, results, on_result)
            if not collected:
                collected = round_collected
            if not collected:
                problem = _collection_problem(proc.returncode, log)
                break
            pending = [t["nodeid"] for t in collected if t["nodeid"] not in results]
            if not pending:
                break
            if not ended:  # pytest exited by itself with tests left: do not loop forever
                for nodeid in pending:
                    results[nodeid] = _result(
                        "error", f"not run: pytest stopped early.\n{tail(log, 600)}"
                    )
                break
            selection = pending
    return results, collected, problem


def _watch(proc, events: Path, timeout: float, results: dict, on_result):
    """Follow one pytest child. Returns (its collected tests, whether a test was ended by us
    or by a crash — i.e. whether a rerun of the remaining tests is needed)."""
    collected: list[dict] = []
    current, started = None, 0.0
    seen = 0  # complete lines already handled (the file is small: re-read it whole)
    while True:
        exited = proc.poll() is not None
        lines = events.read_text(encoding="utf-8").split("\n")[:-1]  # drop a partial last line
        new, seen = lines[seen:], len(lines)
        for line in new:
            if not line.strip():
                continue
            event = json.loads(line)
            kind = event.pop("event")
            if kind == "collected":
                collected = event["tests"]
            elif kind == "start":
                current, started = event["nodeid"], time.monotonic()
            elif kind == "result":
                nodeid = event.pop("nodeid")
                results[nodeid] = _result(**event)
                current = None
                if on_result:
                    on_result({"nodeid": nodeid, **results[nodeid]})
        if collected and current is None and all(t["nodeid"] in results for t in collected):
            return collected, False  # all graded: no need to wait for pytest's own shutdown
        if exited:
            if current is not None:
                results[current] = _result("crashed", _crash_message(proc.returncode))
                if on_result:
                    on_result({"nodeid": current, **results[current]})
                return collected, True
            return collected, False
        if current is not None and time.monotonic() - started > timeout:
            stop_group(proc, grace=5)
            results[current] = _result(
                "timeout",
                f"Stopped after {timeout:g} s: the function did not return (an endless loop, "
                "a wait on something that never comes, or far too much work?).",
                duration=timeout,
            )
            if on_result:
                on_result({"nodeid": current, **results[current]})
            return collected, True
        time.sleep(0.05)


def _result(
    outcome: str,
    message: str = "",
    duration: float = 0.0,
    detail: str = "",
    import_error: bool = False,
    **_ignored,
) -> dict:
    result = {"outcome": outcome, "message": message, "duration": round(duration, 3)}
    if detail:
        result["detail"] = detail
    if import_error:
        result["import_error"] = True
    return result


def _crash_message(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return (
            f"The test process died with {name} while running this test (a crash in native code?)."
        )
    return (
        f"The test process exited with code {returncode} while running this test "
        "(does the function call os._exit() or kill its own process?)."
    )


def _collection_problem(returncode: int | None, log: Path) -> str:
    return (
        f"pytest could not collect the graded tests (exit code {returncode}). "
        f"Last lines of its output:\n{tail(log, 1500)}"
    )


def _group(collected: list[dict], results: dict, known: dict) -> list[dict]:
    by_id: dict[str, dict] = {}
    for test in collected:
        ex_id = test.get("exercise")
        if not ex_id:
            continue
        ex = known.get(ex_id)
        entry = by_id.setdefault(
            ex_id, {"id": ex_id, "title": ex.title if ex else "(not in solutions/)", "tests": []}
        )
        res = results.get(test["nodeid"], _result("error", "no result recorded"))
        max_points = float(test.get("points", 1))
        entry["tests"].append(
            {
                "name": test["nodeid"].split("::", 1)[-1],
                "title": test.get("title") or test["nodeid"].split("::", 1)[-1],
                "outcome": res["outcome"],
                "points": max_points if res["outcome"] == "passed" else 0.0,
                "max_points": max_points,
                "message": res["message"],
                "hints": test.get("hints", []),
                "hint": "",  # the level this run shows: hints.apply
                "duration": res["duration"],
                **{k: res[k] for k in ("detail", "import_error") if k in res},
            }
        )
    return [by_id[k] for k in sorted(by_id, key=exercise_key)]


def _problem_entry(ids: list[str], known: dict, problem: str, *, env_error: bool) -> dict:
    """One entry for a run that graded nothing: ``env_unavailable`` when the server could not
    be reached before it started (``env_error``), else ``error``."""
    outcome = "env_unavailable" if env_error else "error"
    first = ids[0] if ids else "?"
    return {
        "id": first if len(ids) == 1 else "*",
        "title": known[first].title if len(ids) == 1 and first in known else "all exercises",
        "tests": [
            {
                "name": "collect graded tests",
                "outcome": outcome,
                "points": 0.0,
                "max_points": 0.0,
                "message": problem[-1500:],
                "hint": "Run `mlops-course doctor` to check your set-up.",
                "duration": 0.0,
            }
        ],
    }
