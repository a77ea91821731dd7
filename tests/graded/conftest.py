"""Fixtures for the graded tests: each graded module, loaded from the selected target.

The module is loaded inside a fixture, never at import time, so a learner's syntax error marks
that module's tests as ``error`` and every other module is still graded.
"""

import pytest

from mlops_course import target


@pytest.fixture
def tracking(mlflow_tracking_uri):
    """The graded module of 01_experiment_tracking, from the selected target."""
    return target.load("tracking")
