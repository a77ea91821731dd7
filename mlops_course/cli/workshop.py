"""``mlops-course workshop up|status|down|backup`` (instructors) and ``join|leave`` (learners)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from mlops_course.cli import args as argtypes
from mlops_course.cli.args import CliError, Subparsers, add_action


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "workshop",
        help="(instructors) one shared MLflow server with accounts; (learners) join it",
        description="A workshop's shared MLflow server: PostgreSQL, MLflow's basic-auth app, one "
        "account per learner. Instructors: up, status, down, backup. Learners: join, leave.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    up = add_action(actions, "up", "start (or reuse) the server and create the accounts", run_up)
    _home(up)
    up.add_argument(
        "--roster", required=True, type=argtypes.input_file, help="CSV: name[,email] per learner"
    )
    up.add_argument(
        "--host",
        type=argtypes.local_host,
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; a LAN address or 0.0.0.0 for a class)",
    )
    up.add_argument("--port", type=argtypes.port, help="port (default: a free one, kept after)")
    up.add_argument(
        "--backend-store-uri",
        metavar="URI",
        help="an existing PostgreSQL database (postgresql+psycopg://user@host:port/db; the "
        "password in ~/.pgpass); default: a cluster created under --home",
    )
    up.add_argument(
        "--workers",
        type=argtypes.positive_int,
        default=4,
        help="server worker processes (default 4: enough for 30 learners)",
    )
    up.add_argument(
        "--allowed-hosts",
        metavar="HOSTS",
        help="Host headers the server accepts, for a LAN address "
        '(e.g. "192.168.1.20:*,localhost:*"); passed to mlflow server',
    )
    up.add_argument(
        "--public-url",
        metavar="URL",
        help="the URL learners use (default http://HOST:PORT), written into their .env files",
    )

    _home(add_action(actions, "status", "server, database, accounts, submissions", run_status))
    _home(add_action(actions, "down", "stop MLflow and PostgreSQL (the data is kept)", run_down))
    _home(add_action(actions, "backup", "pg_dump and the artifacts, in one archive", run_backup))

    join = add_action(actions, "join", "use a workshop's server (your .env file)", run_join)
    join.add_argument("env_file", type=argtypes.input_file, metavar="FILE.env")
    add_action(actions, "leave", "go back to the course's local server", run_leave)


def _home(p: argparse.ArgumentParser) -> None:
    p.add_argument("--home", required=True, type=Path, metavar="DIR", help="the workshop's folder")


@contextlib.contextmanager
def _explained() -> Iterator[None]:
    from mlops_course.workshop import WorkshopError

    try:
        yield
    except WorkshopError as exc:
        raise CliError(str(exc)) from exc


def _print(args: argparse.Namespace, data: dict, lines: list[str]) -> int:
    if args.json:
        print(json.dumps(data, indent=2, default=str))
    else:
        print("\n".join(lines))
    return 0


def run_up(args: argparse.Namespace) -> int:
    from mlops_course import workshop

    if args.public_url and not args.public_url.startswith(("http://", "https://")):
        raise CliError("--public-url: expected http://host:port or https://host.")
    with _explained():
        summary = workshop.up(
            args.home,
            args.roster,
            host=args.host,
            port=args.port,
            backend_store_uri=args.backend_store_uri,
            workers=args.workers,
            allowed_hosts=args.allowed_hosts,
            public_url=args.public_url,
        )
    home = Path(summary["home"])
    started = " and ".join(summary["started"]) or "nothing (already running)"
    return _print(
        args,
        summary,
        [
            f"Workshop server: {summary['uri']}",
            f"Started {started}; data in {home}.",
            f"Accounts: {summary['learners']} learners ({summary['created']} new, "
            f"{summary['kept']} kept, {summary['repaired']} with a new password) and admin.",
            f"Hand out {home / 'learners'}/<name>.env, one per learner (each runs "
            "`mlops-course workshop join <name>.env`).",
            f"Your connection: {home / 'admin.env'}. Grades: "
            f"`mlops-course gradebook --server --env {home / 'admin.env'} --output class.csv`.",
        ],
    )


def run_status(args: argparse.Namespace) -> int:
    from mlops_course import workshop

    with _explained():
        info = workshop.status(args.home)
    subs = info["submissions"]
    submitted = sum(1 for n in subs.values() if n)
    lines = [
        f"Workshop {info['home']}",
        f"  server:      {info['server']} at {info['uri']}",
        f"  database:    {info['database']}",
        f"  accounts:    {info['accounts']} learners and admin",
        f"  submissions: {sum(subs.values())} from {submitted} of {info['accounts']} learners"
        if info["server"] == "running"
        else "  submissions: (start the server to count them)",
    ]
    _print(args, info, lines)
    return 0 if info["server"] == "running" else 1


def run_down(args: argparse.Namespace) -> int:
    from mlops_course import workshop

    with _explained():
        stopped = workshop.down(args.home)
    what = " and ".join(stopped) or "nothing (not running)"
    return _print(
        args,
        {"stopped": stopped},
        [f"Stopped {what}. Every file is kept in {args.home}: `workshop up` starts it again."],
    )


def run_backup(args: argparse.Namespace) -> int:
    from mlops_course import workshop

    with _explained():
        archive = workshop.backup(args.home)
    size = archive.stat().st_size
    return _print(
        args,
        {"archive": str(archive), "bytes": size},
        [f"Backup: {archive} ({size / 1e6:.1f} MB; it holds the accounts: keep it private)."],
    )


def run_join(args: argparse.Namespace) -> int:
    from mlops_course import workshop

    with _explained():
        values = workshop.join(args.env_file)
    uri, name = values["MLFLOW_TRACKING_URI"], values["MLFLOW_TRACKING_USERNAME"]
    reachable = workshop.is_healthy(uri)
    lines = [
        f"Joined the workshop at {uri} as {name} (stored in {workshop.joined_path()}, mode 0600).",
        "Notebooks, check() and `mlops-course grade` now use it (in an open notebook, run its "
        "setup cell again); `mlops-course workshop leave` goes back to your local server.",
    ]
    if not reachable:
        lines.append(f"Note: {uri} does not answer right now; ask your instructor.")
    _print(args, {"uri": uri, "username": name, "reachable": reachable}, lines)
    return 0


def run_leave(args: argparse.Namespace) -> int:
    from mlops_course import workshop

    kept = workshop.leave()
    if kept is None:
        print("Not in a workshop: the course uses its local server.", file=sys.stderr)
        return 0
    return _print(
        args,
        {"left": str(kept)},
        [
            f"Left the workshop (the connection is kept in {kept}). The course uses its local server."
        ],
    )
