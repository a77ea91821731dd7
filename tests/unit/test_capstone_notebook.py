"""Notebook 06's structure: what its text promises about itself.

The claims about its numbers are checked by the notebook's own assert cells, which run under
``pytest --nbval-lax`` (``make test``); these tests check what needs no execution: the
exercises in order, each section ending with its check, every claim followed by its check
cell, and every ``mlops-course`` command of its shell blocks accepted by the real CLI.
"""

from __future__ import annotations

import re
import shlex

import pytest

from mlops_course.authoring import notebook_from_source, notebook_sources
from mlops_course.cli import build_parser
from mlops_course.cli.args import CliError

CHECK_CELL = re.compile(r"\A# The sentences? above, checked against")
EXERCISES = ["6.1", "6.2", "6.3", "6.4", "6.5"]


@pytest.fixture(scope="module")
def cells():
    (src,) = [s for s in notebook_sources() if s.stem == "06_capstone"]
    return notebook_from_source(src).cells


def _markdown(cells) -> str:
    return "\n".join(c.source for c in cells if c.cell_type == "markdown")


def test_exercises_appear_in_their_numbered_order(cells):
    ids = re.findall(r"^### Exercise (6\.\d+)\b", _markdown(cells), re.M)
    assert ids == EXERCISES


def test_every_exercise_is_checked_in_order_after_its_heading(cells):
    heading = {
        ex: next(i for i, c in enumerate(cells) if f"### Exercise {ex}:" in c.source)
        for ex in EXERCISES
    }
    checks = [
        (i, m[1])
        for i, c in enumerate(cells)
        if c.cell_type == "code"
        and (m := re.fullmatch(r'mlops_course\.check\("(6\.\d)"\)', c.source))
    ]
    assert [ex for _, ex in checks] == EXERCISES, "one check cell per exercise, in order"
    for i, ex in checks:
        assert i > heading[ex], f"the check of {ex} comes after its exercise"


def test_every_claim_check_cell_asserts_and_follows_its_claim(cells):
    checks = [i for i, c in enumerate(cells) if CHECK_CELL.match(c.source)]
    assert len(checks) >= 8
    for i in checks:
        assert "assert " in cells[i].source, cells[i].source[:80]
        assert cells[i - 1].cell_type == "markdown", cells[i].source[:80]


def _shell_commands(text: str) -> list[list[str]]:
    """Every ``mlops-course ...`` command of the markdown's ```bash blocks, as argv lists."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        lines = [line.removeprefix("# ").removeprefix("#") for line in block.splitlines()]
        joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
        for line in joined.splitlines():
            line = line.split(" #", 1)[0].strip().removesuffix("&").strip()
            line = line.removeprefix("if ").strip()
            if "mlops-course " not in line:
                continue
            line = line[line.index("mlops-course ") :]
            line = re.split(r"\s(?:\|\||>|;|&&)\s?", line)[0]
            # What the shell would expand: version numbers are numbers, the rest names.
            line = re.sub(r"\$\{?(CHAMPION|VERSION)\}?", "3", line)
            line = re.sub(r"\$\{?[A-Z_]+\}?", "placeholder", line)
            commands.append(shlex.split(line)[1:])
    return commands


def test_the_shell_blocks_use_real_commands(cells, tmp_path, monkeypatch):
    commands = _shell_commands(_markdown(cells))
    groups = {argv[0] for argv in commands}
    assert {"train", "tune", "registry", "validate", "serve", "predict", "monitor"} <= groups
    monkeypatch.chdir(tmp_path)  # the files the commands read: the CLI checks they exist
    for name in {token for argv in commands for token in argv if token.endswith(".csv")}:
        (tmp_path / name).write_text("x\n1\n")
    parser = build_parser()
    for argv in commands:
        try:
            parser.parse_args(argv)
        except (SystemExit, CliError) as exc:  # argparse's way of refusing, and the CLI's
            pytest.fail(f"`mlops-course {shlex.join(argv)}` is refused by the CLI ({exc})")


def test_the_reproducibility_and_production_sections_are_there(cells):
    text = _markdown(cells)
    assert "mlflow run . -e train -P model=RandomForest --env-manager local" in text
    assert "pipeline/dvc.yaml" in text and "dvc repro" in text
    for concern in ("PostgreSQL", "S3", "basic-auth", "TLS", "replicas"):
        assert concern in text, concern
