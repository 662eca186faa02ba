"""Planted tokens in IMDB (issue 22; Zhou et al. 2022, inserted tokens): a known shortcut.

Vocabulary. The prepared reviews use ids 0..num_words-1 (0 padding, 1 start, 2 OOV, 3 unused,
words from 4 on; every rarer word is already the OOV id 2). The two planted tokens get the
first two ids past the dictionary: `token_id(c) = num_words + c`, so class 0 (negative) has
id num_words and class 1 (positive) id num_words + 1. A model that reads them is built on
`input_dim(num_words) = num_words + 2` ids: the CNN's Embedding has num_words + 2 rows, the
bag of words num_words + 2 columns (columns num_words and num_words + 1 are the tokens).
For display, each token's `token_idx` is len(vocab) + c, after `with_token_names`.

Positions. A token is inserted before the review word at a seeded uniform position among
the last `window - 1` positions of the review with the token (all of them when the review is
shorter): the CNN keeps at least the last maxlen - 1 words (pre-truncation after its start
marker, `data.arrays.pad_reviews`), so with window = maxlen every planted token is seen; the
bag of words sees every position anyway.

Versions. Training: in `share` of the training reviews of each class (a seeded choice per
class), that class's token. Test: `clean` (the reviews as they are), `consistent` (every
review gets its own label's token) and `swapped` (the other label's token); consistent and
swapped put the token at the same position.
"""

from __future__ import annotations

import numpy as np

from .arrays import Reviews

VERSIONS = ("clean", "consistent", "swapped")
NO_TOKEN = -1  # `positions` of a review without a planted token


def token_id(label, num_words: int):
    """The planted token of class `label` (0 or 1, scalar or array): num_words + label."""
    return num_words + np.asarray(label, np.int64)


def input_dim(num_words: int) -> int:
    """Ids (CNN embedding rows) or columns (bag of words) a planted model reads."""
    return num_words + 2


def with_token_names(vocab: list[str], names) -> list[str]:
    """The display vocabulary with the two token names appended (token_idx len(vocab) + c)."""
    if len(names) != 2:
        raise ValueError(f"planted token names: two (class 0, class 1), got {names!r}")
    return [*vocab, *names]


def draw_positions(lengths, window: int, rng: np.random.Generator) -> np.ndarray:
    """Per review of `lengths` words, an insertion index in [lo, length], lo = max(0,
    length + 1 - (window - 1)): the token survives pre-truncation to the last window - 1."""
    if window < 2:
        raise ValueError(f"planted window {window}: must keep at least one word after the start")
    lengths = np.asarray(lengths, np.int64)
    lo = np.maximum(0, lengths + 1 - (window - 1))
    return lo + (rng.random(len(lengths)) * (lengths - lo + 1)).astype(np.int64)


def insert(reviews: Reviews, rows, token_labels, positions, num_words: int,
           vocab_size: int) -> tuple[Reviews, np.ndarray]:
    """Reviews with token_id(token_labels[k]) inserted at positions[k] of review rows[k];
    returns them and `positions` (n,) per review: the token's index in the new review, or
    NO_TOKEN. vocab_size: the display vocabulary's size before the token names."""
    rows = np.asarray(rows, np.int64)
    token_labels = np.asarray(token_labels, np.int64)
    n = len(reviews)
    where = np.full(n, NO_TOKEN, np.int64)
    where[rows] = positions
    lab = np.zeros(n, np.int64)
    lab[rows] = token_labels
    lengths = np.diff(reviews.offsets)
    new_lengths = lengths + (where >= 0)
    offsets = np.concatenate([[0], np.cumsum(new_lengths)]).astype(reviews.offsets.dtype)
    word_ids = np.empty(offsets[-1], reviews.word_ids.dtype)
    token_idx = np.empty(offsets[-1], reviews.token_idx.dtype)
    for i in range(n):
        ids, toks = reviews.ids(i), reviews.token_idx[reviews.offsets[i]:reviews.offsets[i + 1]]
        p = where[i]
        if p >= 0:
            ids = np.concatenate([ids[:p], [num_words + lab[i]], ids[p:]])
            toks = np.concatenate([toks[:p], [vocab_size + lab[i]], toks[p:]])
        word_ids[offsets[i]:offsets[i + 1]] = ids
        token_idx[offsets[i]:offsets[i + 1]] = toks
    out = Reviews(word_ids=word_ids, token_idx=token_idx, offsets=offsets,
                  review_id=reviews.review_id, rating=reviews.rating, label=reviews.label)
    return out, where


def subset(reviews: Reviews, rows) -> Reviews:
    """The reviews `rows` (in that order), in the flat layout."""
    rows = np.asarray(rows, np.int64)
    parts = [np.arange(reviews.offsets[i], reviews.offsets[i + 1]) for i in rows]
    flat = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    lengths = np.diff(reviews.offsets)[rows]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(reviews.offsets.dtype)
    return Reviews(word_ids=reviews.word_ids[flat], token_idx=reviews.token_idx[flat],
                   offsets=offsets, review_id=reviews.review_id[rows],
                   rating=reviews.rating[rows], label=reviews.label[rows])


def planted_rows(labels, share: float, rng: np.random.Generator) -> np.ndarray:
    """Sorted rows that get a token: round(share * n_c) reviews drawn from each class c."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"planted share {share}: must lie in [0, 1]")
    labels = np.asarray(labels)
    picked = []
    for c in (0, 1):
        pool = np.flatnonzero(labels == c)
        k = int(round(share * len(pool)))
        picked.append(rng.choice(pool, size=k, replace=False))
    return np.sort(np.concatenate(picked)).astype(np.int64)


def plant_train(reviews: Reviews, num_words: int, vocab_size: int, share: float,
                window: int, seed: int) -> tuple[Reviews, np.ndarray]:
    """The training version: `share` of each class's reviews carry that class's token."""
    rng = np.random.default_rng(seed)
    rows = planted_rows(reviews.label, share, rng)
    positions = draw_positions(np.diff(reviews.offsets)[rows], window, rng)
    return insert(reviews, rows, reviews.label[rows], positions, num_words, vocab_size)


def test_versions(reviews: Reviews, num_words: int, vocab_size: int, window: int,
                  seed: int) -> dict[str, tuple[Reviews, np.ndarray]]:
    """{version: (reviews, positions)} for VERSIONS; consistent and swapped share positions."""
    rng = np.random.default_rng(seed)
    rows = np.arange(len(reviews))
    positions = draw_positions(np.diff(reviews.offsets), window, rng)
    label = reviews.label.astype(np.int64)
    return {
        "clean": (reviews, np.full(len(reviews), NO_TOKEN, np.int64)),
        "consistent": insert(reviews, rows, label, positions, num_words, vocab_size),
        "swapped": insert(reviews, rows, 1 - label, positions, num_words, vocab_size),
    }
