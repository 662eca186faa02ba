"""Paper section 5.1, the maths: per-word gradient norms of the IMDB CNN, argmax windows, ranks,
and the choice of Table 1's reviews.

The prediction is not differentiable in the (categorical) word ids, so, as the paper does, we
differentiate with respect to each word's embedding vector: with x = embed(ids) of shape
(n, maxlen, dim) and f = the `head` sub-model (everything after the embedding, inference mode;
both from `core.models.split_embedding`), the gradient for word j is d f(x) / d x[:, j, :], and
its L2 norm ranks the words. Table 1 shows for each review the `window`-word expression (the
convolution length) whose first word has the largest norm. Padding columns and the start marker
(position == -1) never take part: their norms are NaN.

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
from ...data.prepare import tokenize
from ...infra.errors import ConfigError

log = logging.getLogger(__name__)

OOV_MARK = "[{}]"  # out-of-vocabulary tokens (the model sees only oov_char) are shown as [word]
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

    Returns ({target: norms (n, maxlen) float32}, logits (n,)). Only `chunk_size` reviews are
    embedded at a time and each gradient batch is reduced to norms at once. One gradient pass
    (of the logit) serves both targets: the model has a single sigmoid output, so
    d p / d e = p (1 - p) d logit / d e and the probability norms are the logit norms scaled
    by p (1 - p) >= 0 (tested against a direct probability pass).
    """
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
    norms = {}
    if "logit" in targets:
        norms["logit"] = logit_norms
    if "probability" in targets:
        norms["probability"] = (logit_norms * probability_scale(logits)[:, None]).astype(np.float32)
    return norms, logits


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


# ----------------------------------------------------------------------------- reviews, phrases

def find_phrase(tokens: list[str], phrase: list[str]) -> list[int]:
    """Token indices where `phrase` (a token list) starts in `tokens`."""
    k = len(phrase)
    return [i for i in range(len(tokens) - k + 1) if tokens[i:i + k] == phrase]


def display_tokens(reviews: Reviews, i: int, vocab: list[str], oov_char: int) -> list[str]:
    """The review's own words, out-of-vocabulary ones marked as OOV_MARK."""
    words = reviews.tokens(i, vocab)
    oov = reviews.ids(i) == oov_char
    return [OOV_MARK.format(w) if o else w for w, o in zip(words, oov, strict=True)]


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
    rng = np.random.default_rng(seed)
    pick = rng.choice(rest, size=min(n_random, len(rest)), replace=False)
    rows += [{"index": int(i), "selection": "random", "phrase": [], "starts": []} for i in pick]
    return rows
