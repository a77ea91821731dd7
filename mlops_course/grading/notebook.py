"""``check()`` for notebooks: grade exercises and show the scoreboard inline, never raising."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CheckResult:
    """What ``check()`` returns: ``passed`` is True when every graded check passed."""

    passed: bool
    report: dict = field(repr=False, default_factory=dict)
    problem: str = ""

    def __repr__(self) -> str:
        if self.problem:
            return f"<check: could not grade: {self.problem.splitlines()[0]}>"
        s = self.report["summary"]
        return f"<check: {s['points']:g}/{s['max_points']:g} points, {s['passed']}/{s['tests']} checks passed>"


def check(*exercise_ids: str, timeout: float | None = None, hints: str = "escalate") -> CheckResult:
    """Grade the files in ``exercises/`` (or the selected target) for these exercises.

    The tests run in a separate process, so what is graded is what is saved on disk now,
    not objects in this notebook's memory. Save the exercise file before checking.
    """
    from rich.console import Console

    from mlops_course.grading import report as report_mod
    from mlops_course.grading.runner import grade

    console = Console()

    def note(text: str) -> None:
        console.print(text, style="cyan", highlight=False)

    try:
        report = grade(exercise_ids, timeout=timeout, warm=True, on_note=note, hints=hints)
        report_mod.save(report)  # so `progress` sees it
    except Exception as exc:  # the promise: a notebook cell never fails because of check()
        console.print(f"[red]Could not grade {', '.join(exercise_ids) or 'the course'}:[/] {exc}")
        return CheckResult(False, problem=str(exc))
    console.print(report_mod.scoreboard(report))
    code = report_mod.exit_code(report)
    if code == 0:
        console.print("[green]All checks passed. Well done![/]")
    elif code == 2:
        console.print(
            "[yellow]The MLflow server is not reachable: run `mlops-course server start`"
            " (or mlops_course.setup()) and check again.[/]"
        )
    return CheckResult(code == 0, report)
