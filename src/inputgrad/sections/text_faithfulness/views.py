"""The text faithfulness figure, drawn from the tidy tables only: per model (CNN, bag of
words), comprehensiveness and sufficiency AOPC per method across seeds, and the deletion
curves of the first seed."""

from __future__ import annotations

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from ...core.style import method_color
from .compute import METRICS

MODELS = {"imdb_cnn": "IMDB CNN", "imdb_bow_mlp": "bag-of-words MLP"}
TITLES = {"comprehensiveness_aopc": "comprehensiveness AOPC (higher = faithful)",
          "sufficiency_aopc": "sufficiency AOPC (lower = faithful)"}


def figure_style(style: dict):
    """seaborn axes style plus the font size, as a context (global rcParams untouched); draw
    and save inside it."""
    rc = {"font.size": style["font_size"], "axes.titlesize": style["font_size"],
          "axes.labelsize": style["font_size"]}
    return sns.axes_style(style["style"], rc=rc)


def _color(style: dict, method: str):
    """The method's colour of the one palette (`core.style`)."""
    return method_color(method)


def _aopc_panel(ax, seeds: pd.DataFrame, order: list[str], style: dict, title: str) -> None:
    """Per method: every seed's value (small dots), the mean over seeds (large dot) and its
    95 % interval from 5 seeds on, else the min – max range (line)."""
    for y, method in enumerate(order):
        rows = seeds[seeds["method"] == method]
        per_seed = rows[rows["seed"].notna()]["value"]
        s = rows[rows["seed"].isna()].iloc[0]
        low, high = ((s["ci_low"], s["ci_high"]) if pd.notna(s["ci_low"])
                     else (s["min"], s["max"]))
        color = _color(style, method)
        ax.plot([low, high], [y, y], color=color, lw=style["line_width"])
        ax.scatter(per_seed, [y] * len(per_seed), s=style["marker_size"] ** 2 / 2,
                   color=color, alpha=style["alpha"], zorder=3)
        ax.scatter([s["mean"]], [y], s=style["marker_size"] ** 2 * 2, color=color, zorder=4,
                   edgecolor="white")
    ax.set_yticks(range(len(order)), [m.replace("_", " ") for m in order])
    ax.invert_yaxis()
    ax.axvline(0, color="#999999", lw=0.8)
    ax.set_title(title)


def _curve_panel(ax, curves: pd.DataFrame, order: list[str], style: dict, removal: str) -> None:
    for method in order:
        g = curves[(curves["method"] == method) & (curves["curve"] == "deletion")
                   & (curves["removal"] == removal)].sort_values("percent")
        ax.plot(g["percent"], g["mean_probability"], marker="o", ms=style["marker_size"] / 2,
                lw=style["line_width"], color=_color(style, method),
                label=method.replace("_", " "))
    seed = int(curves["seed"].iloc[0])
    ax.set_xlabel(f"words removed ({removal}), highest score first (%)")
    ax.set_ylabel("mean p(y)")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"deletion curves, seed {seed}")
    ax.legend(frameon=False, fontsize=style["font_size"] - 1, loc="upper left",
              bbox_to_anchor=(1.01, 1.0))


def faithfulness_figure(seeds: pd.DataFrame, curves: pd.DataFrame, removal: str,
                        style: dict) -> Figure:
    """Rows: the models; columns: comprehensiveness AOPC, sufficiency AOPC (the CNN's first
    removal; the bag of words' only one), deletion curves of the curves table's seed."""
    fig = Figure(figsize=(style["width_in"], style["height_in"]))  # no pyplot state to close
    axes = fig.subplots(len(MODELS), 3, squeeze=False)
    for row, (model, label) in enumerate(MODELS.items()):
        rem = removal if model == "imdb_cnn" else "absent"
        aopc = seeds[(seeds["model"] == model) & (seeds["removal"] == rem)]
        first = aopc[(aopc["quantity"] == METRICS[0]) & aopc["seed"].isna()]
        order = first.sort_values("mean", ascending=False, kind="stable")["method"].tolist()
        for col, metric in enumerate(METRICS):
            _aopc_panel(axes[row, col], aopc[aopc["quantity"] == metric], order, style,
                        TITLES[metric])
        axes[row, 0].set_ylabel(label, fontweight="bold")
        _curve_panel(axes[row, 2], curves[curves["model"] == model], order, style, rem)
    n = int(seeds.loc[seeds["seed"].isna(), "n"].max())
    fig.suptitle(f"Faithfulness of the text attributions (ERASER AOPC; {n} seed"
                 f"{'s' if n > 1 else ''}: dots per seed, line min – max or 95 % interval)")
    fig.tight_layout()
    return fig
