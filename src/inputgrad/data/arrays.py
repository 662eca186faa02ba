"""Load prepared arrays and build model inputs from them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Reviews:
    """One IMDB split: flat word ids / token indices with offsets, plus per-review metadata."""

    word_ids: np.ndarray
    token_idx: np.ndarray
    offsets: np.ndarray
    review_id: np.ndarray
    rating: np.ndarray
    label: np.ndarray

    def __len__(self) -> int:
        return len(self.label)

    def ids(self, i: int) -> np.ndarray:
        return self.word_ids[self.offsets[i]:self.offsets[i + 1]]

    def tokens(self, i: int, vocab: list[str]) -> list[str]:
        return [vocab[t] for t in self.token_idx[self.offsets[i]:self.offsets[i + 1]]]


def load_reviews(path) -> Reviews:
    with np.load(path) as f:
        return Reviews(**{k: f[k] for k in Reviews.__dataclass_fields__})


def load_tokens(path) -> list[str]:
    return json.loads(Path(path).read_text())


def load_mnist(path) -> dict[str, np.ndarray]:
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def pad_reviews(reviews: Reviews, maxlen: int,
                start_char: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Keras `pad_sequences` defaults (pre-padding with 0, pre-truncation) after a start marker.

    Returns (x, position): x is (n, maxlen) int32; position[i, j] is the index of the review
    token in column j, or -1 for padding and the start marker, so gradients map back to words.
    """
    n = len(reviews)
    x = np.zeros((n, maxlen), dtype=np.int32)
    position = np.full((n, maxlen), -1, dtype=np.int32)
    for i in range(n):
        seq = np.concatenate([[start_char], reviews.ids(i)]).astype(np.int32)
        pos = np.arange(-1, len(seq) - 1, dtype=np.int32)
        seq, pos = seq[-maxlen:], pos[-maxlen:]
        x[i, maxlen - len(seq):] = seq
        position[i, maxlen - len(seq):] = pos
    return x, position
