"""Figures shared by the lessons and the graded functions.

Each function returns a :class:`matplotlib.figure.Figure` built with the object API and never
touches pyplot's global state: nothing is shown, nothing needs closing, and it works on a
server without a display. Log one with ``mlflow.log_figure(fig, "name.png")`` or save it with
``fig.savefig(path)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import confusion_matrix


def confusion_matrix_figure(
    y_true: Sequence | np.ndarray | pd.Series,
    y_pred: Sequence | np.ndarray | pd.Series,
    *,
    labels: Sequence | None = None,
    display_labels: Sequence[str] | None = None,
    title: str = "Confusion matrix",
) -> Figure:
    """A confusion matrix with the count in every cell (rows: true class, columns: predicted).

    Args:
        y_true: the true labels.
        y_pred: the predicted labels.
        labels: the classes, in display order; default every label seen in either input, sorted.
        display_labels: names shown on the axes instead of the labels (e.g. ``class_names()``).
        title: the figure's title.
    """
    shown = list(
        labels
        if labels is not None
        else np.unique(np.concatenate([np.asarray(y_true), np.asarray(y_pred)]))
    )
    names = [str(n) for n in (display_labels if display_labels is not None else shown)]
    counts = confusion_matrix(y_true, y_pred, labels=shown)

    size = 2.0 + 0.6 * len(shown)
    fig = Figure(figsize=(size + 1.0, size), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(counts, cmap="Blues")
    fig.colorbar(image, ax=ax)
    threshold = counts.max() / 2 if counts.size else 0
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            color = "white" if counts[i, j] > threshold else "black"
            ax.text(j, i, str(counts[i, j]), ha="center", va="center", color=color)
    ticks = range(len(shown))
    ax.set_xticks(ticks, names, rotation=45 if max(map(len, names), default=0) > 3 else 0)
    ax.set_yticks(ticks, names)
    ax.set_xlabel("Predicted label")
    ax.set_ylabel("True label")
    ax.set_title(title)
    return fig


def learning_curve_figure(
    history: Mapping[str, Sequence[float]],
    *,
    title: str = "Learning curve",
    xlabel: str = "epoch",
) -> Figure:
    """One line per metric of a training history, e.g. ``{"train_accuracy": [...], ...}``.

    Args:
        history: metric name -> values, one per step (step ``i`` is the i-th value).
        title: the figure's title.
        xlabel: the name of a step.
    """
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    for name, values in history.items():
        ax.plot(range(len(values)), list(values), marker="o", markersize=3, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("value")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if history:
        ax.legend()
    return fig


def feature_importance_figure(
    df: pd.DataFrame, *, top: int | None = None, title: str = "Feature importance"
) -> Figure:
    """Horizontal bars of a feature-importance table, the most important at the top.

    Args:
        df: a DataFrame with columns ``feature`` and ``importance`` (any order).
        top: show only the ``top`` most important features; default all.
        title: the figure's title.
    """
    missing = {"feature", "importance"} - set(df.columns)
    if missing:
        raise ValueError(f"feature_importance_figure needs the columns {sorted(missing)}.")
    data = df.sort_values("importance", ascending=False)
    if top is not None:
        data = data.head(top)
    fig = Figure(figsize=(6, 1.0 + 0.35 * max(len(data), 1)), layout="constrained")
    ax = fig.add_subplot()
    # barh draws the first row at the bottom: reverse so the largest bar is on top.
    ax.barh(data["feature"].astype(str)[::-1], data["importance"][::-1])
    ax.set_xlabel("importance")
    ax.set_title(title)
    return fig


def trend_figure(history: pd.DataFrame, *, baseline_days: int = 7, drift_day=None) -> Figure:
    """One panel per metric: the daily values and the baseline band (mean ± 2 std of the first
    ``baseline_days`` values)."""
    fig = Figure(figsize=(8, 2.6 * len(history.columns)), layout="constrained")
    axes = fig.subplots(len(history.columns), 1, squeeze=False)[:, 0]
    for ax, metric in zip(axes, history.columns, strict=True):
        values = history[metric].dropna()
        base = values.iloc[:baseline_days]
        if len(base) > 1:
            low, high = base.mean() - 2 * base.std(), base.mean() + 2 * base.std()
            ax.axhspan(low, high, color="tab:green", alpha=0.15, label="baseline ± 2 std")
        ax.plot(values.index, values, marker="o", markersize=3, label=metric)
        if drift_day is not None:
            ax.axvline(drift_day, color="tab:red", linestyle="--", label="drift starts")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left", fontsize="small")
    axes[-1].set_xlabel("day")
    return fig
