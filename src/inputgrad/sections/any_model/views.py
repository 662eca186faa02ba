"""The any_model section's figure, drawn from the saved arrays only.

class_images_figure: four rows of one 28 x 28 image per digit: the MLP's mean Jacobian (5.3),
its class-model image, the logistic regression's class-model image and its weights. Each row
has its own symmetric colour scale centred at zero (a diverging map); under each image of the
class-image rows, its Pearson r with the mean Jacobian (J) and with the weights (w).
"""

from __future__ import annotations

import numpy as np

from inputgrad.core.stats import pearson

ROWS = (
    ("mean_jacobian", "mean Jacobian (MLP)"),
    ("mnist_mlp", "class image (MLP)"),
    ("mnist_logreg", "class image (logistic regression)"),
    ("weights", "weights"),
)


def class_images_figure(arrays: dict, fig_cfg: dict):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    classes = len(arrays["weights"])
    side = int(round(np.sqrt(arrays["weights"].shape[1])))
    rc = {"font.size": fig_cfg["font_size"]}
    with plt.rc_context(rc):
        fig, axes = plt.subplots(
            len(ROWS),
            classes,
            squeeze=False,
            figsize=(fig_cfg["width_in"], fig_cfg["height_in"]),
            dpi=fig_cfg["dpi"],
        )
        for i, (key, title) in enumerate(ROWS):
            row = np.asarray(arrays[key], np.float64)
            m = float(np.quantile(np.abs(row), fig_cfg["scale_quantile"])) or 1.0
            for c in range(classes):
                ax = axes[i, c]
                image = ax.imshow(row[c].reshape(side, side), cmap=fig_cfg["cmap"], vmin=-m, vmax=m)
                ax.set_xticks([])
                ax.set_yticks([])
                if i == 0:
                    ax.set_title(str(c))
                if key in ("mnist_mlp", "mnist_logreg"):
                    ax.set_xlabel(
                        f"J {pearson(row[c], arrays['mean_jacobian'][c]):.2f}\n"
                        f"w {pearson(row[c], arrays['weights'][c]):.2f}",
                        fontsize=fig_cfg["font_size"] - 2,
                    )
            axes[i, 0].set_ylabel(
                title.replace(" (", "\n("),
                rotation=0,
                ha="right",
                va="center",
                fontsize=fig_cfg["font_size"] - 1,
            )
            fig.colorbar(image, ax=list(axes[i]), fraction=0.015, pad=0.01)
    return fig
