"""Feature groups for attributions: k x k pixel patches of an image, windows of w words of a
text; sums of an attribution over the groups, orders that remove whole groups first, and the
normalisations of a map for display (the companion article's advice: aggregate over
super-pixels or feature groups; show absolute values or z-scores).

A grouping is an integer label per feature (`patch_groups`, `window_groups`): features with
the same label form one group; label -1 marks features that belong to no group (padding, the
start marker), which group sums leave out. Labels are 0 .. G-1 and every group is contiguous
(a patch, a run of words), so a sum over groups is a sum over a partition: it preserves the
total attribution of the grouped features.
"""

from __future__ import annotations

import numpy as np

NORMALIZE = ("none", "abs", "zscore")


def patch_groups(height: int, width: int, k: int) -> np.ndarray:
    """(height * width,) labels of k x k patches, row-major over the flattened image; patches
    at the right and bottom edges are smaller when k does not divide the side."""
    if k < 1:
        raise ValueError(f"patch size must be >= 1, got {k}")
    rows, cols = np.arange(height) // k, np.arange(width) // k
    per_row = -(-width // k)  # patches per row of patches (ceil)
    return (rows[:, None] * per_row + cols[None, :]).ravel()


def patch_grid(height: int, width: int, k: int) -> tuple[int, int]:
    """(rows, columns) of the patch grid of `patch_groups`."""
    return -(-height // k), -(-width // k)


def window_groups(position: np.ndarray, w: int) -> np.ndarray:
    """Labels of non-overlapping windows of w consecutive words: a column with token position
    p >= 0 belongs to window p // w; columns with position -1 (padding, start marker) get -1.
    `position` is (n, length) or (length,) as `data.arrays.pad_reviews` returns it."""
    if w < 1:
        raise ValueError(f"window width must be >= 1, got {w}")
    position = np.asarray(position)
    return np.where(position >= 0, position // w, -1)


def _labels(groups, n: int, d: int) -> np.ndarray:
    """(n, d) labels from a (d,) labelling shared by every row or an (n, d) one."""
    g = np.asarray(groups)
    return np.broadcast_to(g.reshape(-1) if g.ndim == 1 else g.reshape(n, -1), (n, d))


def group_sums(attributions, groups, n_groups: int | None = None) -> np.ndarray:
    """(n, G) float64 sums of each row's attributions over its groups (label -1 left out).
    attributions: (n, ...) with d features per row; groups: (d,) labels shared by every row,
    or (n, d) labels per row. G = n_groups or 1 + the largest label."""
    a = np.asarray(attributions)
    a = a.reshape(len(a), -1)
    g = _labels(groups, *a.shape)
    n_groups = int(g.max()) + 1 if n_groups is None else int(n_groups)
    keep = g >= 0
    rows = np.broadcast_to(np.arange(len(a))[:, None], a.shape)
    sums = np.bincount(rows[keep] * n_groups + g[keep], weights=a[keep].astype(np.float64),
                       minlength=len(a) * n_groups)
    return sums.reshape(len(a), n_groups)


def spread(values, groups) -> np.ndarray:
    """(n, d) float64: each feature gets its group's value from `values` (n, G); features with
    label -1 get NaN."""
    values = np.asarray(values, np.float64)
    g = _labels(groups, len(values), np.asarray(groups).shape[-1])
    out = np.take_along_axis(values, np.maximum(g, 0), axis=1)
    return np.where(g >= 0, out, np.nan)


def grouped_order(score, groups) -> np.ndarray:
    """(n, d) feature indices, most important first, whole groups at a time: groups by the sum
    of `score` over the group (largest first), the features inside a group by their own score
    (ties: lower index first). Features with label -1 come last. Deleting the first m features
    of this order removes whole groups when m is a multiple of the group size."""
    s = np.asarray(score, np.float64)
    s = s.reshape(len(s), -1)
    g = _labels(groups, *s.shape)
    group_score = np.nan_to_num(spread(group_sums(s, g), g), nan=-np.inf)
    # lexsort: the last key is the primary one; the label keeps tied groups contiguous
    return np.lexsort((-s, g, -group_score), axis=-1)


def normalize(maps, how: str = "none") -> np.ndarray:
    """Per row of `maps` (n, ...): "none" unchanged, "abs" the absolute value, "zscore"
    (value - row mean) / row standard deviation (0 where a row is constant). NaN entries (no
    feature) stay NaN and take no part in the mean and deviation."""
    if how not in NORMALIZE:
        raise ValueError(f"normalize must be one of {', '.join(NORMALIZE)}, got {how!r}")
    maps = np.asarray(maps)
    if how == "none":
        return maps
    if how == "abs":
        return np.abs(maps)
    flat = maps.reshape(len(maps), -1).astype(np.float64)
    mean = np.nanmean(flat, axis=1, keepdims=True)
    sd = np.nanstd(flat, axis=1, keepdims=True)
    z = np.divide(flat - mean, sd, out=np.zeros_like(flat), where=sd > 0)
    return np.where(np.isnan(flat), np.nan, z).reshape(maps.shape)
