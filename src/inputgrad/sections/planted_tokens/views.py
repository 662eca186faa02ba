"""The text-highlight view of planted reviews, in the style of the Table 1 figure: words on
a monospace grid around the planted token, shaded by the paper's per-word gradient norm
(share of the largest in the review), the token boxed; the planted CNN above the clean one.
Reads only the tidy word table of the planted_tokens rule."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from inputgrad.core import text_view


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
    """The PNG's figure (`core.text_view`; the caller saves and closes it)."""
    fs = style["font_size"]
    char_w, line_chars = text_view.grid(fs, style["width_in"])
    laid = [(p, text_view.lines(p["words"], [p["span"]], line_chars))
            for p in panels(frame, vocab, style)]

    def draw(ax, p, lines):
        prob = 1 / (1 + np.exp(-p["logit"]))
        header = (f"{p['role']} ({p['model']}) | {p['review_id']} | label "
                  f"{'pos' if p['label'] == 1 else 'neg'}, P(pos)={prob:.3f} | planted token "
                  f"“{p['words'][p['token']]}”"
                  f"{' (read as OOV)' if p['role'] == 'control' else ''} "
                  f"rank {p['rank']}/{p['n_words']}")
        text_view.draw_words(ax, header, lines, p["shade"], style, char_w,
                             boxed={p["token"]}, box_width=1.4)

    with plt.rc_context({"font.size": fs}):
        return text_view.stacked_figure(
            laid, draw, "Planted token in an IMDB test review: per-word gradient norm, "
            "planted CNN against the clean CNN",
            "gradient norm / largest in review (box: the planted token)", style)
