"""Bad input to any ``mlops-course`` command: one line on stderr, exit code 2, no traceback,
nothing written. One table for every command group; the cases that need a registered model
are in the group's own test file (test_serving_cli.py, test_monitoring_cli.py...)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_course.cli import main

# {case: (argv, what the one line must say)}. In argv, {empty} is an empty file, {binary} a
# binary one, {folder} a folder, {csv} a small CSV, {out} an existing output file (it must
# survive), {missing} a path that does not exist.
CASES = {
    "unknown command": (["bogus"], "invalid choice: 'bogus'"),
    # course, server, grade, doctor (argparse's own errors are one line too)
    "course: port not a number": (["course", "--port", "x"], "argument --port: "),
    "server: unknown action": (["server", "restart"], "invalid choice: 'restart'"),
    "grade: timeout not a number": (["grade", "--timeout", "soon"], "argument --timeout: "),
    "grade: timeout -5": (["grade", "--timeout", "-5"], "--timeout: must be above 0"),
    "grade: report is a folder": (["grade", "--report", "{folder}"], "is a folder"),
    "grade: junit is a folder": (["grade", "--junit", "{folder}"], "is a folder"),
    "grade: report in a missing folder": (
        ["grade", "--report", "{missing}/r.json"],
        "does not exist",
    ),
    "course: port 99999": (["course", "--port", "99999"], "from 1 to 65535"),
    "gradebook: no reports": (["gradebook"], "give report files, or --server"),
    "gradebook: output is a folder": (
        ["gradebook", "{csv}", "--output", "{folder}"],
        "is a folder",
    ),
    "doctor: unknown option": (["doctor", "--fast"], "unrecognized arguments: --fast"),
    # author, reset
    "author: unknown what": (["author", "everything"], "invalid choice: 'everything'"),
    "reset: no id": (["reset"], "required: id"),
    # registry
    "registry: no action": (["registry"], "required: ACTION"),
    "registry: threshold nan": (
        ["registry", "auto-promote", "m", "1", "--metric", "accuracy", "--threshold", "nan"],
        "--threshold: must be a finite number",
    ),
    "registry: threshold inf": (
        ["registry", "auto-promote", "m", "1", "--metric", "accuracy", "--threshold", "inf"],
        "--threshold: must be a finite number",
    ),
    "registry: promote without version": (["registry", "promote", "m"], "required: version"),
    # serve
    "serve: port -1": (["serve", "--port", "-1"], "--port: a port is a number from 1 to 65535"),
    "serve: port 99999": (["serve", "--port", "99999"], "from 1 to 65535"),
    "serve: port not a number": (["serve", "--port", "http"], "expected a whole number"),
    "serve: batch limit -1": (["serve", "--batch-limit", "-1"], "--batch-limit: must be 1 or"),
    "serve: body bytes -5": (["serve", "--max-body-bytes", "-5"], "--max-body-bytes: must be"),
    "serve: poll -1": (["serve", "--poll-seconds", "-1"], "--poll-seconds: must be above 0"),
    "serve: poll nan": (["serve", "--poll-seconds", "nan"], "must be a finite number"),
    "serve: header timeout 0": (["serve", "--header-timeout", "0"], "must be above 0"),
    "serve: host not here": (["serve", "--host", "203.0.113.7"], "is not on this machine"),
    # predict
    "predict: no mode": (["predict"], "required: MODE"),
    "predict: empty csv": (
        ["predict", "batch", "--model-name", "m", "--input", "{empty}", "--output", "{out}"],
        "is empty",
    ),
    "predict: binary file": (
        ["predict", "batch", "--model-name", "m", "--input", "{binary}", "--output", "{out}"],
        "is a binary file, not a CSV",
    ),
    "predict: input is a folder": (
        ["predict", "batch", "--model-name", "m", "--input", "{folder}", "--output", "{out}"],
        "is a folder",
    ),
    "predict: input missing": (
        ["predict", "batch", "--model-name", "m", "--input", "{missing}", "--output", "{out}"],
        "does not exist",
    ),
    "predict: output is a folder": (
        ["predict", "batch", "--model-name", "m", "--input", "{csv}", "--output", "{folder}"],
        "is a folder: give a file name",
    ),
    "predict: output folder missing": (
        ["predict", "batch", "--model-name", "m", "--input", "{csv}"]
        + ["--output", "{missing}/out.csv"],
        "does not exist: create it first",
    ),
    "predict: output is the input": (
        ["predict", "batch", "--model-name", "m", "--input", "{out}", "--output", "{out}"],
        "--output must differ from --input",
    ),
    "predict: chunk size 0": (
        ["predict", "batch", "--model-name", "m", "--input", "{csv}", "--output", "{out}"]
        + ["--chunk-size", "0"],
        "--chunk-size: must be 1 or more",
    ),
    "predict: demo and one row": (
        ["predict", "realtime", "--demo", "--predict", "1,2"],
        "not allowed with argument --demo",
    ),
    # validate
    "validate: plots into a file": (
        ["validate", "--model-name", "m", "--dataset", "iris", "--save-plots", "{out}"],
        "is a file, not a folder",
    ),
    "validate: experiment outside the namespace": (
        ["validate", "--model-name", "m", "--dataset", "iris", "--experiment", "../../evil"],
        "'..'",
    ),
    "validate: confidence nan": (
        ["validate", "--model-name", "m", "--dataset", "iris", "--confidence", "nan"],
        "--confidence: must be a finite number",
    ),
    "validate: confidence 1": (
        ["validate", "--model-name", "m", "--dataset", "iris", "--confidence", "1"],
        "--confidence: must be above 0 and below 1",
    ),
    "validate: test data is a folder": (
        ["validate", "--model-name", "m", "--test-data", "{folder}"],
        "is a folder",
    ),
    # monitor
    "monitor: no action": (["monitor"], "required: ACTION"),
    "monitor: window 0": (["monitor", "check-degradation", "--window", "0"], "--window: must"),
    "monitor: negative window": (["monitor", "check-degradation", "--window", "-2"], "1 or more"),
    "monitor: threshold nan": (
        ["monitor", "check-degradation", "--threshold", "nan"],
        "must be a finite number",
    ),
    "monitor: days 0": (["monitor", "report", "--days", "0"], "--days: must be 1 or more"),
    "monitor: negative day": (
        ["monitor", "track", "--model-name", "m", "--input", "{csv}", "--day", "-1"],
        "--day: must be 0 or more",
    ),
    "monitor: empty batch": (
        ["monitor", "track", "--model-name", "m", "--input", "{empty}"],
        "is empty",
    ),
    "monitor: binary reference": (
        ["monitor", "drift", "--reference", "{binary}", "--current", "{csv}"],
        "is a binary file",
    ),
    "monitor: reference is a folder": (
        ["monitor", "drift", "--reference", "{folder}", "--current", "{csv}"],
        "is a folder",
    ),
    "monitor: plot into a folder": (
        ["monitor", "plot", "--output", "{folder}"],
        "is a folder: give a file name",
    ),
    "monitor: experiment outside the namespace": (
        ["monitor", "report", "--experiment", "a/../../b"],
        "'..'",
    ),
}


@pytest.fixture
def files(tmp_path) -> dict[str, str]:
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "binary.csv").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)))
    (tmp_path / "folder").mkdir()
    (tmp_path / "small.csv").write_text("a,b\n1,2\n")
    (tmp_path / "out.csv").write_text("an earlier result, to keep\n")
    return {
        "empty": str(tmp_path / "empty.csv"),
        "binary": str(tmp_path / "binary.csv"),
        "folder": str(tmp_path / "folder"),
        "csv": str(tmp_path / "small.csv"),
        "out": str(tmp_path / "out.csv"),
        "missing": str(tmp_path / "missing"),
    }


def snapshot(folder: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_and_exit_2(case, files, tmp_path, capsys):
    argv, expected = CASES[case]
    argv = [a.format(**files) for a in argv]
    before = snapshot(tmp_path)
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (case, out, err)
    assert "Traceback" not in err
    line = err.strip()
    assert "\n" not in line, f"more than one line: {err!r}"
    assert line.startswith("error: ") and expected in line, line
    assert out == "", "nothing on stdout for a refused command"
    assert snapshot(tmp_path) == before, "a refused command writes, moves or deletes nothing"


def test_a_real_process_refuses_before_starting(tmp_path):
    """``serve --batch-limit -1`` used to start and never exit: now the process ends at once."""
    exe = Path(sys.executable).parent / "mlops-course"
    proc = subprocess.run(
        [str(exe), "serve", "--model-name", "m", "--batch-limit", "-1"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: argument --batch-limit: must be 1 or more, got -1 (see `mlops-course serve --help`)"
    ]


def test_an_unexpected_error_is_one_line_naming_the_command(monkeypatch, capsys):
    import mlops_course.cli.doctor as doctor

    def broken(args):
        raise RuntimeError("something the course did not foresee\nwith a second line")

    monkeypatch.setattr(doctor, "run", broken)
    monkeypatch.delenv("MLOPS_COURSE_DEBUG", raising=False)
    assert main(["doctor"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "`mlops-course doctor` failed unexpectedly" in err and "bug" in err
    assert "MLOPS_COURSE_DEBUG=1" in err

    monkeypatch.setenv("MLOPS_COURSE_DEBUG", "1")
    assert main(["doctor"]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "RuntimeError" in err
    assert err.strip().splitlines()[-1].startswith("error: `mlops-course doctor` failed")


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_output_in_a_folder_without_write_permission(tmp_path, capsys):
    if os.geteuid() == 0:
        pytest.skip("root writes everywhere")
    locked = tmp_path / "locked"
    locked.mkdir()
    (tmp_path / "in.csv").write_text("a\n1\n")
    locked.chmod(0o500)
    try:
        argv = ["predict", "batch", "--model-name", "m", "--input", str(tmp_path / "in.csv")]
        assert main([*argv, "--output", str(locked / "out.csv")]) == 2
        assert "cannot write in the folder" in capsys.readouterr().err
    finally:
        locked.chmod(0o700)
