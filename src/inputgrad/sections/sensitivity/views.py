"""The sensitivity section's figures, drawn from the tidy per-seed tables only: first-order error
against the step size, and MNIST accuracy against the perturbation size."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from .compute import ATTACKS, DIRECTIONS, OUTPUTS
from .tables import MODEL_LABELS

ATTACK_LABELS = {"fgsm": "FGSM", "random_sign": "random signs", "pgd": "PGD"}


def figure_style(style: dict, name: str) -> dict:
    """The shared style with the figure's own keys (`style[name]`: its size) on top."""
    return {**{k: v for k, v in style.items() if not isinstance(v, dict) or k == "colors"},
            **style.get(name, {})}


def style_context(style: dict):
    """rc settings and seaborn style for drawing and saving (global rcParams untouched)."""
    return matplotlib.rc_context({"font.size": style["font_size"],
                                  **sns.axes_style(style["style"])})


def plot_taylor(tables: dict[int, pd.DataFrame], paper_seed: int, threshold: float,
                style: dict) -> Figure:
    """Median relative first-order error against eps (log-log): one column per model, one row
    per output, one colour per direction. The paper seed's median bold with its interquartile
    band; every other seed's median as a thin line; the threshold dashed."""
    first = tables[paper_seed]
    models = list(dict.fromkeys(first["model"]))
    fig = Figure(figsize=(style["width_in"], style["height_in"]))
    axes = fig.subplots(len(OUTPUTS), len(models), sharex="col", sharey="row", squeeze=False)
    for r, output in enumerate(OUTPUTS):
        for c, model in enumerate(models):
            ax = axes[r, c]
            for direction in DIRECTIONS:
                color = style["colors"][direction]
                for seed, table in tables.items():
                    g = table[(table["model"] == model) & (table["output"] == output)
                              & (table["direction"] == direction)]
                    if seed == paper_seed:
                        ax.fill_between(g["eps"], finite(g["q25"]), finite(g["q75"]),
                                        color=color, alpha=style["alpha"], lw=0)
                        ax.plot(g["eps"], finite(g["median"]), color=color,
                                lw=style["line_width"], marker="o", ms=style["marker_size"],
                                label=direction)
                    else:
                        ax.plot(g["eps"], finite(g["median"]), color=color,
                                lw=style["line_width"] / 3)
            ax.axhline(threshold, color="0.3", ls="--", lw=1)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.grid(alpha=0.3, which="major")
            if r == 0:
                ax.set_title(MODEL_LABELS.get(model, model))
            if r == len(OUTPUTS) - 1:
                ax.set_xlabel("step size eps (L2 norm)")
            if c == 0:
                ax.set_ylabel(f"relative error, {output}")
    axes[0, 0].legend(frameon=False, title="direction")
    others = len(tables) - 1
    fig.suptitle("First-order (Taylor) error |Δf − ∇f·εu| / |Δf| of the predicted class; "
                 f"seed {paper_seed}: median and quartiles"
                 + (f", thin lines: {others} other seed{'s' if others > 1 else ''}"
                    if others else ""))
    fig.tight_layout()
    return fig


def plot_robustness(tables: dict[int, pd.DataFrame], style: dict) -> Figure:
    """Accuracy against eps (L-inf, pixels in [0, 1]) per MNIST model: one line per attack,
    the mean over seeds with the min–max band."""
    data = pd.concat([t.assign(seed=s) for s, t in tables.items()], ignore_index=True)
    models = list(dict.fromkeys(data["model"]))
    fig = Figure(figsize=(style["width_in"], style["height_in"]))
    axes = fig.subplots(1, len(models), sharey=True, squeeze=False)[0]
    for ax, model in zip(axes, models, strict=True):
        for attack in ATTACKS:
            g = data[(data["model"] == model) & (data["attack"] == attack)]
            stats = g.groupby("eps")["accuracy"].agg(["mean", "min", "max"])
            color = style["colors"][attack]
            ax.fill_between(stats.index, stats["min"], stats["max"], color=color,
                            alpha=style["alpha"], lw=0)
            ax.plot(stats.index, stats["mean"], color=color, lw=style["line_width"], marker="o",
                    ms=style["marker_size"], label=ATTACK_LABELS[attack])
        ax.set_title(MODEL_LABELS.get(model, model))
        ax.set_xlabel("eps (L-inf, pixel range [0, 1])")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("test accuracy")
    axes[0].legend(frameon=False)
    k = len(tables)
    seeds = f"mean and min–max over {k} seeds" if k > 1 else "one seed"
    fig.suptitle(f"MNIST accuracy under gradient-sign and random-sign perturbations "
                 f"({int(data['n'].iloc[0])} test digits; {seeds})")
    fig.tight_layout()
    return fig


def finite(values) -> np.ndarray:
    """Values for a log axis: nonpositive ones (an exact first-order prediction) as NaN."""
    v = np.asarray(values, np.float64)
    return np.where(v > 0, v, np.nan)
