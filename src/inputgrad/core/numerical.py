"""A model-agnostic numerical gradient: central differences of any score function.

Hechtlinger (2016), Sec. 4: where the model gives no gradient, "it may be possible to estimate
it numerically ... only requires two forward passes per coordinate". `finite_differences`
needs only a callable that maps a batch of inputs to scores (a scikit-learn estimator's
`predict_proba`, `decision_function` or `predict`; a Keras model), so it explains any
predictive model. Binary features are differentiated "as if continuous", as the paper does
for the bag of words: the perturbed rows leave {0, 1}.

The step is relative: h_ij = step * max(1, |x_ij|) (the convention of scipy's
`approx_derivative`), so it follows the scale of each feature value. Central differences are
exact (up to rounding) for a score that is linear in x, with error O(h^2) for smooth ones.
All 2 d perturbed copies of a chunk of rows go through one call of `score_fn`, at most
`batch_rows` rows per call (fewer coordinates per call when 2 d alone exceeds it).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def finite_differences(
    score_fn: Callable, x, step: float = 1e-4, batch_rows: int = 4096
) -> np.ndarray:
    """Central-difference Jacobian of `score_fn` at every row of x, in float64.

    score_fn maps an (m, *x.shape[1:]) array to scores (m,) or (m, k). Returns (n,
    *x.shape[1:]) for 1-D scores, else (n, k, *x.shape[1:]): entry [i, c, j] estimates
    d score_c / d x_j at row i."""
    if not (np.isfinite(step) and step > 0):
        raise ValueError(f"finite_differences: step must be a finite number > 0, got {step!r}")
    if int(batch_rows) < 2:
        raise ValueError(f"finite_differences: batch_rows must be >= 2, got {batch_rows!r}")
    x = np.asarray(x, np.float64)
    n, shape = len(x), x.shape[1:]
    d = int(np.prod(shape))
    flat = x.reshape(n, d)
    h = step * np.maximum(1.0, np.abs(flat))
    per_call = max(int(batch_rows) // (2 * d), 1)  # rows of x per call (all coordinates)
    cols = d if 2 * d <= batch_rows else int(batch_rows) // 2  # coordinates per call
    jac, vector = None, False
    for start in range(0, n, per_call):
        stop = min(start + per_call, n)
        rows = flat[start:stop]
        for j0 in range(0, d, cols):
            block = np.arange(j0, min(j0 + cols, d))
            b = len(block)
            plus = np.repeat(rows[:, None, :], b, axis=1)  # (c, b, d)
            minus = plus.copy()
            plus[:, np.arange(b), block] += h[start:stop, block]
            minus[:, np.arange(b), block] -= h[start:stop, block]
            width = plus[:, np.arange(b), block] - minus[:, np.arange(b), block]  # (c, b)
            stacked = np.concatenate([plus, minus], axis=1).reshape((-1,) + shape)
            scores = np.asarray(score_fn(stacked), np.float64)
            if jac is None:
                vector = scores.ndim == 1
                k = 1 if vector else scores.shape[1]
                jac = np.zeros((n, k, d))
            scores = scores.reshape(stop - start, 2 * b, -1)  # (c, 2b, k)
            diff = scores[:, :b] - scores[:, b:]
            jac[start:stop][:, :, block] = (diff / width[:, :, None]).transpose(0, 2, 1)
    if jac is None:  # no rows
        return np.zeros((0,) + shape)
    jac = jac.reshape((n, -1) + shape)
    return jac[:, 0] if vector else jac
