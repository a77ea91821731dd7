"""Stage ``evaluate``: score the model of run.json on data/test.csv; write metrics.json."""

from __future__ import annotations

import json
import tempfile

import mlflow.sklearn
from common import METRICS_FILE, RUN_FILE, TEST_CSV, quiet_known_warnings, read_xy, write_json
from sklearn.metrics import accuracy_score, f1_score

from mlops_course import models, server
from mlops_course.tracking_uri import using_tracking_uri


def main() -> None:
    quiet_known_warnings()
    model_uri = json.loads(RUN_FILE.read_text())["model_uri"]
    X_test, y_test = read_xy(TEST_CSV)
    # A model loaded over HTTP is copied to a folder: a temporary one, removed after.
    with using_tracking_uri(server.ensure_server().uri), tempfile.TemporaryDirectory() as tmp:
        model = mlflow.sklearn.load_model(model_uri, dst_path=tmp)
    y_pred = model.predict(X_test)
    scores = {
        "accuracy": float(accuracy_score(y_test, y_pred)),
        "f1_macro": float(f1_score(y_test, y_pred, average="macro")),
        **models.classification_scores(model, X_test, y_test),
    }
    write_json(METRICS_FILE, scores)
    print(", ".join(f"{k} {v:.4f}" for k, v in sorted(scores.items())))


if __name__ == "__main__":
    main()
