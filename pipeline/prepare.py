"""Stage ``prepare``: the generated maintenance data, split, as data/train.csv and data/test.csv.

The data is generated (nothing is downloaded) from ``data.rows`` and ``data.seed`` of
params.yaml, and split as ``mlops-course train`` splits it (``mlops_course.data.split``).
"""

from __future__ import annotations

from common import TARGET, TEST_CSV, TRAIN_CSV, params

from mlops_course import data


def main() -> None:
    settings = params()["data"]
    X, y = data.load_maintenance(int(settings["rows"]), seed=int(settings["seed"]))
    X_train, X_test, y_train, y_test = data.split(X, y)
    TRAIN_CSV.parent.mkdir(parents=True, exist_ok=True)
    for path, X_part, y_part in ((TRAIN_CSV, X_train, y_train), (TEST_CSV, X_test, y_test)):
        X_part.assign(**{TARGET: y_part}).to_csv(path, index=False)
        print(f"{path}: {len(X_part)} rows")


if __name__ == "__main__":
    main()
