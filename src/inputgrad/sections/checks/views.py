"""The checks' figure: deletion curves, drawn from the tidy deletion table only."""

from __future__ import annotations

import matplotlib
import pandas as pd
from matplotlib.figure import Figure

from ...core.style import method_color
from .compute import aoc_by_method


def figure_style(style: dict):
    """Context of the figure's rc settings (the global rcParams stay untouched); draw and save
    inside it, since matplotlib reads some of them (tick labels) only when it renders."""
    return matplotlib.rc_context({"font.size": style["font_size"]})


def plot_deletion(table: pd.DataFrame, style: dict):
    """Deletion curves, mean predicted-class probability vs k, one line per method."""
    fig = Figure(figsize=(style["width_in"], style["height_in"]))  # no pyplot state to close
    ax = fig.subplots()
    aoc = aoc_by_method(table)
    for m in dict.fromkeys(table["method"]):  # table order: the configured methods, then random
        g = table[table["method"] == m].sort_values("k")
        ax.plot(g["k"], g["mean_probability"], marker=style["markers"].get(m, "o"),
                ms=style["marker_size"], lw=style["line_width"], color=method_color(m),
                ls=style["line_styles"].get(m, "-"),
                label=f"{m.replace('_', ' ')} (AOC {aoc[m]:.3f})")
    n = int(table["n"].iloc[0])
    ax.set_xlabel("pixels set to 0, highest attribution first (k)")
    ax.set_ylabel("mean predicted-class probability")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.grid(alpha=0.3)
    ax.set_title(f"Deletion test, MNIST MLP ({n} test digits)")
    ax.legend(frameon=False, loc=style["legend_loc"])
    fig.tight_layout()
    return fig
