"""Views of Table 1's reviews with every word shaded by its gradient norm: an HTML page
(whole reviews, inline CSS) and a PNG (a text layout around the marked expressions).

They read only the saved table and gradient arrays (never the model). `cfg` is the resolved
experiment config: `figure` (style and which rows), `attribution`, `model`, `data`.
"""

from __future__ import annotations

import html

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

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


def _lines(v, context: int, line_chars: int) -> list[list[tuple]]:
    """The shown tokens (with "…" for what is left out) wrapped into lines of at most
    `line_chars` characters: [(word, token index or None, column in characters), ...]."""
    segments, tokens = _segments(v, context), []
    for k, (a, b) in enumerate(segments):
        if k or a > 0:
            tokens.append(("…", None))
        tokens += [(v["words"][j], j) for j in range(a, b)]
    if segments[-1][1] < len(v["words"]):
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


def png_view(df, grads, reviews, vocab, cfg: dict):
    """The PNG: a few dozen words around each row's marked expressions, on a monospace grid;
    returns the figure (the caller saves and closes it)."""
    fig_cfg, rank_by = cfg["figure"], cfg["attribution"]["rank_by"]
    cmap = matplotlib.colormaps[fig_cfg["cmap"]]
    fs = fig_cfg["font_size"]
    # DejaVu Sans Mono advances 0.602 em per character: lay words out on that grid
    char_w = fs * 0.602 / 72 / (0.96 * fig_cfg["width_in"])  # in axes-width units
    line_chars = int(1.0 / char_w) - 1
    laid = [(row, v, _lines(v, fig_cfg["context_words"], line_chars))
            for row, v in _views(df, grads, reviews, vocab, cfg)]
    line_in = fs * 2.0 / 72
    heights = [(len(lines) + 1.6) * line_in for _, _, lines in laid]
    fig = plt.figure(figsize=(fig_cfg["width_in"], sum(heights) + 1.1))
    top = 1.0 - 0.5 / fig.get_figheight()
    fig.text(0.5, 1 - 0.25 / fig.get_figheight(),
             f"Per-word gradient norm ‖∂ {rank_by} / ∂ embedding‖ — IMDB CNN test reviews",
             ha="center", va="center", fontsize=fs + 2, weight="bold")
    for (row, v, lines), h in zip(laid, heights, strict=True):
        frac = h / fig.get_figheight()
        ax = fig.add_axes([0.02, top - frac, 0.96, frac])
        top -= frac
        _draw_review(ax, row, v, lines, cmap, fs, char_w)
    sm = matplotlib.cm.ScalarMappable(cmap=cmap, norm=matplotlib.colors.Normalize(0, 1))
    cax = fig.add_axes([0.3, 0.45 / fig.get_figheight(), 0.4, 0.1 / fig.get_figheight()])
    cb = fig.colorbar(sm, cax=cax, orientation="horizontal")
    cb.set_label("gradient norm / largest in review (box: top expression; "
                 "blue: paper's phrase; grey: truncated)", fontsize=fs - 1)
    cb.ax.tick_params(labelsize=fs - 1)
    return fig


def _draw_review(ax, row, v, lines, cmap, fs, char_w) -> None:
    """One review's header line and its laid-out words, shaded, boxed and underlined."""
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(len(lines) + 1.6, 0)
    peak = np.nanmax(v["norm"]) or 1.0
    rank = row.get("phrase_rank")
    rank_txt = f", paper phrase rank {int(rank)}/{row['words_seen']}" if _has_rank(rank) else ""
    ax.text(0, 0.6, f"{row['selection']} | {row['review_id']} | label "
            f"{'pos' if row['label'] == 1 else 'neg'}, P(pos)={row['probability']:.3f} | "
            f"top: “{row['expression']}”{rank_txt}", fontsize=fs, weight="bold",
            va="center", family="DejaVu Sans")
    for li, line in enumerate(lines):
        y = li + 1.6
        for w, j, col in line:
            x = col * char_w
            n = v["norm"][j] if j is not None else np.nan
            if n == n:
                ax.add_patch(Rectangle((x - 0.15 * char_w, y - 0.45), (len(w) + 0.3) * char_w,
                                       0.9, facecolor=cmap(float(n / peak)), edgecolor="none"))
            if j is not None and j in v["top"]:
                ax.add_patch(Rectangle((x - 0.15 * char_w, y - 0.45), (len(w) + 0.3) * char_w,
                                       0.9, fill=False, edgecolor="black", linewidth=1.2))
            if j is not None and j in v["phrase"]:
                ax.plot([x, x + len(w) * char_w], [y + 0.47, y + 0.47], color="#1f5fbf", lw=2)
            dark = n == n and n / peak > 0.6
            ax.text(x, y, w, family="DejaVu Sans Mono", fontsize=fs, va="center",
                    color="white" if dark else ("#999" if n != n and j is not None else "#222"))
