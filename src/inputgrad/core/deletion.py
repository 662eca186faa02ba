"""Deletion curves' shared pieces: set the top-ranked features of each row to a value, and
the area over the resulting probability curve. Used by the checks and the anomaly sections."""

from __future__ import annotations

import numpy as np


def delete_top(x, order, k: int, value: float = 0.0) -> np.ndarray:
    """Copy of x (n, d) with, in each row, the pixels order[:, :k] set to `value`."""
    x = np.array(x, copy=True)
    if k > 0:
        np.put_along_axis(x, order[:, :k], value, axis=1)
    return x


def area_over_curve(ks, probs) -> float:
    """Mean drop of the probability below its k=0 value over the k range (trapezoid rule):
    (1 / (k_max - k_min)) * ∫ (p(k_min) - p(k)) dk. Larger = the ranking finds what matters."""
    ks = np.asarray(ks, np.float64)
    probs = np.asarray(probs, np.float64)
    order = np.argsort(ks)
    ks, probs = ks[order], probs[order]
    if len(ks) < 2 or ks[-1] == ks[0]:
        return float("nan")
    drop = probs[0] - probs
    return float(np.sum((drop[1:] + drop[:-1]) * np.diff(ks)) / 2 / (ks[-1] - ks[0]))
