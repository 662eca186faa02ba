"""Rules of the Decoy MNIST section: each reads its inputs, calls compute / tables / views,
writes its outputs atomically and returns the metrics to log."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from inputgrad.infra.errors import DataError
from inputgrad.infra.io import load_npz, save_figure, save_npz, write_csv, write_json, write_text

from . import compute, tables, views

log = logging.getLogger(__name__)

# keras / core.models (TensorFlow) are imported only by the stages that run a model.


def _mnist(path) -> dict[str, np.ndarray]:
    from inputgrad.data.arrays import load_mnist

    return compute.flat_mnist(load_mnist(path), path)


def train_decoy_mnist(inputs, outputs, params):
    """Rule train_decoy_mnist: an MNIST model on the decoyed training digits; with
    `train.right_reasons` the repaired model (the input-gradient penalty on the patch)."""
    from inputgrad.core.train import train_stage

    decoy = params["cfg"]["data"]["decoy_mnist"]
    data = compute.training_data(_mnist(inputs["data"]), decoy)
    log.info("decoyed training digits: %d, patch %d x %d, grey (255 - %d y) / 255",
             len(data["x_train"]), decoy["patch"], decoy["patch"], decoy["grey_step"])
    return train_stage(data, outputs, params)


def decoy_mnist_scores(inputs, outputs, params):
    """Rule decoy_mnist_scores (one seed): accuracies of the decoy, repaired and control
    model on every test version; relevance mass, pointing game and detection window of
    every method on the scored versions (CSV, JSON) and the mean |attribution| maps (npz)."""
    from inputgrad.core.models import load_model, model_fn

    cfg = params["cfg"]
    decoy, attr = cfg["data"]["decoy_mnist"], cfg["attribution"]
    digits = attr["digits"]
    mnist = _mnist(inputs["data"])
    versions = compute.test_versions(mnist, decoy)
    rows = compute.scored_digits(len(mnist["y_test"]), digits)
    methods = compute.method_options(attr["methods"], attr["method_options"],
                                     digits["batch_size"])
    accuracies, scores, maps = {}, {}, {}
    for model in compute.MODELS:
        if model not in inputs:
            raise DataError(f"decoy_mnist_scores: no input model {model!r}")
        f = model_fn(load_model(inputs[model]))
        accuracies[model] = {v: compute.accuracy(f, x, mnist["y_test"])
                             for v, (x, _) in versions.items()}
        log.info("seed %s %s accuracy: %s", params["seed"], model, accuracies[model])
        scores[model] = {}
        for version in attr["versions"]:
            x, mask = versions[version]
            scores[model][version] = compute.score_model(
                f, x[rows], mask[rows], methods, digits["output"], digits["batch_size"],
                decoy["patch"])
            for method, r in scores[model][version].items():
                maps[f"{model}/{version}/{method}"] = r["mean_map"].astype(np.float32)
    uniform = decoy["patch"] ** 2 / mnist["x_test"].shape[1]
    table = tables.scores_table(accuracies, scores, compute.interval)
    summary = tables.summary(table, uniform, decoy["patch"], digits, methods,
                             attr["versions"])
    write_csv(outputs["table"], table)
    write_json(outputs["summary"], summary)
    save_npz(outputs["maps"], maps)
    seconds = {f"seconds_{m}_{v}_{k}": r["seconds"] for m, by_v in scores.items()
               for v, by_k in by_v.items() for k, r in by_k.items()}
    return {**{f"accuracy_{m}_{v}": a for m, by_v in accuracies.items()
               for v, a in by_v.items()}, **seconds}


def decoy_mnist_figure(inputs, outputs, params):
    """Rule decoy_mnist_figure: the mean |attribution| maps of the paper seed, per method,
    decoy, clean and repaired model."""
    style = params["cfg"]["figure"]
    summary = json.loads(Path(inputs["summary"]).read_text())
    arrays = load_npz(inputs["maps"])
    version = style["version"]
    if version not in summary["versions"]:
        raise DataError(f"{inputs['summary']}: version {version!r} (figure.version) was not "
                        f"scored; scored: {summary['versions']}")
    maps, windows = {}, {}
    for key, value in arrays.items():
        model, v, method = key.split("/")
        if v == version:
            maps.setdefault(model, {})[method] = value
    for model in maps:
        windows[model] = {
            m: {"found": summary["detection_found"][model][version][m],
                **_window(summary["detection_window"][model][version][m])}
            for m in maps[model]}
    mass = {m: summary["relevance_mass"][m][version] for m in maps}
    with views.figure_style(style):
        fig = views.plot_maps(maps, windows, mass, style, summary["patch"], version)
        save_figure(fig, outputs["png"], outputs["pdf"], dpi=style["dpi"])


def _window(text: str) -> dict:
    """'row,col corner' -> {row, col}."""
    row, col = text.split(" ", 1)[0].split(",")
    return {"row": int(row), "col": int(col)}


def decoy_mnist_seeds(inputs, outputs, params):
    """Rule decoy_mnist_seeds: every seed's scores -> per-seed values with their summary
    over the seeds (CSV) and a readable Markdown table."""
    seeds = [int(s) for s in params["cfg"]["seeds"]]
    paths = inputs["tables"]
    if len(seeds) != len(paths):
        raise DataError(f"decoy_mnist_seeds: {len(seeds)} seeds but {len(paths)} tables")
    per_seed = {}
    for s, p in zip(seeds, paths, strict=True):
        t = pd.read_csv(p, keep_default_na=False, na_values=[""])
        missing = [c for c in ("quantity", "model", "version", "method", "value")
                   if c not in t.columns]
        if missing:
            raise DataError(f"{p}: no column {', '.join(missing)}")
        per_seed[s] = t.fillna({"method": ""})
    table = tables.decoy_seeds_table(tables.seed_values(per_seed))
    write_csv(outputs["csv"], table)
    uniform = json.loads(Path(inputs["summaries"][0]).read_text())["uniform_mass"]
    markdown = tables.decoy_seeds_markdown(table, uniform)
    write_text(outputs["md"], markdown)
    log.info("decoy MNIST across seeds:\n%s", markdown)
    return {"decoy_mnist_seeds_n": len(seeds)}
