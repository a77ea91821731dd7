"""What the stages share: the files they pass on, the parameters, the data's format."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

TRAIN_CSV = Path("data/train.csv")
TEST_CSV = Path("data/test.csv")
RUN_FILE = Path("run.json")  # written by train: which MLflow run holds the model
METRICS_FILE = Path("metrics.json")  # written by evaluate, read by `dvc metrics show`
TARGET = "target"  # the label's column in the CSV files

# The tags that tie a run to its data: the md5 DVC records in dvc.lock for each file read.
DATA_MD5_TAG = "data.dvc_md5"  # data/train.csv, the data the model learned from
TEST_MD5_TAG = "data.dvc_md5_test"  # data/test.csv, the data it was scored on


def params() -> dict[str, Any]:
    """params.yaml, as DVC reads it."""
    loaded: dict[str, Any] = yaml.safe_load(Path("params.yaml").read_text())
    return loaded


def read_xy(path: Path) -> tuple[pd.DataFrame, pd.Series]:
    """A CSV of the stages as ``(X, y)``: the features, and the ``target`` column."""
    frame = pd.read_csv(path)
    return frame.drop(columns=TARGET), frame[TARGET]


def file_md5(path: Path) -> str:
    """The file's md5, as DVC 3 computes it for a file (``md5:`` in dvc.lock)."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_json(path: Path, content: dict[str, Any]) -> None:
    path.write_text(json.dumps(content, indent=2, sort_keys=True) + "\n")


def quiet_known_warnings() -> None:
    """Hide what every model logged here makes MLflow say, which notebook 01 explains:
    cloudpickle is chosen on purpose (skops refuses tree models), the integer column of the
    signature is the predicted label (never missing); and no progress bar per download."""
    logging.getLogger("mlflow.sklearn").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
