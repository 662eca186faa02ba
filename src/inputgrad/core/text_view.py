"""The text-highlight view shared by the Table 1 figure (imdb_cnn) and the planted-token review
(planted_tokens): words on a monospace grid, wrapped into lines, each shaded by its score, with
boxed or underlined words, one axes per review stacked in one figure with a colour bar. The
sections decide what is shown and how the header reads; the layout and drawing live here once."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

# DejaVu Sans Mono advances 0.602 em per character: words are laid out on that grid
MONO_ADVANCE = 0.602


def grid(font_size: float, width_in: float) -> tuple[float, int]:
    """(width of one character in axes-width units, characters per line) of a review's axes,
    which span 96 % of a figure `width_in` wide."""
    char_w = font_size * MONO_ADVANCE / 72 / (0.96 * width_in)
    return char_w, int(1.0 / char_w) - 1


def lines(words: list[str], segments: list[tuple[int, int]], line_chars: int) -> list[list]:
    """The words of `segments` ([(start, stop), ...], sorted) with "…" for what is left out,
    wrapped into lines of at most `line_chars` characters: [(word, index or None, column)]."""
    tokens = []
    for k, (a, b) in enumerate(segments):
        if k or a > 0:
            tokens.append(("…", None))
        tokens += [(words[j], j) for j in range(a, b)]
    if segments[-1][1] < len(words):
        tokens.append(("…", None))
    out, cur, used = [], [], 0
    for w, j in tokens:
        if used + len(w) > line_chars and cur:
            out.append(cur)
            cur, used = [], 0
        cur.append((w, j, used))
        used += len(w) + 1
    out.append(cur)
    return out


def stacked_figure(laid: list[tuple], draw, title: str, label: str, style: dict):
    """One figure: `title`, then one axes per (payload, lines) of `laid`, drawn by
    draw(ax, payload, lines), then a colour bar of style["cmap"] over [0, 1] labelled `label`
    (style: cmap, font_size, width_in). The caller saves and closes it."""
    fs = style["font_size"]
    line_in = fs * 2.0 / 72
    heights = [(len(ls) + 1.6) * line_in for _, ls in laid]
    fig = plt.figure(figsize=(style["width_in"], sum(heights) + 1.1))
    top = 1.0 - 0.5 / fig.get_figheight()
    fig.text(0.5, 1 - 0.25 / fig.get_figheight(), title, ha="center", va="center",
             fontsize=fs + 2, weight="bold")
    for (payload, ls), h in zip(laid, heights, strict=True):
        frac = h / fig.get_figheight()
        ax = fig.add_axes([0.02, top - frac, 0.96, frac])
        top -= frac
        draw(ax, payload, ls)
    cmap = matplotlib.colormaps[style["cmap"]]
    sm = matplotlib.cm.ScalarMappable(cmap=cmap, norm=matplotlib.colors.Normalize(0, 1))
    cax = fig.add_axes([0.3, 0.45 / fig.get_figheight(), 0.4, 0.1 / fig.get_figheight()])
    cb = fig.colorbar(sm, cax=cax, orientation="horizontal")
    cb.set_label(label, fontsize=fs - 1)
    cb.ax.tick_params(labelsize=fs - 1)
    return fig


def draw_words(ax, header: str, laid_lines, shade, style: dict, char_w: float,
               boxed=(), underlined=(), box_width: float = 1.2, grey_unscored: bool = False):
    """One review: its bold `header`, then its words, each on a patch of cmap(shade[index])
    (no patch where shade is NaN, grey text there if `grey_unscored`), the words of `boxed`
    framed, those of `underlined` underlined in blue; text turns white on dark patches."""
    cmap, fs = matplotlib.colormaps[style["cmap"]], style["font_size"]
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(len(laid_lines) + 1.6, 0)
    ax.text(0, 0.6, header, fontsize=fs, weight="bold", va="center", family="DejaVu Sans")
    for li, line in enumerate(laid_lines):
        y = li + 1.6
        for w, j, col in line:
            x = col * char_w
            s = shade[j] if j is not None else np.nan
            if s == s:
                ax.add_patch(Rectangle((x - 0.15 * char_w, y - 0.45), (len(w) + 0.3) * char_w,
                                       0.9, facecolor=cmap(float(s)), edgecolor="none"))
            if j is not None and j in boxed:
                ax.add_patch(Rectangle((x - 0.15 * char_w, y - 0.45), (len(w) + 0.3) * char_w,
                                       0.9, fill=False, edgecolor="black", linewidth=box_width))
            if j is not None and j in underlined:
                ax.plot([x, x + len(w) * char_w], [y + 0.47, y + 0.47], color="#1f5fbf", lw=2)
            grey = grey_unscored and s != s and j is not None
            ax.text(x, y, w, family="DejaVu Sans Mono", fontsize=fs, va="center",
                    color="white" if s == s and s > 0.6 else ("#999" if grey else "#222"))
