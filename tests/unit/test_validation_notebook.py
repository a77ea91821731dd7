"""Notebook 04's structure: what its text promises about itself.

The claims about its numbers are checked by the notebook's own assert cells, which run under
``pytest --nbval-lax`` (``make test``); these tests check what needs no execution.
"""

from __future__ import annotations

import re

import pytest

from mlops_course.authoring import notebook_from_source, notebook_sources

CHECK = re.compile(r"^# The (first )?(sentences?|table) above, checked \(make test", re.M)


@pytest.fixture(scope="module")
def cells():
    (src,) = [s for s in notebook_sources() if s.stem == "04_model_validation"]
    return notebook_from_source(src).cells


def _markdown(cells) -> str:
    return "\n".join(c.source for c in cells if c.cell_type == "markdown")


def test_exercises_appear_in_their_numbered_order(cells):
    ids = re.findall(r"^### Exercise (4\.\d+)\b", _markdown(cells), re.M)
    assert ids == ["4.1", "4.2", "4.3", "4.4", "4.5", "4.6"]


def test_every_check_follows_its_claim_and_asserts(cells):
    checked = [i for i, c in enumerate(cells) if c.cell_type == "code" and CHECK.search(c.source)]
    assert len(checked) >= 8
    for i in checked:
        assert cells[i - 1].cell_type == "markdown", cells[i].source[:80]
        after = cells[i].source[CHECK.search(cells[i].source).end() :]
        assert after.split("\n\n")[0].count("\nassert ") >= 1, cells[i].source[:80]


def test_power_is_defined_computed_and_explained(cells):
    text = _markdown(cells)
    assert "**Power** is the chance that the test detects a real difference of a given size" in text
    code = "\n".join(c.source for c in cells if c.cell_type == "code")
    for name in ("mcnemar_power", "rows_for_power", "explain_power"):
        assert f"validation_tools.{name}(" in code
    assert "only borderline" not in text, "9 to 1 of 10 is significant (p = 0.021)"


def test_the_confusion_matrices_show_class_names(cells):
    code = "\n".join(c.source for c in cells if c.cell_type == "code")
    assert "class_names=CLASS_NAMES" in code, "the figure names the classes, not 0 and 1"
    assert '"--class-names"' in code, "the printed command names the classes too"
