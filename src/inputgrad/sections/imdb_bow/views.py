"""The ḡ figure of Sec. 5.2, drawn from the saved per-word table and per-review scores only."""

from __future__ import annotations

import numpy as np
import pandas as pd


def imdb_bow_gbar_figure(frame: pd.DataFrame, scores: dict, agreement: dict, style: dict):
    """Left: diverging bars of ḡ for the top words each side; right: x·ḡ vs logit (test).

    style: the `figure:` section of the experiment; `font_size` sets the word labels, the
    legend and the inset's title (its tick labels one point smaller).
    """
    from matplotlib.figure import Figure  # no pyplot: no global figure registry or backend

    col = "gbar_test_probability"
    k = style["top_words"]
    font = style["font_size"]
    words = frame[frame["eligible"]].sort_values(col, ascending=False, kind="stable")
    top = pd.concat([words.head(k), words.tail(k).iloc[::-1]]).drop_duplicates("word_id")
    top = top.sort_values(col)
    fig = Figure(figsize=(style["width_in"], style["height_in"]))
    ax_bar, ax_sc = fig.subplots(1, 2, gridspec_kw={"width_ratios": style["width_ratios"]})
    _bars(ax_bar, top, col, k, style)

    s, z, y = scores["test_score_test_probability"], scores["test_logit"], scores["test_label"]
    t = agreement["fitted_threshold"]
    label_colors = np.array([style["negative_color"], style["positive_color"]])
    order = np.random.default_rng(0).permutation(len(s))  # interleave: no class hides the other
    inset = ax_sc.inset_axes(style["zoom_box"])
    hx = float(np.quantile(np.abs(s), style["zoom_quantile"]))
    hz = float(np.quantile(np.abs(z), style["zoom_quantile"]))
    for ax, size in ((ax_sc, style["point_size"]), (inset, 3 * style["point_size"])):
        ax.scatter(s[order], z[order], s=size, alpha=style["alpha"], c=label_colors[y[order]],
                   lw=0, rasterized=True)
        ax.axhline(0, color="black", lw=0.8)
        ax.axvline(0, color="black", lw=0.9, ls="--")
        ax.axvline(t, color=style["threshold_color"], lw=1.2)
    inset.set_xlim(-hx, hx)
    inset.set_ylim(-hz, hz)
    inset.tick_params(labelsize=font - 1)
    inset.set_title("zoom near (0, 0)", fontsize=font)
    ax_sc.indicate_inset_zoom(inset, edgecolor="gray")
    ax_sc.legend(handles=_legend(agreement, t, style), loc="upper left", fontsize=font,
                 framealpha=0.9)
    ax_sc.set_xlabel("x·ḡ (linear score)")
    ax_sc.set_ylabel("network logit")
    ax_sc.set_title("Linear score vs network output, test reviews")
    fig.tight_layout()
    return fig


def _bars(ax, top: pd.DataFrame, col: str, k: int, style: dict) -> None:
    from matplotlib.ticker import MaxNLocator

    colors = np.where(top[col] > 0, style["positive_color"], style["negative_color"])
    ax.barh(np.arange(len(top)), top[col], color=colors)
    ax.set_yticks(np.arange(len(top)), top["word"], fontsize=style["font_size"])
    ax.axvline(0, color="black", lw=0.8)
    ax.set_ylim(-0.6, len(top) - 0.4)
    ax.xaxis.set_major_locator(MaxNLocator(5, symmetric=True))
    ax.set_xlabel("ḡ = mean over test reviews of ∂P(positive)/∂x_word")
    ax.set_title(f"Top {k} words on each side of ḡ")


def _legend(agreement: dict, t: float, style: dict) -> list:
    from matplotlib.lines import Line2D

    paper, fitted = agreement["paper_rule_agreement_test"], agreement["fitted_rule_agreement_test"]
    return [
        Line2D([], [], ls="", marker="o", color=style["negative_color"], label="true negative"),
        Line2D([], [], ls="", marker="o", color=style["positive_color"], label="true positive"),
        Line2D([], [], color="black", lw=0.9, ls="--", label=f"x·ḡ = 0 (agreement {paper:.2%})"),
        Line2D([], [], color=style["threshold_color"], lw=1.2,
               label=f"fitted t = {t:.3g} (agreement {fitted:.2%})"),
    ]
