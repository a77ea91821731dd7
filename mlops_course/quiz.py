"""The self-check quiz at the end of every notebook: right, wrong or unanswered per question, and
for every answer, right or wrong, why (what that option gets right, or the misconception it
reflects, and the section to re-read).

The key lives in ``authors/quizzes/<NN>.toml``, out of the notebook, so it is not read by
accident before answering::

    [q1]
    answer = "b"
    section = "2. Logging parameters"   # a heading of the notebook, re-read when wrong
    [q1.explain]
    a = "No: ..."
    b = "Yes: ..."

An unanswered question is reported, never an error; nothing here raises in a notebook.
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

from mlops_course.paths import repo_root

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

OPTIONS = "abcd"
WIDTH = 88


def quiz_file(notebook: str) -> Path:
    return repo_root() / "authors" / "quizzes" / f"{notebook}.toml"


def load_key(notebook: str) -> dict[str, dict]:
    """The quiz key of notebook ``NN``: {question: {"answer", "section", "explain"}}."""
    with quiz_file(notebook).open("rb") as fh:
        return tomllib.load(fh)


def _normalized(answer) -> str:
    return re.sub(r"[^a-z0-9]", "", str(answer).lower())


def _say(text: str, indent: str = "    ") -> None:
    print(textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent))


def check_quiz(notebook: str, answers: dict) -> int:
    """Print right / wrong / unanswered per question, why, and the score; return the score.
    The key is ``authors/quizzes/<notebook>.toml``."""
    try:
        key = load_key(notebook)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        print(f"The quiz key of notebook {notebook} cannot be read: {exc}")
        return 0
    score = 0
    for question, entry in key.items():
        given = answers.get(question)
        choice = _normalized(given) if given is not None else ""
        if not choice:
            print(f"{question}: unanswered")
            continue
        right = choice == entry["answer"]
        score += right
        explain = entry.get("explain", {}).get(choice, "")
        if right:
            print(f"{question}: right")
            if explain:
                _say(explain)
            continue
        if choice not in OPTIONS:
            print(f"{question}: {given!r} is not one of the options {', '.join(OPTIONS)}")
            continue
        print(f"{question}: wrong")
        if explain:
            _say(explain)
        section = entry.get("section")
        _say(f"Re-read: {section}." if section else "Have another look at the section it is about.")
    print(f"\n{score}/{len(key)} right")
    return score
