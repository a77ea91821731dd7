"""Old habits from older tutorials (stages, the seed scripts' flags): one line naming the
modern form, exit code 2, no traceback, nothing started. One table for every command group
(``LEGACY_OPTIONS`` in mlops_course/cli/args.py, applied by the parser); the "no version has
the alias 'Production'" messages need a registered model and are tested at the end."""

from __future__ import annotations

import uuid

import pytest

from mlops_course import naming
from mlops_course.cli import main

# {case: (argv, what the one line must say)}
CASES = {
    "registry promote --stage": (
        ["registry", "promote", "m", "3", "--stage", "Production"],
        "stages were replaced by aliases: use --alias champion",
    ),
    "registry promote --stage=Staging": (
        ["registry", "promote", "m", "3", "--stage=Staging"],
        "use --alias challenger",
    ),
    "registry promote --to-stage": (
        ["registry", "promote", "m", "3", "--to-stage", "Production"],
        "stages were replaced by aliases: use --alias champion",
    ),
    "registry details --stage": (
        ["registry", "details", "m", "--stage", "Production"],
        "use --alias champion",
    ),
    "registry --stage before the action": (
        ["registry", "--stage", "Production", "promote", "m", "3"],
        "use --alias champion",
    ),
    "registry promote --archive-existing-versions": (
        ["registry", "promote", "m", "3", "--archive-existing-versions"],
        "nothing to archive",
    ),
    "registry --rollback": (
        ["registry", "--rollback", "m"],
        "use `mlops-course registry rollback m`",
    ),
    "validate --rollback": (
        ["validate", "--model-name", "m", "--rollback"],
        "use `mlops-course registry rollback NAME`",
    ),
    "validate --champion-version baseline": (
        ["validate", "--model-name", "m", "--champion-version", "baseline", "--dataset", "iris"],
        "use --champion-alias baseline",
    ),
    "validate --challenger-version Staging": (
        ["validate", "--model-name", "m", "--challenger-version", "Staging", "--dataset", "iris"],
        "stages were replaced by aliases: use --challenger-alias challenger",
    ),
    "validate --stage": (
        ["validate", "--model-name", "m", "--stage", "Production"],
        "use --champion-alias champion",
    ),
    "serve --stage": (
        ["serve", "--model-name", "m", "--stage", "Production"],
        "stages were replaced by aliases: use --alias champion",
    ),
    "serve --version Production": (
        ["serve", "--model-name", "m", "--version", "Production"],
        "stages were replaced by aliases: use --alias champion",
    ),
    "predict batch --version champion": (
        ["predict", "batch", "--model-name", "m", "--version", "champion"],
        "a version known by a name is an alias now: use --alias champion",
    ),
    "predict realtime --stage": (
        ["predict", "realtime", "--model-name", "m", "--stage", "Production", "--demo"],
        "use --alias champion",
    ),
    "predict --batch": (["predict", "--batch"], "use `mlops-course predict batch`"),
    "monitor --plot --days 7": (
        ["monitor", "--plot", "--days", "7"],
        "use `mlops-course monitor plot --days 7`",
    ),
    "monitor --check-degradation": (
        ["monitor", "--check-degradation", "--window", "7"],
        "use `mlops-course monitor check-degradation --window 7`",
    ),
    "monitor track --stage": (
        ["monitor", "track", "--model-name", "m", "--input", "x.csv", "--stage", "Production"],
        "use --alias champion",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_an_old_habit_gets_a_pointer(case, capsys):
    argv, expected = CASES[case]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (case, out, err)
    assert "Traceback" not in err
    line = err.strip()
    assert "\n" not in line, f"more than one line: {err!r}"
    assert line.startswith("error: ") and expected in line, line
    assert "unrecognized arguments" not in line
    assert out == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["gradebook", "--help"],  # gradebook has a real --plot: never a pointer there
        ["serve", "--help"],
    ],
)
def test_real_options_are_left_alone(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_a_real_option_of_the_same_name_still_works(tmp_path, capsys):
    """``gradebook --plot`` is a real option; ``--version 3`` a real version number."""
    code = main(["gradebook", str(tmp_path / "none.json"), "--plot", str(tmp_path / "p.png")])
    err = capsys.readouterr().err
    assert code == 2 and "is a command now" not in err and "no readable" in err
    assert main(["serve", "--model-name", "m", "--version", "3", "--port", "-1"]) == 2
    err = capsys.readouterr().err
    assert "--port: a port is a number" in err and "alias" not in err


# ----------------------------------------------------------------------------- aliases
@pytest.fixture
def model_without_production(mlflow_tracking_uri):
    from mlflow import MlflowClient

    client = MlflowClient(mlflow_tracking_uri)
    name = naming.model_name(f"legacy-{uuid.uuid4().hex[:10]}")
    client.create_registered_model(name)
    experiment = client.create_experiment(f"{naming.student()}/legacy-{uuid.uuid4().hex[:8]}")
    run = client.create_run(experiment)
    logged = client.create_logged_model(experiment, name="model", source_run_id=run.info.run_id)
    client.create_model_version(
        name, f"models:/{logged.model_id}", run_id=run.info.run_id, model_id=logged.model_id
    )
    client.set_registered_model_alias(name, "champion", "1")
    return name


HINT = "Stages are now aliases: the production version is usually @champion."


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--model-name", "{name}", "--alias", "Production", "--port", "0"],
        ["registry", "rollback", "{name}", "--alias", "Production", "--yes"],
        ["validate", "--model-name", "{name}", "--champion-alias", "Production"]
        + ["--dataset", "iris"],
        ["monitor", "track", "--model-name", "{name}", "--alias", "Production"]
        + ["--input", "{csv}"],
    ],
    ids=["serve", "registry rollback", "validate", "monitor track"],
)
def test_no_version_has_alias_production_says_stages_are_aliases(
    argv, model_without_production, tmp_path, capsys
):
    csv = tmp_path / "batch.csv"
    csv.write_text("a,b\n1,2\n")
    argv = [a.format(name=model_without_production, csv=csv) for a in argv]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    line = err.strip()
    assert "\n" not in line and "Traceback" not in err, err
    assert "Production" in line and line.endswith(HINT), line
