"""The anomaly section's figure: AUROC per detector and shifted set, one panel per model, the
mean over seeds as a bar, every seed as a dot, min-max as a line; drawn from anomaly_seeds.csv
only."""

from __future__ import annotations

import contextlib

import matplotlib
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from .compute import DETECTORS, SETS
from .tables import DETECTOR_LABELS, MODEL_LABELS


@contextlib.contextmanager
def figure_style(style: dict):
    """The figure's seaborn style and font size as a context (the global rcParams stay
    untouched); draw and save inside it."""
    with sns.axes_style(style["style"]), matplotlib.rc_context({"font.size": style["font_size"]}):
        yield


def _panel(ax, rows: pd.DataFrame, style: dict) -> None:
    sets = list(dict.fromkeys(rows["condition"]))
    detectors = [d for d in DETECTORS if d in set(rows["method"])]
    width = 0.8 / len(detectors)
    x = np.arange(len(sets))
    for j, det in enumerate(detectors):
        pos = x - 0.4 + width * (j + 0.5)
        mine = rows[rows["method"] == det]
        summary = mine[mine["seed"].isna()].set_index("condition").reindex(sets)
        color = style["colors"].get(det)
        ax.bar(pos, summary["mean"], width * 0.9, color=color, alpha=style["alpha"],
               label=DETECTOR_LABELS.get(det, det))
        ax.vlines(pos, summary["min"], summary["max"], color="black", lw=style["line_width"])
        seeds = mine.dropna(subset=["seed"])
        ax.scatter(pos[[sets.index(s) for s in seeds["condition"]]], seeds["value"],
                   s=style["marker_size"], color="black", zorder=3)
    ax.axhline(0.5, color="grey", lw=style["line_width"], ls="--")
    ax.set_xticks(x, [s.replace("_", " ") + (" *" if SETS[s][0] else "") for s in sets],
                  rotation=20, ha="right")
    ax.set_ylim(0, 1.02)
    ax.grid(axis="x", visible=False)  # a vertical line would run through the middle bar
    ax.set_ylabel("AUROC")


def anomaly_figure(table: pd.DataFrame, style: dict) -> Figure:
    """AUROC panels (one per model) from the cross-seed table's `auroc` rows."""
    auroc = table[table["quantity"] == "auroc"]
    models = list(dict.fromkeys(auroc["model"]))
    n_seeds = auroc["seed"].dropna().nunique()
    cols = min(2, len(models))
    rows = -(-len(models) // cols)
    fig = Figure(figsize=(style["width_in"], style["height_in"] * rows / 2))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, model in zip(axes, models, strict=False):
        _panel(ax, auroc[auroc["model"] == model], style)
        ax.set_title(MODEL_LABELS.get(model, model))
    for ax in axes[len(models):]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.suptitle(f"Anomaly detection: AUROC, shifted set vs test data (bars: mean over "
                 f"{n_seeds} seed{'s' if n_seeds > 1 else ''}; dots: seeds; lines: min - max; "
                 f"* synthetic)", y=0.99, fontsize=style["font_size"] + 1)
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.955),
               ncol=len(labels), frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.91))
    return fig
