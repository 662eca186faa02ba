"""Rules of the anomaly section (`workflow/rules/anomaly.smk`), one function each, named like
the rule: read the inputs, call compute / tables / views, write every output atomically and
return the metrics to log."""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from ...data.arrays import load_reviews, pad_reviews
from ...data.samples import sample_rows
from ...infra.errors import DataError
from ...infra.io import load_npz, save_figure, write_csv, write_text
from . import compute, tables, views

log = logging.getLogger(__name__)

# keras / TensorFlow are imported only by the stages that run a model, so anomaly_seeds and the
# figure start without them.


def _mnist_test(path) -> np.ndarray:
    arrays = load_npz(path)
    if "x_test" not in arrays:
        raise DataError(f"{path}: no array 'x_test'")
    return arrays["x_test"]


def _sklearn_digits() -> np.ndarray:
    """scikit-learn's bundled 8x8 digits (1797 images, values 0..16; no download)."""
    import sklearn
    from sklearn.datasets import load_digits

    images = load_digits().images
    log.info("scikit-learn %s: %d 8x8 digits", sklearn.__version__, len(images))
    return images


def _model_sets(kind: str, model, sets: dict, imdb: dict) -> dict[str, np.ndarray]:
    """The model's inputs for the in-distribution sample and every shifted set, by the input
    it reads (pixels, or IMDB reviews as token ids or a bag of words)."""
    if kind == "pixels":
        return sets["mnist"]
    return {k: compute.text_inputs(model, ids, offsets, imdb)
            for k, (ids, offsets) in sets["imdb"].items()}


def gradient_anomaly(inputs, outputs, params) -> dict:
    """Rule gradient_anomaly (one seed): AUROC and FPR95 of every detector for every model
    against its shifted sets (tidy CSV). Returns the seconds per model and the mean AUROC per
    model and detector as metrics."""
    from ...core.models import load_model

    cfg = params["cfg"]
    anomaly, imdb = cfg["anomaly"], cfg["data"]["imdb"]
    sets = {"mnist": compute.mnist_sets(_mnist_test(inputs["mnist"]), _sklearn_digits(),
                                        anomaly["mnist"]),
            "imdb": compute.text_sets(load_reviews(inputs["imdb_test"]), anomaly["imdb"],
                                      imdb["num_words"], imdb["index_from"])}
    rows, metrics = [], {}
    for name, kind in params["models"].items():
        start = time.perf_counter()
        model = load_model(inputs[name])
        values = {k: compute.detector_values(model, x, anomaly["batch_size"],
                                             anomaly["chunk_size"])
                  for k, x in _model_sets(kind, model, sets, imdb).items()}
        inside = values.pop("in_distribution")
        results = {k: compute.detection(inside, v, anomaly["tpr"]) for k, v in values.items()}
        rows += tables.anomaly_rows(name, results, len(inside["msp"]),
                                    {k: len(v["msp"]) for k, v in values.items()})
        metrics[f"anomaly_seconds_{name}"] = time.perf_counter() - start
        log.info("%s: %d shifted sets in %.1f s", name, len(results),
                 metrics[f"anomaly_seconds_{name}"])
    table = tables.anomaly_table(rows)
    write_csv(outputs["table"], table)
    log.info("seed %s anomaly detection:\n%s", params["seed"], table.to_string(index=False))
    means = table.groupby(["model", "detector"], sort=False)["auroc"].mean()
    return {**metrics, **{f"anomaly_auroc_mean_{m}_{d}": float(v) for (m, d), v in means.items()}}


def grouped_deletion(inputs, outputs, params) -> dict:
    """Rule grouped_deletion (one seed): deletion curves of the MNIST MLP (pixels vs k x k
    patches) and of the CNN (words vs windows), tidy CSV."""
    from ...core.models import load_model, model_fn

    cfg = params["cfg"]
    grouped, imdb = cfg["grouped"], cfg["data"]["imdb"]
    metrics = {}
    start = time.perf_counter()
    options = {"method_options": grouped.get("method_options")}  # attribution/methods.yaml
    digits = {**grouped["mnist"], **options}
    x = _mnist_test(inputs["mnist"])
    x = x.reshape(len(x), -1).astype(np.float32)
    pick = sample_rows(len(x), digits["n"], digits["seed"])
    parts = [tables.deletion_table("mnist_mlp", compute.mnist_deletion(
        model_fn(load_model(inputs["mnist_mlp"])), x[pick], digits, grouped["batch_size"]))]
    metrics["grouped_seconds_mnist_mlp"] = time.perf_counter() - start
    text = {**grouped["imdb_cnn"], **options}
    if text["enabled"]:
        start = time.perf_counter()
        reviews = load_reviews(inputs["imdb_test"])
        model = load_model(inputs["imdb_cnn"])
        ids, offsets = compute.take_reviews(reviews, compute.text_sample(reviews, text))
        padded, position = pad_reviews(compute.as_reviews(ids, offsets),
                                       int(model.input_shape[1]), imdb["start_char"])
        parts.append(tables.deletion_table("imdb_cnn", compute.text_deletion(
            model, padded, position, text, grouped["batch_size"])))
        metrics["grouped_seconds_imdb_cnn"] = time.perf_counter() - start
    table = pd.concat(parts, ignore_index=True)
    write_csv(outputs["table"], table)
    aoc = tables.deletion_aoc(table)
    log.info("seed %s grouped deletion AOC:\n%s", params["seed"], aoc.to_string(index=False))
    return {**metrics, **{f"grouped_aoc_{r.model}_{r.method}_{r.condition}": r.aoc
                          for r in aoc.itertuples()}}


def anomaly_seeds(inputs, outputs, params) -> dict:
    """Rule anomaly_seeds: every seed's detection and deletion tables -> per-seed values with
    their summary over the seeds (CSV) and Markdown."""
    seeds = [int(s) for s in params["cfg"]["seeds"]]
    if not len(seeds) == len(inputs["anomaly"]) == len(inputs["deletion"]):
        raise DataError(f"anomaly_seeds: {len(seeds)} seeds but {len(inputs['anomaly'])} "
                        f"anomaly and {len(inputs['deletion'])} deletion tables")
    values = tables.seed_values(
        {s: pd.read_csv(p) for s, p in zip(seeds, inputs["anomaly"], strict=True)},
        {s: pd.read_csv(p) for s, p in zip(seeds, inputs["deletion"], strict=True)})
    table = tables.anomaly_seeds_table(values)
    markdown = tables.anomaly_seeds_markdown(table)
    write_csv(outputs["csv"], table)
    write_text(outputs["md"], markdown)
    log.info("anomaly across seeds:\n%s", markdown)
    auroc = table[(table["quantity"] == "auroc") & table["seed"].isna()]
    gain = table[(table["quantity"] == "aoc_gain") & table["seed"].isna()]
    return {"anomaly_seeds_n": len(seeds),
            "anomaly_seeds_auroc_mean": float(auroc["mean"].mean()),
            "anomaly_seeds_grouping_gain_positive": int((gain["mean"] > 0).sum())}


def anomaly_figure(inputs, outputs, params) -> None:
    """Rule anomaly_figure: AUROC per detector and shifted set with its spread over seeds,
    from anomaly_seeds.csv only."""
    style = params["cfg"]["figure"]
    with views.figure_style(style):
        fig = views.anomaly_figure(pd.read_csv(inputs["table"]), style)
        save_figure(fig, outputs["png"], outputs["pdf"], dpi=style["dpi"])
