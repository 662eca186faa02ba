"""The one gradient primitive. The attribution methods sit on top of it in `core.methods`.

`f` is any callable mapping an input tensor to logits of shape (n, k); k = 1 means a binary
model whose probability is sigmoid(logit), k > 1 a softmax classifier. The input tensor is
whatever we differentiate with respect to: pixels, a bag-of-words vector, or the output of an
embedding layer (chain rule through the lookup of categorical token ids).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache

import numpy as np
import tensorflow as tf

from .outputs import OUTPUTS


def transform(logits: tf.Tensor, output: str) -> tf.Tensor:
    """The values of an output: the logits, the class probabilities, their logarithms, or the
    cross-entropy of every possible label (= -log_probability). A binary model (one logit z)
    has the single column sigmoid(z), log sigmoid(z), -log sigmoid(z)."""
    binary = logits.shape[-1] == 1
    if output == "logit":
        return logits
    if output == "probability":
        return tf.sigmoid(logits) if binary else tf.nn.softmax(logits, axis=-1)
    if output in ("log_probability", "cross_entropy"):
        logp = tf.math.log_sigmoid(logits) if binary else tf.nn.log_softmax(logits, axis=-1)
        return logp if output == "log_probability" else -logp
    raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")


def differentiable(logits: tf.Tensor, output: str) -> tf.Tensor:
    """A tensor whose gradient is that of transform(logits, output), exact in float32 when a
    probability rounds to 1 (its values are not those of the output: use it only as a target).

    The framework's gradients of softmax, log_softmax and sigmoid form (1 - p_c) as a float32
    difference, which is 0 once p_c rounds to 1 (1 - p_c < 2^-24), so d log p_c loses its
    d z_c term and d p_c vanishes. Here 1 - p_c enters only as the sum of the other classes'
    probabilities, held constant: for a softmax, S_c = sum_(j != c) stop(p_j) (z_c - z_j) has
    dS_c = sum_(j != c) p_j (dz_c - dz_j) = d log p_c exactly, and stop(p_c) S_c has d p_c.
    For one logit, d log sigmoid(z) = sigmoid(-z) dz and d sigmoid(z) = sigmoid(z) sigmoid(-z)
    dz, with sigmoid(-z) evaluated directly rather than as 1 - sigmoid(z).
    """
    if output == "logit":
        return logits
    transform(logits[:1], output)  # a bad `output` fails here
    if logits.shape[-1] == 1:
        p, q = tf.sigmoid(logits), tf.sigmoid(-logits)
        s = tf.stop_gradient(q) * logits
    else:
        p = tf.nn.softmax(logits, axis=-1)
        k = logits.shape[-1]
        others = tf.stop_gradient(p)[:, None, :] * (1.0 - tf.eye(k, dtype=logits.dtype))
        s = logits * tf.reduce_sum(others, axis=-1) - tf.einsum("ncj,nj->nc", others, logits)
    if output == "probability":
        return tf.stop_gradient(p) * s
    return s if output == "log_probability" else -s


@lru_cache(maxsize=64)
def make_gradient_fn(f: Callable, output: str = "logit", all_classes: bool = False,
                     reduce: Callable | None = None):
    """Compile d(target)/d(x) for one batch.

    all_classes=False: returns fn(x, cls) -> (grad of out[i, cls[i]] w.r.t. x[i], outputs).
    all_classes=True:  returns fn(x, cls) -> (Jacobian (b, k, *x.shape[1:]), outputs); cls unused.
    reduce: optional TF function applied to the batch's gradients inside the compiled function
    (e.g. a norm over the embedding axis), so only the reduced tensor leaves the graph.
    Examples must not interact inside `f` (inference mode), so summing targets over the batch
    gives each example's own gradient. Cached per (f, output, all_classes, reduce): one trace
    per model.
    """
    transform(tf.zeros((1, 1)), output)  # fail early on a bad `output`

    @tf.function(reduce_retracing=True)
    def fn(x, cls):
        with tf.GradientTape() as tape:
            tape.watch(x)
            logits = f(x)
            target = differentiable(logits, output)
            if not all_classes:
                target = tf.gather(target, cls, axis=1, batch_dims=1)
        grads = tape.batch_jacobian(target, x) if all_classes else tape.gradient(target, x)
        if reduce is not None:
            grads = reduce(grads)
        return grads, transform(logits, output)

    return fn


def input_gradient(f: Callable, x: tf.Tensor, output: str = "log_probability",
                   ) -> tuple[tf.Tensor, tf.Tensor]:
    """The one differentiable form of the primitive, for a training step (double backward):
    (d/dx sum over rows and classes of transform(f(x), output), logits), both tensors that
    an enclosing GradientTape differentiates further (with respect to the weights).

    This is Ross et al.'s (2017) "right reasons" gradient, d/dx sum_k log p_k, for
    output="log_probability". It uses `transform`, not `differentiable`: the latter holds
    probabilities constant (stop_gradient), which is exact for d/dx but drops their
    dependence on the weights, so its second derivatives would be wrong. One forward pass
    gives both the gradient and the logits, so a training loss on the logits sees the same
    dropout mask as the penalty. Not compiled here: the caller's training step is."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        logits = f(x)
        total = tf.reduce_sum(transform(logits, output))
    return tape.gradient(total, x), logits


def gradient_batches(f: Callable, x, output: str = "logit", classes="all",
                     batch_size: int = 256, reduce: Callable | None = None,
                     ) -> Iterator[tuple[slice, np.ndarray, np.ndarray]]:
    """Yield (rows, gradients, outputs) batch by batch, so callers can reduce as they go.

    classes: "all" (Jacobian over every output), "predicted" (argmax per example; the single
    output for binary models), an int (same class for all) or an array of per-example classes.
    reduce: optional TF function of a batch's gradients, run inside the compiled function;
    then `gradients` is its result (pass the same function object each time: it is part of
    the compilation cache key).
    """
    x = np.asarray(x)
    fn = make_gradient_fn(f, output, all_classes=isinstance(classes, str) and classes == "all",
                          reduce=reduce)
    for start in range(0, len(x), batch_size):
        rows = slice(start, min(start + batch_size, len(x)))
        xb = tf.convert_to_tensor(x[rows], dtype=tf.float32 if x.dtype.kind == "f" else None)
        cls = _classes(classes, f, xb, rows)
        grads, outs = fn(xb, cls)
        yield rows, grads.numpy(), outs.numpy()


def predicted_classes(f, x, batch_size: int = 256) -> np.ndarray:
    """The predicted class per example (argmax of the logits; 0 for a single-output binary
    model), resolved once so every method and every noisy or scaled copy uses the same one."""
    x = np.asarray(x)
    parts = []
    for start in range(0, len(x), batch_size):
        xb = tf.convert_to_tensor(x[start:start + batch_size],
                                  dtype=tf.float32 if x.dtype.kind == "f" else None)
        parts.append(_classes("predicted", f, xb, slice(0, len(xb))).numpy())
    return np.concatenate(parts) if parts else np.zeros(0, np.int32)


def _classes(classes, f, xb, rows) -> tf.Tensor:
    n = int(xb.shape[0])
    if isinstance(classes, str):
        if classes == "all":
            return tf.zeros((n,), tf.int32)
        if classes == "predicted":
            logits = f(xb)
            if logits.shape[-1] == 1:
                return tf.zeros((n,), tf.int32)
            return tf.cast(tf.argmax(logits, axis=-1), tf.int32)
        raise ValueError(f"classes must be 'all', 'predicted', an int or an array, got {classes!r}")
    if np.ndim(classes) == 0:
        return tf.fill((n,), int(classes))
    return tf.convert_to_tensor(np.asarray(classes)[rows], tf.int32)


def gradient(f: Callable, x, output: str = "logit", classes="all",
             batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """All gradients and outputs at once: (grads, outputs). See `gradient_batches`."""
    parts = list(gradient_batches(f, x, output, classes, batch_size))
    return np.concatenate([g for _, g, _ in parts]), np.concatenate([o for _, _, o in parts])


def mean_gradient(f: Callable, x, output: str = "logit", classes="all",
                  batch_size: int = 256) -> np.ndarray:
    """The paper's ḡ: the average of the input gradients over the rows of x (float64 sum)."""
    total = None
    for _, grads, _ in gradient_batches(f, x, output, classes, batch_size):
        part = grads.sum(axis=0, dtype=np.float64)
        total = part if total is None else total + part
    return total / len(x)


def finite_difference(f: Callable, x, output: str = "logit", eps: float = 1e-3) -> np.ndarray:
    """Central differences of every output w.r.t. every input coordinate, in float64, with the
    absolute step eps (`numerical.central_differences`; f is called on float64 tensors).

    For tests: returns (n, k, *x.shape[1:]) like the all-classes Jacobian.
    """
    from .numerical import central_differences

    return central_differences(lambda a: f(tf.constant(a)), np.asarray(x, np.float64), "all",
                               output, step=eps, relative=False, max_rows=1 << 14)
