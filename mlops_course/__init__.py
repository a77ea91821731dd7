"""mlops-course: the helper package behind the notebooks.

Everything a learner is *not* asked to write lives here: the local MLflow server, the target
switch that picks ``exercises/`` or ``solutions/``, datasets, per-learner names, plots, grading
and the ``mlops-course`` command. Importing it does no work; call :func:`setup` in a notebook.

Glossary (the same names everywhere in the course):

``run_id``      the id of an MLflow run.
``model_uri``   where a model is loaded from: ``runs:/<run_id>/model``, ``models:/<model_id>``,
                ``models:/<model_name>@<alias>``.
``model_name``  a registered model's name (namespaced per learner, see :mod:`mlops_course.naming`).
``alias``       a movable pointer to one model version (``champion``, ``challenger``).
``X``, ``y``    features (a DataFrame) and labels (a Series).
``reference``   the data a model was trained or validated on; ``current`` is what it sees now.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["setup", "check", "__version__"]


def setup(*, quiet: bool = False) -> str:
    """Make a notebook ready: ensure the MLflow server runs and point MLflow at it.

    Returns:
        The tracking URI in use.
    """
    from mlops_course import messages, server

    messages.install()  # each known MLflow message once per kernel, where the lesson explains it
    info = server.ensure_server()
    import mlflow

    mlflow.set_tracking_uri(info.uri)
    from mlops_course.grading import warm

    warm.prewarm()  # so the first check() is quick too
    if not quiet:
        origin = "your MLFLOW_TRACKING_URI" if info.external else "the course's local server"
        print(f"MLflow tracking server: {info.uri}  ({origin})")
        print(f"Open the MLflow UI at:  {info.uri}")
    return info.uri


def check(*exercise_ids: str, timeout: float | None = None, hints: str = "escalate"):
    """Grade exercises from a notebook and show the result inline. Never raises.

    ``hints="all"`` shows every hint level of a failed check at once (by default each failure
    of a check shows the next, closer level)."""
    from mlops_course.grading.notebook import check as _check

    return _check(*exercise_ids, timeout=timeout, hints=hints)
