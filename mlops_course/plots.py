"""Figures shared by the lessons and the graded functions.

Each function returns a :class:`matplotlib.figure.Figure` built with the object API and never
touches pyplot's global state: nothing is shown, nothing needs closing, and it works on a
server without a display. Log one with ``mlflow.log_figure(fig, "name.png")`` or save it with
``fig.savefig(path)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import confusion_matrix

from mlops_course.validation_tools import metrics_table


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


# ----------------------------------------------------------------------------- module 04
def metrics_comparison_figure(
    champion_metrics: Mapping | None, challenger_metrics: Mapping, *, title: str = ""
) -> Figure:
    """Side-by-side bars of the compared metrics, and their change in percent."""
    table = metrics_table(champion_metrics, challenger_metrics)
    fig = Figure(figsize=(11, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    positions = np.arange(len(table))
    left.bar(positions - 0.2, table["champion"].fillna(0), width=0.4, label="champion")
    left.bar(positions + 0.2, table["challenger"], width=0.4, label="challenger")
    left.set_xticks(positions, table.index, rotation=35, ha="right")
    left.set_ylim(0, 1.18)
    left.set_ylabel("value")
    left.set_title("Metrics")
    left.legend(loc="upper center", ncols=2, frameon=False)
    change = table["change_pct"].fillna(0)
    colors = ["tab:green" if v > 0 else "tab:red" if v < 0 else "tab:gray" for v in change]
    right.barh(table.index[::-1], change[::-1], color=colors[::-1])
    right.axvline(0, color="black", linewidth=0.8)
    right.set_xlabel("challenger vs champion (%)")
    right.set_title("Change")
    if title:
        fig.suptitle(title)
    return fig


def _class_name(label, class_names: Mapping | Sequence | None) -> str:
    """The name shown for one label: from ``class_names`` when it has one, else the label."""
    if isinstance(class_names, Mapping):
        return str(class_names.get(label, label))
    if (
        class_names is not None
        and isinstance(label, int | np.integer)
        and not isinstance(label, bool)
    ):
        if 0 <= label < len(class_names):
            return str(class_names[int(label)])
    return str(label)


def confusion_matrices_figure(
    champion_metrics: Mapping | None,
    challenger_metrics: Mapping,
    *,
    title: str = "",
    class_names: Mapping | Sequence[str] | None = None,
) -> Figure:
    """The two confusion matrices as seaborn heatmaps, on the same colour scale.

    Args:
        champion_metrics: the champion's metrics (None without a champion: one panel only).
        challenger_metrics: the challenger's metrics; each has a ``confusion_matrix``
            DataFrame indexed by the labels (rows: true class, columns: predicted).
        title: the figure's title.
        class_names: the names shown on the axes instead of the labels: a list indexed by
            integer label (what ``mlops_course.data.class_names`` returns, ``0 -> "setosa"``)
            or a dict ``label -> name``. A label it does not name is shown as it is.
    """
    import seaborn as sns

    given = [("champion", champion_metrics), ("challenger", challenger_metrics)]
    panels: list[tuple[str, Any]] = [(n, m["confusion_matrix"]) for n, m in given if m is not None]
    vmax = max(int(cm.to_numpy().max()) for _, cm in panels)
    size = 2.5 + 0.5 * len(panels[-1][1])
    fig = Figure(figsize=(size * len(panels) + 1, size), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    for ax, (name, cm) in zip(axes, panels, strict=True):
        shown = cm.rename(
            index=lambda label: _class_name(label, class_names),
            columns=lambda label: _class_name(label, class_names),
        )
        sns.heatmap(shown, annot=True, fmt="d", cmap="Blues", vmin=0, vmax=vmax, cbar=False, ax=ax)
        ax.tick_params(axis="y", labelrotation=0)  # names read across, not up
        ax.set_xlabel("Predicted class")
        ax.set_ylabel("True class")
        ax.set_title(name)
    if title:
        fig.suptitle(title)
    return fig
