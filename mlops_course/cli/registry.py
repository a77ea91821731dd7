"""``mlops-course registry list|details|register|promote|auto-promote|compare|rollback``.

The reference registry tool: changes are made by the graded functions of the ``solutions``
target (``solutions/registry.py``); listing and input checks by
:mod:`mlops_course.registry_tools`. Bad input prints one line saying what exists and what to
run, exits 2, and changes nothing (the CLI's one error path: :mod:`mlops_course.cli.args`).
Commands that move an alias ask for confirmation unless ``--yes`` (without a terminal they
refuse: exit 2); promoting a version whose latest validation said not to warns first.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mlops_course.cli import args as argtypes
from mlops_course.cli.args import Subparsers
from mlops_course.registry_tools import RegistryInputError

if TYPE_CHECKING:
    from types import ModuleType

    from mlflow import MlflowClient
    from rich.console import Console

PROG = "mlops-course registry"


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "registry",
        help="list, register, promote, compare and roll back registered models",
        description="The course's reference registry tool (backed by solutions/registry.py).",
    )
    cmds = p.add_subparsers(dest="registry_command", metavar="ACTION", required=True)

    def add(
        name: str, help_: str, func: Callable[[argparse.Namespace], int], *, confirm: bool = False
    ) -> argparse.ArgumentParser:
        c = argtypes.add_action(cmds, name, help_, func)
        if confirm:
            c.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
        return c

    c = add("list", "registered models with their versions and aliases", run_list)
    c.add_argument("--all", action="store_true", help="every namespace, not only yours")
    c.add_argument("--prefix", help="only names starting with this (default: your namespace)")

    c = add("details", "one registered model: its versions, aliases and tags", run_details)
    c.add_argument("name")

    c = add("register", "register a run's model as a new version", run_register, confirm=True)
    c.add_argument("--run-id", required=True)
    c.add_argument("--name", required=True, help="the registered model (created if needed)")
    c.add_argument("--alias", help="also promote the new version to this alias")
    c.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE")
    c.add_argument("--description", default="")
    c.add_argument("--artifact-path", default="model", help="the name the model was logged with")

    c = add("promote", "move an alias (default champion) to a version", run_promote, confirm=True)
    c.add_argument("name")
    c.add_argument("version")
    c.add_argument("--alias", default="champion")
    c.add_argument("--reason", default="")

    c = add(
        "auto-promote",
        "promote only if a metric meets a threshold and beats the alias's holder",
        run_auto_promote,
        confirm=True,
    )
    c.add_argument("name")
    c.add_argument("version")
    c.add_argument("--metric", required=True)
    c.add_argument("--threshold", required=True, type=argtypes.finite_float)
    c.add_argument("--alias", default="champion")
    c.add_argument("--lower-is-better", action="store_true", help="for errors such as rmse")

    c = add("compare", "the metrics of versions side by side", run_compare)
    c.add_argument("name")
    c.add_argument("versions", nargs="+", metavar="VERSION")
    c.add_argument("--metric", action="append", dest="metrics", metavar="M")

    c = add("rollback", "move an alias back to the previous version", run_rollback, confirm=True)
    c.add_argument("name")
    c.add_argument("--to", dest="to_version", metavar="VERSION")
    c.add_argument("--alias", default="champion")
    c.add_argument("--reason", default="")


# ----------------------------------------------------------------------------- plumbing
def _client() -> MlflowClient:
    from mlflow import MlflowClient

    return MlflowClient(argtypes.course_tracking_uri())


def _solutions() -> ModuleType:
    return argtypes.solutions("registry")


def _console() -> Console:
    from rich.console import Console

    # Not a terminal (a pipe, a log): rich would wrap at 80 columns; model names are long.
    return Console(width=None if sys.stdout.isatty() else 160)


def _confirm(args: argparse.Namespace, question: str) -> bool:
    if getattr(args, "yes", False):
        return True
    if not sys.stdin or not sys.stdin.isatty():  # a script, a pipe, CI: never wait, never assume
        raise RegistryInputError(f"{question} Not asked: no terminal; pass --yes to confirm.")
    try:
        answer = input(f"{question} [y/N] ")
    except (EOFError, OSError):
        print("\nNo answer: pass --yes to confirm when not interactive.", file=sys.stderr)
        return False
    return answer.strip().lower() in ("y", "yes")


def _warned(client: MlflowClient, name: str, version: str, question: str) -> tuple[str, str | None]:
    """The question to ask before promoting ``version``, led by the warning of its latest
    validation when that said not to promote."""
    from mlops_course import registry_tools as rt

    warning = rt.validation_warning(client, name, version)
    if warning:
        print(f"Warning: {warning}", file=sys.stderr)
        question = f"{warning} {question}"
    return question, warning


def _cancelled() -> int:
    print("Cancelled: nothing changed.")
    return 1


def _emit(args: argparse.Namespace, payload: Any, render: Callable[[Console], None]) -> int:
    if args.json:
        print(json.dumps(payload, indent=2, default=str))
    else:
        render(_console())
    return 0


def _aliases_text(aliases: dict[str, str]) -> str:
    return ", ".join(f"@{a} → v{v}" for a, v in aliases.items())


# ----------------------------------------------------------------------------- commands
def run_list(args: argparse.Namespace) -> int:
    from rich.table import Table

    from mlops_course import naming, registry_tools

    client = _client()
    prefix = (
        "" if args.all else (args.prefix if args.prefix is not None else f"{naming.student()}.")
    )
    rows = registry_tools.list_models(client, prefix)

    def render(console: Console) -> None:
        where = "every namespace" if not prefix else f"names starting with {prefix!r}"
        if not rows:
            console.print(
                f"No registered models ({where}). Register one with `{PROG} register --run-id "
                "ID --name NAME`" + ("" if args.all else f", or see all with `{PROG} list --all`.")
            )
            return
        table = Table(title=f"Registered models ({where}): {len(rows)}")
        for column in ("name", "versions", "latest", "aliases", "description", "updated (UTC)"):
            table.add_column(column, justify="right" if column == "versions" else "left")
        for r in rows:
            description = r["description"].splitlines()[0][:50] if r["description"] else ""
            table.add_row(
                r["name"],
                str(r["versions"]),
                f"v{r['latest_version']}" if r["latest_version"] else "",
                _aliases_text(r["aliases"]),
                description,
                r["updated"],
            )
        console.print(table)

    return _emit(args, rows, render)


def run_details(args: argparse.Namespace) -> int:
    from rich.table import Table

    from mlops_course import registry_tools

    client = _client()
    name = registry_tools.resolve_name(client, args.name)
    info = registry_tools.model_details(client, name)

    def render(console: Console) -> None:
        console.print(f"[bold]{info['name']}[/]  {_aliases_text(info['aliases'])}")
        if info["description"]:
            console.print(info["description"])
        if info["tags"]:
            console.print("tags: " + ", ".join(f"{k}={v}" for k, v in info["tags"].items()))
        table = Table(title=f"{len(info['versions'])} versions")
        for column in (
            "version",
            "aliases",
            "status",
            "run id",
            "created (UTC)",
            "tags",
            "description",
        ):
            table.add_column(column)
        for v in info["versions"]:
            table.add_row(
                v["version"],
                " ".join(f"@{a}" for a in v["aliases"]),
                v["status"],
                v["run_id"] or "",
                v["created"],
                ", ".join(f"{k}={val}" for k, val in sorted(v["tags"].items())),
                v["description"][:40],
            )
        console.print(table)
        _render_validations(console, info["validations"])

    return _emit(args, info, render)


def _render_validations(console: Console, validations: list[dict]) -> None:
    """Every validation of the model, newest first (the versions' validation_* tags name only
    the latest)."""
    from rich.table import Table

    if not validations:
        console.print("No validation yet: `mlops-course validate --model-name NAME` adds one.")
        return
    table = Table(title=f"Validations, newest first ({len(validations)} shown)")
    for column in ("when (UTC)", "challenger", "champion", "decision", "p", "promoted", "run id"):
        table.add_column(column)
    for v in validations:
        pvalue = v["mcnemar_pvalue"]
        table.add_row(
            v["when"],
            f"v{v['challenger_version']}",
            "none" if v["champion_version"] in (None, "none") else f"v{v['champion_version']}",
            v["decision"] or "",
            "" if pvalue is None else f"{pvalue:.3g}",
            "yes" if v["promoted"] else "no",
            v["run_id"],
        )
    console.print(table)


def _parse_tags(pairs: list[str]) -> dict[str, str]:
    tags = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise RegistryInputError(f"--tag takes KEY=VALUE, got {pair!r}.")
        tags[key.strip()] = value
    return tags


def _name_to_register(client: MlflowClient, name: str) -> str:
    """The model a new version goes to, named as every other command names it: an existing
    model (``NAME`` or ``<you>.NAME``), else ``<you>.NAME`` in your namespace, so that
    `registry list` shows what `register` just made."""
    from mlops_course import naming
    from mlops_course import registry_tools as rt

    try:
        return rt.resolve_name(client, name)
    except RegistryInputError:  # not there yet: a new model, in your namespace
        mine = f"{naming.student()}."
        return name if name.startswith(mine) else naming.model_name(name)


def run_register(args: argparse.Namespace) -> int:
    from mlops_course import registry_tools as rt

    client = _client()
    name = _name_to_register(client, rt.check_model_name(args.name))
    tags = _parse_tags(args.tag)
    alias = rt.check_alias(args.alias) if args.alias else None
    rt.check_run(client, args.run_id, args.artifact_path)
    holder = None
    if alias:
        try:
            holder = client.get_registered_model(name).aliases.get(alias)
        except Exception:
            holder = None
        if holder and not _confirm(
            args, f"Register and move @{alias} of {name} from v{holder} to the new version?"
        ):
            return _cancelled()
    solutions = _solutions()
    version = solutions.register_model_version(
        args.run_id, name, description=args.description, tags=tags, artifact_path=args.artifact_path
    )
    previous = None
    if alias:
        previous = solutions.promote_to_alias(
            name, version, alias=alias, reason=f"registered with {PROG} register --alias"
        )
        rt.record_promotion(client, name, version, previous, alias=alias)
    payload = {"name": name, "version": version, "alias": alias, "previous": previous}

    def render(console: Console) -> None:
        console.print(
            f"Registered [bold]{name}[/] version [bold]{version}[/] from run {args.run_id}."
        )
        if alias:
            was = f" (was v{previous})" if previous else ""
            console.print(f"@{alias} → v{version}{was}")
            console.print(rt.follow_note(alias))

    return _emit(args, payload, render)


def run_promote(args: argparse.Namespace) -> int:
    from mlops_course import registry_tools as rt

    client = _client()
    name = rt.resolve_name(client, args.name)
    version = rt.check_version(client, name, args.version)
    alias = rt.check_alias(args.alias)
    holder = client.get_registered_model(name).aliases.get(alias)
    if holder == version:
        payload = {"name": name, "alias": alias, "version": version, "previous": version}
        return _emit(
            args,
            {**payload, "changed": False},
            lambda c: c.print(f"v{version} already holds @{alias}: nothing changed."),
        )
    was = f"v{holder}" if holder else "no version"
    question, warning = _warned(
        client, name, version, f"Move @{alias} of {name} from {was} to v{version}?"
    )
    if not _confirm(args, question):
        return _cancelled()
    previous = _solutions().promote_to_alias(name, version, alias=alias, reason=args.reason)
    rt.record_promotion(client, name, version, previous, alias=alias)
    payload = {"name": name, "alias": alias, "version": version, "previous": previous}

    def render(console: Console) -> None:
        console.print(f"@{alias} → v{version} (was {f'v{previous}' if previous else 'unset'})")
        console.print(rt.follow_note(alias))

    return _emit(args, {**payload, "changed": True, "warning": warning}, render)


def run_auto_promote(args: argparse.Namespace) -> int:
    from mlops_course import registry_tools as rt

    client = _client()
    name = rt.resolve_name(client, args.name)
    version = rt.check_version(client, name, args.version)
    alias = rt.check_alias(args.alias)
    value = rt.check_metric(client, name, version, args.metric)
    op = "<=" if args.lower_is_better else ">="
    question = (
        f"Promote v{version} of {name} to @{alias} if {args.metric}={value:.4g} {op} "
        f"{args.threshold:g} and beats the current holder?"
    )
    question, warning = _warned(client, name, version, question)
    if not _confirm(args, question):
        return _cancelled()
    before = client.get_registered_model(name).aliases.get(alias)
    promoted = _solutions().auto_promote(
        name,
        version,
        metric=args.metric,
        threshold=args.threshold,
        alias=alias,
        greater_is_better=not args.lower_is_better,
    )
    now = client.get_registered_model(name).aliases.get(alias)
    if promoted:
        rt.record_promotion(client, name, version, before, alias=alias)
    payload = {
        "name": name,
        "version": version,
        "alias": alias,
        "metric": args.metric,
        "value": value,
        "threshold": args.threshold,
        "promoted": promoted,
        "holder": now,
        "warning": warning,
    }

    def render(console: Console) -> None:
        if promoted:
            reason = client.get_model_version(name, version).tags.get("promotion_reason", "")
            console.print(f"[green]Promoted[/]: @{alias} → v{version} ({reason})")
            console.print(rt.follow_note(alias))
        else:
            console.print(
                f"[yellow]Not promoted[/]: {args.metric}={value:.4g} does not meet {op} "
                f"{args.threshold:g} or does not beat @{alias} "
                f"({f'v{now}' if now else 'unset'}); nothing changed."
            )

    return _emit(args, payload, render)


def run_compare(args: argparse.Namespace) -> int:
    import math

    from rich.table import Table

    from mlops_course import registry_tools as rt

    client = _client()
    name = rt.resolve_name(client, args.name)
    versions = [rt.check_version(client, name, v) for v in args.versions]
    table = _solutions().compare_versions(name, versions, metrics=args.metrics)
    payload = {
        "name": name,
        "versions": versions,
        "metrics": {
            metric: {v: (None if math.isnan(x) else x) for v, x in row.items()}
            for metric, row in table.to_dict(orient="index").items()
        },
    }

    def render(console: Console) -> None:
        out = Table(title=f"{name}: versions compared")
        out.add_column("metric")
        for v in table.columns:
            out.add_column(f"v{v}", justify="right")
        if len(table.columns) == 2:
            out.add_column(f"v{table.columns[1]} − v{table.columns[0]}", justify="right")
        for metric, row in table.iterrows():
            cells = ["" if math.isnan(x) else f"{x:.4f}" for x in row]
            if len(row) == 2:
                delta = row.iloc[1] - row.iloc[0]
                cells.append("" if math.isnan(delta) else f"{delta:+.4f}")
            out.add_row(str(metric), *cells)
        console.print(out)

    return _emit(args, payload, render)


def run_rollback(args: argparse.Namespace) -> int:
    from mlops_course import registry_tools as rt

    client = _client()
    name = rt.resolve_name(client, args.name)
    alias = rt.check_alias(args.alias)
    model = client.get_registered_model(name)
    current = model.aliases.get(alias)
    if current is None:
        held = _aliases_text(model.aliases) or "none"
        raise RegistryInputError(
            f"No version of {name!r} has the alias @{alias} (aliases: {held}); nothing to roll "
            f"back. Promote one with `{PROG} promote {name} VERSION --alias {alias}`."
            + argtypes.stage_hint(alias)
        )
    if args.to_version is not None:
        target = rt.check_version(client, name, args.to_version)
    else:
        graded = _solutions()  # the tag its promote_to_alias writes and its rollback reads
        recorded = client.get_model_version(name, current).tags.get(graded.PREVIOUS_VERSION)
        if not recorded or recorded == graded.NO_PREVIOUS:
            raise RegistryInputError(
                f"v{current} of {name!r} records no previous @{alias}; choose one with --to "
                f"VERSION (see `{PROG} details {name}`)."
            )
        target = rt.check_version(client, name, recorded)
    if target == current:
        return _emit(
            args,
            {"name": name, "alias": alias, "version": current, "changed": False},
            lambda c: c.print(f"v{current} already holds @{alias}: nothing changed."),
        )
    if not _confirm(args, f"Roll back @{alias} of {name} from v{current} to v{target}?"):
        return _cancelled()
    now = _solutions().rollback(name, alias=alias, to_version=target, reason=args.reason)
    if alias == rt.CHAMPION:
        rt.record_previous_champion(client, name, current)
    payload = {"name": name, "alias": alias, "version": now, "previous": current, "changed": True}

    def render(console: Console) -> None:
        console.print(f"@{alias} → v{now} (was v{current})")
        console.print(rt.follow_note(alias))

    return _emit(args, payload, render)
