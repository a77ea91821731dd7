"""The notebooks' self-check quizzes: the right letter is right, anything else is not."""

from __future__ import annotations

import re

import pytest

from mlops_course.authoring import notebook_sources
from mlops_course.quiz import answer_digest, check_quiz


def _quizzes():
    for src in notebook_sources():
        text = src.read_text()
        block = re.search(r"EXPECTED = \{(.*?)\n\}", text, re.S)
        if block:
            yield src.stem[:2], dict(re.findall(r'"(q\d+)": "([0-9a-f]{16})"', block[1]))


@pytest.mark.parametrize("notebook, expected", list(_quizzes()), ids=lambda v: str(v)[:2])
def test_every_question_has_exactly_one_right_letter(notebook, expected):
    assert len(expected) >= 4
    for question, digest in expected.items():
        right = [a for a in "abcd" if answer_digest(notebook, question, a) == digest]
        assert len(right) == 1, f"{notebook} {question}: right letters {right}"


def test_check_quiz_counts_and_never_raises(capsys):
    expected = {"q1": answer_digest("99", "q1", "b"), "q2": answer_digest("99", "q2", "c")}
    assert check_quiz("99", {"q1": " B ", "q2": None}, expected) == 1
    out = capsys.readouterr().out
    assert "q1: right" in out and "q2: unanswered" in out and "1/2 right" in out
    assert check_quiz("99", {"q1": "a", "q2": 42}, expected) == 0


def test_quiz_sources_exist():
    assert len(list(_quizzes())) == len(notebook_sources())
