"""Workshop mode: one shared MLflow server for a class, with accounts and permissions.

Built from MLflow's own parts: ``mlflow server`` with its ``basic-auth`` app, PostgreSQL as the
backend store (a cluster created under the workshop's home, or a database the instructor names)
and artifacts proxied by the server. Layout of a workshop home ``DIR``::

    DIR/workshop.json        what runs where (ports, PIDs, the learners set up); no secret
    DIR/admin.env            the instructor's connection (mode 0600)
    DIR/learners/<name>.env  one learner's connection (mode 0600), handed out
    DIR/secrets/             database password file, Flask secret key (mode 0700)
    DIR/basic_auth.ini       MLflow's auth configuration (default permission READ)
    DIR/pg/                  the PostgreSQL cluster (owned by a non-root user when run as root)
    DIR/artifacts/           every run's artifacts
    DIR/logs/mlflow.log      the server's log
    DIR/backups/             ``workshop backup`` archives

No password is printed or logged: the database password reaches libpq through a password file
(``PGPASSFILE``), the admin's through the environment, the learners' only their own ``.env``.

Permissions: every user may read every experiment and model (``default_permission = READ``),
the creator of an experiment or a model manages it, so a learner's client gets 403 on anybody
else's. Each learner's ``<name>/submissions`` experiment is created by the admin, writable by
its learner and hidden from the other learners (``DENY``), so grades reach only the
instructor.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mlops_course.proc import LOOPBACK, free_port, port_is_free, tail

ADMIN = "admin"
STATE_FILE = "workshop.json"
DB_USER = "mlflow"
DATABASES = ("mlflow", "mlflow_auth")
DEFAULT_WORKERS = 4
SUBMISSIONS = "submissions"  # each learner's experiment: <name>/submissions
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")  # what mlops_course.naming leaves unchanged
ENV_KEYS = (
    "MLFLOW_TRACKING_URI",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "MLOPS_COURSE_STUDENT",
)
START_TIMEOUT = 120.0


class WorkshopError(RuntimeError):
    """A workshop command cannot go on; the message says what to do (exit code 2)."""


@dataclass(frozen=True)
class Learner:
    name: str
    email: str = ""
    row: int = 0


# ----------------------------------------------------------------------------- roster
def read_roster(path: Path) -> list[Learner]:
    """The learners of a roster CSV (``name[,email]`` per row; a ``name,email`` header, blank
    lines and ``#`` comments are allowed).

    Raises:
        WorkshopError: for an empty file, a name the namespace refuses, a duplicate name or an
            email without ``@``, naming the row, before anything starts.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkshopError(f"roster {path}: cannot read it ({exc}).") from exc
    learners: list[Learner] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(csv.reader(text.splitlines()), start=1):
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if not learners and not seen and cells[0].lower() == "name":
            continue  # the header
        where = f"roster {path}, row {number}"
        if len(cells) > 2:
            raise WorkshopError(f"{where}: expected name[,email], got {len(cells)} columns.")
        name, email = cells[0], (cells[1] if len(cells) > 1 else "")
        if not NAME.match(name):
            raise WorkshopError(
                f"{where}: {name!r} is not a namespace name: use 1-64 lower-case letters, digits, "
                "'-' or '_', starting with a letter or a digit."
            )
        if name == ADMIN:
            raise WorkshopError(f"{where}: {ADMIN!r} is the instructor's account; rename the row.")
        if name in seen:
            raise WorkshopError(f"{where}: {name!r} is already on row {seen[name]}.")
        if email and "@" not in email:
            raise WorkshopError(f"{where}: {email!r} is not an email address.")
        seen[name] = number
        learners.append(Learner(name, email, number))
    if not learners:
        raise WorkshopError(f"roster {path}: no learner in it (one row per learner: name[,email]).")
    return learners


# ----------------------------------------------------------------------------- env files
def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines (``#`` comments, optional quotes) as a dict.

    Raises:
        WorkshopError: when the file cannot be read or has no ``MLFLOW_TRACKING_URI``.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkshopError(f"{path}: cannot read it ({exc}).") from exc
    values: dict[str, str] = {}
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.strip().removeprefix("export ").strip()
        values[key] = value.strip().strip("'\"")
    if not values.get("MLFLOW_TRACKING_URI"):
        raise WorkshopError(f"{path}: no MLFLOW_TRACKING_URI in it; is it a workshop .env file?")
    return values


def write_private(path: Path, text: str) -> None:
    """Write ``text`` readable by its owner only (0600), replacing ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def env_text(values: dict[str, str], comment: str) -> str:
    lines = [f"# {comment}"] + [f"{k}={values[k]}" for k in ENV_KEYS if k in values]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def using_env(values: dict[str, str]) -> Iterator[None]:
    """Set these environment variables for the block only (MLflow's client reads its
    credentials from ``MLFLOW_TRACKING_USERNAME`` / ``_PASSWORD``), then put back the old ones."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def new_password() -> str:
    """24 URL-safe characters (MLflow asks for more than 12)."""
    return secrets.token_urlsafe(18)


# ----------------------------------------------------------------------------- state
def read_state(home: Path) -> dict:
    try:
        return json.loads((home / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}


def write_state(home: Path, state: dict) -> None:
    tmp = home / f".{STATE_FILE}.tmp"
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
    tmp.replace(home / STATE_FILE)


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def is_healthy(uri: str, timeout: float = 2.0) -> bool:
    import requests

    try:
        return requests.get(uri.rstrip("/") + "/health", timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


# ----------------------------------------------------------------------------- PostgreSQL
def pg_program(name: str) -> str:
    """The path of a PostgreSQL program (``initdb``, ``pg_ctl``, ``pg_dump``...), from ``PATH``
    or Debian's ``/usr/lib/postgresql/<version>/bin``.

    Raises:
        WorkshopError: naming the package to install.
    """
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(re.sub(r"\D", "", p.split("/")[3]) or 0),
    )
    if versions:
        return versions[-1]
    raise WorkshopError(
        f"PostgreSQL's `{name}` is not installed: install the server programs "
        "(Debian/Ubuntu: `sudo apt-get install postgresql`; macOS: `brew install postgresql@15`), "
        "or pass --backend-store-uri postgresql+psycopg://... to use a database you already run."
    )


def _db_os_user() -> str | None:
    """The non-root user that owns the cluster when we run as root (``initdb`` refuses root)."""
    if os.geteuid() != 0:
        return None
    import pwd

    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise WorkshopError(
        "running as root, and no 'postgres' user exists to own the database cluster "
        "(initdb refuses root): install PostgreSQL's package, or run as a normal user."
    )


def _as_db_user(cmd: list[str]) -> list[str]:
    user = _db_os_user()
    if user is None:
        return cmd
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", user, "--", *cmd]
    import shlex

    return ["su", user, "-s", "/bin/sh", "-c", shlex.join(cmd)]


def _run(cmd: list[str], what: str, *, env: dict | None = None, timeout: float = 120) -> str:
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise WorkshopError(f"{what} failed: {exc}") from exc
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        raise WorkshopError(f"{what} failed: {message[-1] if message else done.returncode}")
    return done.stdout


def _chown_to_db_user(path: Path) -> None:
    user = _db_os_user()
    if user is not None:
        shutil.chown(path, user, user)


def _check_db_user_can_enter(home: Path) -> None:
    """As root, the cluster's owner must be able to reach ``home`` (a 0700 parent would stop it)."""
    user = _db_os_user()
    if user is None:
        return
    os.chmod(home, os.stat(home).st_mode | 0o011)  # enter, not list
    probe = _as_db_user(["test", "-x", str(home)])
    if subprocess.run(probe, capture_output=True, check=False).returncode != 0:
        blocked = next(
            (p for p in [*reversed(home.parents), home] if not os.stat(p).st_mode & 0o001), home
        )
        raise WorkshopError(
            f"the database user {user!r} cannot enter {blocked} (initdb refuses root, so the "
            f"cluster runs as {user!r}): choose a --home outside it, or `chmod o+x {blocked}`."
        )


def pg_env(home: Path) -> dict[str, str]:
    """The environment for libpq clients (MLflow, pg_dump): the password file, no password."""
    return {"PGPASSFILE": str(home / "secrets" / "pgpass")}


def _pg_data(home: Path) -> Path:
    return home / "pg" / "data"


def pg_running(home: Path) -> bool:
    data = _pg_data(home)
    if not (data / "PG_VERSION").exists():
        return False
    done = subprocess.run(
        _as_db_user([pg_program("pg_ctl"), "status", "-D", str(data)]),
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def start_postgres(home: Path, state: dict) -> None:
    """Create the cluster on first use, start it on 127.0.0.1, create the two databases."""
    initdb, pg_ctl = pg_program("initdb"), pg_program("pg_ctl")
    secrets_dir = home / "secrets"
    pg_dir, data = home / "pg", _pg_data(home)
    pg_dir.mkdir(exist_ok=True)
    _check_db_user_can_enter(home)
    _chown_to_db_user(pg_dir)
    if not (data / "PG_VERSION").exists():
        password = new_password()
        pwfile = pg_dir / ".pwfile"
        write_private(pwfile, password + "\n")
        _chown_to_db_user(pwfile)
        try:
            _run(
                _as_db_user([
                    initdb, "-D", str(data), "-U", DB_USER, "--pwfile", str(pwfile),
                    "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8",
                    "--no-instructions",
                ]),
                "initdb",
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)
        state["pg_port"] = None
        write_private(secrets_dir / "pg_password", password + "\n")
    if pg_running(home):
        return
    port = state.get("pg_port")
    if not port or not port_is_free(port):
        port = free_port()
    state["pg_port"] = port
    run_dir = pg_dir / "run"
    run_dir.mkdir(exist_ok=True)
    _chown_to_db_user(run_dir)
    options = (
        f"-c listen_addresses={LOOPBACK} -p {port} -k {run_dir} -c max_connections=300 "
        "-c shared_buffers=128MB"
    )
    _run(
        _as_db_user([
            pg_ctl, "-D", str(data), "-l", str(pg_dir / "postgres.log"), "-w", "-t", "60",
            "-o", options, "start",
        ]),
        f"starting PostgreSQL (log: {pg_dir / 'postgres.log'})",
    )  # fmt: skip
    password = (secrets_dir / "pg_password").read_text().strip()
    write_private(secrets_dir / "pgpass", f"{LOOPBACK}:{port}:*:{DB_USER}:{password}\n")
    _create_databases(home, port)


def _create_databases(home: Path, port: int) -> None:
    import psycopg

    with using_env(pg_env(home)):
        with psycopg.connect(
            host=LOOPBACK, port=port, user=DB_USER, dbname="postgres", autocommit=True
        ) as conn:
            have = {r[0] for r in conn.execute("SELECT datname FROM pg_database").fetchall()}
            for name in DATABASES:
                if name not in have:
                    conn.execute(f'CREATE DATABASE "{name}"')


def stop_postgres(home: Path) -> bool:
    if not pg_running(home):
        return False
    _run(
        _as_db_user([pg_program("pg_ctl"), "-D", str(_pg_data(home)), "-m", "fast", "-w", "stop"]),
        "stopping PostgreSQL",
    )
    return True


def database_uris(home: Path, state: dict) -> tuple[str, str]:
    """(tracking store, auth store) URIs, without any password."""
    if state.get("backend_store_uri"):
        return state["backend_store_uri"], state["backend_store_uri"]
    base = f"postgresql+psycopg://{DB_USER}@{LOOPBACK}:{state['pg_port']}"
    return f"{base}/{DATABASES[0]}", f"{base}/{DATABASES[1]}"


# ----------------------------------------------------------------------------- MLflow
def _auth_ini(home: Path, auth_uri: str) -> Path:
    path = home / "basic_auth.ini"
    write_private(
        path,
        "# Written by `mlops-course workshop up`: MLflow's basic-auth app for the workshop.\n"
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = {auth_uri}\n"
        f"admin_username = {ADMIN}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        "grant_default_workspace_access = false\n"
        "# Without a cache every request of 30 learners re-hashes a password (PBKDF2).\n"
        "auth_cache_max_size = 10000\n"
        "auth_cache_ttl_seconds = 300\n",
    )
    return path


def _server_env(home: Path, admin_password: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING_")}
    env.update(pg_env(home))
    env.update(
        MLFLOW_AUTH_CONFIG_PATH=str(home / "basic_auth.ini"),
        MLFLOW_FLASK_SERVER_SECRET_KEY=(home / "secrets" / "flask_secret").read_text().strip(),
        MLFLOW_AUTH_ADMIN_USERNAME=ADMIN,
        MLFLOW_AUTH_ADMIN_PASSWORD=admin_password,
        MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false",
        MLFLOW_DISABLE_TELEMETRY="true",
        # Each worker holds a pool per store: workers x 2 x (5 + 10) stays under 300 connections.
        MLFLOW_SQLALCHEMYSTORE_POOL_SIZE="5",
        MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW="10",
        PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
    )
    return env


def _migrate(home: Path, tracking_uri: str, auth_uri: str, env: dict[str, str]) -> None:
    """Create or upgrade both schemas once, before several workers start (they would race)."""
    code = (
        "import sys\n"
        "from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore\n"
        "SqlAlchemyStore(sys.argv[1], sys.argv[2])\n"
    )
    _run(
        [sys.executable, "-c", code, tracking_uri, str(home / "artifacts")],
        "creating MLflow's tables",
        env=env,
        timeout=300,
    )
    _run(
        [sys.executable, "-m", "mlflow.server.auth", "db", "upgrade", "--url", auth_uri],
        "creating the accounts' tables",
        env=env,
        timeout=300,
    )


def start_mlflow(home: Path, state: dict, admin_password: str) -> None:
    """Start ``mlflow server --app-name basic-auth`` on the backend store, in its own process
    group, and wait for ``/health``."""
    tracking_uri, auth_uri = database_uris(home, state)
    _auth_ini(home, auth_uri)
    (home / "artifacts").mkdir(exist_ok=True)
    (home / "logs").mkdir(exist_ok=True)
    env = _server_env(home, admin_password)
    _migrate(home, tracking_uri, auth_uri, env)
    port = state.get("port") or 0
    if port == 0 or not port_is_free(port, state["host"]):
        if state.get("requested_port"):
            raise WorkshopError(f"port {port} on {state['host']} is in use: choose another --port.")
        port = free_port()
    state["port"] = port
    cmd = [
        sys.executable, "-m", "mlflow", "server",
        "--host", state["host"], "--port", str(port),
        "--backend-store-uri", tracking_uri,
        "--artifacts-destination", str(home / "artifacts"),
        "--serve-artifacts",
        "--app-name", "basic-auth",
        "--workers", str(state.get("workers", DEFAULT_WORKERS)),
    ]  # fmt: skip
    if state.get("allowed_hosts"):
        cmd += ["--allowed-hosts", state["allowed_hosts"]]
    log_path = home / "logs" / "mlflow.log"
    with open(log_path, "ab") as log:
        log.write(f"\n--- mlops-course workshop: mlflow server on port {port}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            cmd,
            cwd=home,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # `workshop down` stops the group: the server and its workers
        )
    state["pid"] = proc.pid
    uri = local_uri(state)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if is_healthy(uri, timeout=1):
            return
        time.sleep(0.3)
    stop_mlflow(state)
    raise WorkshopError(
        f"the MLflow server did not start. Last lines of {log_path}:\n{tail(log_path)}"
    )


def stop_mlflow(state: dict) -> bool:
    pid = state.get("pid")
    if not pid or not _pid_alive(pid) or not _is_workshop_server(pid, state):
        return False
    import signal

    for sig, grace in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _pid_alive(pid):
            time.sleep(0.2)
        if not _pid_alive(pid):
            break
    return True


def _is_workshop_server(pid: int | None, state: dict) -> bool:
    """Guard against a recycled PID: the process must be an ``mlflow server`` on our port."""
    import psutil

    try:
        cmd = psutil.Process(pid).cmdline()
    except psutil.Error:
        return False
    return "server" in cmd and "--port" in cmd and str(state.get("port")) in cmd


def _server_running(state: dict) -> bool:
    pid = state.get("pid")
    return bool(
        pid and _pid_alive(pid) and _is_workshop_server(pid, state) and is_healthy(local_uri(state))
    )


def local_uri(state: dict) -> str:
    host = state["host"]
    host = LOOPBACK if host in ("0.0.0.0", "::") else host
    return f"http://{host}:{state['port']}"


def public_uri(state: dict) -> str:
    return state.get("public_url") or local_uri(state)


# ----------------------------------------------------------------------------- accounts
def admin_values(home: Path, state: dict) -> dict[str, str]:
    return read_env_file(home / "admin.env") | {"MLFLOW_TRACKING_URI": local_uri(state)}


def _auth_client(uri: str):
    import warnings

    with warnings.catch_warnings():  # importing MLflow's server app warns about Starlette
        warnings.simplefilter("ignore")
        from mlflow.server import get_app_client

        return get_app_client("basic-auth", tracking_uri=uri)


def ensure_accounts(home: Path, state: dict, learners: list[Learner]) -> dict[str, int]:
    """One account, one ``.env`` file and one private submissions experiment per learner;
    existing ones are kept. Returns counts: ``created``, ``kept``, ``repaired``."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException, RestException

    uri = local_uri(state)
    counts = {"created": 0, "kept": 0, "repaired": 0}
    (home / "learners").mkdir(mode=0o700, exist_ok=True)
    with using_env(admin_values(home, state)):
        auth = _auth_client(uri)
        client = MlflowClient(uri)
        known = set(state.get("learners", []))
        for learner in learners:
            env_path = home / "learners" / f"{learner.name}.env"
            values = read_env_file(env_path) if env_path.exists() else {}
            password = values.get("MLFLOW_TRACKING_PASSWORD") or new_password()
            try:
                auth.get_user(learner.name)
                exists = True
            except (MlflowException, RestException):
                exists = False
            if not exists:
                auth.create_user(learner.name, password)
                counts["created"] += 1
            elif not values:
                auth.update_user_password(learner.name, password)  # the file was lost
                counts["repaired"] += 1
            else:
                counts["kept"] += 1
            if not values or values.get("MLFLOW_TRACKING_URI") != public_uri(state):
                write_private(
                    env_path,
                    env_text(
                        {
                            "MLFLOW_TRACKING_URI": public_uri(state),
                            "MLFLOW_TRACKING_USERNAME": learner.name,
                            "MLFLOW_TRACKING_PASSWORD": password,
                            "MLOPS_COURSE_STUDENT": learner.name,
                        },
                        f"mlops-course workshop: {learner.name}'s connection. Keep it private; "
                        "`mlops-course workshop join` this file.",
                    ),
                )
            _submissions_experiment(client, auth, learner.name)
            known.add(learner.name)
        _hide_submissions(client, auth, sorted(known), state)
    state["learners"] = sorted(known)
    return counts


def submissions_name(student: str) -> str:
    return f"{student}/{SUBMISSIONS}"


def _submissions_experiment(client, auth, name: str) -> str:
    exp = client.get_experiment_by_name(submissions_name(name))
    exp_id = exp.experiment_id if exp else client.create_experiment(submissions_name(name))
    _grant(auth, name, exp_id, "EDIT")
    return exp_id


def _grant(auth, username: str, experiment_id: str, permission: str) -> None:
    """Grant a permission on an experiment; one granted before (a re-run) is kept."""
    from mlflow.exceptions import MlflowException

    try:
        auth.grant_user_permission(username, "experiment", experiment_id, permission)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise


def _hide_submissions(client, auth, names: list[str], state: dict) -> None:
    """Every learner gets DENY on every other learner's submissions (only the pairs
    not done before: adding a learner to a class of 30 costs 60 grants, not 900)."""
    done = {tuple(p) for p in state.get("hidden", [])}
    ids = {n: client.get_experiment_by_name(submissions_name(n)).experiment_id for n in names}
    for owner in names:
        for other in names:
            if other != owner and (owner, other) not in done:
                _grant(auth, other, ids[owner], "DENY")
                done.add((owner, other))
    state["hidden"] = sorted(list(p) for p in done)


def admin_password(home: Path) -> str:
    """The admin's password, created the first time (kept in ``secrets/``)."""
    path = home / "secrets" / "admin_password"
    if not path.exists():
        write_private(path, new_password() + "\n")
    return path.read_text().strip()


def write_admin_env(home: Path, state: dict) -> None:
    write_private(
        home / "admin.env",
        env_text(
            {
                "MLFLOW_TRACKING_URI": public_uri(state),
                "MLFLOW_TRACKING_USERNAME": ADMIN,
                "MLFLOW_TRACKING_PASSWORD": admin_password(home),
            },
            "mlops-course workshop: the instructor's connection (admin). Never hand it out.",
        ),
    )


# ----------------------------------------------------------------------------- commands
def _check_installed() -> None:
    import importlib.util

    missing = [m for m in ("flask_wtf", "psycopg") if importlib.util.find_spec(m) is None]
    if missing:
        raise WorkshopError(
            "the workshop server needs MLflow's auth app and the PostgreSQL driver "
            f'(missing: {", ".join(missing)}): `pip install -e ".[workshop]"`.'
        )


def up(
    home: Path,
    roster: Path,
    *,
    host: str = LOOPBACK,
    port: int | None = None,
    backend_store_uri: str | None = None,
    workers: int = DEFAULT_WORKERS,
    allowed_hosts: str | None = None,
    public_url: str | None = None,
) -> dict:
    """Start (or reuse) the workshop and set up the roster's accounts. Returns a summary."""
    learners = read_roster(roster)  # a bad roster stops everything before anything starts
    _check_installed()
    if backend_store_uri and not backend_store_uri.startswith("postgresql"):
        raise WorkshopError(
            "--backend-store-uri: expected postgresql+psycopg://user@host:port/database "
            f"(got {backend_store_uri.split(':', 1)[0]}://...)."
        )
    home = Path(home).expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    state = read_state(home)
    if backend_store_uri and backend_store_uri != state.get("backend_store_uri"):
        if state.get("backend_store_uri") or (_pg_data(home) / "PG_VERSION").exists():
            raise WorkshopError(
                f"{home} already keeps a workshop in another database; use another --home."
            )
        state["backend_store_uri"] = backend_store_uri
    wanted = {"host": host, "workers": workers, "allowed_hosts": allowed_hosts}
    if port:
        wanted["port"] = port
    if _server_running(state):
        changed = [k for k, v in wanted.items() if state.get(k) != v]
        if changed:
            now = ", ".join(f"{k.replace('_', '-')} {state.get(k)}" for k in changed)
            raise WorkshopError(
                f"the workshop server runs with {now}: `workshop down --home {home}` first to "
                "change that (every account and run is kept)."
            )
    state.update(wanted, public_url=public_url, requested_port=bool(port))
    secrets_dir = home / "secrets"
    secrets_dir.mkdir(mode=0o700, exist_ok=True)
    if not (secrets_dir / "flask_secret").exists():
        write_private(secrets_dir / "flask_secret", secrets.token_hex(32) + "\n")
    started = []
    if not state.get("backend_store_uri") and not pg_running(home):
        start_postgres(home, state)
        started.append("PostgreSQL")
    write_state(home, state)
    if not _server_running(state):
        start_mlflow(home, state, admin_password(home))
        started.append("MLflow")
    write_state(home, state)
    write_admin_env(home, state)
    counts = ensure_accounts(home, state, learners)
    write_state(home, state)
    return {
        "uri": public_uri(state),
        "home": str(home),
        "started": started,
        "learners": len(state["learners"]),
        **counts,
    }


def status(home: Path) -> dict:
    """What runs, how many accounts, and the submissions so far (per learner)."""
    home = Path(home).expanduser().resolve()
    state = read_state(home)
    if not state:
        raise WorkshopError(f"{home} is not a workshop home (no {STATE_FILE}): run `workshop up`.")
    result: dict = {"home": str(home), "uri": public_uri(state)}
    result["server"] = "running" if _server_running(state) else "stopped"
    result["database"] = (
        f"external ({state['backend_store_uri'].split('@')[-1]})"
        if state.get("backend_store_uri")
        else ("running" if pg_running(home) else "stopped")
    )
    learners = state.get("learners", [])
    result["accounts"] = len(learners)
    result["submissions"] = {}
    if result["server"] == "running":
        result["submissions"] = count_submissions(admin_values(home, state), learners)
    return result


def count_submissions(admin: dict[str, str], learners: list[str]) -> dict[str, int]:
    from mlflow import MlflowClient

    counts = {}
    with using_env(admin):
        client = MlflowClient(admin["MLFLOW_TRACKING_URI"])
        for name in learners:
            exp = client.get_experiment_by_name(submissions_name(name))
            runs = client.search_runs([exp.experiment_id], max_results=1000) if exp else []
            counts[name] = len(runs)
    return counts


def down(home: Path) -> list[str]:
    """Stop MLflow and PostgreSQL; keep every file. Returns what was stopped."""
    home = Path(home).expanduser().resolve()
    state = read_state(home)
    if not state:
        raise WorkshopError(f"{home} is not a workshop home (no {STATE_FILE}).")
    stopped = []
    if stop_mlflow(state):
        stopped.append("MLflow")
    state["pid"] = None
    write_state(home, state)
    if not state.get("backend_store_uri") and stop_postgres(home):
        stopped.append("PostgreSQL")
    return stopped


def backup(home: Path) -> Path:
    """``pg_dump`` of both databases plus the artifacts and the configuration, in one archive
    (mode 0600: it holds the accounts) under ``DIR/backups/``, written atomically."""
    home = Path(home).expanduser().resolve()
    state = read_state(home)
    if not state:
        raise WorkshopError(f"{home} is not a workshop home (no {STATE_FILE}).")
    if not state.get("backend_store_uri") and not pg_running(home):
        raise WorkshopError("PostgreSQL is not running: `workshop up` first (data is kept).")
    pg_dump = pg_program("pg_dump")
    out_dir = home / "backups"
    out_dir.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    archive = out_dir / f"workshop-{stamp}.tar.gz"
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        env = dict(os.environ) | pg_env(home)
        dumps = []
        tracking_uri, auth_uri = database_uris(home, state)
        for label, uri in (("mlflow", tracking_uri), ("mlflow_auth", auth_uri)):
            if label == "mlflow_auth" and uri == tracking_uri:
                continue
            dump = Path(tmp) / f"{label}.dump"
            libpq_uri = re.sub(r"^postgresql\+\w+://", "postgresql://", uri)
            _run([pg_dump, "-Fc", "-f", str(dump), libpq_uri], f"pg_dump of {label}", env=env)
            dumps.append(dump)
        partial = Path(tmp) / archive.name
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for dump in dumps:
                tar.add(dump, arcname=f"database/{dump.name}")
            for name in ("artifacts", "learners", "secrets"):
                if (home / name).exists():
                    tar.add(home / name, arcname=name)
            for name in ("admin.env", "basic_auth.ini", STATE_FILE):
                if (home / name).exists():
                    tar.add(home / name, arcname=name)
        os.replace(partial, archive)
    return archive


# ----------------------------------------------------------------------------- learner side
JOINED_FILE = "workshop.env"


def joined_path() -> Path:
    from mlops_course.paths import course_home

    return course_home() / JOINED_FILE


def join(env_file: Path) -> dict[str, str]:
    """Store a learner's connection in the course home (0600)."""
    values = read_env_file(env_file)
    missing = [k for k in ENV_KEYS if not values.get(k)]
    if missing:
        raise WorkshopError(f"{env_file}: missing {', '.join(missing)}; ask for a new file.")
    write_private(joined_path(), env_text(values, "mlops-course workshop: joined connection"))
    return values


def leave() -> Path | None:
    """Forget the joined connection (kept as ``workshop.env.left`` so nothing is lost)."""
    path = joined_path()
    if not path.exists():
        return None
    left = path.with_name(JOINED_FILE + ".left")
    os.replace(path, left)
    return left


def apply_joined() -> bool:
    """Use the joined workshop connection in this process (notebooks, ``check()``, ``grade``
    and every command reach the server through here). A ``MLFLOW_TRACKING_URI`` the user set
    to another server wins; so does no file. Returns True when the connection was applied."""
    path = joined_path()
    if not path.exists():
        return False
    try:
        values = read_env_file(path)
    except WorkshopError:
        return False
    current = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    if current and current != values["MLFLOW_TRACKING_URI"]:
        from mlops_course import server

        local = server.read_state()
        if not (local and local.uri == current):
            return False  # the user's own choice of server
    for key in ENV_KEYS:
        if values.get(key):
            os.environ[key] = values[key]
    return True
