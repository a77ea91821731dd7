"""Workshop mode on this machine: a real PostgreSQL cluster, MLflow's basic-auth server, 30
learners grading at once with their own accounts, and the instructor's gradebook.

The class scale test prints its wall time, one learner's p50/p95 and the server's peak memory;
``bench/bench_workshop.py`` compares them with the local single-worker SQLite server.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

from mlops_course import workshop
from mlops_course.workshop_load import grade_class, learner_env

CLASS = 30
pytestmark = pytest.mark.skipif(
    not (shutil.which("initdb") or list(Path("/usr/lib/postgresql").glob("*/bin/initdb"))),
    reason="PostgreSQL's server programs are not installed (apt-get install postgresql)",
)


def cli(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mlops_course.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def roster(path: Path, names: list[str]) -> Path:
    path.write_text("name,email\n" + "".join(f"{n},{n}@example.org\n" for n in names))
    return path


# ----------------------------------------------------------------------------- bad rosters
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "no learner in it"),
        ("name,email\n# nobody yet\n\n", "no learner in it"),
        ("ann\nbob\nann\n", r"row 3: 'ann' is already on row 1"),
        ("ann\nBob Smith\n", r"row 2: 'Bob Smith' is not a namespace name"),
        ("ann\n=cmd()\n", r"row 2: '=cmd\(\)' is not a namespace name"),
        ("admin\n", r"row 1: 'admin' is the instructor's account"),
        ("ann,not-an-email\n", r"row 1: 'not-an-email' is not an email address"),
        ("ann,a@b.c,extra\n", r"row 1: expected name\[,email\], got 3 columns"),
    ],
)
def test_a_malformed_roster_is_refused_before_anything_starts(tmp_path, text, expected):
    path = tmp_path / "roster.csv"
    path.write_text(text)
    home = tmp_path / "home"
    done = cli("workshop", "up", "--home", str(home), "--roster", str(path))
    assert done.returncode == 2, done.stderr
    assert re.search(expected, done.stderr), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not home.exists()  # nothing started, nothing created


def test_a_roster_with_a_header_comments_and_emails_reads_in_order(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("name,email\n# week 1\nann,ann@example.org\n\nbob\n")
    assert [(x.name, x.email, x.row) for x in workshop.read_roster(path)] == [
        ("ann", "ann@example.org", 3),
        ("bob", "", 5),
    ]


def test_env_files_are_private_and_read_back(tmp_path):
    path = tmp_path / "x.env"
    values = {k: f"v-{k}" for k in workshop.ENV_KEYS}
    workshop.write_private(path, workshop.env_text(values, "test"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert workshop.read_env_file(path) == values


def test_join_stores_the_connection_and_leave_keeps_it(tmp_path):
    env_file = tmp_path / "ann.env"
    values = {
        "MLFLOW_TRACKING_URI": "http://127.0.0.1:9",
        "MLFLOW_TRACKING_USERNAME": "ann",
        "MLFLOW_TRACKING_PASSWORD": "p" * 24,
        "MLOPS_COURSE_STUDENT": "ann",
    }
    workshop.write_private(env_file, workshop.env_text(values, "test"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    env["MLOPS_COURSE_HOME"] = str(tmp_path / "home")
    done = cli("workshop", "join", str(env_file), env=env)
    assert done.returncode == 0, done.stderr
    joined = tmp_path / "home" / workshop.JOINED_FILE
    assert stat.S_IMODE(joined.stat().st_mode) == 0o600
    assert "p" * 24 not in done.stdout + done.stderr
    status = cli("server", "status", env=env)  # the course now points at the workshop
    assert "MLFLOW_TRACKING_URI=http://127.0.0.1:9" in status.stdout
    assert cli("workshop", "leave", env=env).returncode == 0
    assert not joined.exists() and joined.with_name(workshop.JOINED_FILE + ".left").exists()
    status = cli("server", "status", env=env)
    assert "127.0.0.1:9" not in status.stdout


def test_a_join_file_without_credentials_is_refused(tmp_path):
    env_file = tmp_path / "bad.env"
    env_file.write_text("MLFLOW_TRACKING_URI=http://127.0.0.1:9\n")
    env = dict(os.environ, MLOPS_COURSE_HOME=str(tmp_path / "home"))
    done = cli("workshop", "join", str(env_file), env=env)
    assert done.returncode == 2
    assert "missing MLFLOW_TRACKING_USERNAME" in done.stderr


# ----------------------------------------------------------------------------- a real class
@pytest.fixture(scope="module")
def class_home():
    """`workshop up` for 30 learners on a home the cluster's owner can enter; down at the end."""
    base = Path(tempfile.mkdtemp(prefix="mlops-workshop-"))
    base.chmod(0o711)  # the cluster's owner (not root) must enter it; listing stays private
    home = base / "home"
    names = [f"learner{i:02d}" for i in range(CLASS)]
    done = cli(
        "workshop", "up", "--home", str(home), "--roster", str(roster(base / "r.csv", names))
    )
    try:
        assert done.returncode == 0, done.stdout + done.stderr
        yield home, names, done
    finally:
        cli("workshop", "down", "--home", str(home))
        shutil.rmtree(base, ignore_errors=True)


def _values(home: Path, name: str) -> dict[str, str]:
    return workshop.read_env_file(home / "learners" / f"{name}.env")


def test_up_writes_one_private_env_file_per_learner_and_prints_no_password(class_home):
    home, names, done = class_home
    assert f"{CLASS} learners ({CLASS} new" in done.stdout
    passwords = set()
    for name in names:
        path = home / "learners" / f"{name}.env"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        values = workshop.read_env_file(path)
        assert values["MLFLOW_TRACKING_USERNAME"] == values["MLOPS_COURSE_STUDENT"] == name
        assert len(values["MLFLOW_TRACKING_PASSWORD"]) >= 16
        passwords.add(values["MLFLOW_TRACKING_PASSWORD"])
    assert len(passwords) == CLASS
    admin = workshop.read_env_file(home / "admin.env")
    assert stat.S_IMODE((home / "admin.env").stat().st_mode) == 0o600
    passwords.add(admin["MLFLOW_TRACKING_PASSWORD"])
    logs = done.stdout + done.stderr + (home / "logs" / "mlflow.log").read_text()
    logs += json.dumps(workshop.read_state(home))
    assert not [p for p in passwords if p in logs]


def test_the_class_grades_at_once_and_the_gradebook_collects_every_learner(class_home, tmp_path):
    home, names, _ = class_home
    state = workshop.read_state(home)
    run = grade_class(
        {n: _values(home, n) for n in names}, tmp_path / "class", server_pid=state["pid"]
    )
    print(
        f"\n{CLASS} learners grading module 01 with --submit on the workshop server: "
        f"wall {run.wall_seconds:.0f} s, one learner p50 {run.percentile(50):.0f} s / "
        f"p95 {run.percentile(95):.0f} s, server peak memory {run.peak_rss_bytes / 2**30:.2f} GiB"
    )
    assert not run.errors, run.errors
    for name in names:
        assert run.returncodes[name] == 0, run.outputs[name][-2000:]
        summary = run.reports[name]["summary"]
        assert summary["points"] == summary["max_points"] > 0, (name, summary)
        assert run.reports[name]["student"] == name
        assert "Submitted to" in run.outputs[name]
    log = (home / "logs" / "mlflow.log").read_text()
    assert not re.search(r'" 5\d\d\b|HTTP/1.1" 5\d\d', log), "a 5xx in the server log"
    counts = workshop.count_submissions(workshop.admin_values(home, state), names)
    assert counts == dict.fromkeys(names, 1)  # no lost run, no duplicate

    out = tmp_path / "class.csv"
    done = cli(
        "gradebook", "--server", "--env", str(home / "admin.env"), "--output", str(out),
        "--plot", str(tmp_path / "rates.png"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    import pandas as pd

    table = pd.read_csv(out)
    assert sorted(table["student"]) == names
    assert (table["total"] == table["max"]).all() and (table["max"] == 25).all()
    assert (tmp_path / "rates.png").stat().st_size > 0

    status = cli("workshop", "status", "--home", str(home), "--json")
    info = json.loads(status.stdout)
    assert info["server"] == "running" and info["accounts"] == CLASS
    assert sum(info["submissions"].values()) == CLASS


def test_a_learner_cannot_change_or_read_the_grades_of_another(class_home, tmp_path):
    home, names, _ = class_home
    owner, other = names[0], names[1]
    code = """
import sys, mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlops_course import naming
from mlops_course.data import load_classification
from mlops_course.models import register_sklearn
from sklearn.linear_model import LogisticRegression
"""
    own = (
        code
        + """
X, y = load_classification("iris")
register_sklearn(LogisticRegression(max_iter=300).fit(X, y), X, naming.model_name("iris"),
                 experiment=naming.experiment_name("workshop-check"), alias="champion")
print("registered")
"""
    )
    env = learner_env(_values(home, owner), tmp_path / owner)
    done = subprocess.run([sys.executable, "-c", own], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]

    attempt = (
        code
        + f"""
c = MlflowClient()
model, exp_name = "{owner}.iris", "{owner}/workshop-check"
exp = c.get_experiment_by_name(exp_name)  # reading is allowed: a workshop discusses runs
assert c.get_registered_model(model).aliases == {{"champion": "1"}}
for label, call in [
    ("log into", lambda: c.create_run(exp.experiment_id)),
    ("rename", lambda: c.rename_experiment(exp.experiment_id, "{other}/stolen")),
    ("delete", lambda: c.delete_experiment(exp.experiment_id)),
    ("move alias", lambda: c.set_registered_model_alias(model, "champion", "1")),
    ("drop alias", lambda: c.delete_registered_model_alias(model, "champion")),
    ("rename model", lambda: c.rename_registered_model(model, "{other}.iris")),
    ("read grades", lambda: c.get_experiment_by_name("{owner}/submissions")),
]:
    try:
        call()
        print(label, "ALLOWED")
    except MlflowException as exc:
        print(label, "403" if "403" in str(exc) else str(exc)[:100])
"""
    )
    env = learner_env(_values(home, other), tmp_path / other)
    done = subprocess.run([sys.executable, "-c", attempt], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = dict(line.rsplit(" ", 1) for line in done.stdout.strip().splitlines()[-7:])
    assert set(lines.values()) == {"403"}, done.stdout

    from mlflow import MlflowClient

    with workshop.using_env(workshop.admin_values(home, workshop.read_state(home))):
        client = MlflowClient(workshop.local_uri(workshop.read_state(home)))
        model = client.get_registered_model(f"{owner}.iris")
        assert model.aliases == {"champion": "1"}  # nothing changed
        assert client.get_experiment_by_name(f"{owner}/workshop-check").lifecycle_stage == "active"


def test_up_again_keeps_everything_and_adds_only_the_new_rows(class_home, tmp_path):
    home, names, _ = class_home
    before = workshop.read_state(home)
    old = _values(home, names[0])
    done = cli(
        "workshop", "up", "--home", str(home), "--roster",
        str(roster(tmp_path / "r.csv", [*names, "latecomer"])),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"{CLASS + 1} learners (1 new, {CLASS} kept" in done.stdout
    assert "Started nothing" in done.stdout
    assert workshop.read_state(home)["pid"] == before["pid"]
    assert _values(home, names[0]) == old
    assert (home / "learners" / "latecomer.env").exists()
    done = cli(
        "workshop", "up", "--home", str(home), "--roster", str(tmp_path / "r.csv"),
        "--workers", "2",
    )  # fmt: skip
    assert done.returncode == 2 and "runs with workers 4: `workshop down" in done.stderr


def test_backup_holds_both_databases_and_the_artifacts(class_home):
    home, _, _ = class_home
    done = cli("workshop", "backup", "--home", str(home), "--json")
    assert done.returncode == 0, done.stderr
    archive = Path(json.loads(done.stdout)["archive"])
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tarfile.open(archive) as tar:
        members = tar.getnames()
    assert {"database/mlflow.dump", "database/mlflow_auth.dump", "admin.env"} <= set(members)
    assert any(m.startswith("artifacts/") and m.endswith("MLmodel") for m in members)
