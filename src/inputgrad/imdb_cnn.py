"""Paper section 5.1: the word-embedding CNN on IMDB, per-word gradient norms, Table 1.

The prediction is not differentiable in the (categorical) word ids, so, as the paper does, we
differentiate with respect to each word's embedding vector: with x = embedding(ids) of shape
(n, maxlen, dim) and f = the `head` sub-model (everything after the embedding, inference mode),
the gradient for word j is d f(x) / d x[:, j, :], and its L2 norm ranks the words. Table 1 shows
for each review the `window`-word expression (the convolution length) whose first word has the
largest norm. Padding columns and the start marker (position == -1) never take part: their
norms are NaN.

All gradients come from `inputgrad.gradients.gradient_batches`; each batch is reduced to norms
at once, so the (n, maxlen, dim) gradient tensor of the whole test set is never held.
"""

from __future__ import annotations

import html
import logging
import time
from pathlib import Path

import numpy as np

from .data import Reviews, load_reviews, load_tokens, pad_reviews
from .io import save_figure, save_npz, write_text
from .prepare import tokenize

log = logging.getLogger(__name__)

OOV_MARK = "[{}]"  # out-of-vocabulary tokens (the model sees only oov_char) are shown as [word]
TARGETS = ("probability", "logit")


# ----------------------------------------------------------------------------- data + training

def model_inputs(reviews: Reviews, maxlen: int, start_char: int) -> tuple[np.ndarray, np.ndarray]:
    """(x, position): Keras pad_sequences layout with the start marker (see data.pad_reviews)."""
    return pad_reviews(reviews, maxlen, start_char)


def load_data(train_path, test_path, maxlen: int, start_char: int) -> dict[str, np.ndarray]:
    data = {}
    for split, path in (("train", train_path), ("test", test_path)):
        reviews = load_reviews(path)
        data[f"x_{split}"], _ = model_inputs(reviews, maxlen, start_char)
        data[f"y_{split}"] = reviews.label.astype(np.float32)
        log.info("IMDB %s: %d reviews padded/truncated to %d", split, len(reviews), maxlen)
    return data


def train(train_path, test_path, experiment_id_file, outputs: dict, hyper: dict, seed: int,
          tracking_uri=None) -> dict:
    """The training rule: the shared train_and_log path on the padded IMDB reviews."""
    from .tracking import Tracker, read_id, results_dir_of
    from .train import train_and_log

    model_cfg, imdb_cfg = hyper["model"], hyper["data"]["imdb"]
    data = load_data(train_path, test_path, model_cfg["maxlen"], imdb_cfg["start_char"])
    tracker = Tracker.for_results(results_dir_of(experiment_id_file), tracking_uri)
    return train_and_log(model_cfg, hyper, data, outputs, tracker, read_id(experiment_id_file),
                         run_name=f"imdb_cnn-seed{seed}", seed=seed)


# ----------------------------------------------------------------------------- gradients

def split_model(model):
    """(embed, f): the embedding lookup and the head as a function of the embedding output."""
    embedding, head = model.get_layer("embedding"), model.get_layer("head")

    def f(x):
        return head(x, training=False)

    return embedding, f


def embedding_norm(grads):
    """(b, maxlen, dim) gradients -> (b, maxlen) L2 norms; runs inside the compiled gradient."""
    import tensorflow as tf

    return tf.sqrt(tf.reduce_sum(tf.square(grads), axis=-1))


def word_gradient_norms(embedding, f, ids: np.ndarray, targets=TARGETS, batch_size: int = 128,
                        chunk_size: int = 256) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """L2 norm over the embedding dimension of d target / d embedding(ids), per word column.

    Returns ({target: norms (n, maxlen) float32}, logits (n,)). Only `chunk_size` reviews are
    embedded at a time and each gradient batch is reduced to norms at once. One gradient pass
    (of the logit) serves both targets: the model has a single sigmoid output, so
    d p / d e = p (1 - p) d logit / d e and the probability norms are the logit norms scaled
    by p (1 - p) >= 0 (tested against a direct probability pass).
    """
    from .gradients import gradient_batches

    n, maxlen = ids.shape
    logit_norms = np.empty((n, maxlen), np.float32)
    logits = np.empty(n, np.float32)
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        x = embedding(ids[start:stop]).numpy()
        # classes=0: the single output of the binary model (no extra forward pass)
        for rows, batch_norms, outs in gradient_batches(f, x, output="logit", classes=0,
                                                        batch_size=batch_size,
                                                        reduce=embedding_norm):
            sl = slice(start + rows.start, start + rows.stop)
            logit_norms[sl] = batch_norms
            logits[sl] = outs[:, 0]
    norms = {}
    if "logit" in targets:
        norms["logit"] = logit_norms
    if "probability" in targets:
        p = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
        norms["probability"] = (logit_norms * (p * (1.0 - p))[:, None]).astype(np.float32)
    return norms, logits


def mask_padding(norms: np.ndarray, position: np.ndarray) -> np.ndarray:
    """NaN where the column is padding or the start marker (position == -1)."""
    if norms.shape != position.shape:
        raise ValueError(f"norms {norms.shape} and position {position.shape} differ in shape")
    return np.where(position >= 0, norms, np.nan).astype(np.float32)


def compute_word_gradients(model_path, test_path, out_path, hyper: dict) -> dict:
    """The gradient rule: per-word gradient norms for every test review, saved as arrays.

    out_path (.npz) holds norms_<target> (n, maxlen; NaN on padding/start marker), position
    (n, maxlen; token index or -1), logit and probability (n,), label (n,), review_id (n,).
    """
    import keras

    model_cfg, attr = hyper["model"], hyper["attribution"]
    for t in attr["targets"]:
        if t not in TARGETS:
            raise ValueError(f"attribution.targets: unknown target {t!r}; known: {TARGETS}")
    reviews = load_reviews(test_path)
    ids, position = model_inputs(reviews, model_cfg["maxlen"], hyper["data"]["imdb"]["start_char"])
    model = keras.models.load_model(model_path)
    embedding, f = split_model(model)
    start = time.time()
    norms, logits = word_gradient_norms(embedding, f, ids, attr["targets"], attr["batch_size"],
                                        attr["chunk_size"])
    seconds = time.time() - start
    log.info("per-word gradients (%s) for %d reviews in %.1f s", ", ".join(attr["targets"]),
             len(ids), seconds)
    arrays = {f"norms_{t}": mask_padding(v, position) for t, v in norms.items()}
    arrays.update(position=position, logit=logits,
                  probability=(1 / (1 + np.exp(-logits.astype(np.float64)))).astype(np.float32),
                  label=reviews.label, review_id=reviews.review_id)
    accuracy = float(((arrays["logit"] > 0) == (reviews.label == 1)).mean())
    log.info("accuracy of the saved predictions: %.4f", accuracy)
    save_npz(out_path, arrays, compressed=True)
    return {"seconds": seconds, "accuracy": accuracy}


def load_gradients(path) -> dict[str, np.ndarray]:
    with np.load(path) as fh:
        return {k: fh[k] for k in fh.files}


# ----------------------------------------------------------------------------- windows, ranks

def word_order(norms: np.ndarray, tiebreak: np.ndarray | None = None) -> np.ndarray:
    """Columns of one review, largest norm first; NaN (masked) columns left out.

    `tiebreak` (e.g. the logit norms when ranking by probability norms) orders equal norms,
    including all-zero probability gradients of saturated predictions.
    """
    norms = np.asarray(norms, np.float64)
    valid = np.flatnonzero(~np.isnan(norms))
    keys = [-norms[valid]] if tiebreak is None else [-np.asarray(tiebreak, np.float64)[valid],
                                                      -norms[valid]]
    return valid[np.lexsort(keys)]


def top_window(norms: np.ndarray, width: int, tiebreak: np.ndarray | None = None) -> np.ndarray:
    """Columns of the expression starting at the largest-norm word (paper: the convolution
    spans `width` words, the first one is the argmax); shorter at the end of the review."""
    order = word_order(norms, tiebreak)
    if len(order) == 0:
        raise ValueError("review has no word columns (all masked)")
    first = int(order[0])
    stop = min(first + width, len(norms))
    cols = np.arange(first, stop)
    return cols[~np.isnan(np.asarray(norms, np.float64)[cols])]


def column_rank(norms: np.ndarray, column: int, tiebreak: np.ndarray | None = None) -> int:
    """Rank (1 = largest norm) of a column's word among the review's word columns."""
    order = word_order(norms, tiebreak)
    hit = np.flatnonzero(order == column)
    if len(hit) == 0:
        raise ValueError(f"column {column} is masked (padding / start marker)")
    return int(hit[0]) + 1


def find_phrase(tokens: list[str], phrase: list[str]) -> list[int]:
    """Token indices where `phrase` (a token list) starts in `tokens`."""
    k = len(phrase)
    return [i for i in range(len(tokens) - k + 1) if tokens[i:i + k] == phrase]


def display_tokens(reviews: Reviews, i: int, vocab: list[str], oov_char: int) -> list[str]:
    """The review's own words, out-of-vocabulary ones marked as OOV_MARK."""
    words = reviews.tokens(i, vocab)
    oov = reviews.ids(i) == oov_char
    return [OOV_MARK.format(w) if o else w for w, o in zip(words, oov)]


# ----------------------------------------------------------------------------- Table 1

def select_reviews(reviews: Reviews, vocab: list[str], phrases: list[str], n_random: int,
                   seed: int) -> list[dict]:
    """The paper's reviews (those containing one of its phrases) and a seeded random sample.

    One entry per review: {"index", "selection", "phrase", "starts"}; random reviews exclude
    the paper's ones.
    """
    wanted = {p: tokenize(p) for p in phrases}
    found: dict[int, dict] = {}
    first_tokens = {ph[0] for ph in wanted.values() if ph}
    index = {t: i for i, t in enumerate(vocab) if t in first_tokens}
    for phrase, ph in wanted.items():
        if not ph:
            raise ValueError(f"attribution.table.paper_phrases: {phrase!r} has no tokens")
        if ph[0] not in index:
            log.warning("paper phrase %r: first word not in the test vocabulary", phrase)
            continue
        candidates = np.unique(np.searchsorted(
            reviews.offsets, np.flatnonzero(reviews.token_idx == index[ph[0]]), side="right") - 1)
        hits = 0
        for i in candidates:
            starts = find_phrase(reviews.tokens(int(i), vocab), ph)
            if not starts:
                continue
            hits += 1
            entry = found.setdefault(int(i), {"index": int(i), "selection": [], "phrase": [],
                                              "starts": []})
            entry["selection"].append(f"paper: {phrase}")
            entry["phrase"].append(phrase)
            entry["starts"].append(starts)
        log.info("paper phrase %r: %d test review(s)", phrase, hits)
    rows = [dict(e, selection="; ".join(e["selection"])) for e in found.values()]
    rest = np.setdiff1d(np.arange(len(reviews)), list(found))
    rng = np.random.default_rng(seed)
    pick = rng.choice(rest, size=min(n_random, len(rest)), replace=False)
    rows += [{"index": int(i), "selection": "random", "phrase": [], "starts": []} for i in pick]
    return rows


def phrase_counts(selected: list[dict], phrases: list[str]) -> dict[str, int]:
    return {p: sum(p in s["phrase"] for s in selected) for p in phrases}


def table1(grads: dict[str, np.ndarray], reviews: Reviews, vocab: list[str], attr: dict,
           oov_char: int):
    """Table 1 as a tidy DataFrame: one row per selected review."""
    import pandas as pd

    table_cfg, width = attr["table"], int(attr["window"])
    rank_by = attr["rank_by"]
    if f"norms_{rank_by}" not in grads:
        raise KeyError(f"attribution.rank_by: {rank_by!r} not among the saved targets")
    tie = "logit" if rank_by != "logit" and "norms_logit" in grads else None
    if len(grads["review_id"]) != len(reviews) or not np.array_equal(grads["review_id"],
                                                                      reviews.review_id):
        raise ValueError("gradient arrays and test reviews are not the same reviews in the same order")
    selected = select_reviews(reviews, vocab, table_cfg["paper_phrases"],
                              table_cfg["random_reviews"], table_cfg["random_seed"])
    rows = []
    for s in selected:
        i = s["index"]
        norms, position = grads[f"norms_{rank_by}"][i], grads["position"][i]
        tiebreak = grads[f"norms_{tie}"][i] if tie else None
        words = display_tokens(reviews, i, vocab, oov_char)
        cols = top_window(norms, width, tiebreak)
        first = int(cols[0])
        row = {
            "selection": s["selection"],
            "review_id": str(reviews.review_id[i]),
            "label": int(reviews.label[i]),
            "probability": float(grads["probability"][i]),
            "expression": " ".join(words[position[c]] for c in cols),
            "word_position": int(position[first]),
            f"norm_{rank_by}": float(norms[first]),
        }
        if tie:
            row[f"norm_{tie}"] = float(grads[f"norms_{tie}"][i][first])
        row["review_words"] = len(words)
        row["words_seen"] = int((position >= 0).sum())
        row.update(phrase_rank_columns(s, norms, position, tiebreak))
        rows.append(row)
    return pd.DataFrame(rows), phrase_counts(selected, table_cfg["paper_phrases"])


def phrase_rank_columns(selected: dict, norms, position, tiebreak) -> dict:
    """paper_phrase, phrase_position, phrase_rank, phrase_status for one review.

    With several occurrences the best-ranked one seen by the model is reported; an
    occurrence whose first word was truncated away (outside the maxlen window) has no rank.
    """
    out = {"paper_phrase": "", "phrase_position": pd_na(), "phrase_rank": pd_na(),
           "phrase_status": ""}
    if not selected["phrase"]:
        return out
    column_of = {int(p): c for c, p in enumerate(position) if p >= 0}
    best = None
    statuses = []
    for phrase, starts in zip(selected["phrase"], selected["starts"]):
        for start in starts:
            if start in column_of:
                rank = column_rank(norms, column_of[start], tiebreak)
                statuses.append("seen")
                if best is None or rank < best[2]:
                    best = (phrase, start, rank)
            else:
                statuses.append("truncated")
    n = len(statuses)
    status = (f"{statuses.count('seen')} of {n} occurrence(s) seen" if n > 1
              else ("seen" if statuses[0] == "seen" else "truncated (outside the window)"))
    if best is None:
        first_phrase, first_start = selected["phrase"][0], selected["starts"][0][0]
        out.update(paper_phrase=first_phrase, phrase_position=first_start, phrase_status=status)
    else:
        out.update(paper_phrase=best[0], phrase_position=best[1], phrase_rank=best[2],
                   phrase_status=status)
    return out


def pd_na():
    import pandas as pd

    return pd.NA


TABLE_NOTE = (
    "Table 1 (paper 5.1): for each test review, the {width}-word expression starting at the word "
    "whose embedding gradient has the largest L2 norm (gradient of the predicted {rank_by}; ties, "
    "e.g. saturated probabilities, broken by the logit-gradient norm). Words in [brackets] are "
    "outside the {num_words}-word dictionary (the model sees one shared out-of-vocabulary id). "
    "`word_position` is the 0-based token index in the review; `words_seen` the tokens inside "
    "the {maxlen}-token window (longer reviews lose their beginning, as pad_sequences truncates). "
    "`phrase_rank`: rank of the paper's expression's first word among the review's words by "
    "gradient norm (1 = largest; empty if truncated away). `probability`: predicted P(positive); "
    "`label`: 1 = positive. Paper phrases matched in {counts}."
)


def write_table(df, csv_path, md_path, note: str) -> None:
    csv_path, md_path = Path(csv_path), Path(md_path)
    write_text(csv_path, df.to_csv(index=False))
    shown = df.copy()
    for col in shown.columns:
        if col.startswith("norm_"):
            shown[col] = shown[col].map(lambda v: f"{v:.3g}")
    shown["probability"] = shown["probability"].map(lambda v: f"{v:.3f}")
    for col in ("phrase_position", "phrase_rank"):
        shown[col] = shown[col].map(lambda v: "" if v is None or v is np.nan or str(v) in
                                    ("<NA>", "nan") else str(int(v)))
    md = shown.to_markdown(index=False) + "\n\n" + note + "\n"
    write_text(md_path, md)


def make_table1(gradients_path, test_path, tokens_path, csv_path, md_path, hyper: dict) -> dict:
    """The Table 1 rule."""
    attr, imdb = hyper["attribution"], hyper["data"]["imdb"]
    grads = load_gradients(gradients_path)
    reviews, vocab = load_reviews(test_path), load_tokens(tokens_path)
    df, counts = table1(grads, reviews, vocab, attr, imdb["oov_char"])
    counts_text = ", ".join(f"“{p}”: {n} review(s)" for p, n in counts.items())
    note = TABLE_NOTE.format(width=attr["window"], rank_by=attr["rank_by"],
                             num_words=imdb["num_words"], maxlen=hyper["model"]["maxlen"],
                             counts=counts_text)
    write_table(df, csv_path, md_path, note)
    log.info("Table 1: %d rows; %s", len(df), counts_text)
    return counts


# ----------------------------------------------------------------------------- views

def _review_view(row, grads, reviews, vocab, oov_char, rank_by, width):
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


def _hex(rgba) -> str:
    return "#" + "".join(f"{int(round(255 * c)):02x}" for c in rgba[:3])


def html_view(df, grads, reviews, vocab, hyper: dict, fig_cfg: dict) -> str:
    import matplotlib

    attr, imdb = hyper["attribution"], hyper["data"]["imdb"]
    rank_by, width = attr["rank_by"], int(attr["window"])
    cmap = matplotlib.colormaps[fig_cfg["cmap"]]
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
        f"{html.escape(rank_by)} with respect to its {hyper['model']['embedding_dim']}-dimensional "
        f"embedding (paper 5.1), scaled to the largest norm in the review. "
        f"<span class='w top'>boxed</span>: the {width}-word expression starting at the "
        f"largest-norm word (Table 1). <span class='w ph'>underlined</span>: the paper's "
        f"example expression. <span class='cut'>grey</span>: truncated, not seen by the model "
        f"(only the last {hyper['model']['maxlen']} tokens are). [word]: outside the dictionary.</p>",
        "<p class='meta legend'>low "
        + "".join(f"<span style='background:{_hex(cmap(v))}'></span>" for v in np.linspace(0, 1, 8))
        + " high</p>",
    ]
    for row in view_rows(df, fig_cfg):
        v = _review_view(row, grads, reviews, vocab, imdb["oov_char"], rank_by, width)
        peak = np.nanmax(v["norm"]) or 1.0
        label = "positive" if row["label"] == 1 else "negative"
        rank = row.get("phrase_rank")
        rank_txt = (f"; paper phrase rank {int(rank)} of {row['words_seen']}"
                    if rank is not None and rank == rank and str(rank) != "<NA>" else "")
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


def png_view(df, grads, reviews, vocab, hyper: dict, fig_cfg: dict, out_path) -> None:
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    attr, imdb = hyper["attribution"], hyper["data"]["imdb"]
    rank_by, width = attr["rank_by"], int(attr["window"])
    cmap = matplotlib.colormaps[fig_cfg["cmap"]]
    fs = fig_cfg["font_size"]
    # DejaVu Sans Mono advances 0.602 em per character: lay words out on that grid
    char_w = fs * 0.602 / 72 / (0.96 * fig_cfg["width_in"])  # in axes-width units
    line_chars = int(1.0 / char_w) - 1
    rows = view_rows(df, fig_cfg)
    laid = []
    for row in rows:
        v = _review_view(row, grads, reviews, vocab, imdb["oov_char"], rank_by, width)
        tokens = []
        for k, (a, b) in enumerate(_segments(v, fig_cfg["context_words"])):
            if k or a > 0:
                tokens.append(("…", None))
            tokens += [(v["words"][j], j) for j in range(a, b)]
        if b < len(v["words"]):
            tokens.append(("…", None))
        lines, cur, used = [], [], 0
        for w, j in tokens:
            if used + len(w) > line_chars and cur:
                lines.append(cur)
                cur, used = [], 0
            cur.append((w, j, used))
            used += len(w) + 1
        lines.append(cur)
        laid.append((row, v, lines))
    line_in = fs * 2.0 / 72
    heights = [(len(lines) + 1.6) * line_in for _, _, lines in laid]
    fig = plt.figure(figsize=(fig_cfg["width_in"], sum(heights) + 1.1))
    top = 1.0 - 0.5 / fig.get_figheight()
    fig.text(0.5, 1 - 0.25 / fig.get_figheight(),
             f"Per-word gradient norm ‖∂ {rank_by} / ∂ embedding‖ — IMDB CNN test reviews",
             ha="center", va="center", fontsize=fs + 2, weight="bold")
    for (row, v, lines), h in zip(laid, heights):
        frac = h / fig.get_figheight()
        ax = fig.add_axes([0.02, top - frac, 0.96, frac])
        top -= frac
        ax.set_axis_off()
        ax.set_xlim(0, 1)
        ax.set_ylim(len(lines) + 1.6, 0)
        peak = np.nanmax(v["norm"]) or 1.0
        rank = row.get("phrase_rank")
        rank_txt = (f", paper phrase rank {int(rank)}/{row['words_seen']}"
                    if rank is not None and rank == rank and str(rank) != "<NA>" else "")
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
    sm = matplotlib.cm.ScalarMappable(cmap=cmap, norm=matplotlib.colors.Normalize(0, 1))
    cax = fig.add_axes([0.3, 0.45 / fig.get_figheight(), 0.4, 0.1 / fig.get_figheight()])
    cb = fig.colorbar(sm, cax=cax, orientation="horizontal")
    cb.set_label("gradient norm / largest in review (box: top expression; "
                 "blue: paper's phrase; grey: truncated)", fontsize=fs - 1)
    cb.ax.tick_params(labelsize=fs - 1)
    save_figure(fig, out_path, dpi=fig_cfg["dpi"])
    plt.close(fig)


def make_views(table_csv, gradients_path, test_path, tokens_path, html_path, png_path,
               hyper: dict, fig_cfg: dict) -> None:
    """The figure rule: reads only the saved table and arrays (never the model)."""
    import pandas as pd

    df = pd.read_csv(table_csv, keep_default_na=False, na_values={"phrase_position": [""],
                                                                  "phrase_rank": [""]})
    grads = load_gradients(gradients_path)
    reviews, vocab = load_reviews(test_path), load_tokens(tokens_path)
    write_text(html_path, html_view(df, grads, reviews, vocab, hyper, fig_cfg))
    png_view(df, grads, reviews, vocab, hyper, fig_cfg, png_path)


# ----------------------------------------------------------------------------- MLflow, files
