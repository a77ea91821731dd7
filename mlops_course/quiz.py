"""The self-check quiz at the end of every notebook: answers compared by digest, so the key is
not readable in the notebook, and an unanswered question is reported, never an error."""

from __future__ import annotations

import hashlib
import re


def answer_digest(notebook: str, question: str, answer) -> str:
    """The digest of one answer: lower-case letters and digits only, salted by notebook and
    question (``mlops-course/<NN>/<question>/<answer>``)."""
    normalized = re.sub(r"[^a-z0-9]", "", str(answer).lower())
    return hashlib.sha256(f"mlops-course/{notebook}/{question}/{normalized}".encode()).hexdigest()[
        :16
    ]


def check_quiz(notebook: str, answers: dict, expected: dict[str, str]) -> int:
    """Print right / wrong / unanswered per question and the score; return the score."""
    score = 0
    for question, digest in expected.items():
        given = answers.get(question)
        if given is None or str(given).strip() == "":
            verdict = "unanswered"
        elif answer_digest(notebook, question, given) == digest:
            verdict, score = "right", score + 1
        else:
            verdict = "wrong: have another look at the section it is about"
        print(f"{question}: {verdict}")
    print(f"\n{score}/{len(expected)} right")
    return score
