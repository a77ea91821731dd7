"""Stage ``train``: fit the model params.yaml names and log it with module 01's graded
``log_training_run``; then record on the run which data it read (the DVC md5 of each file
as a tag, the test set as an evaluation input), and write the run's id to run.json.

The tracking server: ``MLFLOW_TRACKING_URI`` when set, else the course's local server.
"""

from __future__ import annotations

import mlflow
import numpy as np
from common import (
    DATA_MD5_TAG,
    RUN_FILE,
    TARGET,
    TEST_CSV,
    TEST_MD5_TAG,
    TRAIN_CSV,
    file_md5,
    params,
    quiet_known_warnings,
    read_xy,
    write_json,
)
from mlflow.data.pandas_dataset import from_pandas

from mlops_course import models, naming, server, target
from mlops_course.tracking_uri import using_tracking_uri


def main() -> None:
    quiet_known_warnings()
    settings = params()
    name = models.check_model_name(settings["train"]["model"])
    experiment = naming.experiment_name(settings["train"]["experiment"])
    X_train, y_train = read_xy(TRAIN_CSV)
    X_test, y_test = read_xy(TEST_CSV)

    uri = server.ensure_server().uri
    tracking = target.load("tracking", "solutions")  # the reference, as mlops-course train
    model = models.make_model(name, X_train, random_state=int(settings["data"]["seed"]))
    run_id = tracking.log_training_run(
        model,
        X_train,
        y_train,
        X_test,
        y_test,
        experiment_name=experiment,
        run_name=name,
        tracking_uri=uri,
    )
    with using_tracking_uri(uri), mlflow.start_run(run_id=run_id):
        # The data version: the md5 DVC recorded in dvc.lock for the files read here.
        mlflow.set_tags(
            {
                DATA_MD5_TAG: file_md5(TRAIN_CSV),
                TEST_MD5_TAG: file_md5(TEST_CSV),
                "data.path": str(TRAIN_CSV),
                "model_name": name,
                "dataset": "maintenance",
            }
        )
        mlflow.log_metrics(models.classification_scores(model, X_test, y_test))  # as the CLI
        test = X_test.assign(**{TARGET: np.asarray(y_test)})
        mlflow.log_input(from_pandas(test, targets=TARGET, name="test"), context="evaluation")
    model_uri = f"runs:/{run_id}/model"
    write_json(RUN_FILE, {"run_id": run_id, "experiment": experiment, "model_uri": model_uri})
    print(f"run {run_id} in {experiment}: {model_uri}")


if __name__ == "__main__":
    main()
