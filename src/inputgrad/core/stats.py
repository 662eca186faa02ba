"""Small statistics shared by every section: ranks, correlations, softmax, sigmoid and the
summary of a quantity over seeds (mean, spread, Student-t interval).

One copy of each, so NaN handling and tie rules are the same everywhere.
"""

from __future__ import annotations

import math

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


def t_interval_mass(t: float, df: int) -> float:
    """P(|T| < t) for Student's t with integer `df` >= 1, by the exact finite series in
    theta = atan(t / sqrt(df)) (Abramowitz & Stegun 26.7.3-4), so no scipy is needed."""
    theta = math.atan(t / math.sqrt(df))
    c2 = math.cos(theta) ** 2
    term, total = 1.0, 1.0
    if df % 2 == 0:
        for k in range(2, df - 1, 2):  # 1, (1/2) c^2, (1*3)/(2*4) c^4, ...
            term *= c2 * (k - 1) / k
            total += term
        return math.sin(theta) * total
    if df == 1:
        return 2.0 * theta / math.pi
    total = term = math.cos(theta)
    for k in range(3, df - 1, 2):  # c, (2/3) c^3, (2*4)/(3*5) c^5, ...
        term *= c2 * (k - 1) / k
        total += term
    return 2.0 / math.pi * (theta + math.sin(theta) * total)


def t_quantile(mass: float, df: int) -> float:
    """The t with P(|T| < t) = mass for Student's t with `df` degrees of freedom
    (two-sided; mass 0.95 gives 2.776 for df 4), by bisection on the exact series."""
    if not 0.0 < mass < 1.0 or df < 1:
        raise ValueError(f"t quantile needs 0 < mass < 1 and df >= 1, got {mass}, {df}")
    low, high = 0.0, 1.0
    while t_interval_mass(high, df) < mass:
        high *= 2.0
    for _ in range(100):  # halves the bracket to below float resolution
        mid = 0.5 * (low + high)
        low, high = (mid, high) if t_interval_mass(mid, df) < mass else (low, mid)
    return 0.5 * (low + high)


def seed_summary(values) -> dict:
    """Summary of one quantity over seeds, NaN values ignored: n (seeds with a value), mean,
    sd (ddof=1; NaN if n < 2), min, max and a 95 % Student-t interval for the mean
    (ci_low, ci_high; NaN if n < 5, where an interval from so few runs says little)."""
    v = np.asarray(values, np.float64).ravel()
    v = v[~np.isnan(v)]
    n = int(v.size)
    nan = float("nan")
    out = {"n": n, "mean": nan, "sd": nan, "min": nan, "max": nan, "ci_low": nan, "ci_high": nan}
    if n == 0:
        return out
    out.update(mean=float(v.mean()), min=float(v.min()), max=float(v.max()))
    if n >= 2:
        out["sd"] = float(v.std(ddof=1))
    if n >= 5:
        half = t_quantile(0.95, n - 1) * out["sd"] / math.sqrt(n)
        out.update(ci_low=out["mean"] - half, ci_high=out["mean"] + half)
    return out
