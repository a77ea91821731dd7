"""Grading reports submitted to the tracking server (``grade --submit``) and read back by the
instructor's gradebook (``gradebook --server``).

A submission is a run of the learner's own ``<student>/submissions`` experiment, named after
the report's time, holding the report as the artifact ``report.json`` and its totals as
metrics. Every submission is a new run: nothing is overwritten, and the gradebook takes each
exercise's latest result.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from mlops_course.workshop import SUBMISSIONS, submissions_name

ARTIFACT = "report.json"


def submit(report: dict, tracking_uri: str) -> tuple[str, str]:
    """Log ``report`` as a new run of its student's submissions experiment.

    Returns:
        (run id, experiment name).

    Raises:
        MlflowException: when the server refuses (no permission, unreachable).
    """
    from mlflow import MlflowClient
    from mlflow.entities import Metric, RunTag

    client = MlflowClient(tracking_uri)
    name = submissions_name(report["student"])
    exp = client.get_experiment_by_name(name)
    exp_id = exp.experiment_id if exp else client.create_experiment(name)
    summary = report["summary"]
    run = client.create_run(
        exp_id,
        run_name=f"submission {report['created'][:19]}",
        tags={
            "mlops_course.submission": "1",
            "mlops_course.student": report["student"],
            "mlops_course.target": str(report.get("target")),
            "mlops_course.exercises": " ".join(ex["id"] for ex in report["exercises"]),
        },
    )
    run_id = run.info.run_id
    try:
        client.log_text(run_id, json.dumps(report, indent=2), ARTIFACT)
        now = run.info.start_time
        client.log_batch(
            run_id,
            metrics=[
                Metric("points", float(summary["points"]), now, 0),
                Metric("max_points", float(summary["max_points"]), now, 0),
            ],
            tags=[RunTag("mlops_course.created", report["created"])],
        )
    except BaseException:
        client.set_terminated(run_id, status="FAILED")
        raise
    client.set_terminated(run_id)
    return run_id, name


def server_reports(tracking_uri: str) -> Iterator[tuple[str, object]]:
    """Every submitted report on the server, as ``(where, report)``; a report whose student is
    not the experiment's owner comes back as ``(where, error text)`` for the skipped list."""
    from mlflow import MlflowClient
    from mlflow.entities import ViewType

    client = MlflowClient(tracking_uri)
    experiments: list = []
    token = None
    while True:
        page = client.search_experiments(
            view_type=ViewType.ACTIVE_ONLY,
            filter_string=f"name LIKE '%/{SUBMISSIONS}'",
            max_results=1000,
            page_token=token,
        )
        experiments.extend(page)
        token = page.token
        if not token:
            break
    for exp in experiments:
        owner = exp.name.split("/", 1)[0]
        runs = client.search_runs(
            [exp.experiment_id],
            filter_string="tags.`mlops_course.submission` = '1' and attributes.status = 'FINISHED'",
            max_results=10_000,
        )
        for run in runs:
            where = f"{exp.name} run {run.info.run_id}"
            try:
                text = _load_text(client, run.info.run_id)
                report = json.loads(text)
            except Exception as exc:  # one unreadable submission must not stop the class
                yield where, f"unreadable ({type(exc).__name__}: {exc})"
                continue
            if not isinstance(report, dict) or report.get("student") != owner:
                student = report.get("student") if isinstance(report, dict) else None
                yield where, f"student {student!r} is not the experiment's owner {owner!r}"
                continue
            yield where, report


def _load_text(client, run_id: str) -> str:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = client.download_artifacts(run_id, ARTIFACT, tmp)
        return Path(path).read_text(encoding="utf-8")
