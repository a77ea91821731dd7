"""The notebooks' self-check quizzes: one right letter per question, every option explained, a
wrong answer pointing at a section that exists; the check never raises."""

from __future__ import annotations

import re

import pytest

from mlops_course import quiz
from mlops_course.authoring import notebook_sources

SOURCES = {src.stem[:2]: src for src in notebook_sources()}


def _headings(text: str) -> set[str]:
    return {m.strip() for m in re.findall(r"^# #{2,4} (.+)$", text, re.M)}


@pytest.mark.parametrize("notebook", list(SOURCES))
def test_every_question_has_one_answer_and_every_option_explains_itself(notebook):
    text = SOURCES[notebook].read_text(encoding="utf-8")
    key = quiz.load_key(notebook)
    asked = re.findall(r"^# \*\*(q\d+)\.\*\*", text, re.M)
    assert list(key) == asked and len(asked) >= 4, (list(key), asked)
    headings = _headings(text)
    for question, entry in key.items():
        assert entry["answer"] in quiz.OPTIONS, (notebook, question)
        explain = entry["explain"]
        assert sorted(explain) == list(quiz.OPTIONS), (notebook, question, sorted(explain))
        assert all(len(explain[o].split()) >= 6 for o in quiz.OPTIONS), (notebook, question)
        wrong = [o for o in quiz.OPTIONS if o != entry["answer"]]
        assert explain[entry["answer"]].startswith("Yes"), (notebook, question)
        assert all(explain[o].startswith("No") for o in wrong), (notebook, question)
        section = entry["section"]
        assert section in headings or section.split(". ", 1)[-1] in {
            h.split(". ", 1)[-1] for h in headings
        }, f"{notebook} {question}: no section {section!r} (headings: {sorted(headings)})"
    # The notebook asks for exactly these answers and checks them against the key.
    assert f'check_quiz("{notebook}", answers)' in text
    for question in key:
        assert f'"{question}": None' in text


def _key(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "authors" / "quizzes"
    folder.mkdir(parents=True)
    (folder / "99.toml").write_text(
        '[q1]\nanswer = "b"\nsection = "2. Two"\n[q1.explain]\na = "No: a is wrong."\n'
        'b = "Yes: b is right."\nc = "No: c."\nd = "No: d."\n'
        '[q2]\nanswer = "c"\nsection = "3. Three"\n[q2.explain]\nc = "Yes: c."\n'
    )
    monkeypatch.setenv("MLOPS_COURSE_ROOT", str(tmp_path))


def test_check_quiz_explains_right_and_wrong_answers(tmp_path, monkeypatch, capsys):
    _key(tmp_path, monkeypatch)
    assert quiz.check_quiz("99", {"q1": " B ", "q2": None}) == 1
    out = capsys.readouterr().out
    assert "q1: right\n    Yes: b is right." in out and "q2: unanswered" in out
    assert "1/2 right" in out
    assert quiz.check_quiz("99", {"q1": "a", "q2": 42}) == 0
    out = capsys.readouterr().out
    assert "q1: wrong\n    No: a is wrong.\n    Re-read: 2. Two." in out
    assert "q2: 42 is not one of the options a, b, c, d" in out


def test_a_missing_key_is_reported_not_raised(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MLOPS_COURSE_ROOT", str(tmp_path))
    assert quiz.check_quiz("42", {"q1": "a"}) == 0
    assert "quiz key of notebook 42 cannot be read" in capsys.readouterr().out
