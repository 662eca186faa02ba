"""Paper section 5.3, the rule functions: `run(inputs, outputs, params)` of each mnist.smk rule.

IO glue only: read the inputs, call compute / tables / views, write the outputs atomically,
return the metrics to log.
"""

from __future__ import annotations

import logging
import time

from ...infra.errors import ConfigError
from ...infra.io import load_npz, save_figure, save_npz, write_text
from .compute import (
    check_factorized,
    check_targets,
    dense_weights,
    load_data,
    logit_weight_gap,
    mean_jacobians,
    predictions,
)
from .tables import correlation_table, table_csv, table_markdown
from .views import jacobian_figure

log = logging.getLogger(__name__)


def train_mnist(inputs, outputs, params):
    """Rule train_mnist: train an MNIST model of paper 5.3 on the flattened digits."""
    from ...core.train import train_stage  # Keras: only the rules that run a model load it

    data = load_data(inputs["data"])
    expected = params["cfg"]["model"].get("inputs", 784)
    pixels = data["x_train"].shape[1]
    if expected != pixels:
        raise ConfigError(f"model.inputs = {expected} but {inputs['data']} has {pixels} pixels "
                          "per digit")
    return train_stage(data, outputs, params)


def mnist_jacobian(inputs, outputs, params):
    """Rule mnist_jacobian: mean Jacobians (every target in `attribution.targets`) over the test
    digits, saved as npz arrays `<target>` (classes, 784) plus `n`, `mean_probability`,
    `accuracy`. Returns the checks (factorised vs direct; logreg: logit Jacobian vs W) and the
    seconds the Jacobians took."""
    import keras

    cfg = params["cfg"]
    attr = cfg["attribution"]
    check_targets(attr["targets"])
    model = keras.models.load_model(inputs["model"], compile=False)
    data = load_data(inputs["data"])
    x, y = data["x_test"], data["y_test"]
    start = time.perf_counter()
    jac = mean_jacobians(model, x, attr["targets"], attr["batch_size"])
    seconds = time.perf_counter() - start
    gaps = check_factorized(model, x[:attr["batch_size"]], attr["targets"])
    log.info("mean Jacobians %s over %d digits: %.2f s; factorised vs direct on %d digits: %s",
             list(attr["targets"]), len(x), seconds, min(len(x), attr["batch_size"]), gaps)
    metrics = {f"factorised_gap_{target}": gap for target, gap in gaps.items()}
    metrics["mnist_jacobian_seconds"] = seconds
    if cfg["model"]["name"] == "mnist_logreg" and "logit" in jac:
        gap = logit_weight_gap(model, x, attr["batch_size"])
        metrics["logit_jacobian_minus_weights_max_abs"] = gap
        log.info("logistic regression: max |mean logit Jacobian (direct) - W| = %.3g", gap)
    arrays = {**jac, **predictions(model, x, y)}
    save_npz(outputs["jacobian"], arrays)
    log.info("%s: %s, %d digits, accuracy %.4f", outputs["jacobian"], cfg["model"]["name"],
             len(x), arrays["accuracy"])
    return metrics


def mnist_logreg_weights(inputs, outputs, params):
    """Rule mnist_logreg_weights: the regression's npz arrays `weights` (classes, 784), `bias`."""
    import keras

    model = keras.models.load_model(inputs["model"], compile=False)
    weights, bias = dense_weights(model)
    save_npz(outputs["weights"], {"weights": weights, "bias": bias})
    log.info("%s: weights %s, range [%.3g, %.3g]", outputs["weights"], weights.shape,
             weights.min(), weights.max())


def mnist_jacobian_table(inputs, outputs, params):
    """Rule mnist_jacobian_table: per-digit correlations from the saved arrays, as tidy CSV and
    Markdown. Returns the mean correlation of each column."""
    mlp_jac, logreg_jac = load_npz(inputs["mlp"]), load_npz(inputs["logreg"])
    weights = load_npz(inputs["weights"])["weights"]
    df = correlation_table(mlp_jac, weights, logreg_jac)
    write_text(outputs["csv"], table_csv(df))
    write_text(outputs["md"], table_markdown(df, int(mlp_jac["n"])))
    log.info("correlations:\n%s", df.to_string(index=False))
    return {f"mean_r_{c}": float(df[c].mean()) for c in df.columns if c != "digit"}


def mnist_jacobian_figure(inputs, outputs, params):
    """Rule mnist_jacobian_figure: MLP mean probability Jacobian vs logistic-regression weights,
    from the saved arrays and the table."""
    import matplotlib.pyplot as plt
    import pandas as pd

    fig_cfg = params["cfg"]["figure"]
    mlp, weights = load_npz(inputs["mlp"]), load_npz(inputs["weights"])["weights"]
    if "probability" not in mlp:
        raise ConfigError(f"{inputs['mlp']}: no 'probability' Jacobian "
                          "(attribution.targets of mnist_mlp)")
    fig = jacobian_figure(mlp, weights, pd.read_csv(inputs["table"]), fig_cfg)
    save_figure(fig, outputs["png"], outputs["pdf"], dpi=fig_cfg["dpi"])
    plt.close(fig)
    log.info("figure written: %s, %s", outputs["png"], outputs["pdf"])
