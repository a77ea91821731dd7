"""Argument types and the one error path of the ``mlops-course`` command.

Every command group parses with :class:`CourseArgumentParser` and the ``type=`` validators
below, so nonsense is refused before anything starts; every error a command raises reaches
:func:`dispatch`, which prints ONE line (``error: what is wrong; what to do``) on stderr and
returns exit code 2. Nothing here prints a traceback unless ``MLOPS_COURSE_DEBUG=1`` asks for
one.

The writing helpers keep the promise "nothing is lost": an output file is replaced only once it
is complete (:func:`replacing`), and a run a command opened and could not finish is marked
FAILED, never left RUNNING (:func:`failed_runs_on_error`).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import math
import os
import re
import socket
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

EXIT_BAD_INPUT = 2
DEBUG_VAR = "MLOPS_COURSE_DEBUG"
# What each command group's register() receives: the top parser's sub-parsers.
Subparsers = argparse._SubParsersAction


class CliError(ValueError):
    """Bad input or a refused action: the message says what is wrong and what to do."""


def one_line(message: object, limit: int = 400) -> str:
    """The first non-empty line of a message, whitespace collapsed, at most ``limit`` chars."""
    text = str(message).strip()
    first = next((line for line in text.splitlines() if line.strip()), "")
    first = " ".join(first.split())
    if not first and isinstance(message, BaseException):
        first = type(message).__name__
    return first if len(first) <= limit else first[: limit - 1] + "…"


def model_error(exc: BaseException, limit: int = 200) -> str:
    """Why a model refused its input, in one line: MLflow's schema errors print the whole frame
    before the reason ("... Error: Incompatible input types for column income ..."): keep the
    reason."""
    text = str(exc).strip() or type(exc).__name__
    text = " ".join(text.rsplit("Error: ", 1)[-1].split()).rstrip(".")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fail(message: object) -> int:
    """Print ``error: <one line>`` on stderr; return the exit code for bad input (2)."""
    print(f"error: {one_line(message)}", file=sys.stderr)
    return EXIT_BAD_INPUT


# ----------------------------------------------------------------------------- the parser
class CourseArgumentParser(argparse.ArgumentParser):
    """argparse whose errors are one line and exit code 2 (through :func:`dispatch`), not the
    usage block; every (sub)parser records its command line for the last-resort message."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_defaults(_command=self.prog)

    def error(self, message: str) -> NoReturn:  # argparse's hook: called for every parsing mistake
        raise CliError(f"{message} (see `{self.prog} --help`)")

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        # Old habits first ("--stage Production", "monitor --plot"): a pointer to the modern
        # form, not argparse's "unrecognized arguments" (LEGACY_OPTIONS, below).
        tokens = list(sys.argv[1:] if args is None else args)
        pointer = legacy_pointer(self, tokens)
        if pointer is not None:
            raise CliError(pointer)
        return super().parse_known_args(tokens, namespace)


# ----------------------------------------------------------------------------- old habits
# Tutorials written before MLflow 2.9 use stages; the course's seed scripts used flags where
# there are commands now. Each old form gets one line naming the modern one (exit 2 through
# the one error path), applied by every parser before argparse sees the arguments.
STAGE_ALIASES = {"production": "champion", "staging": "challenger", "archived": "previous_champion"}


def stage_hint(alias: object) -> str:
    """``" stages are now aliases: ..."`` when ``alias`` is a stage's name, else ``""``: added
    to every "no version has the alias ..." message."""
    modern = STAGE_ALIASES.get(str(alias or "").strip().lower())
    if modern is None:
        return ""
    return f" Stages are now aliases: the {str(alias).lower()} version is usually @{modern}."


def _modern_alias(value: str | None) -> str:
    return STAGE_ALIASES.get(str(value or "").strip().lower(), "champion")


def _alias_option(parser: argparse.ArgumentParser, prefix: str = "") -> str:
    """The option of this parser that takes an alias (``--alias``, ``--champion-alias``)."""
    for option in (f"--{prefix}alias", "--alias", "--champion-alias"):
        if option in parser._option_string_actions:
            return option
    return "--alias"


def _stage(option: str, value: str | None, parser: argparse.ArgumentParser) -> str:
    return (
        f"stages were replaced by aliases: use {_alias_option(parser)} {_modern_alias(value)} "
        f"instead of {option} {value or 'STAGE'} (see `{parser.prog} --help`)"
    )


def _named_version(option: str, value: str | None, parser: argparse.ArgumentParser) -> str:
    prefix = option[2:].removesuffix("version")  # "champion-", "challenger-" or ""
    alias_option = _alias_option(parser, prefix)
    if value and value.strip().lower() in STAGE_ALIASES:
        return (
            f"stages were replaced by aliases: use {alias_option} {_modern_alias(value)} instead "
            f"of {option} {value} (see `{parser.prog} --help`)"
        )
    return (
        f"{option} takes a version number such as 3; a version known by a name is an alias now: "
        f"use {alias_option} {value} (see `{parser.prog} --help`)"
    )


def _not_a_number(value: str | None) -> bool:
    return value is not None and not value.strip().isdigit()


def _archive(option: str, value: str | None, parser: argparse.ArgumentParser) -> str:
    return (
        f"{option} went with stages: moving an alias leaves the old version without it, so "
        f"there is nothing to archive; drop {option} (see `{parser.prog} --help`)"
    )


def _rollback(option: str, value: str | None, parser: argparse.ArgumentParser) -> str:
    if parser.prog.endswith(" registry rollback"):
        return f"{option} is not needed: `{parser.prog} NAME` rolls back (see its --help)"
    return (
        "rolling back is a command now: use `mlops-course registry rollback NAME` (moves "
        "@champion back to the version before it; --to VERSION to choose one)"
    )


# {old option: (the one line, given (option, its value, the parser); applies to this value
# (None: any); applies even when the parser has an option of that name)}
LEGACY_OPTIONS: dict[str, tuple[Callable, Callable[[str | None], bool] | None, bool]] = {
    "--stage": (_stage, None, False),
    "--to-stage": (_stage, None, False),
    "--current-stage": (_stage, None, False),
    "--archive-existing-versions": (_archive, None, False),
    "--archive-existing": (_archive, None, False),
    "--rollback": (_rollback, None, False),
    "--version": (_named_version, _not_a_number, True),
    "--champion-version": (_named_version, _not_a_number, True),
    "--challenger-version": (_named_version, _not_a_number, True),
}


def _own_tokens(parser: argparse.ArgumentParser, tokens: list[str]) -> list[str]:
    """The arguments this parser reads itself: those before its sub-command, if any."""
    choices = _subcommands(parser)
    for i, token in enumerate(tokens):
        if token in choices:
            return tokens[:i]
    return tokens


def _subcommands(parser: argparse.ArgumentParser) -> dict:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    return {}


def _knows(parser: argparse.ArgumentParser, option: str) -> bool:
    known = parser._option_string_actions
    if option in known:
        return True
    return parser.allow_abbrev and any(o.startswith(option) for o in known if o.startswith("--"))


def legacy_pointer(parser: argparse.ArgumentParser, tokens: list[str]) -> str | None:
    """The one line for an old habit among the arguments ``parser`` reads, or None."""
    own = _own_tokens(parser, tokens)
    commands = _subcommands(parser)
    for i, token in enumerate(own):
        if not token.startswith("--"):
            continue
        option, eq, inline = token.partition("=")
        following = own[i + 1] if i + 1 < len(own) else None
        value = inline if eq else (following if following and following[0] != "-" else None)
        if option[2:] in commands and not _knows(parser, option):
            rest = " ".join(t for t in tokens if t != token)
            return (
                f"{option} is a command now: use `{parser.prog} {option[2:]}"
                f"{' ' + rest if rest else ''}` (see `{parser.prog} {option[2:]} --help`)"
            )
        entry = LEGACY_OPTIONS.get(option)
        if entry is None:
            continue
        pointer, applies, even_if_known = entry
        if _knows(parser, option) and not even_if_known:
            continue
        if applies is not None and not applies(value):
            continue
        return pointer(option, value, parser)
    return None


def no_artifact_progress_bars() -> None:
    """MLflow draws a tqdm bar per model download: a command shows its own progress (or none),
    not stray bars. Respects a value the user set."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def add_action(
    actions: Subparsers,
    name: str,
    help_: str,
    func: Callable[[argparse.Namespace], int],
    *,
    aliases: Sequence[str] = (),
) -> argparse.ArgumentParser:
    """One action of a command group (``registry list``, ``monitor track``...): its help as
    description too, ``--json`` for scripts, and ``func`` to run."""
    action = actions.add_parser(name, help=help_, description=help_, aliases=list(aliases))
    action.add_argument("--json", action="store_true", help="print JSON, for scripts")
    action.set_defaults(func=func)
    return action


def course_tracking_uri() -> str:
    """The course server's URI, started when it is not running, and made MLflow's tracking URI
    for this command (MLflow's fluent API, which the graded code uses, reads only that).

    Raises:
        CliError: when no server can be started, naming the command that starts one.
    """
    import mlflow

    from mlops_course import server

    try:
        uri = server.ensure_server().uri
    except server.ServerError as exc:
        raise CliError(f"{exc} Start one with `mlops-course server start`.") from exc
    mlflow.set_tracking_uri(uri)
    return uri


# What `mlflow run` gives an entry point's process (mlflow/projects/utils.py, get_run_env_vars):
# MLFLOW_RUN_ID, the run it created (and MLFLOW_EXPERIMENT_ID, that run's experiment). The
# fluent `mlflow.start_run()` resumes that run (once: it then removes the variable) when the
# active experiment is the run's.
PROJECT_RUN_VAR = "MLFLOW_RUN_ID"


def project_run(client: Any) -> Any:
    """The run ``mlflow run`` made for this command (``MLFLOW_RUN_ID``), or None.

    Only that variable says a command runs under ``mlflow run`` (an MLproject entry point):
    ``MLFLOW_EXPERIMENT_ID`` is also set by every ``mlflow.set_experiment()`` (for child
    processes), so in a notebook or a test it names whichever experiment was set last.
    """
    run_id = os.environ.get(PROJECT_RUN_VAR, "").strip()
    return client.get_run(run_id) if run_id else None


def solutions(module: str) -> ModuleType:
    """A graded module as the reference tools run it: ``solutions/<module>.py``."""
    from mlops_course import target

    return target.load(module, "solutions")


def _debug() -> bool:
    return os.environ.get(DEBUG_VAR, "").strip().lower() not in ("", "0", "false", "no")


def _known_error(exc: BaseException) -> str | None:
    """The one line for an error a user can fix, or None for an unexpected one (a bug)."""
    if isinstance(exc, ValueError):  # ours (CliError) and the graded code's, by contract
        return one_line(exc)
    from mlflow.exceptions import MlflowException

    if isinstance(exc, MlflowException):
        return f"MLflow refused: {one_line(exc)}"
    from mlops_course import server
    from mlops_course.target import TargetLoadError

    if isinstance(exc, server.ServerError | TargetLoadError):
        return one_line(exc)
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror}: check the path and its permissions, then run again."
    return None


def _end_active_runs() -> None:
    """Mark the MLflow runs a command left open (fluent API) FAILED, never RUNNING."""
    mlflow = sys.modules.get("mlflow")
    if mlflow is None:
        return
    with contextlib.suppress(Exception):  # the server may be what failed
        while mlflow.active_run() is not None:
            mlflow.end_run(status="FAILED")


def dispatch(func: Callable, args: argparse.Namespace) -> int:
    """Run a command: its exit code, or 2 and one line on stderr for any error it raises.

    An unexpected exception (a bug) gets one line naming the command and asking for a bug
    report; ``MLOPS_COURSE_DEBUG=1`` prints the traceback as well.
    """
    command = getattr(args, "_command", "mlops-course")
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        _end_active_runs()
        print("Interrupted.", file=sys.stderr)
        return 130
    except Exception as exc:
        _end_active_runs()
        message = _known_error(exc)
        if _debug():
            traceback.print_exc()
        if message is not None:
            return fail(message)
        return fail(
            f"`{command}` failed unexpectedly ({type(exc).__name__}: {one_line(exc, 200)}). "
            f"This is a bug in mlops-course: please report it with the output of "
            f"`{DEBUG_VAR}=1 {command} ...`."
        )


# ----------------------------------------------------------------------------- numbers
def _integer(text: str) -> int:
    try:
        return int(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def positive_int(text: str) -> int:
    """A whole number of at least 1 (rows, days, bytes, a window)."""
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {text}")
    return value


def non_negative_int(text: str) -> int:
    """A whole number of at least 0 (a day number, a count that may be zero)."""
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def finite_float(text: str) -> float:
    """A real number: ``nan`` and ``inf`` are refused."""
    try:
        value = float(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def float_range(
    low: float | None = None,
    high: float | None = None,
    *,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> Callable[[str], float]:
    """A ``type=`` for finite numbers within bounds, e.g. ``float_range(0, 1, low_inclusive=
    False, high_inclusive=False)`` for a confidence level."""
    bounds = []
    if low is not None:
        bounds.append(f"{'at least' if low_inclusive else 'above'} {low:g}")
    if high is not None:
        bounds.append(f"{'at most' if high_inclusive else 'below'} {high:g}")
    wanted = " and ".join(bounds)

    def number(text: str) -> float:
        value = finite_float(text)
        too_low = low is not None and (value < low if low_inclusive else value <= low)
        too_high = high is not None and (value > high if high_inclusive else value >= high)
        if too_low or too_high:
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text}")
        return value

    return number


def positive_float(text: str) -> float:
    """A finite number above 0 (seconds)."""
    return _POSITIVE(text)


_POSITIVE = float_range(0, None, low_inclusive=False)


def port(text: str) -> int:
    """A TCP port, 1 to 65535."""
    value = _integer(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 1 to 65535, got {text}")
    return value


def port_or_zero(text: str) -> int:
    """A TCP port, or 0 for any free one."""
    value = _integer(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(
            f"a port is a number from 1 to 65535 (or 0 for any free one), got {text}"
        )
    return value


def local_host(text: str) -> str:
    """An address this machine can listen on (checked by binding a socket to port 0)."""
    host = str(text).strip()
    try:
        infos = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError):
        raise argparse.ArgumentTypeError(
            f"cannot resolve the host {text!r}: give an address such as 127.0.0.1 (this machine "
            "only) or 0.0.0.0 (every interface)"
        ) from None
    problem = None
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as sock:
            try:
                sock.bind(address)
                return host
            except OSError as exc:
                problem = exc
    if problem is not None and problem.errno == errno.EADDRNOTAVAIL:
        raise argparse.ArgumentTypeError(
            f"the address {text!r} is not on this machine: use 127.0.0.1 (this machine only), "
            "0.0.0.0 (every interface) or one of this machine's own addresses"
        )
    raise argparse.ArgumentTypeError(f"cannot listen on {text!r}: {one_line(problem)}")


# ----------------------------------------------------------------------------- files
def input_file(text: str) -> Path:
    """An existing, readable file (not a folder)."""
    path = Path(text).expanduser()
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a folder: give a file inside it")
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{path} does not exist: check the path")
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {path}: {exc.strerror}") from None
    return path


def _writable_folder(folder: Path, what: str) -> None:
    if not os.access(folder, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"cannot write in the folder {folder} ({what})")


def output_file(text: str) -> Path:
    """A file to write: not a folder, in a folder that exists and is writable."""
    path = Path(text).expanduser()
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a folder: give a file name, e.g. {path}/out")
    parent = path.parent
    if not parent.exists():
        raise argparse.ArgumentTypeError(
            f"the folder {parent} does not exist: create it first (mkdir -p {parent})"
        )
    if not parent.is_dir():
        raise argparse.ArgumentTypeError(f"{parent} is a file, not a folder")
    _writable_folder(parent, f"for {path.name}")
    return path


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(".")


def output_folder(text: str) -> Path:
    """A folder to write into: an existing folder, or one that can be created (the nearest
    existing part of the path is a writable folder). It is created when written to."""
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a file, not a folder: give a folder")
    existing = _nearest_existing(path)
    if not existing.is_dir():
        raise argparse.ArgumentTypeError(f"{existing} is a file, not a folder")
    _writable_folder(existing, f"for {path}")
    return path


def output_file_in_new_folder(text: str) -> Path:
    """A file to write, whose folder is created if missing (a plot's ``--output``)."""
    path = Path(text).expanduser()
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a folder: give a file name, e.g. {path}/out")
    output_folder(str(path.parent))
    return path


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Write ``path`` atomically: yields a temporary file beside it (same suffix, so pandas
    and matplotlib pick the same format); on success it replaces ``path`` in one rename, on
    error it is removed and ``path`` is untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}"
    )
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        try:
            mode = path.stat().st_mode & 0o777  # keep the permissions of the file replaced
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_csv(path: Path, what: str = "the file", *, rows: bool = True, **kwargs: Any) -> Any:
    """``pd.read_csv`` with one-line errors: a binary file, an empty file, not text, not CSV.

    Args:
        path: the CSV.
        what: how to name it in a message ("Input", "the hold-out set").
        rows: also refuse a file with a header but no rows.
        **kwargs: passed to ``pd.read_csv`` (``nrows=0`` reads the header only).
    """
    import pandas as pd

    with open(path, "rb") as fh:
        head = fh.read(8192)
    if b"\0" in head:
        raise CliError(f"{what} {path} is a binary file, not a CSV: give a text CSV file.")
    try:
        frame = pd.read_csv(path, **kwargs)
    except pd.errors.EmptyDataError:
        raise CliError(
            f"{what} {path} is empty: a CSV needs a header line with the column names."
        ) from None
    except UnicodeDecodeError:
        raise CliError(f"{what} {path} is not UTF-8 text: save it as a UTF-8 CSV.") from None
    except (ValueError, pd.errors.ParserError) as exc:
        raise CliError(f"{what} {path} is not a readable CSV: {one_line(exc, 200)}") from None
    if rows and frame.empty:
        raise CliError(f"{what} {path} has a header but no rows.")
    return frame


# ----------------------------------------------------------------------------- MLflow
def experiment_in_namespace(text: str) -> str:
    """An experiment name inside the learner's namespace: ``TOPIC`` becomes ``<you>/TOPIC``,
    ``<you>/TOPIC`` is kept, and names with empty, ``.`` or ``..`` parts are refused."""
    from mlops_course import naming

    name = str(text).strip()
    if not name or any(part.strip() in ("", ".", "..") for part in name.split("/")):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an experiment name: use TOPIC or <you>/TOPIC without empty, '.' "
            f"or '..' parts, e.g. {naming.experiment_name('validation')}"
        )
    prefix = f"{naming.student()}/"
    return name if name.startswith(prefix) else prefix + name


_METRIC_UNSAFE = re.compile(r"[^\w.\- ]+")  # MLflow allows more (/ and :); they mean paths
_METRIC_KEY_ROOM = 200  # MLflow's limit is 250 characters: leave room for "_mean", "_std"


def metric_safe_names(names: Iterable[object]) -> dict[object, str]:
    """``{name: a name MLflow accepts in a metric key}``, distinct for distinct names.

    ``sepal length (cm)`` (scikit-learn's own frames) becomes ``sepal length cm``: MLflow
    refuses parentheses in metric names. Names that are already fine are kept as they are.
    """
    out: dict[object, str] = {}
    used: set[str] = set()
    for name in names:
        text = str(name)
        safe = " ".join(_METRIC_UNSAFE.sub(" ", text).split())[:_METRIC_KEY_ROOM] or "column"
        base, n = safe, 2
        while safe in used:
            safe, n = f"{base}_{n}", n + 1
        used.add(safe)
        out[name] = safe
    return out


@contextlib.contextmanager
def failed_runs_on_error(
    tracking_uri: str, experiment_name: str, filter_string: str = ""
) -> Iterator[list[str]]:
    """On an error inside the block, mark FAILED the runs of ``experiment_name`` that started
    during the block and are still RUNNING (matching ``filter_string`` too), then re-raise.
    For code that opens runs with ``MlflowClient.create_run``, which no ``with`` ends.

    Yields a list that holds the ids of the runs so marked, once the block has failed.
    """
    started = int(time.time() * 1000) - 1000  # a second of slack for clock rounding
    failed: list[str] = []
    try:
        yield failed
    except BaseException:
        with contextlib.suppress(Exception):  # the server may be what failed
            from mlflow import MlflowClient

            client = MlflowClient(tracking_uri)
            experiment = client.get_experiment_by_name(experiment_name)
            if experiment is not None:
                query = f"attributes.status = 'RUNNING' AND attributes.start_time >= {started}"
                if filter_string:
                    query += f" AND {filter_string}"
                for run in client.search_runs([experiment.experiment_id], query):
                    client.set_terminated(run.info.run_id, status="FAILED")
                    failed.append(run.info.run_id)
        raise
