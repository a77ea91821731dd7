"""Notebook 05's structure: what its text promises about itself.

The claims about its numbers are checked by the notebook's own assert cells, which run under
``pytest --nbval-lax`` (``make test``); these tests check what needs no execution.
"""

from __future__ import annotations

import re

import pytest

from mlops_course import naming
from mlops_course.authoring import notebook_from_source, notebook_sources
from mlops_course.cli.args import experiment_in_namespace

CHECK_CELL = re.compile(r"\A# The sentences? above, checked against")


@pytest.fixture(scope="module")
def cells():
    (src,) = [s for s in notebook_sources() if s.stem == "05_model_monitoring"]
    return notebook_from_source(src).cells


def _markdown(cells) -> str:
    return "\n".join(c.source for c in cells if c.cell_type == "markdown")


def test_exercises_appear_in_their_numbered_order(cells):
    ids = re.findall(r"^### Exercise (5\.\d+)\b", _markdown(cells), re.M)
    assert ids == ["5.1", "5.2", "5.3", "5.4", "5.5", "5.6", "5.7"]


def test_the_notebook_has_its_own_experiment_and_says_how_the_cli_reads_it(cells):
    code = "\n".join(c.source for c in cells if c.cell_type == "code")
    topic = re.search(r'^EXPERIMENT_TOPIC = "([^"]+)"$', code, re.M)[1]
    assert naming.experiment_name(topic) != naming.experiment_name("monitoring"), (
        "the CLI's default experiment"
    )
    text = _markdown(cells)
    assert f"`<you>/{topic}`" in text and "`<you>/monitoring`" in text
    assert f"--experiment {topic}" in text
    # What the text tells the learner to pass is what the CLI resolves to this experiment.
    assert experiment_in_namespace(topic) == naming.experiment_name(topic)


def test_every_claim_check_cell_asserts_and_follows_its_claim(cells):
    checks = [i for i, c in enumerate(cells) if CHECK_CELL.match(c.source)]
    assert len(checks) >= 8
    for i in checks:
        assert "assert " in cells[i].source, cells[i].source[:80]
        before = cells[i - 1]
        # The claim is the markdown just above, or the output of the cell just above it.
        assert before.cell_type == "markdown" or cells[i - 2].cell_type == "markdown"
