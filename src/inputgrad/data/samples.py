"""Seeded samples of rows and the prepared MNIST test digits, one way for every section: the
same seed gives the same rows in every rule that samples with it."""

from __future__ import annotations

import numpy as np

from ..infra.errors import DataError
from .encodings import flatten


def sample_rows(pool, n: int, seed) -> np.ndarray:
    """Sorted seeded subset of min(n, size) without replacement: of the row indices
    0..pool-1 (an int), or of the entries of `pool` (an array of eligible indices). `seed`:
    an int, or a Generator to draw from (default_rng hands a Generator back unchanged)."""
    size = pool if isinstance(pool, (int, np.integer)) else len(pool)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(pool, size=min(n, size), replace=False))


def mnist_test(path, labels: bool = False):
    """The prepared test digits flattened, (n, 784) float32 in [0, 1]; with `labels`, the pair
    (x, y int64). DataError naming the file when an array is missing."""
    with np.load(path) as arrays:
        missing = {"x_test", *(["y_test"] if labels else [])} - set(arrays.files)
        if missing:
            raise DataError(f"{path}: missing arrays {sorted(missing)}")
        x = flatten(arrays["x_test"])
        return (x, arrays["y_test"].astype(np.int64)) if labels else x
