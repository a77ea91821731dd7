"""A short load test of the course API: concurrent clients in a second process, on loopback,
against a real uvicorn server. Zero 5xx and zero dropped connections. (The full-size run, 20
clients for 30 s, is ``bench/bench_serving.py --load``.)"""

from __future__ import annotations

import json
import subprocess
import sys

import mlflow.sklearn
from sklearn.ensemble import RandomForestClassifier

from mlops_course import data, target
from mlops_course.models import sklearn_log_kwargs
from mlops_course.serving_harness import BackgroundServer


def test_concurrent_clients_get_no_server_error(tmp_path):
    X, y = data.load_classification("iris")
    model = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    path = tmp_path / "model"
    mlflow.sklearn.save_model(
        model,
        path,
        **sklearn_log_kwargs(model, X),
    )
    app = target.load("serving", "solutions").create_app(str(path))
    payload = {"features": X.iloc[0].tolist()}
    with BackgroundServer(app) as server:
        out = subprocess.run(
            [sys.executable, "-m", "mlops_course.serving_harness", server.url, "/predict",
             json.dumps(payload), "8", "3"],
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
    result = json.loads(out.stdout)
    print(result)
    assert result["requests"] > 20
    assert result["server_errors"] == 0 and result["dropped"] == 0
    assert result["statuses"] == {"200": result["requests"]}
