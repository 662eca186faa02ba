"""Rules of the any_model section: each reads its inputs, calls compute / tables / views,
writes its outputs atomically and returns the metrics to log."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from inputgrad.infra.errors import DataError
from inputgrad.infra.io import load_npz, save_figure, save_npz, write_csv, write_json, write_text

from . import compute, tables, views

log = logging.getLogger(__name__)


def any_model_regression(inputs, outputs, params):
    """Rule any_model_regression (one seed): the four regression models on the diabetes data;
    per-model table (R², agreement with the linear coefficients, first-order share), per-feature
    ḡ, the tree's step table, and the JSON summary the claims read."""
    cfg, seed = params["cfg"], int(params["seed"])
    out = compute.regression(cfg, seed)
    models, features = pd.DataFrame(out["models"]), pd.DataFrame(out["features"])
    steps = pd.DataFrame(out["steps"])
    write_csv(outputs["table"], models)
    write_csv(outputs["features"], features)
    write_csv(outputs["steps"], steps)
    summary = tables.regression_summary(models, steps, seed)
    write_json(outputs["summary"], summary)
    save_models(outputs, out)
    log.info("seed %s regression:\n%s", seed, models.round(4).to_string(index=False))
    log.info("seed %s tree steps:\n%s", seed, steps.round(4).to_string(index=False))
    return {**{f"seed{seed}_{r['model']}_{k}": r[k] for r in out["models"]
               for k in ("test_r2", "spearman", "first_order_share")},
            **{f"seed{seed}_{m}_seconds": s for m, s in out["seconds"].items()}}


def save_models(outputs, out) -> None:
    """Each fitted model to its output (the scikit-learn ones as skops files, the MLP as a
    .keras file in the target's units) and the prepared split (train and test arrays), which
    tracking logs as the models' datasets."""
    from inputgrad.infra.io import save_keras, save_skops

    split = out["split"]
    for name, model in out["fitted"].items():
        if compute.FLAVOR[name] == "keras":
            save_keras(outputs[name], compute.saved_mlp(model, split["x_train"],
                                                          split["y_train"]))
        else:
            save_skops(outputs[name], model)
    save_npz(outputs["split"], split)


def class_images(inputs, outputs, params):
    """Rule class_images (one seed): class-model images of the MNIST MLP and the logistic
    regression; per digit its probability and Pearson r with the MLP's mean Jacobian and the
    regression's weights (table, JSON summary), and the images (npz) for the figure."""
    from inputgrad.core.models import load_model, model_fn
    from inputgrad.core.stats import softmax

    cfg = params["cfg"]
    jac = load_npz(inputs["jacobian"])
    if cfg["jacobian"] not in jac:
        raise DataError(
            f"{inputs['jacobian']}: no array {cfg['jacobian']!r} (class_images."
            f"jacobian); it has {', '.join(jac)}"
        )
    jacobian = jac[cfg["jacobian"]]
    logreg = load_model(inputs["logreg"])
    dense = [layer for layer in logreg.layers if layer.weights]
    if len(dense) != 1:
        raise DataError(f"{inputs['logreg']}: not a single dense layer")
    weights = dense[0].get_weights()[0].T.astype(np.float64)
    images = {}
    for name, path in (("mnist_mlp", inputs["mlp"]), ("mnist_logreg", inputs["logreg"])):
        f = model_fn(load_model(path))
        img = compute.class_images(f, np.arange(len(weights)), weights.shape[1], cfg)
        p = softmax(np.asarray(f(img), np.float64))[np.arange(len(img)), np.arange(len(img))]
        images[name] = (img, p)
    table = pd.DataFrame(compute.image_rows(images, jacobian, weights))
    write_csv(outputs["table"], table)
    write_json(outputs["summary"], tables.class_image_summary(table, cfg["min_probability"]))
    save_npz(
        outputs["images"],
        {
            "mean_jacobian": jacobian,
            "weights": weights,
            **{name: img for name, (img, _) in images.items()},
        },
    )
    log.info("seed %s class images:\n%s", params["seed"], table.round(3).to_string(index=False))
    return {f"class_images_min_p_{m}": float(g["p_class"].min()) for m, g in table.groupby("model")}


def class_images_figure(inputs, outputs, params):
    """Rule class_images_figure: rows mean Jacobian, class image (MLP), class image (logistic
    regression), weights; one column per digit."""
    arrays = load_npz(inputs["images"])
    fig = views.class_images_figure(arrays, params["cfg"]["figure"])
    save_figure(fig, outputs["png"], outputs["pdf"])


def any_model_seeds(inputs, outputs, params):
    """Rule any_model_seeds: the per-seed regression and class-image tables -> long across-seed
    table (CSV) and Markdown."""
    seeds = [int(s) for s in params["cfg"]["seeds"]]
    if not len(seeds) == len(inputs["regression"]) == len(inputs["images"]):
        raise DataError(
            f"any_model_seeds: {len(seeds)} seeds but {len(inputs['regression'])} "
            f"regression and {len(inputs['images'])} class-image tables"
        )
    reg = {s: pd.read_csv(p) for s, p in zip(seeds, inputs["regression"], strict=True)}
    img = {s: pd.read_csv(p) for s, p in zip(seeds, inputs["images"], strict=True)}
    table = tables.seeds_table(reg, img)
    write_csv(outputs["csv"], table)
    markdown = tables.seeds_markdown(table)
    write_text(outputs["md"], markdown)
    log.info("any_model across seeds:\n%s", markdown)
    return {"any_model_seeds_n": len(seeds)}
