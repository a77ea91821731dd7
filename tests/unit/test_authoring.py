"""solutions -> exercises generation, backups, reset; and the repository's own sync."""

from __future__ import annotations

import ast
import re

import pytest

from mlops_course import authoring
from mlops_course.grading.catalog import catalog


def test_stub_keeps_signature_and_docstring(fake_course):
    text = (fake_course / "exercises" / "fake.py").read_text()
    tree = ast.parse(text)
    funcs = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
    assert ast.get_docstring(funcs["add"]).startswith("Exercise 9.1: Add two numbers.")
    assert 'raise NotImplementedError("Exercise 9.1: write add()")' in text
    assert "a + b\n    # END" not in text and "return a + b" not in text
    assert "return 42" in text, "code outside the markers is kept"
    assert authoring.is_pristine(text)


@pytest.mark.parametrize(
    "bad, message",
    [
        (
            'def f():\n    """Exercise 1.1: F."""\n    # BEGIN SOLUTION\n    return 1\n',
            "never closed",
        ),
        ("def f():\n    return 1\n    # END SOLUTION\n", "without"),
        ('def f():\n    """No exercise."""\n    # BEGIN SOLUTION\n    # END SOLUTION\n', "outside"),
    ],
)
def test_malformed_markers(bad, message):
    with pytest.raises(authoring.AuthoringError, match=message):
        authoring.generate_exercise(bad, "m")


def test_regeneration_backs_up_learner_edits(fake_course):
    path = fake_course / "exercises" / "fake.py"
    assert authoring.sync_exercises(root=fake_course)[0].status == "in sync"
    path.write_text(
        path.read_text().replace(
            'raise NotImplementedError("Exercise 9.1: write add()")', "return a + b"
        )
    )
    edited = path.read_text()
    (fake_course / "solutions" / "fake.py").write_text(
        (fake_course / "solutions" / "fake.py").read_text() + "\n\nEXTRA = 1\n"
    )
    result = authoring.sync_exercises(root=fake_course)[0]
    assert result.status == "backed up and written"
    assert result.backup.read_text() == edited
    assert "EXTRA = 1" in path.read_text()


def test_regenerating_a_pristine_stub_needs_no_backup(fake_course):
    (fake_course / "solutions" / "fake.py").write_text(
        (fake_course / "solutions" / "fake.py").read_text() + "\n\nEXTRA = 1\n"
    )
    assert authoring.sync_exercises(root=fake_course)[0].status == "written"
    assert not list((fake_course / "exercises").glob("*.bak-*"))


def test_check_mode_reports_drift_and_writes_nothing(fake_course):
    path = fake_course / "exercises" / "fake.py"
    path.write_text(path.read_text() + "# drift\n")
    before = path.read_text()
    assert authoring.sync_exercises(root=fake_course, check=True)[0].status == "out of sync"
    assert path.read_text() == before


def test_reset_one_exercise_keeps_the_others_and_a_backup(fake_course):
    path = fake_course / "exercises" / "fake.py"
    text = path.read_text()
    text = text.replace('raise NotImplementedError("Exercise 9.1: write add()")', "return a + b")
    text = text.replace('raise NotImplementedError("Exercise 9.2: write shout()")', "return 'X'")
    path.write_text(text)
    path_back, backup = authoring.reset_exercise("9.1", root=fake_course)
    new = path.read_text()
    assert 'raise NotImplementedError("Exercise 9.1: write add()")' in new
    assert "return 'X'" in new, "the other exercise's work is untouched"
    assert backup.read_text() == text


def test_reset_a_file_that_no_longer_parses(fake_course):
    path = fake_course / "exercises" / "fake.py"
    path.write_text("def add(a, b:\n")
    _, backup = authoring.reset_exercise("9.2", root=fake_course)
    assert backup.read_text() == "def add(a, b:\n"
    ast.parse(path.read_text())


def test_reset_unknown_id(fake_course):
    with pytest.raises(KeyError, match="Known: 9.1, 9.2"):
        authoring.reset_exercise("1.99", root=fake_course)


# ---------------------------------------------------------------- the repository itself
def _committed(path) -> str | None:
    """The file as the repository's last commit has it (None outside a git checkout)."""
    import subprocess

    from mlops_course.paths import repo_root

    relative = path.resolve().relative_to(repo_root().resolve()).as_posix()
    done = subprocess.run(
        ["git", "show", f"HEAD:{relative}"], cwd=repo_root(), capture_output=True, text=True
    )
    return done.stdout if done.returncode == 0 else None


def test_repository_exercises_are_in_sync_with_solutions():
    """The stubs the course ships match solutions/. A learner's edited exercises/ must not fail
    the course's own check: an edited file is compared as committed, not as edited."""
    drift = []
    for r in authoring.sync_exercises(check=True):
        if r.status == "in sync":
            continue
        current = r.path.read_text(encoding="utf-8") if r.path.exists() else ""
        if current and not authoring.is_pristine(current):  # a learner's work
            expected = authoring.generate_exercise(
                (r.path.parent.parent / "solutions" / r.path.name).read_text(encoding="utf-8"),
                r.module,
            )
            if _committed(r.path) in (None, expected):
                continue
        drift.append(str(r.path))
    assert not drift, f"run `make exercises`: {drift}"


def test_repository_notebooks_are_in_sync_and_have_no_outputs():
    results = authoring.sync_notebooks(check=True)
    drift = [r for r in results if r.status != "in sync"]
    assert not drift, f"run `make notebooks`: {[(str(r.path), r.status) for r in drift]}"
    import nbformat

    for r in results:
        nb = nbformat.read(r.path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, r.path


def test_every_exercise_has_graded_tests_and_a_stub():
    from mlops_course.paths import repo_root

    known = catalog()
    assert known, "no exercises found in solutions/"
    tests_text = "".join(
        p.read_text() for p in (repo_root() / "tests" / "graded").glob("test_*.py")
    )
    for ex_id, ex in known.items():
        marker = re.compile(rf'exercise\(\s*"{re.escape(ex_id)}"')
        assert marker.search(tests_text), f"exercise {ex_id} has no graded test"
        solution = (repo_root() / "solutions" / f"{ex.module}.py").read_text()
        stub = authoring.generate_exercise(solution, ex.module)  # never the learner's edit
        assert f"Exercise {ex_id}: write {ex.function}()" in stub
