"""The text-highlight view of planted reviews, in the style of the Table 1 figure: words on
a monospace grid around the planted token, shaded by the paper's per-word gradient norm
(share of the largest in the review), the token boxed; the planted CNN above the clean one.
Reads only the tidy word table of the planted_tokens rule."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle


def _lines(words, a, b, line_chars):
    tokens = ([("…", None)] if a > 0 else []) + [(words[j], j) for j in range(a, b)]
    if b < len(words):
        tokens.append(("…", None))
    lines, cur, used = [], [], 0
    for w, j in tokens:
        if used + len(w) > line_chars and cur:
            lines.append(cur)
            cur, used = [], 0
        cur.append((w, j, used))
        used += len(w) + 1
    lines.append(cur)
    return lines


def panels(frame: pd.DataFrame, vocab: list[str], style: dict) -> list[dict]:
    """One panel per (review, role): words shown, their scores / the peak, the token."""
    out = []
    planted_idx = {len(vocab) - 2, len(vocab) - 1}
    for review, g in list(frame.groupby("review", sort=False))[:style["reviews"]]:
        for role, r in g.groupby("role", sort=False):
            r = r.sort_values("position")
            words = [vocab[t] for t in r["token_idx"]]
            token = int(np.flatnonzero(r["token_idx"].isin(planted_idx).to_numpy())[0])
            score = r["score"].to_numpy(np.float64)
            peak = np.nanmax(np.abs(score)) or 1.0
            rank = 1 + int((np.abs(score) > abs(score[token])).sum())
            ctx = style["context_words"]
            out.append({"review": review, "role": role, "model": r["model"].iloc[0],
                        "label": int(r["label"].iloc[0]), "logit": float(r["logit"].iloc[0]),
                        "review_id": r["review_id"].iloc[0], "words": words,
                        "shade": np.abs(score) / peak, "token": token, "rank": rank,
                        "n_words": len(words), "method": r["method"].iloc[0],
                        "span": (max(token - ctx, 0), min(token + ctx + 1, len(words)))})
    return out


def planted_review_figure(frame: pd.DataFrame, vocab: list[str], style: dict):
    """The PNG's figure (the caller saves and closes it)."""
    cmap = matplotlib.colormaps[style["cmap"]]
    fs = style["font_size"]
    char_w = fs * 0.602 / 72 / (0.96 * style["width_in"])  # DejaVu Sans Mono advance
    line_chars = int(1.0 / char_w) - 1
    laid = [(p, _lines(p["words"], *p["span"], line_chars)) for p in panels(frame, vocab, style)]
    line_in = fs * 2.0 / 72
    heights = [(len(lines) + 1.6) * line_in for _, lines in laid]
    with plt.rc_context({"font.size": fs}):
        fig = plt.figure(figsize=(style["width_in"], sum(heights) + 1.1))
        top = 1.0 - 0.5 / fig.get_figheight()
        fig.text(0.5, 1 - 0.25 / fig.get_figheight(),
                 "Planted token in an IMDB test review: per-word gradient norm, "
                 "planted CNN against the clean CNN", ha="center", va="center",
                 fontsize=fs + 2, weight="bold")
        for (p, lines), h in zip(laid, heights, strict=True):
            frac = h / fig.get_figheight()
            ax = fig.add_axes([0.02, top - frac, 0.96, frac])
            top -= frac
            _draw(ax, p, lines, cmap, fs, char_w)
        sm = matplotlib.cm.ScalarMappable(cmap=cmap, norm=matplotlib.colors.Normalize(0, 1))
        cax = fig.add_axes([0.3, 0.45 / fig.get_figheight(), 0.4, 0.1 / fig.get_figheight()])
        cb = fig.colorbar(sm, cax=cax, orientation="horizontal")
        cb.set_label("gradient norm / largest in review (box: the planted token)",
                     fontsize=fs - 1)
        cb.ax.tick_params(labelsize=fs - 1)
    return fig


def _draw(ax, p, lines, cmap, fs, char_w) -> None:
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(len(lines) + 1.6, 0)
    prob = 1 / (1 + np.exp(-p["logit"]))
    ax.text(0, 0.6, f"{p['role']} ({p['model']}) | {p['review_id']} | label "
            f"{'pos' if p['label'] == 1 else 'neg'}, P(pos)={prob:.3f} | planted token "
            f"“{p['words'][p['token']]}”{' (read as OOV)' if p['role'] == 'control' else ''} "
            f"rank {p['rank']}/{p['n_words']}", fontsize=fs,
            weight="bold", va="center", family="DejaVu Sans")
    for li, line in enumerate(lines):
        y = li + 1.6
        for w, j, col in line:
            x = col * char_w
            s = p["shade"][j] if j is not None else np.nan
            if s == s:
                ax.add_patch(Rectangle((x - 0.15 * char_w, y - 0.45), (len(w) + 0.3) * char_w,
                                       0.9, facecolor=cmap(float(s)), edgecolor="none"))
            if j == p["token"]:
                ax.add_patch(Rectangle((x - 0.15 * char_w, y - 0.45), (len(w) + 0.3) * char_w,
                                       0.9, fill=False, edgecolor="black", linewidth=1.4))
            dark = s == s and s > 0.6
            ax.text(x, y, w, family="DejaVu Sans Mono", fontsize=fs, va="center",
                    color="white" if dark else "#222")
