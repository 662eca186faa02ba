"""The Decoy MNIST figure: each method's mean |attribution| map over the test digits, for
the decoy, the clean (control) and the repaired model, with its detection window."""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ...core.style import method_color

LABELS = {"decoy": "decoy model", "control": "clean model (control)",
          "repaired": "repaired (right reasons)"}


def figure_style(style: dict):
    """Context of the figure's rc settings (the global rcParams stay untouched)."""
    return matplotlib.rc_context({"font.size": style["font_size"]})


def plot_maps(maps: dict[str, dict[str, np.ndarray]], windows: dict[str, dict[str, dict]],
              mass: dict[str, dict[str, float]], style: dict, size: int, version: str):
    """Rows: models (style `models` order); columns: methods. Each panel: the mean |attr|
    map (own colour scale, 0 to its max), its highest-mass window (green: a corner patch,
    red: elsewhere) and the mean relevance mass in the title."""
    models = [m for m in style["models"] if m in maps]
    methods = list(next(iter(maps.values())))
    fig = Figure(figsize=(style["width_in"], style["height_in"]))
    axes = fig.subplots(len(models), len(methods), squeeze=False)
    for i, model in enumerate(models):
        for j, method in enumerate(methods):
            ax = axes[i, j]
            image = np.asarray(maps[model][method]).reshape(28, 28)
            ax.imshow(image, cmap=style["cmap"], vmin=0, vmax=float(image.max()) or 1.0)
            w = windows[model][method]
            ax.add_patch(Rectangle((w["col"] - 0.5, w["row"] - 0.5), size, size, fill=False,
                                   lw=style["line_width"],
                                   ec="#2ca02c" if w["found"] else "#d62728"))
            ax.set_xticks([])
            ax.set_yticks([])
            value = mass[model][method]
            ax.set_title("mass —" if value is None else f"mass {value:.2f}",
                         fontsize=style["font_size"] - 1)
            if i == 0:
                ax.text(0.5, 1.28, method.replace("_", " "), transform=ax.transAxes,
                        ha="center", color=method_color(method), fontweight="bold")
            if j == 0:
                ax.set_ylabel(LABELS.get(model, model))
    fig.suptitle(f"Decoy MNIST: mean |attribution| over the '{version}' test digits; box: "
                 "highest-mass 4×4 window (green = a corner patch); mass: share in the patch")
    fig.tight_layout()
    return fig
