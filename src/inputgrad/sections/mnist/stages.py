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
    class_key,
    dense_weights,
    load_data,
    logit_weight_gap,
    mean_jacobians,
    predictions,
    seed_mean,
)
from .tables import correlation_table, seeds_markdown, seeds_table, table_csv, table_markdown
from .views import jacobian_figure, variants_figure

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
    digits, saved as npz arrays `<target>` (classes, 784), the class-conditional ones
    `<target>_class` (row c: mean over the test digits of true class c), `n`,
    `mean_probability`, `accuracy`. Returns the checks (factorised vs direct; logreg: logit
    Jacobian vs W) and the seconds the Jacobians took."""
    from ...core.models import load_model

    cfg = params["cfg"]
    attr = cfg["attribution"]
    check_targets(attr["targets"])
    model = load_model(inputs["model"])
    data = load_data(inputs["data"])
    x, y = data["x_test"], data["y_test"]
    start = time.perf_counter()
    jac = mean_jacobians(model, x, attr["targets"], attr["batch_size"], labels=y)
    seconds = time.perf_counter() - start
    few = slice(attr["batch_size"])
    gaps = check_factorized(model, x[few], attr["targets"], labels=y[few])
    log.info("mean Jacobians %s over %d digits: %.2f s; factorised vs direct on %d digits: %s",
             list(attr["targets"]), len(x), seconds, min(len(x), attr["batch_size"]), gaps)
    metrics = {f"factorised_gap_{name}": gap for name, gap in gaps.items()}
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
    from ...core.models import load_model

    model = load_model(inputs["model"])
    weights, bias = dense_weights(model)
    save_npz(outputs["weights"], {"weights": weights, "bias": bias})
    log.info("%s: weights %s, range [%.3g, %.3g]", outputs["weights"], weights.shape,
             weights.min(), weights.max())


def mnist_jacobian_table(inputs, outputs, params):
    """Rule mnist_jacobian_table: per-digit correlations from one seed's saved arrays, as tidy
    CSV and Markdown. Returns the mean correlation of each column."""
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


def mnist_seeds(inputs, outputs, params):
    """Rule mnist_seeds: across the seeds `cfg.seeds` (inputs in the same order), the test
    accuracies and the mean r of every variant per seed with their summary, and the r of the
    seed-averaged Jacobians with the seed-averaged weights. Returns the mean over seeds and the
    seed-averaged value of each variant's mean r."""
    seeds = params["cfg"]["seeds"]
    mlp, logreg, weights = ([load_npz(p) for p in inputs[key]]
                            for key in ("mlp", "logreg", "weights"))
    df = seeds_table(seeds, mlp, logreg, weights)
    write_text(outputs["csv"], table_csv(df))
    write_text(outputs["md"], seeds_markdown(df))
    mean_r = df[df["quantity"] == "mean_r"].set_index(["variant", "seed"])
    log.info("mean r over digits per seed and of the seed-averaged Jacobians:\n%s",
             mean_r["value"].unstack().drop(columns="all").to_string())
    variants = mean_r.index.get_level_values("variant").unique()
    return {**{f"seeds_mean_r_{v}": float(mean_r.loc[(v, "all"), "mean"]) for v in variants},
            **{f"seed_averaged_mean_r_{v}": float(mean_r.loc[(v, "averaged"), "value"])
               for v in variants}}


def mnist_jacobian_variants_figure(inputs, outputs, params):
    """Rule mnist_jacobian_variants_figure: the paper's MLP mean probability Jacobian (first
    seed), its logit and class-conditional variants, the probability Jacobian averaged over all
    seeds, and the seed-averaged regression weights; style `figure` with `figure.variants`
    overriding its keys."""
    import matplotlib.pyplot as plt

    cfg = params["cfg"]
    seeds, style = cfg["seeds"], cfg["figure"]
    if "variants" not in style:
        raise ConfigError("figure.variants: missing (experiment mnist_mlp; the keys of the "
                          "variants figure that differ from the figure's, e.g. height_in)")
    fig_cfg = {**{k: v for k, v in style.items() if k != "variants"}, **style["variants"]}
    mlp = load_npz(inputs["mlp"])
    missing = [k for k in ("probability", "logit", class_key("probability")) if k not in mlp]
    if missing:
        raise ConfigError(f"{inputs['mlp']}: no {missing} Jacobian (attribution.targets of "
                          "mnist_mlp must hold probability and logit)")
    averaged = seed_mean([load_npz(p) for p in inputs["mlp_seeds"]], ["probability"])
    weights = seed_mean([load_npz(p) for p in inputs["weights_seeds"]], ["weights"])["weights"]
    n, k = int(mlp["n"]), len(seeds)
    variants = [
        (f"paper: mean\nd p(digit) / d pixel\n(seed {seeds[0]}, {n} digits)", mlp["probability"]),
        (f"mean\nd logit(digit) / d pixel\n(seed {seeds[0]})", mlp["logit"]),
        (f"class-conditional:\nd p(digit) / d pixel\nover digits of that class\n(seed {seeds[0]})",
         mlp[class_key("probability")]),
        (f"mean\nd p(digit) / d pixel\naveraged over\n{k} seed{'s' * (k > 1)}",
         averaged["probability"]),
    ]
    fig = variants_figure(variants, (f"logistic\nregression:\nweights, averaged\nover {k} "
                                     f"seed{'s' * (k > 1)}", weights), fig_cfg)
    save_figure(fig, outputs["png"], outputs["pdf"], dpi=fig_cfg["dpi"])
    plt.close(fig)
    log.info("figure written: %s, %s", outputs["png"], outputs["pdf"])
