"""mlops_course.messages: each known message is shown once, everything else passes."""

from __future__ import annotations

import io
import logging
import os
import warnings

import pytest

from mlops_course import messages
from mlops_course.messages import KnownMessage, MessageGate, OnceFilter, PrintedLineGate

PICKLE = (
    "Saving scikit-learn models in the pickle or cloudpickle format requires exercising caution"
)
WAITING = (
    "Waiting up to 300 seconds for model version to finish creation. "
    "Model name: alice.iris, version {}"
)


def _record(message: str, level: int = logging.WARNING) -> logging.LogRecord:
    return logging.LogRecord("mlflow.sklearn", level, __file__, 1, message, None, None)


@pytest.fixture
def installed(capsys: pytest.CaptureFixture[str]):
    """install() on a fresh gate, undone afterwards; yields what MLflow has written on stderr."""
    from mlflow.utils.logging_utils import MLFLOW_LOGGING_STREAM as stream

    handlers = logging.getLogger("mlflow").handlers
    saved_filters = {handler: list(handler.filters) for handler in handlers}
    saved_write = vars(stream).get("write")
    saved_links = os.environ.pop(messages.RUN_LINKS_VARIABLE, None)
    messages.GATE.forget()
    with warnings.catch_warnings():
        messages.install()
        capsys.readouterr()
        yield lambda: capsys.readouterr().err
    for handler, filters in saved_filters.items():
        handler.filters[:] = filters
    if saved_write is None:
        vars(stream).pop("write", None)
    else:
        stream.write = saved_write
    os.environ.pop(messages.RUN_LINKS_VARIABLE, None)
    if saved_links is not None:
        os.environ[messages.RUN_LINKS_VARIABLE] = saved_links
    messages.GATE.forget()


def test_every_pattern_matches_the_text_it_names() -> None:
    examples = [
        ("pickle-format", "log", PICKLE),
        (
            "new-experiment",
            "log",
            "Experiment with name 'bob/t' does not exist. Creating a new experiment.",
        ),
        ("await-model-version", "log", WAITING.format(3)),
        (
            "register-from-run-uri",
            "log",
            "Run with id 61eb has no artifacts at artifact path 'model', registering model "
            "based on models:/m-7ff6 instead",
        ),
        ("registered-model", "print", "Successfully registered model 'bob.iris'."),
        (
            "registered-model",
            "print",
            "Registered model 'bob.iris' already exists. Creating a new version of this model...",
        ),
        ("model-version-created", "print", "Created version '12' of model 'bob.iris'."),
        (
            "starlette-httpx2",
            "warning",
            "Using `httpx` with `starlette.testclient` is deprecated; install `httpx2` instead.",
        ),
    ]
    gate = MessageGate()
    for key, channel, text in examples:
        found = gate.match(text, channel)
        assert found is not None and found.key == key, key
    assert len({(m.key, m.pattern) for m in messages.KNOWN}) == len(messages.KNOWN)


def test_two_wordings_of_one_message_share_one_count() -> None:
    gate = MessageGate()
    assert gate.allows("Successfully registered model 'bob.iris'.", "print")
    assert not gate.allows(
        "Registered model 'bob.iris' already exists. Creating a new version of this model...",
        "print",
    )


def test_the_gate_shows_a_known_message_once_and_counts_per_key() -> None:
    gate = MessageGate()
    assert gate.allows(WAITING.format(1), "log")
    assert not gate.allows(WAITING.format(2), "log")  # another version: the same message
    assert gate.allows("something else entirely", "log")
    assert gate.allows("something else entirely", "log")
    assert gate.allows(WAITING.format(1), "print")  # not known on that channel
    gate.forget()
    assert gate.allows(WAITING.format(3), "log")


def test_times_zero_is_never_shown() -> None:
    gate = MessageGate([KnownMessage("noise", r"^Testing metrics", "log", "nowhere", times=0)])
    assert not gate.allows("Testing metrics on first row...", "log")


def test_the_log_filter_never_hides_an_error() -> None:
    once = OnceFilter(MessageGate())
    assert once.filter(_record(PICKLE))
    assert not once.filter(_record(PICKLE))
    assert once.filter(_record(PICKLE, logging.ERROR))
    assert once.filter(_record("Model version creation failed", logging.WARNING))


def test_a_dropped_printed_line_leaves_no_blank_line() -> None:
    out = io.StringIO()
    write = PrintedLineGate(out.write, MessageGate())
    for version in (1, 2, 3):
        print(f"Created version '{version}' of model 'bob.iris'.", file=_Stream(write))
    print("Something else", file=_Stream(write))
    assert out.getvalue() == "Created version '1' of model 'bob.iris'.\nSomething else\n"


class _Stream:
    def __init__(self, write: PrintedLineGate) -> None:
        self.write = write


def test_install_shows_mlflow_warning_once_and_passes_others(installed) -> None:
    logger = logging.getLogger("mlflow.sklearn")
    for _ in range(3):
        logger.warning(PICKLE)
        logger.warning("An unknown warning")
    err = installed()
    assert err.count(PICKLE) == 1
    assert err.count("An unknown warning") == 3


def test_install_quiets_eprint_registration_lines(installed) -> None:
    from mlflow.utils.logging_utils import eprint

    for version in (1, 2):
        eprint(
            "Registered model 'bob.iris' already exists. Creating a new version of this model..."
        )
        eprint(f"Created version '{version}' of model 'bob.iris'.")
    eprint("Not a known line")
    err = installed()
    assert err == (
        "Registered model 'bob.iris' already exists. Creating a new version of this model...\n"
        "Created version '1' of model 'bob.iris'.\n"
        "Not a known line\n"
    )


def test_install_shows_a_known_warning_once_and_passes_others(installed) -> None:
    class Deprecation(UserWarning):  # a fresh category: Python's "once" registry is global
        pass

    text = "Using `httpx` with `starlette.testclient` is deprecated; install `httpx2` instead."
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        messages.install()  # its filters go in front of "always"
        for _ in range(3):
            warnings.warn(text, Deprecation, stacklevel=1)
            warnings.warn("another warning", Deprecation, stacklevel=1)
    shown = [str(w.message) for w in caught]
    assert shown.count(text) == 1
    assert shown.count("another warning") == 3


def test_install_is_idempotent_and_turns_run_links_off(installed) -> None:
    from mlflow.utils.logging_utils import MLFLOW_LOGGING_STREAM

    filters_once = list(warnings.filters)
    messages.install()
    assert warnings.filters == filters_once
    assert os.environ[messages.RUN_LINKS_VARIABLE] == "true"
    handlers = logging.getLogger("mlflow").handlers
    assert handlers
    for handler in handlers:
        assert sum(isinstance(f, OnceFilter) for f in handler.filters) == 1
    write = vars(MLFLOW_LOGGING_STREAM)["write"]
    assert isinstance(write, PrintedLineGate)
    assert not isinstance(write.write, PrintedLineGate)


def test_install_keeps_a_learners_own_choice_of_run_links(installed) -> None:
    os.environ[messages.RUN_LINKS_VARIABLE] = "false"
    messages.install()
    assert os.environ[messages.RUN_LINKS_VARIABLE] == "false"
