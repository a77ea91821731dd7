"""Fast checks of the helper package's datasets and figures (no MLflow server needed)."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from mlops_course import data, plots

SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


@pytest.mark.parametrize(
    ("name", "rows", "classes"), [("iris", 150, 3), ("wine", 178, 3), ("breast_cancer", 569, 2)]
)
def test_load_classification(name, rows, classes):
    X, y = data.load_classification(name)
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    assert X.shape[0] == len(y) == rows
    assert y.name == "target"
    assert y.nunique() == classes == len(data.class_names(name))
    assert all(SNAKE.match(c) for c in X.columns), list(X.columns)
    assert X.columns.is_unique
    assert all(pd.api.types.is_float_dtype(t) for t in X.dtypes)


def test_iris_columns_have_no_units():
    X, _ = data.load_classification("iris")
    assert list(X.columns) == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert data.class_names("iris") == ["setosa", "versicolor", "virginica"]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("sepal length (cm)", "sepal_length"),
        ("od280/od315_of_diluted_wines", "od280_od315_of_diluted_wines"),
        ("mean concave points", "mean_concave_points"),
        ("s1", "s1"),
    ],
)
def test_snake_case(raw, clean):
    assert data.snake_case(raw) == clean


def test_load_regression_diabetes():
    X, y = data.load_regression("diabetes")
    assert X.shape == (442, 10) and len(y) == 442 and y.name == "target"
    assert "bmi" in X.columns
    assert pd.api.types.is_float_dtype(y)


def test_load_regression_synthetic_is_seeded():
    X1, y1 = data.load_regression("synthetic", n_samples=50, random_state=1)
    X2, y2 = data.load_regression("synthetic", n_samples=50, random_state=1)
    X3, _ = data.load_regression("synthetic", n_samples=50, random_state=2)
    assert X1.shape == (50, 8) and list(X1.columns) == [f"x{i}" for i in range(8)]
    pd.testing.assert_frame_equal(X1, X2)
    pd.testing.assert_series_equal(y1, y2)
    assert not X1.equals(X3)


@pytest.mark.parametrize(
    "loader, name", [(data.load_classification, "mnist"), (data.load_regression, "iris")]
)
def test_unknown_dataset_names_the_choices(loader, name):
    with pytest.raises(ValueError, match="choose one of"):
        loader(name)


def test_split_is_reproducible_and_stratified():
    X, y = data.load_classification("iris")
    X_train, X_test, y_train, y_test = data.split(X, y)
    again = data.split(X, y)
    pd.testing.assert_frame_equal(X_train, again[0])
    assert len(X_test) == len(y_test) == 38  # scikit-learn rounds the test share up
    assert list(X_train.index) == list(y_train.index)
    # Stratified: every class keeps its share (50 of 150 each) in the test set.
    assert sorted(y_test.value_counts().tolist()) == [12, 13, 13]


def test_split_regression_target_is_not_stratified():
    X, y = data.load_regression("diabetes")  # whole-number floats: not classes
    X_train, X_test, y_train, y_test = data.split(X, y, test_size=0.2)
    assert len(X_test) == len(y_test) == 89 and len(X_train) == 353


# --------------------------------------------------------------------------- plots
def png_bytes(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def test_confusion_matrix_figure_annotates_counts():
    y_true = [0, 0, 1, 1, 2, 2, 2]
    y_pred = [0, 1, 1, 1, 2, 0, 2]
    fig = plots.confusion_matrix_figure(y_true, y_pred, title="demo")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_title() == "demo"
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 9  # one count per cell
    assert sorted(int(t) for t in texts) == sorted([1, 1, 0, 0, 2, 0, 1, 0, 2])
    assert png_bytes(fig).startswith(b"\x89PNG")


def test_confusion_matrix_figure_uses_display_labels():
    fig = plots.confusion_matrix_figure(
        ["a", "b", "a"], ["a", "a", "a"], labels=["a", "b"], display_labels=["Alpha", "Beta"]
    )
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["Alpha", "Beta"]


def test_learning_curve_figure_has_one_line_per_metric():
    history = {"train_accuracy": [0.5, 0.7, 0.9], "val_accuracy": [0.4, 0.6, 0.8]}
    fig = plots.learning_curve_figure(history)
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == list(history)
    np.testing.assert_array_equal(lines[0].get_xdata(), [0, 1, 2])
    assert png_bytes(fig).startswith(b"\x89PNG")


def test_feature_importance_figure_puts_the_largest_on_top():
    df = pd.DataFrame({"feature": ["a", "b", "c"], "importance": [0.2, 0.5, 0.3]})
    fig = plots.feature_importance_figure(df)
    ax = fig.axes[0]
    bars = ax.patches
    assert len(bars) == 3
    widths = [bar.get_width() for bar in bars]
    assert widths == [0.2, 0.3, 0.5]  # drawn bottom to top
    assert png_bytes(plots.feature_importance_figure(df, top=2)).startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="importance"):
        plots.feature_importance_figure(pd.DataFrame({"feature": ["a"]}))


def test_figures_do_not_touch_pyplot_state():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    plots.confusion_matrix_figure([0, 1], [0, 1])
    plots.learning_curve_figure({"loss": [1.0, 0.5]})
    assert plt.get_fignums() == before, "figures should not be registered with pyplot"


def test_trend_figure_has_one_panel_per_metric_and_a_baseline_band():
    import pandas as pd

    from mlops_course.plots import trend_figure

    history = pd.DataFrame({"accuracy": [0.9, 0.91, 0.89, 0.7], "f1_score": [0.8, 0.82, 0.81, 0.6]})
    fig = trend_figure(history, baseline_days=3, drift_day=3)
    assert len(fig.axes) == 2
    assert all(ax.patches for ax in fig.axes), "the baseline band is drawn"
    assert len(trend_figure(history.iloc[:1], baseline_days=3).axes) == 2, (
        "too short: no band, no error"
    )
