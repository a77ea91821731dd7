"""Registry helpers for the reference CLI (``mlops-course registry``): not graded.

Listing pages through ``search_registered_models`` and ``search_model_versions`` (a handful of
requests for a whole namespace) instead of asking for each model's versions one by one. The
lookups here turn "not found" into messages that say what exists; the registry changes
themselves are made by the graded functions of ``solutions/registry.py``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timezone

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from mlops_course.cli.args import CliError

MODELS_PAGE = 1000  # the server's maximum for search_registered_models
VERSIONS_PAGE = 10_000  # the server's default for search_model_versions (maximum 200,000)
_ALIAS = re.compile(r"^[A-Za-z0-9_-]+$")
_RESERVED_ALIAS = re.compile(r"^(latest|v\d+)$", re.IGNORECASE)


# Bad input for a registry command: the message says what exists and what to run. The CLI's
# one error type (one line on stderr, exit code 2), under the name these helpers have used.
RegistryInputError = CliError


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern literal for names starting with ``prefix`` (``_`` and ``%`` are
    wildcards, and so is a quote that cannot be written: the results are filtered again
    exactly)."""
    if "'" in prefix and '"' in prefix:
        prefix = prefix.replace("'", "_").replace('"', "_")
    return literal(prefix + "%")


def literal(value: str) -> str:
    """``value`` as a string literal of an MLflow filter, quotes included: filter strings have
    no escape character (``'O''Brien'`` matches nothing), so a value with ``'`` goes between
    double quotes. One with both kinds of quote cannot be written: it is put between single
    quotes and matches nothing."""
    if "'" in value and '"' not in value:
        return f'"{value}"'
    return f"'{value}'"


def quote(value: str) -> str:
    """``value`` for use between single quotes (kept for callers; prefer :func:`literal`)."""
    return value.replace("'", "''")


def _paged(search, **kwargs) -> list:
    items, token = [], None
    while True:
        page = search(page_token=token, **kwargs)
        items.extend(page)
        token = page.token
        if not token:
            return items


def all_models(client: MlflowClient, prefix: str = "") -> list:
    """Every registered model whose name starts with ``prefix``, by name, in pages of 1000."""
    filter_string = f"name LIKE {_like_prefix(prefix)}" if prefix else ""
    models = _paged(
        client.search_registered_models,
        filter_string=filter_string,
        max_results=MODELS_PAGE,
        order_by=["name ASC"],
    )
    return [m for m in models if m.name.startswith(prefix)]


def all_versions(client: MlflowClient, *, name: str | None = None, prefix: str = "") -> list:
    """Every version of one model (``name``) or of all models starting with ``prefix``."""
    if name is not None:
        filter_string = f"name = {literal(name)}"
    else:
        filter_string = f"name LIKE {_like_prefix(prefix)}" if prefix else ""
    versions = _paged(
        client.search_model_versions, filter_string=filter_string, max_results=VERSIONS_PAGE
    )
    if name is None:
        versions = [v for v in versions if v.name.startswith(prefix)]
    return versions


def _when(ms: int | None) -> str:
    if not ms:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")


def list_models(client: MlflowClient, prefix: str = "") -> list[dict]:
    """One row per registered model: name, versions, latest version, aliases, description."""
    models = all_models(client, prefix)
    by_model: dict[str, list[int]] = defaultdict(list)
    for version in all_versions(client, prefix=prefix):
        by_model[version.name].append(int(version.version))
    rows = []
    for model in models:
        numbers = by_model.get(model.name, [])
        rows.append(
            {
                "name": model.name,
                "versions": len(numbers),
                "latest_version": str(max(numbers)) if numbers else None,
                "aliases": dict(sorted(model.aliases.items())),
                "description": model.description or "",
                "updated": _when(model.last_updated_timestamp),
            }
        )
    return rows


def model_details(client: MlflowClient, name: str) -> dict:
    """A registered model with all its versions (newest first) and their aliases and tags."""
    model = get_model(client, name)
    alias_of: dict[str, list[str]] = defaultdict(list)
    for alias, version in model.aliases.items():
        alias_of[str(version)].append(alias)
    versions = sorted(all_versions(client, name=name), key=lambda v: int(v.version), reverse=True)
    return {
        "name": model.name,
        "description": model.description or "",
        "tags": dict(model.tags),
        "aliases": dict(sorted(model.aliases.items())),
        "validations": validation_history(client, model.name),
        "versions": [
            {
                "version": v.version,
                "aliases": sorted(alias_of.get(str(v.version), [])),
                "status": v.status,
                "run_id": v.run_id,
                "created": _when(v.creation_timestamp),
                "description": v.description or "",
                "tags": dict(v.tags),
            }
            for v in versions
        ],
    }


VALIDATIONS_SHOWN = 20


def validation_history(client: MlflowClient, name: str, limit: int = VALIDATIONS_SHOWN) -> list:
    """The validation runs of ``name``, newest first: each validation writes one run (the
    tags on the versions point at the latest only, the runs keep the whole history). Read from
    the learner's own experiments (``<student>/...``, where ``validate`` writes), not from
    grading runs."""
    from mlops_course import naming

    prefix = f"{naming.student()}/"
    experiments = [
        e
        for e in _paged(
            client.search_experiments, filter_string=f"name LIKE {_like_prefix(prefix)}"
        )
        if e.name.startswith(prefix) and not e.name.startswith(f"{prefix}grading/")
    ]
    ids = {e.experiment_id: e.name for e in experiments}
    runs: list = []
    for start in range(0, len(ids), 100):  # the server takes at most 100 experiments at once
        runs += client.search_runs(
            list(ids)[start : start + 100],
            f"params.model_name = {literal(name)} and tags.decision != ''",
            order_by=["attributes.start_time DESC"],
            max_results=limit,
        )
    runs.sort(key=lambda r: r.info.start_time or 0, reverse=True)
    return [
        {
            "run_id": r.info.run_id,
            "experiment": ids.get(r.info.experiment_id, r.info.experiment_id),
            "when": _when(r.info.start_time),
            "challenger_version": r.data.params.get("challenger_version"),
            "champion_version": r.data.params.get("champion_version"),
            "decision": r.data.tags.get("decision"),
            "promoted": r.data.tags.get("promoted") == "true",
            "mcnemar_pvalue": r.data.metrics.get("mcnemar_pvalue"),
        }
        for r in runs[:limit]
    ]


# ----------------------------------------------------------------------------- validation
def resolve_name(client: MlflowClient, name: str) -> str:
    """``name`` if it is a registered model, else the learner's ``<student>.<name>`` if that is.

    Raises:
        RegistryInputError: naming the models there are.
    """
    from mlops_course import naming

    for candidate in dict.fromkeys([name, naming.model_name(name)]):
        try:
            return client.get_registered_model(candidate).name
        except MlflowException:
            continue
    mine = [m.name for m in all_models(client, f"{naming.student()}.")]
    listed = ", ".join(mine[:10]) + (f" and {len(mine) - 10} more" if len(mine) > 10 else "")
    raise RegistryInputError(
        f"No registered model named {name!r}. "
        + (f"Yours: {listed}. " if mine else "You have none yet. ")
        + "Run `mlops-course registry list --all` to see every model."
    )


def registered_name(client: MlflowClient, name: str) -> str:
    """:func:`resolve_name`, or ``name`` itself when neither is registered (the command that
    uses it then says what is missing, in its own words). Every command that takes
    ``--model-name`` accepts the short name ``registry register --name`` was given."""
    try:
        return resolve_name(client, name)
    except RegistryInputError:
        return name


def get_model(client: MlflowClient, name: str):
    try:
        return client.get_registered_model(name)
    except MlflowException as exc:
        raise RegistryInputError(
            f"No registered model named {name!r}. Run `mlops-course registry list`."
        ) from exc


def check_version(client: MlflowClient, name: str, version: str) -> str:
    """The version as MLflow spells it, or an error listing the versions there are."""
    if not str(version).isdigit():
        raise RegistryInputError(f"A version is a number such as 3, not {version!r}.")
    try:
        return str(client.get_model_version(name, str(int(version))).version)
    except MlflowException:
        existing = sorted((v.version for v in all_versions(client, name=name)), key=int)
        raise RegistryInputError(
            f"{name!r} has no version {version} (deleted or never created); its versions are "
            f"{', '.join(existing) or 'none'}. Run `mlops-course registry details {name}`."
        ) from None


def check_alias(alias: str) -> str:
    if not _ALIAS.match(alias) or _RESERVED_ALIAS.match(alias):
        raise RegistryInputError(
            f"MLflow refuses the alias {alias!r}: use letters, digits, '_' and '-', and not "
            "'latest' or 'v<number>' (reserved). For example: champion, challenger."
        )
    return alias


def check_model_name(name: str) -> str:
    if not name.strip() or "/" in name or ":" in name:
        raise RegistryInputError(
            f"MLflow refuses the model name {name!r}: it must not be empty or contain '/' or "
            "':'. Use your namespace, e.g. `<you>.iris-classifier` (see `mlops-course registry "
            "list`)."
        )
    return name


def check_run(client: MlflowClient, run_id: str, artifact_path: str = "model"):
    try:
        run = client.get_run(run_id)
    except MlflowException:
        raise RegistryInputError(
            f"No run with id {run_id!r} on {client.tracking_uri}. Copy a run id from the UI "
            "(Experiments > a run > Overview), or list runs with `mlflow runs list "
            "--experiment-id <id>`."
        ) from None
    found = client.search_logged_models(
        [run.info.experiment_id],
        filter_string=f"source_run_id = '{run_id}' AND name = '{quote(artifact_path)}'",
    )
    if not found:
        raise RegistryInputError(
            f"Run {run_id} logged no model called {artifact_path!r}; log one with "
            f"`mlflow.sklearn.log_model(model, name={artifact_path!r})`, or pass "
            "--artifact-path with the name it was logged under."
        )
    return run


def check_metric(client: MlflowClient, name: str, version: str, metric: str) -> float:
    model_version = client.get_model_version(name, version)
    metrics = client.get_run(model_version.run_id).data.metrics if model_version.run_id else {}
    if metric not in metrics:
        raise RegistryInputError(
            f"The run of version {version} of {name!r} logged no metric {metric!r}; it logged: "
            f"{', '.join(sorted(metrics)) or 'no metrics'}."
        )
    return metrics[metric]


# ----------------------------------------------------------------------------- promotions
# Written by solutions/validation.py (validate_challenger, 4.5) on the versions it compares and
# on promotion; read here, never re-derived.
VALIDATION_DECISION, VALIDATION_ROLE, VALIDATION_RUN = (
    "validation_decision",
    "validation_role",
    "validation_run_id",
)
CHAMPION, CHALLENGER, PREVIOUS_CHAMPION = "champion", "challenger", "previous_champion"


def validation_warning(client: MlflowClient, name: str, version: str) -> str | None:
    """One sentence when ``version``'s latest validation, as the challenger, did not say
    promote (``keep_champion`` or ``insufficient_evidence``); None otherwise."""
    from mlops_course import target

    validation = target.load("validation", "solutions")
    tags = client.get_model_version(name, version).tags
    decision = tags.get(VALIDATION_DECISION)
    if tags.get(VALIDATION_ROLE) != CHALLENGER or decision not in (
        validation.KEEP_CHAMPION,
        validation.INSUFFICIENT_EVIDENCE,
    ):
        return None
    run = tags.get(VALIDATION_RUN)
    return (
        f"v{version}'s latest validation{f' (run {run})' if run else ''} said {decision!r}, "
        "not promote."
    )


def record_promotion(
    client: MlflowClient, name: str, version: str, previous: str | None, *, alias: str
) -> None:
    """What every promotion path leaves, whoever moved ``alias`` from ``previous`` to
    ``version``: the graded functions each record part of it (``promote_to_alias`` the
    ``previous_version`` tag that ``rollback`` reads; ``validate_challenger`` the
    ``@previous_champion`` alias, and no ``@challenger`` on the winner); this adds the part
    the path did not write, with the graded module's own tag names.
    """
    from mlops_course import target

    registry = target.load("registry", "solutions")
    recorded = previous or registry.NO_PREVIOUS
    if client.get_model_version(name, version).tags.get(registry.PREVIOUS_VERSION) != recorded:
        client.set_model_version_tag(name, version, registry.PREVIOUS_VERSION, recorded)
    if alias != CHAMPION:
        return
    record_previous_champion(client, name, previous)
    if client.get_registered_model(name).aliases.get(CHALLENGER) == version:  # it has won
        client.delete_registered_model_alias(name, CHALLENGER)


def record_previous_champion(client: MlflowClient, name: str, previous: str | None) -> None:
    """``@previous_champion`` on the version that held ``@champion`` before it last moved (a
    promotion or a rollback), as ``validate_challenger`` sets it."""
    if previous and client.get_registered_model(name).aliases.get(PREVIOUS_CHAMPION) != previous:
        client.set_registered_model_alias(name, PREVIOUS_CHAMPION, previous)


def follow_note(alias: str) -> str:
    """What a moved alias means for the prediction servers already running."""
    from mlops_course.cli.serving_runtime import FOLLOW_SECONDS

    return (
        f"Running `mlops-course serve` servers of @{alias} switch within {FOLLOW_SECONDS:g} s "
        "(POST /reload to switch at once)."
    )
