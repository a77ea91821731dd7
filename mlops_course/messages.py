"""The messages MLflow and its libraries print in a notebook: each one shown once, where explained.

MLflow is chatty. Every ``log_model`` of a pickled model logs a WARNING about the format, every
registration an INFO line "Waiting up to 300 seconds..." and two lines on stderr, every run a
"View run at" link when it ends. In a notebook the same lines, repeated on every model, bury the
output, and printed on stderr they look like errors. :func:`install`, called by
:func:`mlops_course.setup`, makes each message of :data:`KNOWN` appear at most ``times`` times per
kernel (once: the notebook explains it where it first appears) and turns the run links off.
Anything not in :data:`KNOWN`, and every record at ERROR level or above, passes unchanged.

Three channels carry these messages, and each gets its own hook:

- ``log``: MLflow's loggers. A :class:`OnceFilter` on the handlers of the ``mlflow`` logger.
- ``print``: MLflow's ``eprint`` (plain lines on stderr, through
  ``mlflow.utils.logging_utils.MLFLOW_LOGGING_STREAM``). Its ``write`` is wrapped.
- ``warning``: :mod:`warnings`. A ``"once"`` (or ``"ignore"``) filter on the message text.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

Channel = Literal["log", "print", "warning"]

#: MLflow prints a "View run ... at:" and a "View experiment at:" link each time a run ends.
RUN_LINKS_VARIABLE = "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"


@dataclass(frozen=True)
class KnownMessage:
    """One message the course knows, recognised by a stable part of its text.

    Attributes:
        key: a short name for the message; entries sharing a key share one count (one
            message in several wordings).
        pattern: a regular expression searched for in the message's text.
        channel: how it reaches the learner: ``"log"`` (an MLflow logger), ``"print"``
            (MLflow's ``eprint`` on stderr) or ``"warning"`` (the :mod:`warnings` module).
        explained_in: where the course explains it.
        times: how often one kernel shows it: 1 (the default) or 0 (never: pure noise).
    """

    key: str
    pattern: str
    channel: Channel
    explained_in: str
    times: int = 1
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", re.compile(self.pattern))


KNOWN: tuple[KnownMessage, ...] = (
    KnownMessage(
        "pickle-format",
        r"Saving scikit-learn models in the pickle or cloudpickle format",
        "log",
        "01 §2; the first log_model of 02 to 05",
    ),
    KnownMessage(
        "new-experiment",
        r"Experiment with name .+ does not exist\. Creating a new experiment",
        "log",
        "00 §3; the setup of 01, 03 and 04",
    ),
    KnownMessage(
        "await-model-version",
        r"Waiting up to \d+ seconds for model version to finish creation",
        "log",
        "02 §2; the first registration of 03 to 05",
    ),
    KnownMessage(
        "register-from-run-uri",
        r"has no artifacts at artifact path .+ registering model based on models:/",
        "log",
        "02 §2",
    ),
    # one line in two wordings (a new name, a name taken): one count for both
    KnownMessage(
        "registered-model",
        r"^Successfully registered model '",
        "print",
        "02 §2; the first registration of 03 to 05",
    ),
    KnownMessage(
        "registered-model",
        r"^Registered model '.+' already exists\. Creating a new version",
        "print",
        "02 §2; the first registration of 03 to 05",
    ),
    KnownMessage(
        "model-version-created",
        r"^Created version '\d+' of model '",
        "print",
        "02 §2; the first registration of 03 to 05",
    ),
    KnownMessage(
        "evaluate-model-type",
        r"the model type looks like None, but you specified model type",
        "log",
        "04 §7",
    ),
    KnownMessage(
        "evaluate-binary-labels",
        r"The evaluation dataset is inferred as binary dataset",
        "log",
        "04 §7",
    ),
    KnownMessage(
        "evaluate-shap-missing",
        r"SHAP or matplotlib package is not installed",
        "log",
        "04 §7 (turned off there with log_model_explainability=False)",
    ),
    KnownMessage(
        "evaluate-first-row",
        r"Testing metrics on first row",
        "log",
        "nowhere: a progress note of mlflow.models.evaluate",
        times=0,
    ),
    KnownMessage(
        "starlette-httpx2",
        r"Using `httpx` with `starlette\.testclient` is deprecated",
        "warning",
        "03 setup",
    ),
    KnownMessage(
        "sklearn-y-pred-renamed",
        r"`y_pred` was renamed to `y_proba`",
        "warning",
        "01 §6 (autolog)",
    ),
)


class MessageGate:
    """Counts how often each known message was shown, and says whether to show it again.

    Args:
        known: the messages to recognise (default :data:`KNOWN`).
    """

    def __init__(self, known: Iterable[KnownMessage] = KNOWN) -> None:
        self.known = tuple(known)
        self.shown: dict[str, int] = {}

    def match(self, text: str, channel: Channel) -> KnownMessage | None:
        """The known message of ``channel`` that ``text`` is, or None."""
        for message in self.known:
            if message.channel == channel and message.regex.search(text):
                return message
        return None

    def allows(self, text: str, channel: Channel) -> bool:
        """Whether to show ``text`` now; counts it as shown when it is a known message."""
        message = self.match(text, channel)
        if message is None:
            return True
        count = self.shown.get(message.key, 0)
        if count >= message.times:
            return False
        self.shown[message.key] = count + 1
        return True

    def forget(self) -> None:
        """Forget what was shown: each known message may be shown again."""
        self.shown.clear()


#: The gate of this kernel (one Python process): shared by every hook :func:`install` adds.
GATE = MessageGate()


class OnceFilter(logging.Filter):
    """A logging filter that lets each known ``log`` message through ``times`` times.

    Records at ERROR level or above always pass: a real error is never hidden.

    Args:
        gate: the :class:`MessageGate` that counts (default :data:`GATE`).
    """

    mlops_course_hook = True  # recognised by install() even after the module is reloaded

    def __init__(self, gate: MessageGate | None = None) -> None:
        super().__init__()
        self.gate = GATE if gate is None else gate

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            return True
        try:
            text = record.getMessage()
        except Exception:  # a malformed record is not ours to judge
            return True
        return self.gate.allows(text, "log")


class PrintedLineGate:
    """Wraps a stream's ``write`` so that each known ``print`` line is written ``times`` times.

    ``print(line, file=stream)`` writes the line and its end separately: the end of a dropped
    line is dropped too, so no blank line is left behind.

    Args:
        write: the stream's original ``write``.
        gate: the :class:`MessageGate` that counts (default :data:`GATE`).
    """

    mlops_course_hook = True

    def __init__(self, write: Callable[[str], object], gate: MessageGate | None = None) -> None:
        self.write = write
        self.gate = GATE if gate is None else gate
        self._dropped = False

    def __call__(self, text: str) -> None:
        if self._dropped and text == "\n":
            self._dropped = False
            return
        self._dropped = False
        if self.gate.allows(text, "print"):
            self.write(text)
        else:
            self._dropped = True


def _is_hook(obj: object) -> bool:
    return bool(getattr(obj, "mlops_course_hook", False))


def _install_log_filter(gate: MessageGate) -> None:
    for handler in logging.getLogger("mlflow").handlers:
        if not any(_is_hook(f) for f in handler.filters):
            handler.addFilter(OnceFilter(gate))


def _install_print_gate(gate: MessageGate) -> None:
    try:
        from mlflow.utils.logging_utils import MLFLOW_LOGGING_STREAM as stream
    except ImportError:  # MLflow moved it: its lines are then simply all shown
        return
    if not _is_hook(vars(stream).get("write")):
        stream.write = PrintedLineGate(stream.write, gate)  # type: ignore[method-assign]


def _install_warning_filters(known: Iterable[KnownMessage]) -> None:
    for message in known:
        if message.channel == "warning":
            action: Literal["once", "ignore"] = "once" if message.times > 0 else "ignore"
            # warnings matches from the start of the text; ours are searched anywhere
            warnings.filterwarnings(action, message=f"(?s).*{message.pattern}")


def install(gate: MessageGate | None = None) -> None:
    """Show each known message at most ``times`` times in this kernel; turn run links off.

    Idempotent: calling it again adds nothing. A learner's own ``MLFLOW_SUPPRESS_PRINTING_
    URL_TO_STDOUT=false`` is kept (MLflow then prints a link for every run again).

    Args:
        gate: the :class:`MessageGate` that counts (default :data:`GATE`).
    """
    gate = GATE if gate is None else gate
    os.environ.setdefault(RUN_LINKS_VARIABLE, "true")
    import mlflow  # noqa: F401  (configures MLflow's loggers, which the filter attaches to)

    _install_log_filter(gate)
    _install_print_gate(gate)
    _install_warning_filters(gate.known)
