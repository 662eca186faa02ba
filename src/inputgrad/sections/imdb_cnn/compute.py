"""Paper section 5.1, the maths: per-word gradient norms of the IMDB CNN, argmax windows, ranks,
and the choice of Table 1's reviews.

The prediction is not differentiable in the (categorical) word ids, so, as the paper does, we
differentiate with respect to each word's embedding vector: with x = embed(ids) of shape
(n, maxlen, dim) and f = the `head` sub-model (everything after the embedding, inference mode;
both from `core.models.split_embedding`), the gradient for word j is d f(x) / d x[:, j, :], and
its L2 norm ranks the words. Table 1 shows for each review the `window`-word expression (the
convolution length) whose first word has the largest norm. Padding columns and the start marker
(position == -1) never take part: their norms are NaN.

Across seeds (rule table1_seeds): the ranks of the paper's phrases' windows (by first word, as
Table 1, and by the sum of the window's norms), and the stability of the per-word ranking
between two seeds over all reviews, vectorised (per-row ranks, one dot product per pair).

All gradients come from `core.gradients.gradient_batches`; each batch is reduced to norms at
once, so the (n, maxlen, dim) gradient tensor of the whole test set is never held.
TensorFlow is imported only by the functions that need it, so the table and figure rules do
not load it.
"""

from __future__ import annotations

import logging

import numpy as np

from ...core.stats import probability_scale, sigmoid
from ...data.arrays import Reviews, load_reviews, pad_reviews
from ...data.encodings import OOV_MARK, display_tokens  # noqa: F401  (shared)
from ...data.prepare import tokenize
from ...data.samples import sample_rows
from ...infra.errors import ConfigError

log = logging.getLogger(__name__)

TARGETS = ("probability", "logit")


# ----------------------------------------------------------------------------- model inputs

def model_inputs(reviews: Reviews, maxlen: int, start_char: int) -> tuple[np.ndarray, np.ndarray]:
    """(x, position): Keras pad_sequences layout with the start marker (see pad_reviews)."""
    return pad_reviews(reviews, maxlen, start_char)


def load_data(train_path, test_path, maxlen: int, start_char: int) -> dict[str, np.ndarray]:
    """x_train, y_train, x_test, y_test: padded word ids and float32 labels for training."""
    data = {}
    for split, path in (("train", train_path), ("test", test_path)):
        reviews = load_reviews(path)
        data[f"x_{split}"], _ = model_inputs(reviews, maxlen, start_char)
        data[f"y_{split}"] = reviews.label.astype(np.float32)
        log.info("IMDB %s: %d reviews padded/truncated to %d", split, len(reviews), maxlen)
    return data


# ----------------------------------------------------------------------------- gradients

def check_targets(targets) -> None:
    for t in targets:
        if t not in TARGETS:
            raise ConfigError(f"attribution.targets: unknown target {t!r}; known: {TARGETS}")


def embedding_norm(grads):
    """(b, maxlen, dim) gradients -> (b, maxlen) L2 norms; runs inside the compiled gradient."""
    import tensorflow as tf

    return tf.sqrt(tf.reduce_sum(tf.square(grads), axis=-1))


def word_gradient_norms(model, ids: np.ndarray, targets=TARGETS, batch_size: int = 128,
                        chunk_size: int = 256) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """L2 norm over the embedding dimension of d target / d embedding(ids), per word column.

    Returns ({target: norms (n, maxlen) float32}, logits (n,)). One gradient pass (of the
    logit) serves both targets: the model has a single sigmoid output, so
    d p / d e = p (1 - p) d logit / d e and the probability norms are the logit norms scaled
    by p (1 - p) >= 0 (tested against a direct probability pass). A model of the imdb_cnn
    shape takes the exact fast path `core.cnn_fast` (max-pool gradient only at the selected
    positions); any other model the shared gradient primitive (`tape_logit_norms`).
    """
    from ...core import cnn_fast

    parts = cnn_fast.conv_maxpool(model)
    if parts is not None:
        logit_norms, logits = cnn_fast.logit_gradient_norms(parts, ids, batch_size)
    else:
        logit_norms, logits = tape_logit_norms(model, ids, batch_size, chunk_size)
    norms = {}
    if "logit" in targets:
        norms["logit"] = logit_norms
    if "probability" in targets:
        norms["probability"] = (logit_norms * probability_scale(logits)[:, None]).astype(np.float32)
    return norms, logits


def tape_logit_norms(model, ids: np.ndarray, batch_size: int = 128,
                     chunk_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Per-word logit-gradient norms (n, maxlen) and logits (n,) through the shared gradient
    primitive, for any model that starts with an embedding. Only `chunk_size` reviews are
    embedded at a time and each gradient batch is reduced to norms at once."""
    from ...core.gradients import gradient_batches
    from ...core.models import split_embedding

    embed, f = split_embedding(model)
    n, maxlen = ids.shape
    logit_norms = np.empty((n, maxlen), np.float32)
    logits = np.empty(n, np.float32)
    for start in range(0, n, chunk_size):
        x = embed(ids[start:min(start + chunk_size, n)])
        # classes=0: the single output of the binary model (no extra forward pass)
        for rows, batch_norms, outs in gradient_batches(f, x, output="logit", classes=0,
                                                        batch_size=batch_size,
                                                        reduce=embedding_norm):
            sl = slice(start + rows.start, start + rows.stop)
            logit_norms[sl] = batch_norms
            logits[sl] = outs[:, 0]
    return logit_norms, logits


def mask_padding(norms: np.ndarray, position: np.ndarray) -> np.ndarray:
    """NaN where the column is padding or the start marker (position == -1)."""
    if norms.shape != position.shape:
        raise ValueError(f"norms {norms.shape} and position {position.shape} differ in shape")
    return np.where(position >= 0, norms, np.nan).astype(np.float32)


def word_gradients(model, reviews: Reviews, cfg: dict) -> dict[str, np.ndarray]:
    """The saved arrays of every test review: norms_<target> (n, maxlen; NaN on padding and the
    start marker), position (n, maxlen; token index or -1), logit and probability (n,),
    label (n,), review_id (n,)."""
    attr = cfg["attribution"]
    ids, position = model_inputs(reviews, cfg["model"]["maxlen"],
                                 cfg["data"]["imdb"]["start_char"])
    norms, logits = word_gradient_norms(model, ids, attr["targets"], attr["batch_size"],
                                        attr["chunk_size"])
    arrays = {f"norms_{t}": mask_padding(v, position) for t, v in norms.items()}
    arrays.update(position=position, logit=logits, probability=sigmoid(logits).astype(np.float32),
                  label=reviews.label, review_id=reviews.review_id)
    return arrays


def accuracy(arrays: dict[str, np.ndarray]) -> float:
    """Share of saved predictions (logit > 0 = positive) that match the label."""
    return float(((arrays["logit"] > 0) == (arrays["label"] == 1)).mean())


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
    return window_at(norms, int(order[0]), width)


def window_at(norms: np.ndarray, first: int, width: int) -> np.ndarray:
    """Word columns of the `width`-word expression starting at column `first` (shorter at the
    end of the review; masked columns left out)."""
    cols = np.arange(first, min(first + width, len(norms)))
    return cols[~np.isnan(np.asarray(norms, np.float64)[cols])]


def column_rank(norms: np.ndarray, column: int, tiebreak: np.ndarray | None = None) -> int:
    """Rank (1 = largest norm) of a column's word among the review's word columns."""
    order = word_order(norms, tiebreak)
    hit = np.flatnonzero(order == column)
    if len(hit) == 0:
        raise ValueError(f"column {column} is masked (padding / start marker)")
    return int(hit[0]) + 1


# ----------------------------------------------------------------------------- reviews, phrases

def find_phrase(tokens: list[str], phrase: list[str]) -> list[int]:
    """Token indices where `phrase` (a token list) starts in `tokens`."""
    k = len(phrase)
    return [i for i in range(len(tokens) - k + 1) if tokens[i:i + k] == phrase]


def select_reviews(reviews: Reviews, vocab: list[str], phrases: list[str], n_random: int,
                   seed: int) -> list[dict]:
    """The paper's reviews (those containing one of its phrases) and a seeded random sample.

    One entry per review: {"index", "selection", "phrase", "starts"}; random reviews exclude
    the paper's ones and empty reviews (no word to show).
    """
    wanted = {p: tokenize(p) for p in phrases}
    found: dict[int, dict] = {}
    first_tokens = {ph[0] for ph in wanted.values() if ph}
    index = {t: i for i, t in enumerate(vocab) if t in first_tokens}
    for phrase, ph in wanted.items():
        if not ph:
            raise ConfigError(f"attribution.table.paper_phrases: {phrase!r} has no tokens")
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
    rest = rest[np.diff(reviews.offsets)[rest] > 0]
    pick = sample_rows(rest, n_random, seed, sort=False)
    rows += [{"index": int(i), "selection": "random", "phrase": [], "starts": []} for i in pick]
    return rows


# ----------------------------------------------------------------------------- across seeds

def phrase_occurrences(reviews: Reviews, vocab: list[str], phrases: list[str]) -> list[dict]:
    """Every occurrence of a paper phrase in the test reviews: {"phrase", "index" (review),
    "start" (token index)}, in select_reviews' order (phrase by phrase, review by review)."""
    found = []
    for s in select_reviews(reviews, vocab, phrases, n_random=0, seed=0):
        for phrase, starts in zip(s["phrase"], s["starts"], strict=True):
            found += [{"phrase": phrase, "index": s["index"], "start": start} for start in starts]
    order = {p: k for k, p in enumerate(phrases)}
    return sorted(found, key=lambda o: order[o["phrase"]])  # stable: review order kept


def window_sums(norms: np.ndarray, width: int) -> np.ndarray:
    """Per column: the sum of the norms of the `width`-word window starting there (float64;
    shorter at the end of the review; NaN where the column itself is masked). Works on one
    review (maxlen,) or many (n, maxlen)."""
    x = np.asarray(norms, np.float64)
    filled = np.nan_to_num(x, nan=0.0)
    sums = filled.copy()
    for k in range(1, width):  # add the k-th next word, in window order
        sums[..., :-k] += filled[..., k:]
    return np.where(np.isnan(x), np.nan, sums)


def occurrence_ranks(norms: np.ndarray, column: int, width: int,
                     tiebreak: np.ndarray | None = None) -> dict[str, int]:
    """Ranks (1 = top) of the window starting at `column` among all windows of its review:
    by the norm of its first word (Table 1's rule, = the first word's rank among the words)
    and by the sum of its words' norms (ties by the same sums of the tiebreak norms)."""
    sum_tie = None if tiebreak is None else window_sums(tiebreak, width)
    return {"window_rank_first_word": column_rank(norms, column, tiebreak),
            "window_rank_sum": column_rank(window_sums(norms, width), column, sum_tie)}


def top_window_by_sum(norms: np.ndarray, width: int,
                      tiebreak: np.ndarray | None = None) -> np.ndarray:
    """Columns of the window with the largest sum of norms (cf. top_window: largest first word)."""
    sum_tie = None if tiebreak is None else window_sums(tiebreak, width)
    order = word_order(window_sums(norms, width), sum_tie)
    if len(order) == 0:
        raise ValueError("review has no word columns (all masked)")
    return window_at(norms, int(order[0]), width)


def top_columns(norms: np.ndarray, tiebreak: np.ndarray | None = None) -> np.ndarray:
    """Per review (row), the column of its top word, as word_order(...)[0] picks it (largest
    norm, then largest tiebreak, then the first column); -1 for a review without words."""
    x = np.where(np.isnan(norms), -np.inf, norms)  # in the norms' dtype: exact comparisons
    top = x.argmax(axis=1)  # the first of the largest
    best = np.take_along_axis(x, top[:, None], axis=1)
    tied = np.flatnonzero((x == best).sum(axis=1) > 1)
    if tiebreak is not None and len(tied):  # few rows (e.g. saturated probabilities)
        t = np.where(x[tied] == best[tied], tiebreak[tied], -np.inf)
        top[tied] = t.argmax(axis=1)
    return np.where(np.isneginf(best[:, 0]), -1, top)


def row_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n_i within each row of x (n, d) among its non-NaN entries, ties averaged (as
    core.stats.rankdata per row); NaN where x is NaN. Vectorised: one sort per row, and the
    tie averaging only on the rows that have ties."""
    x = np.asarray(x)
    n, d = x.shape
    order = np.argsort(x, axis=1)  # NaN last
    s = np.take_along_axis(x, order, axis=1)
    ranked = np.broadcast_to(np.arange(1.0, d + 1.0), (n, d)).copy()
    tied = np.flatnonzero((s[:, 1:] == s[:, :-1]).any(axis=1))  # NaN != NaN: never tied
    if len(tied):
        ranked[tied] = tie_average(s[tied])
    ranks = np.empty((n, d), np.float64)
    np.put_along_axis(ranks, order, ranked, axis=1)
    return np.where(np.isnan(x), np.nan, ranks)


def tie_average(s: np.ndarray) -> np.ndarray:
    """For rows sorted ascending (m, d): each entry's rank 1..d, averaged over equal values."""
    m, d = s.shape
    j = np.broadcast_to(np.arange(d), (m, d))
    starts = np.ones((m, d), bool)
    starts[:, 1:] = s[:, 1:] != s[:, :-1]  # a tie group begins
    ends = np.ones((m, d), bool)
    ends[:, :-1] = starts[:, 1:]
    first = np.maximum.accumulate(np.where(starts, j, 0), axis=1)
    last = np.minimum.accumulate(np.where(ends, j, d - 1)[:, ::-1], axis=1)[:, ::-1]
    return (first + last) / 2.0 + 1.0


def seed_ranks(norms: np.ndarray, tiebreak: np.ndarray | None = None,
               chunk_size: int = 4096) -> dict[str, np.ndarray]:
    """What the stability statistics need from one seed's norms (n, maxlen; NaN = no word):
    `top` (n,) the top word's column (-1 if none), `centred` (n, maxlen) float32 ranks minus
    the row's mean rank (0 on masked columns; exact: ranks are half-integers), `ss` (n,) the
    row's sum of squared centred ranks, `words` (n,) words per review. Chunked over reviews to
    bound the memory of the sort."""
    n = len(norms)
    words = (~np.isnan(norms)).sum(axis=1)
    centred = np.zeros(norms.shape, np.float32)
    for start in range(0, n, chunk_size):
        rows = slice(start, min(start + chunk_size, n))
        ranks = row_ranks(norms[rows])
        # average-tie ranks of m values sum to m (m + 1) / 2: their mean is (m + 1) / 2
        centred[rows] = np.nan_to_num(ranks - (words[rows, None] + 1) / 2.0, nan=0.0)
    ss = np.einsum("ij,ij->i", centred, centred, dtype=np.float64)
    return {"top": top_columns(norms, tiebreak), "centred": centred, "ss": ss, "words": words}


def pair_stability(a: dict, b: dict, min_words: int = 3) -> dict:
    """Agreement of two seeds over all reviews (seed_ranks of each): the share of reviews
    (with a word) whose top word, i.e. Table 1's window, is the same column, and the mean
    and median over reviews (with >= min_words words and non-constant norms in both seeds)
    of the Spearman correlation of the per-word norms."""
    if not np.array_equal(a["words"], b["words"]):
        raise ValueError("the two seeds' norms mask different words")
    has_word = a["words"] > 0
    dot = np.einsum("ij,ij->i", a["centred"], b["centred"], dtype=np.float64)
    denom = np.sqrt(a["ss"] * b["ss"])
    use = (a["words"] >= min_words) & (denom > 0)
    rho = dot[use] / denom[use]
    return {"reviews": int(has_word.sum()),
            "same_top_share": float((a["top"] == b["top"])[has_word].mean()),
            "spearman_reviews": int(use.sum()),
            "spearman_mean": float(rho.mean()) if rho.size else float("nan"),
            "spearman_median": float(np.median(rho)) if rho.size else float("nan")}
