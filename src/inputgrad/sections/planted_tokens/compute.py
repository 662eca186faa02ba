"""The maths of the planted-tokens section (arrays in, arrays out).

Inputs. The CNN reads the padded ids (`data.arrays.pad_reviews`: start marker, pre-padding,
pre-truncation); a word is a column holding a review token, the planted token the column
whose review position is the planted one. The bag of words reads binary columns
0..num_words+1 (`data.encodings.bag_of_words` with the planted width); a word is a present
column, the planted token its id's column (`data.planted.token_id`).

Controls. The clean models read num_words ids. `widened` gives them the planted width
without changing what they compute: the CNN's two new embedding rows are copies of the OOV
row (the clean CNN reads the token as it reads every word outside its dictionary), the bag of
words' two new input rows of the first kernel are 0 (the clean MLP drops every id outside its
dictionary, so the token changes nothing). Tested: outputs equal, token or not.

Scores, per review with a planted token, of one method's per-word scores s (NaN off words):
- relevance mass: |s_token| / sum_words |s|; uniform reference 1 / words;
- pointing game: the token has the largest |s| (ties broken towards the left; any tie at the
  top counts as a hit only if the token is the leftmost);
- rank: 1 + the number of words with a larger |s| (1 = top).
Signed methods are ranked by size, as the mass is: "highlights" means large |s| either way.
Detection without being told: per word id, the mean |s| over every occurrence in the scored
reviews (ids seen at least `min_count` times); is each token the top id (rank 1) among the
dictionary's words (the other planted token left out, so detected = the two tokens are the two
top words)?
For the bag of words also the paper's 5.2 ranking by ḡ: the token of class 1 should top ḡ,
that of class 0 its bottom.
"""

from __future__ import annotations

import numpy as np

from ...core.stats import t_quantile
from ...data.arrays import Reviews, pad_reviews
from ...data.encodings import bag_of_words
from ...infra.errors import ConfigError

ARCHS = ("cnn", "bow")
METRICS = ("relevance_mass", "uniform_mass", "pointing_game", "rank")


# ----------------------------------------------------------------------------- inputs

def cnn_inputs(reviews: Reviews, positions, maxlen: int, start_char: int):
    """(ids (n, maxlen), words (n, maxlen) bool, token column (n,), -1 where none or cut)."""
    ids, position = pad_reviews(reviews, maxlen, start_char)
    positions = np.asarray(positions)
    hit = (position == positions[:, None]) & (positions[:, None] >= 0)
    column = np.where(hit.any(axis=1), hit.argmax(axis=1), -1)
    return ids, position >= 0, column


def bow_inputs(reviews: Reviews, positions, width: int, index_from: int):
    """(x (n, width) binary, words (n, width) bool, token column (n,), -1 where none)."""
    x = bag_of_words(reviews.word_ids, reviews.offsets, width, index_from)
    positions = np.asarray(positions)
    column = np.full(len(reviews), -1, np.int64)
    for i in np.flatnonzero(positions >= 0):
        column[i] = reviews.ids(i)[positions[i]]
    return x, x > 0, column


def word_of_columns(x, arch: str) -> np.ndarray:
    """(n, columns) word id of every column: the ids themselves (CNN), the column index (bag
    of words)."""
    x = np.asarray(x)
    if arch == "cnn":
        return x.astype(np.int64)
    return np.broadcast_to(np.arange(x.shape[1], dtype=np.int64), x.shape)


# ----------------------------------------------------------------------------- models

def widened(model, width: int, oov_char: int):
    """The clean model on `width` inputs, same function on its old ones (see module doc)."""
    import keras

    from ...core.models import build

    weights = model.get_weights()
    first = weights[0]
    extra = width - first.shape[0]
    if extra < 0:
        raise ConfigError(f"{model.name}: reads {first.shape[0]} ids, more than the planted "
                          f"width {width}")
    if model.name == "imdb_cnn":
        cfg = {"name": "imdb_cnn", "num_words": width, "maxlen": int(model.input_shape[1]),
               "embedding_dim": int(first.shape[1])}
        head = next(lay for lay in model.layers if isinstance(lay, keras.Model))
        conv = next(lay for lay in head.layers if isinstance(lay, keras.layers.Conv1D))
        dense = [lay for lay in head.layers if isinstance(lay, keras.layers.Dense)]
        cfg.update(filters=conv.filters, kernel_size=conv.kernel_size[0],
                   hidden=dense[0].units)
        rows = np.repeat(first[oov_char:oov_char + 1], extra, axis=0)
    elif model.name == "imdb_bow_mlp":
        dense = [lay for lay in model.layers if isinstance(lay, keras.layers.Dense)]
        cfg = {"name": "imdb_bow_mlp", "vocab_size": width,
               "hidden": [lay.units for lay in dense[:-1]]}
        rows = np.zeros((extra, first.shape[1]), first.dtype)
    else:
        raise ConfigError(f"planted_tokens: no control widening for model {model.name!r}")
    wide = build(cfg)
    wide.set_weights([np.concatenate([first, rows]), *weights[1:]])
    return wide


def logits(model, x, batch_size: int) -> np.ndarray:
    from ...core.methods import logits_of
    from ...core.models import model_fn

    return logits_of(model_fn(model), x, batch_size)


def accuracy(z, y) -> float:
    """Share of rows whose logit sign matches the label (class 1 iff logit > 0)."""
    return float(np.mean((np.asarray(z) > 0) == (np.asarray(y) == 1)))


# ----------------------------------------------------------------------------- scores

def token_metrics(scores, words, column) -> dict[str, np.ndarray]:
    """Per row with a token (column >= 0): relevance mass, uniform mass, pointing game, rank
    (see module doc); rows without a token are dropped."""
    scores, words, column = np.asarray(scores, np.float64), np.asarray(words, bool), \
        np.asarray(column)
    keep = column >= 0
    size = np.where(words, np.abs(np.nan_to_num(scores, nan=0.0)), 0.0)[keep]
    w, col = words[keep], column[keep]
    rows = np.arange(len(col))
    if not w[rows, col].all():
        raise ValueError("a planted token column is not a word column")
    token = size[rows, col]
    total = size.sum(axis=1)
    mass = np.divide(token, total, out=np.zeros_like(token), where=total > 0)
    larger = (w & (size > token[:, None])).sum(axis=1)
    tied_left = (w & (size == token[:, None]) & (np.arange(w.shape[1]) < col[:, None])).sum(
        axis=1)
    return {"relevance_mass": mass, "uniform_mass": 1.0 / w.sum(axis=1),
            "pointing_game": ((larger == 0) & (tied_left == 0)).astype(np.float64),
            "rank": (1 + larger).astype(np.float64)}


def interval(values) -> dict:
    """n, mean and a 95 % Student-t interval of the mean (NaN ends for n < 2)."""
    v = np.asarray(values, np.float64)
    v = v[~np.isnan(v)]
    n, nan = len(v), float("nan")
    if n == 0:
        return {"n": 0, "mean": nan, "ci_low": nan, "ci_high": nan}
    mean = float(v.mean())
    if n < 2:
        return {"n": n, "mean": mean, "ci_low": nan, "ci_high": nan}
    half = t_quantile(0.95, n - 1) * float(v.std(ddof=1)) / np.sqrt(n)
    return {"n": n, "mean": mean, "ci_low": mean - half, "ci_high": mean + half}


def global_ranking(scores, words, word_ids, min_count: int) -> dict[int, tuple[float, int]]:
    """{word id: (mean |score| over its occurrences, occurrences)} of ids seen at least
    `min_count` times among the word columns."""
    s = np.abs(np.asarray(scores, np.float64))
    w = np.asarray(words, bool) & ~np.isnan(s)
    ids, vals = np.asarray(word_ids)[w], s[w]
    counts = np.bincount(ids)
    sums = np.bincount(ids, weights=vals, minlength=len(counts))
    return {int(i): (float(sums[i] / counts[i]), int(counts[i]))
            for i in np.flatnonzero(counts >= max(1, min_count))}


def rank_of(ranking: dict[int, tuple[float, int]], word_id: int, exclude=(),
            descending: bool = True) -> float:
    """1 + the ranked ids (other than `exclude`, e.g. the other planted token) with a larger
    (descending) or smaller mean; NaN if the id is not ranked."""
    if word_id not in ranking:
        return float("nan")
    mine = ranking[word_id][0]
    skip = {int(e) for e in exclude} | {word_id}
    others = np.array([v for k, (v, _) in ranking.items() if k not in skip])
    beyond = others > mine if descending else others < mine
    return float(1 + beyond.sum())


def gbar_ranks(gbar, token_ids, eligible) -> dict[int, float]:
    """The paper's 5.2 ranking: rank of the class-1 token from the top of ḡ, of the class-0
    token from its bottom, among the `eligible` columns (bool mask; the other token left
    out, as in `rank_of`)."""
    gbar, eligible = np.asarray(gbar, np.float64), np.asarray(eligible, bool)
    neg, pos = (int(t) for t in token_ids)
    keep = eligible.copy()
    keep[[neg, pos]] = False
    values = gbar[keep]
    return {pos: float(1 + (values > gbar[pos]).sum()),
            neg: float(1 + (values < gbar[neg]).sum())}


def check_methods_cfg(attr: dict) -> None:
    for arch in ARCHS:
        if arch not in attr["methods"]:
            raise ConfigError(f"attribution.methods: no entry {arch!r} (cnn and bow)")
