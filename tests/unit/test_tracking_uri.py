"""``@with_tracking_uri``: a graded function's ``tracking_uri=`` holds for the call only."""

from __future__ import annotations

import os

import mlflow
import pytest

from mlops_course.tracking_uri import with_tracking_uri


@with_tracking_uri
def seen(*, fail: bool = False, tracking_uri: str | None = None) -> tuple[str, str | None]:
    if fail:
        raise ValueError("the learner's mistake")
    return mlflow.get_tracking_uri(), os.environ.get("MLFLOW_TRACKING_URI")


@pytest.fixture
def caller(tmp_path):
    """A caller whose process points at its own store, with no MLFLOW_TRACKING_URI exported
    (the session's URI is put back afterwards: other tests use it)."""
    session_uri, session_env = mlflow.get_tracking_uri(), os.environ.get("MLFLOW_TRACKING_URI")
    own = f"sqlite:///{tmp_path / 'caller.db'}"
    mlflow.set_tracking_uri(own)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    yield own
    # set_tracking_uri exports the URI: put the variable back exactly as it was (a leftover
    # sqlite URI would send every later command of the session to a local file).
    mlflow.set_tracking_uri(session_uri)
    if session_env is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = session_env


def test_the_uri_given_holds_for_the_call_and_the_callers_comes_back(caller, tmp_path):
    other = f"sqlite:///{tmp_path / 'other.db'}"
    assert seen(tracking_uri=other) == (other, other), "subprocesses inherit it too"
    assert mlflow.get_tracking_uri() == caller
    assert "MLFLOW_TRACKING_URI" not in os.environ


def test_the_callers_uri_comes_back_when_the_function_raises(caller, tmp_path):
    with pytest.raises(ValueError, match="mistake"):
        seen(fail=True, tracking_uri=f"sqlite:///{tmp_path / 'other.db'}")
    assert mlflow.get_tracking_uri() == caller


def test_none_keeps_the_uri_in_use(caller, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", caller)
    assert seen() == (caller, caller)
    assert seen(tracking_uri=None) == (caller, caller)
    assert os.environ["MLFLOW_TRACKING_URI"] == caller
