"""Views of Table 1's reviews with every word shaded by its gradient norm: an HTML page
(whole reviews, inline CSS) and a PNG (a text layout around the marked expressions).

They read only the saved table and gradient arrays (never the model). `cfg` is the resolved
experiment config: `figure` (style and which rows), `attribution`, `model`, `data`.
"""

from __future__ import annotations

import html

import matplotlib
import numpy as np

from ...core import text_view
from ...data.prepare import tokenize
from .compute import display_tokens


def review_view(row, grads, reviews, vocab, oov_char, rank_by, width) -> dict:
    """Everything a view needs about one table row: words, norms per token, marked spans."""
    i = int(np.flatnonzero(reviews.review_id == row["review_id"])[0])
    words = display_tokens(reviews, i, vocab, oov_char)
    position = grads["position"][i]
    norms = grads[f"norms_{rank_by}"][i]
    token_norm = np.full(len(words), np.nan)
    token_norm[position[position >= 0]] = norms[position >= 0]
    top = set(range(int(row["word_position"]), int(row["word_position"]) + width))
    phrase = set()
    if isinstance(row.get("paper_phrase"), str) and row["paper_phrase"]:
        start = row["phrase_position"]
        if start == start and start is not None:  # not NaN
            phrase = set(range(int(start), int(start) + len(tokenize(row["paper_phrase"]))))
    return {"words": words, "norm": token_norm, "top": top & set(range(len(words))),
            "phrase": phrase, "seen_from": int(position[position >= 0].min())}


def view_rows(df, fig_cfg: dict) -> list:
    """Rows shown in the views: up to `paper_reviews` per paper phrase, then random ones."""
    paper = df[df["selection"] != "random"]
    paper = paper.groupby("paper_phrase", sort=False).head(fig_cfg["paper_reviews"])
    random = df[df["selection"] == "random"].head(fig_cfg["random_reviews"])
    return [r for _, r in paper.iterrows()] + [r for _, r in random.iterrows()]


def _views(df, grads, reviews, vocab, cfg: dict) -> list[tuple]:
    """(row, review_view) for every row shown."""
    attr, oov_char = cfg["attribution"], cfg["data"]["imdb"]["oov_char"]
    return [(row, review_view(row, grads, reviews, vocab, oov_char, attr["rank_by"],
                              int(attr["window"])))
            for row in view_rows(df, cfg["figure"])]


def _hex(rgba) -> str:
    return "#" + "".join(f"{int(round(255 * c)):02x}" for c in rgba[:3])


def _has_rank(rank) -> bool:
    return rank is not None and rank == rank and str(rank) != "<NA>"


def html_view(df, grads, reviews, vocab, cfg: dict) -> str:
    """The HTML page: whole reviews, each word's background = its norm / the review's largest."""
    model, rank_by = cfg["model"], cfg["attribution"]["rank_by"]
    width = int(cfg["attribution"]["window"])
    cmap = matplotlib.colormaps[cfg["figure"]["cmap"]]
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        "<title>IMDB CNN: per-word gradient norms</title><style>",
        "body{font-family:Georgia,serif;max-width:60em;margin:2em auto;line-height:1.9;color:#222}",
        ".w{padding:1px 2px;border-radius:3px}",
        ".top{outline:2px solid #000}",
        ".ph{border-bottom:3px solid #1f5fbf}",
        ".cut{color:#aaa}",
        ".meta{font-family:sans-serif;font-size:0.85em;color:#555;line-height:1.4}",
        "h2{font-family:sans-serif;font-size:1.05em;margin-top:2em}",
        ".legend span{display:inline-block;width:2.2em;height:1em;vertical-align:middle}",
        "</style></head><body>",
        "<h1 style='font-family:sans-serif'>Which words move the IMDB CNN's prediction?</h1>",
        f"<p class='meta'>Each word is shaded by the L2 norm of the gradient of the predicted "
        f"{html.escape(rank_by)} with respect to its {model['embedding_dim']}-dimensional "
        f"embedding (paper 5.1), scaled to the largest norm in the review. "
        f"<span class='w top'>boxed</span>: the {width}-word expression starting at the "
        f"largest-norm word (Table 1). <span class='w ph'>underlined</span>: the paper's "
        f"example expression. <span class='cut'>grey</span>: truncated, not seen by the model "
        f"(only the last {model['maxlen']} tokens are). [word]: outside the dictionary.</p>",
        "<p class='meta legend'>low "
        + "".join(f"<span style='background:{_hex(cmap(v))}'></span>" for v in np.linspace(0, 1, 8))
        + " high</p>",
    ]
    for row, v in _views(df, grads, reviews, vocab, cfg):
        peak = np.nanmax(v["norm"]) or 1.0
        label = "positive" if row["label"] == 1 else "negative"
        rank = row.get("phrase_rank")
        rank_txt = (f"; paper phrase rank {int(rank)} of {row['words_seen']}"
                    if _has_rank(rank) else "")
        parts.append(f"<h2>{html.escape(row['selection'])} — review {html.escape(row['review_id'])}"
                     "</h2>")
        parts.append(f"<p class='meta'>label {label}, predicted P(positive) = "
                     f"{row['probability']:.3f}; top expression “{html.escape(row['expression'])}”"
                     f"{rank_txt}; {row['review_words']} words</p><p>")
        words = []
        for j, w in enumerate(v["words"]):
            n = v["norm"][j]
            cls = ["w"] + (["top"] if j in v["top"] else []) + (["ph"] if j in v["phrase"] else [])
            if n != n:  # truncated away
                words.append(f"<span class='cut'>{html.escape(w)}</span>")
                continue
            rgba = cmap(float(n / peak))
            color = "#fff" if n / peak > 0.6 else "#222"
            words.append(f"<span class='{' '.join(cls)}' style='background:{_hex(rgba)};"
                         f"color:{color}' title='norm {n:.3g}'>{html.escape(w)}</span>")
        parts.append(" ".join(words) + "</p>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _segments(v, context: int) -> list[tuple[int, int]]:
    """Token ranges shown in the PNG: around the top expression and the paper phrase."""
    spans = []
    for marked in (v["top"], v["phrase"]):
        if marked:
            spans.append((max(min(marked) - context, 0), min(max(marked) + context + 1,
                                                              len(v["words"]))))
    spans.sort()
    merged = [list(spans[0])]
    for a, b in spans[1:]:
        if a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [tuple(s) for s in merged]


def png_view(df, grads, reviews, vocab, cfg: dict):
    """The PNG: a few dozen words around each row's marked expressions, on a monospace grid
    (`core.text_view`); returns the figure (the caller saves and closes it)."""
    fig_cfg, rank_by = cfg["figure"], cfg["attribution"]["rank_by"]
    char_w, line_chars = text_view.grid(fig_cfg["font_size"], fig_cfg["width_in"])
    laid = [((row, v), text_view.lines(v["words"], _segments(v, fig_cfg["context_words"]),
                                       line_chars))
            for row, v in _views(df, grads, reviews, vocab, cfg)]

    def draw(ax, payload, lines):
        row, v = payload
        peak = np.nanmax(v["norm"]) or 1.0
        rank = row.get("phrase_rank")
        rank_txt = (f", paper phrase rank {int(rank)}/{row['words_seen']}"
                    if _has_rank(rank) else "")
        header = (f"{row['selection']} | {row['review_id']} | label "
                  f"{'pos' if row['label'] == 1 else 'neg'}, P(pos)={row['probability']:.3f} | "
                  f"top: “{row['expression']}”{rank_txt}")
        text_view.draw_words(ax, header, lines, np.asarray(v["norm"]) / peak, fig_cfg, char_w,
                             boxed=v["top"], underlined=v["phrase"], grey_unscored=True)

    return text_view.stacked_figure(
        laid, draw, f"Per-word gradient norm ‖∂ {rank_by} / ∂ embedding‖ — IMDB CNN test reviews",
        "gradient norm / largest in review (box: top expression; blue: paper's phrase; "
        "grey: truncated)", fig_cfg)
