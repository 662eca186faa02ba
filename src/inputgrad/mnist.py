"""Paper section 5.3: an MLP on MNIST, its mean Jacobian per class vs logistic-regression weights.

Both models map the 784 flattened pixels to 10 logits. The paper's quantity is the average over
the 10,000 test digits of the Jacobian of the class probabilities softmax(f(x)) with respect to
the pixels, a 10 x 784 matrix whose row c, shown as a 28 x 28 image, tells how each pixel moves
the probability of digit c on average. The multinomial logistic regression is interpreted
directly through its weight matrix W (10 x 784): the Jacobian of its *logits* is W for every
input, so its mean logit Jacobian must equal W (checked in the rule and in the tests).

Every Jacobian comes from `inputgrad.gradients.mean_gradient(..., classes="all")`: one compiled
`batch_jacobian` over the 10 outputs per batch, reduced as it goes.
"""

from __future__ import annotations

import json
import logging
import time
from functools import lru_cache

import numpy as np

from .io import load_npz, save_npz, write_text

log = logging.getLogger(__name__)

TARGETS = ("probability", "logit")
MODELS = ("mnist_mlp", "mnist_logreg")
IMAGE_SHAPE = (28, 28)


# ----------------------------------------------------------------------------- data + training

def flatten(x: np.ndarray) -> np.ndarray:
    """(n, 28, 28) pixels in [0, 1] -> (n, 784) float32, row-major (pixel j = (j // 28, j % 28))."""
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"MNIST images must be (n, 28, 28) or (n, 784), got shape {x.shape}")
    return x.reshape(len(x), -1).astype(np.float32, copy=False)


def load_data(path) -> dict[str, np.ndarray]:
    """The prepared MNIST arrays with the pixels flattened to 784 and integer labels."""
    from .data import load_mnist

    raw = load_mnist(path)
    missing = {"x_train", "y_train", "x_test", "y_test"} - set(raw)
    if missing:
        raise KeyError(f"{path}: missing arrays {sorted(missing)}")
    data = {}
    for split in ("train", "test"):
        data[f"x_{split}"] = flatten(raw[f"x_{split}"])
        data[f"y_{split}"] = raw[f"y_{split}"].astype(np.int64)
        log.info("MNIST %s: %d digits x %d pixels", split, *data[f"x_{split}"].shape)
    return data


def train(data_path, experiment_id_file, outputs: dict, hyper: dict, seed: int,
          tracking_uri=None) -> dict:
    """The training rule: the shared train_and_log path on the flattened digits."""
    from .tracking import Tracker, read_id, results_dir_of
    from .train import train_and_log

    data = load_data(data_path)
    model_cfg = hyper["model"]
    if model_cfg.get("inputs", 784) != data["x_train"].shape[1]:
        raise ValueError(f"model.inputs = {model_cfg['inputs']} but {data_path} has "
                         f"{data['x_train'].shape[1]} pixels per digit")
    tracker = Tracker.for_results(results_dir_of(experiment_id_file), tracking_uri)
    return train_and_log(model_cfg, hyper, data, outputs, tracker, read_id(experiment_id_file),
                         run_name=f"{model_cfg['name']}-seed{seed}", seed=seed)


# ----------------------------------------------------------------------------- Jacobians

@lru_cache(maxsize=16)
def model_fn(model):
    """The model as a function of the pixels, in inference mode (dropout off). Cached per model,
    so the gradient primitive compiles once per model (its cache is keyed by this function)."""

    def f(x):
        return model(x, training=False)

    return f


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


def mean_jacobians(model, x: np.ndarray, targets=TARGETS, batch_size: int = 256,
                   factorize: bool = True) -> dict[str, np.ndarray]:
    """{target: mean over the rows of x of d target / d pixels}, each (classes, 784) float64.

    factorize (models whose first layer is Dense, as both of ours): with z = x W + b the first
    layer's pre-activation, the chain rule gives d target / d x = (d target / d z) W.T for every
    digit, and the mean commutes with the constant W.T, so
        mean_i J_x(x_i) = (mean_i J_z(z_i)) W.T.
    The primitive then takes the all-classes Jacobian with respect to z (width 512, not 784)
    and the 10 backward passes skip the first layer's (b * 10, 512) x (512, 784) product: the
    same numbers, about half the work. factorize=False differentiates the pixels directly.
    """
    from .gradients import mean_gradient

    x = flatten(x)
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
        jac = mean_gradient(f, inputs, output=target, classes="all", batch_size=batch_size)
        out[target] = jac @ kernel.T.astype(np.float64) if split is not None else jac
        log.debug("mean %s Jacobian over %d digits (%s): %.2f s", target, len(x),
                  "through the first layer" if split is not None else "direct",
                  time.perf_counter() - start)
    return out


def check_factorized(model, x: np.ndarray, targets=TARGETS, rtol: float = 1e-3) -> dict[str, float]:
    """Relative max difference between the factorised and the direct mean Jacobian on x (a few
    digits); raises if above rtol, i.e. if the first-layer chain rule did not hold."""
    fast = mean_jacobians(model, x, targets, batch_size=len(x), factorize=True)
    direct = mean_jacobians(model, x, targets, batch_size=len(x), factorize=False)
    gaps = {}
    for target in targets:
        scale = np.abs(direct[target]).max() or 1.0
        gaps[target] = float(np.abs(fast[target] - direct[target]).max() / scale)
        if gaps[target] > rtol:
            raise RuntimeError(f"{model.name}: factorised {target} Jacobian differs from the direct "
                               f"one by {gaps[target]:.2e} (relative) on {len(x)} digits")
    return gaps


def dense_weights(model) -> tuple[np.ndarray, np.ndarray]:
    """(W, b) of the logistic regression: W (classes, 784) = kernel.T, so logits = x W.T + b."""
    dense = [layer for layer in model.layers if layer.weights]
    if len(dense) != 1 or len(dense[0].weights) != 2:
        raise ValueError(f"model {model.name!r} is not a single dense layer (layers with weights: "
                         f"{[layer.name for layer in dense]})")
    kernel, bias = (np.asarray(w) for w in dense[0].get_weights())
    return kernel.T.astype(np.float64), bias.astype(np.float64)


def compute_jacobians(model_path, test_path, out_path, hyper: dict) -> dict:
    """The Jacobian rule: mean Jacobians (every target in `attribution.targets`) over the test
    set, saved as npz arrays `<target>` (classes, 784) plus `n`, `mean_probability`, `accuracy`."""
    import keras

    attr = hyper["attribution"]
    bad = set(attr["targets"]) - set(TARGETS)
    if bad:
        raise ValueError(f"attribution.targets: unknown {sorted(bad)}; known {list(TARGETS)}")
    model = keras.models.load_model(model_path, compile=False)
    data = load_data(test_path)
    x, y = data["x_test"], data["y_test"]
    start = time.perf_counter()
    jac = mean_jacobians(model, x, attr["targets"], attr["batch_size"])
    seconds = time.perf_counter() - start
    gaps = check_factorized(model, x[:attr["batch_size"]], attr["targets"])
    log.info("mean Jacobians %s over %d digits: %.2f s; factorised vs direct on %d digits: %s",
             list(attr["targets"]), len(x), seconds, min(len(x), attr["batch_size"]), gaps)
    f = model_fn(model)
    logits = np.concatenate([f(x[s:s + 4096]).numpy() for s in range(0, len(x), 4096)])
    probs = _softmax(logits)
    arrays = {**jac, "n": np.int64(len(x)), "mean_probability": probs.mean(axis=0),
              "accuracy": np.float64((logits.argmax(axis=1) == y).mean())}
    summary = {"model": hyper["model"]["name"], "n": len(x), "accuracy": float(arrays["accuracy"]),
               "targets": list(attr["targets"]), "factorised_vs_direct": gaps}
    if hyper["model"]["name"] == "mnist_logreg" and "logit" in jac:
        weights, _ = dense_weights(model)
        direct = mean_jacobians(model, x, ["logit"], attr["batch_size"], factorize=False)["logit"]
        summary["logit_jacobian_minus_weights_max_abs"] = float(np.abs(direct - weights).max())
        log.info("logistic regression: max |mean logit Jacobian (direct) - W| = %.3g",
                 summary["logit_jacobian_minus_weights_max_abs"])
    save_npz(out_path, arrays)
    log.info("%s: %s", out_path, json.dumps(summary))
    return summary


def save_weights(model_path, out_path) -> dict:
    """The logistic regression's weights: npz arrays `weights` (classes, 784) and `bias`."""
    import keras

    model = keras.models.load_model(model_path, compile=False)
    weights, bias = dense_weights(model)
    save_npz(out_path, {"weights": weights, "bias": bias})
    log.info("%s: weights %s, range [%.3g, %.3g]", out_path, weights.shape, weights.min(),
             weights.max())
    return {"shape": list(weights.shape)}


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# ----------------------------------------------------------------------------- table

def pearson_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation between matching rows of a and b (over the pixels)."""
    a = np.asarray(a, np.float64).reshape(len(a), -1)
    b = np.asarray(b, np.float64).reshape(len(b), -1)
    if a.shape != b.shape:
        raise ValueError(f"cannot correlate arrays of shapes {a.shape} and {b.shape}")
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    denom = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (a * b).sum(axis=1) / denom, np.nan)


def correlation_table(mlp_jac: dict, weights: np.ndarray, logreg_jac: dict | None = None):
    """Per digit: Pearson r between the MLP's mean Jacobian (each target) and the logistic
    regression's weights; with logreg_jac, also the regression's own mean probability Jacobian
    against its weights (how far the softmax alone moves a linear model's picture)."""
    import pandas as pd

    df = pd.DataFrame({"digit": np.arange(len(weights))})
    for target in TARGETS:
        if target in mlp_jac:
            df[f"mlp_{target}"] = pearson_rows(mlp_jac[target], weights)
    if logreg_jac is not None and "probability" in logreg_jac:
        df["logreg_probability"] = pearson_rows(logreg_jac["probability"], weights)
    return df


COLUMN_NOTES = {
    "mlp_probability": "MLP mean Jacobian of the class probability (the paper's quantity)",
    "mlp_logit": "MLP mean Jacobian of the class logit",
    "logreg_probability": "the regression's own mean probability Jacobian (reference)",
}


def make_table(mlp_path, logreg_path, weights_path, csv_path, md_path) -> dict:
    """The table rule: correlations from the saved arrays, as tidy CSV and Markdown."""
    mlp_jac, logreg_jac = load_npz(mlp_path), load_npz(logreg_path)
    weights = load_npz(weights_path)["weights"]
    df = correlation_table(mlp_jac, weights, logreg_jac)
    write_text(csv_path, df.to_csv(index=False, float_format="%.4f"))
    notes = "\n".join(f"- `{c}`: {COLUMN_NOTES[c]}" for c in df.columns if c in COLUMN_NOTES)
    means = ", ".join(f"`{c}` {df[c].mean():.3f}" for c in df.columns if c != "digit")
    md = ("Pearson correlation over the 784 pixels, per digit, between each mean Jacobian (over "
          f"the {int(mlp_jac['n'])} test digits) and the logistic-regression weights.\n\n"
          + df.to_markdown(index=False, floatfmt=["g"] + [".3f"] * (df.shape[1] - 1)) + f"\n\nMean over digits: {means}.\n\n"
          + notes + "\n")
    write_text(md_path, md)
    log.info("correlations:\n%s", df.to_string(index=False))
    return {c: df[c].tolist() for c in df.columns}


# ----------------------------------------------------------------------------- files + MLflow
