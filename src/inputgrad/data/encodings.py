"""Encodings of the prepared data that every section shares: the binary bag of words of a
review (paper 5.2), the word names of its ids, a review's tokens for display, and MNIST's
flat pixel rows. Below the sections: any of them may import this, none another section."""

from __future__ import annotations

import numpy as np

from ..infra.errors import ConfigError
from .arrays import Reviews

RESERVED_NAMES = {0: "<pad>", 1: "<start>", 2: "<oov>"}

OOV_MARK = "[{}]"  # out-of-vocabulary tokens (the model sees only oov_char) are shown as [word]


def reserved_ids(index_from: int) -> np.ndarray:
    """Ids that are not words: 0 .. index_from (padding, start, OOV, and unused id index_from
    since word ranks start at 1)."""
    return np.arange(index_from + 1)


def bag_of_words(word_ids: np.ndarray, offsets: np.ndarray, vocab_size: int,
                 index_from: int = 3) -> np.ndarray:
    """Binary (n, V) float32 matrix: x[i, j] = 1 iff word id j occurs in review i.

    word_ids/offsets are the flat layout of `data.arrays.Reviews`. Ids >= V (outside a
    dictionary smaller than the prepared one) and the reserved ids 0..index_from are dropped.
    """
    word_ids = np.asarray(word_ids)
    offsets = np.asarray(offsets)
    n = len(offsets) - 1
    rows = np.repeat(np.arange(n), np.diff(offsets))
    keep = (word_ids > index_from) & (word_ids < vocab_size)
    x = np.zeros((n, vocab_size), dtype=np.float32)
    x[rows[keep], word_ids[keep]] = 1.0  # duplicates set the same 1: binary by construction
    return x


def reviews_bow(reviews: Reviews, vocab_size: int,
                imdb_cfg: dict) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) for one split; checks that the dictionary fits the prepared ids."""
    if vocab_size > imdb_cfg["num_words"]:
        raise ConfigError(
            f"model.vocab_size={vocab_size} exceeds data.imdb.num_words="
            f"{imdb_cfg['num_words']}: the prepared word ids stop at num_words (rarer words "
            "are already OOV)")
    if vocab_size <= imdb_cfg["index_from"] + 1:
        raise ConfigError(f"model.vocab_size={vocab_size} leaves no word after the reserved "
                          f"ids 0..{imdb_cfg['index_from']}")
    x = bag_of_words(reviews.word_ids, reviews.offsets, vocab_size, imdb_cfg["index_from"])
    return x, reviews.label.astype(np.float32)


def word_names(word_index: dict[str, int], vocab_size: int, index_from: int = 3) -> list[str]:
    """names[j] = the word with id j (id = rank + index_from) in the Keras word index;
    reserved ids get <...> names, ids without a word in the index (tiny dictionaries) an
    empty string."""
    names = [""] * vocab_size
    for word, rank in word_index.items():
        wid = rank + index_from
        if wid < vocab_size:
            names[wid] = word
    for wid in reserved_ids(index_from):
        names[wid] = RESERVED_NAMES.get(int(wid), "<unused>")
    return names


def display_tokens(reviews: Reviews, i: int, vocab: list[str], oov_char: int) -> list[str]:
    """The review's own words, out-of-vocabulary ones marked as OOV_MARK."""
    words = reviews.tokens(i, vocab)
    oov = reviews.ids(i) == oov_char
    return [OOV_MARK.format(w) if o else w for w, o in zip(words, oov, strict=True)]


def flatten(x: np.ndarray) -> np.ndarray:
    """(n, 28, 28) pixels in [0, 1] -> (n, 784) float32, row-major (pixel j = (j // 28, j % 28))."""
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"MNIST images must be (n, 28, 28) or (n, 784), got shape {x.shape}")
    return x.reshape(len(x), -1).astype(np.float32, copy=False)
