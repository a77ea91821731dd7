"""The mutant suite: plausible learner mistakes, each applied to a copy of ``solutions/``, each
of which the grader must catch (take points off the exercise it belongs to).

Mutants live in ``mutants_<module>.py`` beside this file: ``MUTANTS``, a list of
:class:`Mutant`. Every exercise also gets one mutant made here, its function returning ``None``,
which must score 0 on every check. The kill rate is printed at the end of the run.
"""

from __future__ import annotations

from mutantlib import KILLED


def pytest_terminal_summary(terminalreporter) -> None:
    if not KILLED:
        return
    killed = sum(KILLED.values())
    survivors = sorted(k for k, caught in KILLED.items() if not caught)
    terminalreporter.write_sep("=", "mutant suite")
    terminalreporter.write_line(
        f"kill rate: {killed}/{len(KILLED)} mutants caught ({killed / len(KILLED):.0%})"
    )
    for name in survivors:
        terminalreporter.write_line(f"  survived: {name}")
