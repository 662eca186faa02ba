"""Paper section 5.3, the maths: mean Jacobians of the MNIST models and the regression's weights.

Both models map the 784 flattened pixels to 10 logits. The paper's quantity is the average over
the 10,000 test digits of the Jacobian of the class probabilities softmax(f(x)) with respect to
the pixels, a 10 x 784 matrix whose row c, shown as a 28 x 28 image, tells how each pixel moves
the probability of digit c on average. The multinomial logistic regression is interpreted
directly through its weight matrix W (10 x 784): the Jacobian of its *logits* is W for every
input, so its mean logit Jacobian must equal W (checked in the rule and in the tests).

Every Jacobian comes from `core.gradients.gradient_batches(..., classes="all")`: one compiled
`batch_jacobian` over the 10 outputs per batch, reduced as it goes (the all-digit mean exactly
as `core.gradients.mean_gradient` reduces it). The same pass gives the class-conditional mean:
row c averaged over the test digits whose true label is c only (docs/mnist.md compares these
variants of the paper's quantity).
"""

from __future__ import annotations

import logging
import time
from functools import lru_cache

import numpy as np

from ...core.stats import softmax
from ...data.encodings import flatten  # noqa: F401  (shared: data.encodings)
from ...infra.errors import ConfigError, DataError

log = logging.getLogger(__name__)

# Keras/TensorFlow are imported inside the functions that run a model, so the table and figure
# rules (which import this module for its constants) start without them.

TARGETS = ("probability", "logit")
IMAGE_SHAPE = (28, 28)


def load_data(path) -> dict[str, np.ndarray]:
    """The prepared MNIST arrays with the pixels flattened to 784 and integer labels."""
    from ...data.arrays import load_mnist

    raw = load_mnist(path)
    missing = {"x_train", "y_train", "x_test", "y_test"} - set(raw)
    if missing:
        raise DataError(f"{path}: missing arrays {sorted(missing)}")
    data = {}
    for split in ("train", "test"):
        data[f"x_{split}"] = flatten(raw[f"x_{split}"])
        data[f"y_{split}"] = raw[f"y_{split}"].astype(np.int64)
        log.info("MNIST %s: %d digits x %d pixels", split, *data[f"x_{split}"].shape)
    return data


def check_targets(targets) -> None:
    """Raise ConfigError naming `attribution.targets` if it holds an unknown target."""
    bad = set(targets) - set(TARGETS)
    if bad:
        raise ConfigError(f"attribution.targets: unknown {sorted(bad)}; known {list(TARGETS)}")


@lru_cache(maxsize=16)
def first_dense_split(model):
    """(layer, head) with f(x) = head(x @ layer.kernel + layer.bias), if the model's first layer
    is a Dense layer on its input (head = its activation, then the rest of the model, inference
    mode); None otherwise. Cached per model, so `head` compiles once."""
    import keras

    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if len(model.inputs) != 1 or not layers or not isinstance(layers[0], keras.layers.Dense):
        return None
    first = layers[0]
    if len(first._inbound_nodes) != 1 or first.input is not model.inputs[0]:
        return None
    rest = None if first.output is model.outputs[0] else keras.Model(first.output, model.outputs[0])
    activation = first.activation

    def head(z):
        h = activation(z)
        return h if rest is None else rest(h, training=False)

    return first, head


def class_key(target: str) -> str:
    """Name of the class-conditional mean Jacobian of `target` (npz array, table column)."""
    return f"{target}_class"


def mean_jacobians(model, x: np.ndarray, targets=TARGETS, batch_size: int = 256,
                   factorize: bool = True, labels=None) -> dict[str, np.ndarray]:
    """{target: mean over the rows of x of d target / d pixels}, each (classes, 784) float64.

    labels (the true class of each row): also {class_key(target): (classes, 784)}, row c = the
    mean of d target_c / d pixels over the rows whose label is c only (NaN if there is none),
    accumulated in the same gradient pass. The all-row sum is taken exactly as
    `core.gradients.mean_gradient` takes it, so those arrays do not depend on `labels`.

    factorize (models whose first layer is Dense, as both of ours): with z = x W + b the first
    layer's pre-activation, the chain rule gives d target / d x = (d target / d z) W.T for every
    digit, and a mean (over all digits or those of one class) commutes with the constant W.T, so
        mean_i J_x(x_i) = (mean_i J_z(z_i)) W.T.
    The primitive then takes the all-classes Jacobian with respect to z (width 512, not 784)
    and the 10 backward passes skip the first layer's (b * 10, 512) x (512, 784) product: the
    same numbers, about half the work. factorize=False differentiates the pixels directly.
    """
    from ...core.models import model_fn

    x = flatten(x)
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (len(x),):
            raise ValueError(f"labels must be one per row of x ({len(x)}), got {labels.shape}")
    split = first_dense_split(model) if factorize else None
    if split is not None:
        layer, f = split
        kernel = np.asarray(layer.kernel, dtype=np.float32)
        inputs = x @ kernel + np.asarray(layer.bias, dtype=np.float32)
    else:
        f, inputs = model_fn(model), x
    out = {}
    for target in targets:
        start = time.perf_counter()
        means = _mean_jacobian(f, inputs, target, batch_size, labels)
        for name, jac in means.items():
            out[name] = jac @ kernel.T.astype(np.float64) if split is not None else jac
        log.debug("mean %s Jacobian over %d digits (%s): %.2f s", target, len(x),
                  "through the first layer" if split is not None else "direct",
                  time.perf_counter() - start)
    return out


def _mean_jacobian(f, inputs: np.ndarray, target: str, batch_size: int,
                   labels) -> dict[str, np.ndarray]:
    """One pass over `gradient_batches`: the mean all-classes Jacobian over every row and, with
    labels, the mean of row c of the Jacobian over the rows labelled c (see mean_jacobians)."""
    from ...core.gradients import gradient_batches

    total = class_sums = None
    for rows, grads, _ in gradient_batches(f, inputs, output=target, classes="all",
                                           batch_size=batch_size):
        part = grads.sum(axis=0, dtype=np.float64)  # as mean_gradient: same sum, same order
        total = part if total is None else total + part
        if labels is not None:
            if class_sums is None:
                class_sums = np.zeros(grads.shape[1:], np.float64)
                if labels.min() < 0 or labels.max() >= len(class_sums):
                    raise ValueError(f"labels must be in [0, {len(class_sums)}), got "
                                     f"[{labels.min()}, {labels.max()}]")
            batch_labels = labels[rows]
            own = grads[np.arange(len(grads)), batch_labels]  # each digit's own-class row
            for c in np.unique(batch_labels):
                class_sums[c] += own[batch_labels == c].sum(axis=0, dtype=np.float64)
    means = {target: total / len(inputs)}
    if labels is not None:
        counts = np.bincount(labels, minlength=len(class_sums))[:, None]
        if (counts == 0).any():
            log.warning("no digits of class %s: their class-conditional %s Jacobian is NaN",
                        np.flatnonzero(counts[:, 0] == 0).tolist(), target)
        with np.errstate(invalid="ignore"):
            means[class_key(target)] = class_sums / counts
    return means


def check_factorized(model, x: np.ndarray, targets=TARGETS, rtol: float = 1e-3,
                     labels=None) -> dict[str, float]:
    """Relative max difference between the factorised and the direct mean Jacobians on x (a few
    digits; with labels also the class-conditional ones, NaN rows of absent classes skipped);
    raises if above rtol, i.e. if the first-layer chain rule did not hold."""
    fast = mean_jacobians(model, x, targets, batch_size=len(x), factorize=True, labels=labels)
    direct = mean_jacobians(model, x, targets, batch_size=len(x), factorize=False, labels=labels)
    gaps = {}
    for name in direct:
        scale = np.nanmax(np.abs(direct[name])) or 1.0
        gaps[name] = float(np.nanmax(np.abs(fast[name] - direct[name])) / scale)
        if gaps[name] > rtol:
            raise RuntimeError(f"{model.name}: factorised {name} Jacobian differs from the "
                               f"direct one by {gaps[name]:.2e} (relative) on {len(x)} digits")
    return gaps


def dense_weights(model) -> tuple[np.ndarray, np.ndarray]:
    """(W, b) of the logistic regression: W (classes, 784) = kernel.T, so logits = x W.T + b."""
    dense = [layer for layer in model.layers if layer.weights]
    if len(dense) != 1 or len(dense[0].weights) != 2:
        raise ValueError(f"model {model.name!r} is not a single dense layer (layers with weights: "
                         f"{[layer.name for layer in dense]})")
    kernel, bias = (np.asarray(w) for w in dense[0].get_weights())
    return kernel.T.astype(np.float64), bias.astype(np.float64)


def logit_weight_gap(model, x: np.ndarray, batch_size: int) -> float:
    """max |direct mean logit Jacobian - W| of the logistic regression (0 up to rounding: its
    logit Jacobian is W for every input). Direct, so the check does not rely on the chain rule."""
    weights, _ = dense_weights(model)
    direct = mean_jacobians(model, x, ["logit"], batch_size, factorize=False)["logit"]
    return float(np.abs(direct - weights).max())


def predictions(model, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """The arrays saved beside the Jacobians: n, mean class probability (classes,), accuracy."""
    from ...core.methods import forward
    from ...core.models import model_fn

    logits = forward(model_fn(model), x, 4096)
    return {"n": np.int64(len(x)), "mean_probability": softmax(logits).mean(axis=0),
            "accuracy": np.float64((logits.argmax(axis=1) == y).mean())}


def seed_mean(arrays: list[dict], keys) -> dict[str, np.ndarray]:
    """Element-wise mean over seeds (one dict of arrays per seed) of each of `keys` that every
    seed has: the seed-averaged Jacobians or weights."""
    return {key: np.mean([a[key] for a in arrays], axis=0)
            for key in keys if all(key in a for a in arrays)}
