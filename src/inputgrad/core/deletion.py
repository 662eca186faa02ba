"""Deletion curves, shared by every section that deletes features: copy the inputs with the
top-k features of a ranking set to a value, the mean probability of a class along k, and the
area over that curve."""

from __future__ import annotations

import numpy as np

from ..infra.errors import ConfigError


def delete_top(x, order, k: int, value: float = 0.0) -> np.ndarray:
    """Copy of x (n, d) with, in each row, the pixels order[:, :k] set to `value`."""
    x = np.array(x, copy=True)
    if k > 0:
        np.put_along_axis(x, order[:, :k], value, axis=1)
    return x


def deletion_curves(predict_proba, x, classes, orders: dict[str, np.ndarray],
                    ks) -> dict[str, np.ndarray]:
    """{method: mean probability of `classes` after deleting the top-k pixels, one per k}.
    predict_proba: (n, d) -> (n, classes)."""
    x = np.asarray(x).reshape(len(x), -1)
    rows = np.arange(len(x))
    for k in ks:
        if not 0 <= k <= x.shape[1]:
            raise ConfigError(f"deletion.ks: {k} outside [0, {x.shape[1]}]")
    return {method: np.array([np.mean(predict_proba(delete_top(x, order, int(k)))[rows, classes])
                              for k in ks])
            for method, order in orders.items()}


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
