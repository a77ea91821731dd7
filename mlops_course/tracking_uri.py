"""How a graded function reaches its tracking server: ``tracking_uri=`` for the call, no more.

Every graded function that talks to MLflow takes ``tracking_uri: str | None = None``. Functions
that log (``mlflow.start_run``, ``mlflow.log_*``, ``mlflow.sklearn.log_model``,
``mlflow.register_model``) use MLflow's fluent API, which reads one process-wide URI and has no
per-call argument; so a URI passed in must become the process-wide one while the function runs.
Writing ``if tracking_uri: mlflow.set_tracking_uri(tracking_uri)`` at the top of every exercise
would teach nothing and leave the caller's process pointing somewhere else afterwards. Instead
the graded functions are decorated with :func:`with_tracking_uri`:

* ``tracking_uri=None`` (what notebooks pass): the URI already in use, untouched;
* ``tracking_uri="http://..."``: that server for this call, then the caller's URI (and its
  ``MLFLOW_TRACKING_URI``) put back, whether the function returned or raised.

Inside, the body calls ``mlflow.*`` and ``MlflowClient()`` with no URI. Module 03's functions
pass ``tracking_uri`` on to :func:`~mlops_course.serving_tools.load_served_model` instead: a
served app keeps its URI for its whole life, long after the call that built it returned.

The process-wide URI is one per process: two threads calling with different URIs at once would
race. The grader, the notebooks and the reference CLI call one at a time.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_ENV = "MLFLOW_TRACKING_URI"


@contextlib.contextmanager
def using_tracking_uri(uri: str | None) -> Iterator[None]:
    """MLflow's process-wide tracking URI is ``uri`` inside the block (unchanged when None)."""
    if not uri:
        yield
        return
    import mlflow

    previous, previous_env = mlflow.get_tracking_uri(), os.environ.get(_ENV)
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)
        if previous_env is None:
            os.environ.pop(_ENV, None)
        else:
            os.environ[_ENV] = previous_env


def with_tracking_uri(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` on the server its ``tracking_uri=`` keyword names (see the module's text)."""

    @functools.wraps(func)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        uri = kwargs.get("tracking_uri")
        with using_tracking_uri(uri if isinstance(uri, str) else None):
            return func(*args, **kwargs)

    return call
