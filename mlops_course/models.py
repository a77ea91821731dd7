"""How the course's own code logs a scikit-learn model (tests, benchmarks, the CLI's demos):
one place, so every copy is loadable the same way. Learners write their own ``log_model``
calls; this is not part of a lesson."""

from __future__ import annotations

from typing import Any


def sklearn_log_kwargs(model: Any, X: Any) -> dict[str, Any]:
    """Keyword arguments for ``mlflow.sklearn.log_model`` / ``save_model``: a signature from
    ``X`` and the model's predictions on it, cloudpickle (skops refuses some estimators' types,
    see notebook 01) and this scikit-learn pinned, so a served copy loads without a warning."""
    import sklearn
    from mlflow.models import infer_signature

    return {
        "signature": infer_signature(X, model.predict(X)),
        "serialization_format": "cloudpickle",
        "pip_requirements": [f"scikit-learn=={sklearn.__version__}"],
    }
