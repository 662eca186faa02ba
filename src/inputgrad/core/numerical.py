"""A model-agnostic numerical gradient: central differences of any scoring function.

The paper (Section 4): "In other cases it may be possible to estimate it numerically ... only
requires two forward passes per coordinate". `central_differences` needs nothing of the model
but its scores, so it explains a scikit-learn estimator (`score_function`), a Keras model or any
callable `f(x) -> (n, k)` scores (a 1-D result is one column).

For row i and coordinate j, with e_j the unit vector,

    g_ij = (f(x_i + h_ij e_j) - f(x_i - h_ij e_j)) / (2 h_ij),   h_ij = step * s_ij,

and the scale s_ij is `max(|x_ij|, scale_j)` (relative=True, the default: the classic
"step relative to the size of the number, never below a typical size") or `scale_j` alone
(relative=False: an absolute step when scale is 1). `scale` is a per-feature array (e.g. the
training features' standard deviations, which the caller computes once, so a row's estimate
never depends on the other rows it is batched with) or a scalar; default 1. The step actually
taken is the representable one, (x + h) - (x - h) in the dtype of x, so a float32 input loses
no accuracy to the rounding of x +- h.

Binary features (a bag of words) are differentiated "as if continuous", as the paper does for
its bag of words: f is evaluated at x_j +- h even where only 0 and 1 are data, i.e. the result
is the derivative of the model's smooth extension, not a difference between 0 and 1.

Batched: the 2 * (coordinates) perturbed rows of a chunk of examples go through one call of f,
at most `max_rows` rows per call (the memory bound); a row with more coordinates than
max_rows / 2 is split over several calls. The error of a central difference is
O(h^2 f''') (truncation) + O(eps_f |f| / h) (rounding of f): in float64 with step 1e-3 to
1e-4 both are far below 1e-6 relative for smooth models; a tree ensemble is piecewise constant,
so its estimate is 0 or a jump divided by 2h, depending on h (docs/any_model.md).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

SCORE_METHODS = ("decision_function", "predict_proba", "predict")


def score_function(estimator, method: str = "auto") -> Callable[[np.ndarray], np.ndarray]:
    """f(x) -> (n, k) float64 scores of a fitted scikit-learn-style estimator.

    method="auto" takes the first of `decision_function` (the logits of a linear classifier:
    (n,) for two classes becomes one column, the project's binary convention, probability =
    sigmoid), `predict_proba` (class probabilities: then output="logit" means these raw
    scores) and `predict` (a regressor's prediction, one column). The chosen one is the
    function's `.method`. Raises TypeError if the estimator has none of them.
    """
    if method == "auto":
        found = [m for m in SCORE_METHODS if callable(getattr(estimator, m, None))]
        if not found:
            raise TypeError(
                f"{type(estimator).__name__} has no scoring method ({', '.join(SCORE_METHODS)})"
            )
        method = found[0]
    elif method not in SCORE_METHODS or not callable(getattr(estimator, method, None)):
        raise TypeError(f"{type(estimator).__name__} has no method {method!r}")
    call = getattr(estimator, method)

    def f(x):
        scores = np.asarray(call(np.asarray(x, np.float64)), np.float64)
        return scores[:, None] if scores.ndim == 1 else scores

    f.method = method
    f.estimator = estimator
    return f


def outputs(f, x, output: str = "logit", direction=None) -> np.ndarray:
    """(n, k) float64 values of `output` of f's scores on the rows of x. direction (+-1 per
    row, single-output models): the scores are turned first, so "probability" is p(y|x)."""
    scores = np.asarray(f(x), np.float64)
    if scores.ndim == 1:
        scores = scores[:, None]
    if direction is not None:
        scores = scores * np.asarray(direction, np.float64).reshape(-1, 1)
    if output == "logit":
        return scores
    import tensorflow as tf

    from .gradients import transform

    return transform(tf.constant(scores), output).numpy()


def steps(x: np.ndarray, step: float, scale=None, relative: bool = True) -> np.ndarray:
    """h_ij (same shape as the flattened x): step * max(|x_ij|, scale_j), or step * scale_j."""
    flat = x.reshape(len(x), -1)
    s = np.asarray(1.0 if scale is None else scale, np.float64).reshape(-1)
    if s.size not in (1, flat.shape[1]):
        raise ValueError(
            f"finite differences: scale has {s.size} values for {flat.shape[1]} features"
        )
    s = np.broadcast_to(s, (flat.shape[1],))
    if (s <= 0).any() or not np.isfinite(s).all():
        raise ValueError("finite differences: every feature scale must be finite and > 0")
    s = np.maximum(np.abs(flat), s) if relative else np.broadcast_to(s, flat.shape)
    return step * s


def central_differences(
    f: Callable,
    x,
    classes="all",
    output: str = "logit",
    step: float = 1e-3,
    scale=None,
    relative: bool = True,
    max_rows: int = 4096,
    features=None,
    direction=None,
) -> np.ndarray:
    """Central-difference gradient of f's `output` for the rows of x, float64.

    classes: "all" -> (n, k, *x.shape[1:]) (every output, the Jacobian); an int or a per-row
    array -> (n, *x.shape[1:]), the gradient of that output. features: optional boolean mask
    of x's shape; only those coordinates are differentiated (NaN elsewhere). f is called on
    arrays of x's dtype (float64 for full accuracy), at most max_rows rows per call.
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise ValueError(
            f"finite differences need real-valued inputs, got dtype {x.dtype} "
            "(token ids cannot move by a small step)"
        )
    if step <= 0 or max_rows < 2:
        raise ValueError(
            f"finite differences: step must be > 0 and max_rows >= 2, got "
            f"step={step}, max_rows={max_rows}"
        )
    n, d = len(x), int(np.prod(x.shape[1:], dtype=int))
    flat = x.reshape(n, d)
    h = steps(x, step, scale, relative)
    mask = np.ones((n, d), bool) if features is None else np.asarray(features, bool).reshape(n, d)
    rows_i, cols_j = np.nonzero(mask)  # the (row, coordinate) pairs, row-major
    up = (flat[rows_i, cols_j] + h[rows_i, cols_j]).astype(x.dtype)
    down = (flat[rows_i, cols_j] - h[rows_i, cols_j]).astype(x.dtype)
    width = up.astype(np.float64) - down.astype(np.float64)  # the representable 2h
    turn = None if direction is None else np.broadcast_to(np.asarray(direction, np.float64), (n,))
    per_call = max_rows // 2
    diffs = None
    for start in range(0, len(rows_i), per_call):
        part = slice(start, min(start + per_call, len(rows_i)))
        i, j = rows_i[part], cols_j[part]
        batch = np.concatenate([flat[i], flat[i]])
        m = len(i)
        batch[np.arange(m), j] = up[part]
        batch[m + np.arange(m), j] = down[part]
        out = outputs(
            f,
            batch.reshape((2 * m,) + x.shape[1:]),
            output,
            None if turn is None else np.concatenate([turn[i], turn[i]]),
        )
        if diffs is None:
            diffs = np.zeros((len(rows_i), out.shape[1]))
        diffs[part] = (out[:m] - out[m:]) / width[part, None]
    if diffs is None:  # nothing to differentiate: learn k from one call
        k = outputs(f, x[:1], output).shape[1] if n else 1
        diffs = np.zeros((0, k))
    k = diffs.shape[1]
    jac = np.full((n, k, d), np.nan)
    jac[rows_i, :, cols_j] = diffs
    if isinstance(classes, str):
        if classes != "all":
            raise ValueError(f"classes must be 'all', an int or an array, got {classes!r}")
        return jac.reshape((n, k) + x.shape[1:])
    cls = np.broadcast_to(np.asarray(classes, int), (n,))
    return jac[np.arange(n), cls].reshape(x.shape)
