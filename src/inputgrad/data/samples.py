"""Seeded samples of rows: one function for every section that evaluates a random subset
(digits, reviews), so the same seed always draws the same rows."""

from __future__ import annotations

import numpy as np


def sample_rows(pool, n: int, seed: int, sort: bool = True) -> np.ndarray:
    """min(n, size of pool) rows drawn without replacement by `default_rng(seed)`: from
    range(pool) for an int, else from the array `pool`; in increasing order, or with
    sort=False in the order drawn."""
    size = min(n, int(pool) if np.ndim(pool) == 0 else len(pool))
    pick = np.random.default_rng(seed).choice(pool, size=size, replace=False)
    return np.sort(pick) if sort else pick
