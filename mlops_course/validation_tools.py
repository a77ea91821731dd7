"""Helpers for module 04 (validation) that learners are not asked to write: label checks,
the comparison table and the two figures. The graded functions are in solutions/validation.py."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

# The overall metrics compared by the decision rules, in display order.
COMPARED_METRICS = (
    "accuracy",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "precision_weighted",
    "recall_weighted",
    "f1_weighted",
)


def as_labels(name: str, values) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:  # a one-column DataFrame of predictions
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}.")
    return array


def _label_kind(name: str, array: np.ndarray) -> str:
    """``number`` or ``text``: labels of the two kinds never compare equal."""
    if array.dtype.kind in "biuf":
        return "number"
    if array.dtype.kind in "US":
        return "text"
    inferred = pd.api.types.infer_dtype(array, skipna=False)
    if inferred == "string":
        return "text"
    if inferred in ("integer", "floating", "mixed-integer-float", "boolean", "decimal"):
        return "number"
    raise ValueError(f"{name} mixes label types ({inferred}); use all numbers or all strings.")


def check_labels(**arrays) -> list[np.ndarray]:
    """The label arrays as 1-D numpy arrays, after checking they can be compared pairwise.

    Raises:
        ValueError: an array is empty or not one-dimensional, the lengths differ, or one
            holds numbers and another strings (``1 == "1"`` is False: every prediction would
            silently count as wrong).
    """
    converted = {name: as_labels(name, values) for name, values in arrays.items()}
    lengths = {name: len(a) for name, a in converted.items()}
    if any(n == 0 for n in lengths.values()):
        raise ValueError(f"Empty labels: {lengths}; there is nothing to compare.")
    if len(set(lengths.values())) > 1:
        raise ValueError(f"The labels have different lengths: {lengths}; they must be paired.")
    kinds = {name: _label_kind(name, a) for name, a in converted.items()}
    if len(set(kinds.values())) > 1:
        raise ValueError(f"Labels of different types: {kinds}; convert them to one type first.")
    return list(converted.values())


def metrics_table(champion_metrics: Mapping | None, challenger_metrics: Mapping) -> pd.DataFrame:
    """The compared metrics side by side: champion, challenger, change and change in %."""
    champion = [
        np.nan if champion_metrics is None else champion_metrics[m] for m in COMPARED_METRICS
    ]
    challenger = [challenger_metrics[m] for m in COMPARED_METRICS]
    table = pd.DataFrame(
        {"champion": champion, "challenger": challenger}, index=list(COMPARED_METRICS)
    )
    table["change"] = table["challenger"] - table["champion"]
    table["change_pct"] = 100 * table["change"] / table["champion"].replace(0, np.nan)
    table.index.name = "metric"
    return table


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


def confusion_matrices_figure(
    champion_metrics: Mapping | None, challenger_metrics: Mapping, *, title: str = ""
) -> Figure:
    """The two confusion matrices as seaborn heatmaps, on the same colour scale."""
    import seaborn as sns

    panels = [("champion", champion_metrics), ("challenger", challenger_metrics)]
    panels = [(name, m["confusion_matrix"]) for name, m in panels if m is not None]
    vmax = max(int(cm.to_numpy().max()) for _, cm in panels)
    size = 2.5 + 0.5 * len(panels[-1][1])
    fig = Figure(figsize=(size * len(panels) + 1, size), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    for ax, (name, cm) in zip(axes, panels, strict=True):
        sns.heatmap(cm, annot=True, fmt="d", cmap="Blues", vmin=0, vmax=vmax, cbar=False, ax=ax)
        ax.set_xlabel("Predicted label")
        ax.set_ylabel("True label")
        ax.set_title(name)
    if title:
        fig.suptitle(title)
    return fig
