"""Small statistics shared by every section: ranks, correlations, softmax and sigmoid.

One copy of each, so NaN handling and tie rules are the same everywhere.
"""

from __future__ import annotations

import numpy as np


def sigmoid(z) -> np.ndarray:
    """Logistic function in float64 (exp overflow for very negative z gives exactly 0)."""
    z = np.asarray(z, np.float64)
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


def softmax(z, axis: int = -1) -> np.ndarray:
    """Softmax in float64 along `axis`, shifted by the max for stability."""
    z = np.asarray(z, np.float64)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def probability_scale(logits) -> np.ndarray:
    """p (1 - p) for a binary model's logits: d sigmoid(z) / dx = p (1 - p) dz / dx, so a
    logit gradient times this factor is the probability gradient (exact chain rule)."""
    p = sigmoid(logits)
    return p * (1.0 - p)


def rankdata(a) -> np.ndarray:
    """Ranks 1..n of a 1-d array; ties get their average rank (as scipy's rankdata)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    order = np.argsort(a, kind="stable")
    ranks = np.empty(len(a), np.float64)
    ranks[order] = np.arange(1, len(a) + 1)
    _, inverse, counts = np.unique(a, return_inverse=True, return_counts=True)
    if (counts > 1).any():
        sums = np.bincount(inverse, weights=ranks)
        ranks = (sums / counts)[inverse]
    return ranks


def pearson(a, b) -> float:
    """Pearson correlation of two equal-size arrays; NaN if either is constant."""
    a = np.asarray(a, np.float64).ravel()
    b = np.asarray(b, np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"correlation of arrays of different sizes {a.size} and {b.size}")
    a, b = a - a.mean(), b - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else float("nan")


def spearman(a, b) -> float:
    """Spearman's rho: Pearson correlation of the average-tie ranks; NaN if either is constant."""
    a, b = np.asarray(a).ravel(), np.asarray(b).ravel()
    if a.shape != b.shape:
        raise ValueError(f"correlation of arrays of different sizes {a.size} and {b.size}")
    return pearson(rankdata(a), rankdata(b))


def pearson_rows(a, b) -> np.ndarray:
    """Pearson correlation between matching rows of a and b (flattened per row)."""
    a = np.asarray(a, np.float64).reshape(len(a), -1)
    b = np.asarray(b, np.float64).reshape(len(b), -1)
    if a.shape != b.shape:
        raise ValueError(f"cannot correlate arrays of shapes {a.shape} and {b.shape}")
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    denom = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (a * b).sum(axis=1) / denom, np.nan)


def spearman_rows(a, b) -> np.ndarray:
    """Spearman's rho between matching rows of a and b (n, d)."""
    a = np.asarray(a).reshape(len(a), -1)
    b = np.asarray(b).reshape(len(b), -1)
    return np.array([spearman(u, v) for u, v in zip(a, b, strict=True)])
