"""Paper section 5.3, the figures, drawn from saved arrays (and the correlation table) only.

jacobian_figure (the paper's): top row, the MLP's mean Jacobian of each class probability with
respect to the pixels (over the test set), one 28 x 28 image per digit; bottom row, the logistic
regression's weight images; under each weight image, the Pearson r of the pair from the table.
variants_figure: the paper's row, its variants (logit, class-conditional, seed-averaged) and the
seed-averaged weights; under each variant image, its r with the weights row.
Each row has its own symmetric colour scale centred at zero (diverging map) and a colour bar.
"""

from __future__ import annotations

import numpy as np

from ...core.stats import pearson_rows
from ...infra.errors import ConfigError
from .compute import IMAGE_SHAPE
from .tables import digit_correlations

FIGURE_KEYS = ("cmap", "scale_quantile", "width_in", "height_in", "dpi", "font_size", "style")


def symmetric_limit(values: np.ndarray, quantile: float = 1.0) -> float:
    """The colour limit m of a row (colours span [-m, m]): a quantile of |values|, never 0."""
    if not 0 < quantile <= 1:
        raise ConfigError(f"figure.scale_quantile must be in (0, 1], got {quantile}")
    m = float(np.quantile(np.abs(values), quantile))
    return m if m > 0 else 1.0


def plot_rows(rows: list[tuple[str, np.ndarray]], fig_cfg: dict,
              correlations: dict | None = None, image_shape=IMAGE_SHAPE):
    """One row of class images per (title, array (classes, pixels)); correlations {row index:
    r per class} are written under that row's images. Returns the Figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    missing = [k for k in FIGURE_KEYS if k not in fig_cfg]
    if missing:
        raise ConfigError(f"figure: missing keys {missing} (experiment mnist_mlp, section figure)")
    n_classes = rows[0][1].shape[0]
    for title, arr in rows:
        if arr.shape != (n_classes, int(np.prod(image_shape))):
            raise ValueError(f"row {title!r}: expected shape ({n_classes}, "
                             f"{int(np.prod(image_shape))}), got {arr.shape}")
    with sns.axes_style(fig_cfg["style"]), plt.rc_context({"font.size": fig_cfg["font_size"]}):
        fig = plt.figure(figsize=(fig_cfg["width_in"], fig_cfg["height_in"]), layout="constrained")
        grid = fig.add_gridspec(len(rows), n_classes + 1, width_ratios=[1] * n_classes + [0.07])
        for r, (title, arr) in enumerate(rows):
            m = symmetric_limit(arr, fig_cfg["scale_quantile"])
            for c in range(n_classes):
                ax = fig.add_subplot(grid[r, c])
                im = ax.imshow(arr[c].reshape(image_shape), cmap=fig_cfg["cmap"], vmin=-m, vmax=m,
                               interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
                if r == 0:
                    ax.set_title(f"digit {c}")
                if c == 0:
                    ax.set_ylabel(title)
                if correlations and r in correlations:
                    ax.set_xlabel(f"r = {correlations[r][c]:.2f}")
            cax = fig.add_subplot(grid[r, n_classes])
            bar = fig.colorbar(im, cax=cax, extend="both" if np.abs(arr).max() > m else "neither")
            bar.ax.tick_params(labelsize=fig_cfg["font_size"] - 1)
            bar.formatter.set_powerlimits((-2, 3))
    return fig


def jacobian_figure(mlp: dict, weights: np.ndarray, table, fig_cfg: dict):
    """The MLP's mean probability Jacobian (npz arrays `probability`, `n`) over the regression's
    weights, r of each pair from the correlation table; returns the Figure."""
    rows = [(f"MLP: mean\nd p(digit) / d pixel\n({int(mlp['n'])} test digits)",
             mlp["probability"]),
            ("logistic\nregression:\nweights", weights)]
    fig = plot_rows(rows, fig_cfg, correlations={1: digit_correlations(table, len(weights))})
    fig.suptitle("Mean input Jacobian of the MLP vs logistic-regression weights  "
                 "(> 0: the pixel raises the digit's score; r: Pearson correlation of the pair)")
    return fig


def variants_figure(variants: list[tuple[str, np.ndarray]], weights: tuple[str, np.ndarray],
                    fig_cfg: dict):
    """One row per (title, mean Jacobian) variant over the weights row (title, weights), the
    Pearson r of each image with its weight image under it; returns the Figure."""
    correlations = {r: pearson_rows(arr, weights[1]) for r, (_, arr) in enumerate(variants)}
    fig = plot_rows([*variants, weights], fig_cfg, correlations=correlations)
    fig.suptitle("Variants of the MLP's mean input Jacobian vs logistic-regression weights  "
                 "(r: Pearson correlation with the weight image of the same digit)")
    return fig
