"""Rules of the checks section (beyond the paper): each reads its inputs, calls compute /
tables / views, writes its outputs atomically and returns the metrics to log."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from inputgrad.core.stats import softmax
from inputgrad.infra.errors import DataError
from inputgrad.infra.io import load_npz, save_figure, write_csv, write_json, write_text

from . import compute, tables, views

log = logging.getLogger(__name__)

# keras / core.models (TensorFlow) are imported only by the stages that load a model, so the
# figure and checks_seeds rules start without TensorFlow (~8 s).


def _digits(model_path, data_path, digits: dict):
    """(model, f, x, classes): the trained model, its logit function, the seeded subset of
    test digits (n, 784) float32 and the classes the model predicts for them."""
    from inputgrad.core.models import load_model, model_fn

    arrays = load_npz(data_path)
    if "x_test" not in arrays:
        raise DataError(f"{data_path}: no array 'x_test'")
    x_test = arrays["x_test"].reshape(len(arrays["x_test"]), -1).astype(np.float32, copy=False)
    x = x_test[compute.select_digits(len(x_test), digits["n"], digits["seed"])]
    model = load_model(model_path)
    f = model_fn(model)
    classes = np.asarray(f(x).numpy().argmax(axis=1), np.int32)
    return model, f, x, classes


def attribution_deletion(inputs, outputs, params):
    """Rule attribution_deletion (one seed's model): curves (tidy CSV) and summary JSON (AOC,
    IG completeness)."""
    digits, deletion = params["cfg"]["digits"], params["cfg"]["deletion"]
    options = params["cfg"]["method_options"]
    _, f, x, classes = _digits(inputs["model"], inputs["data"], digits)
    attrs, gap, seconds = compute.attributions(f, x, classes, deletion["methods"], options,
                                               digits["output"], digits["batch_size"])
    orders = compute.deletion_orders(attrs, len(x), x.shape[1], deletion["random_seed"])
    curves = compute.deletion_curves(lambda xb: softmax(f(xb).numpy()), x, classes,
                                     orders, deletion["ks"])
    table = tables.deletion_table(curves, deletion["ks"], len(x))
    summary = tables.deletion_summary(table, gap, digits, deletion, options)
    write_csv(outputs["table"], table)
    write_json(outputs["summary"], summary)
    log.info("seed %s deletion AOC: %s", params["seed"], json.dumps(summary["aoc"]))
    log.info("IG completeness gap (%s): %s", digits["output"], summary["ig_completeness_gap"])
    return {**{f"deletion_aoc_{m}": v for m, v in summary["aoc"].items()},
            "ig_completeness_gap_mean_abs": summary["ig_completeness_gap"]["mean_abs"],
            **{f"attribution_seconds_{m}": s for m, s in seconds.items()}}


def attribution_sanity(inputs, outputs, params):
    """Rule attribution_sanity (one seed's model): model randomisation check, as JSON."""
    from inputgrad.core.models import model_fn, reinitialised

    digits, sanity = params["cfg"]["digits"], params["cfg"]["sanity"]
    model, f, x, classes = _digits(inputs["model"], inputs["data"], digits)
    f_random = model_fn(reinitialised(model, sanity["reinit_seed"]))
    result = {"reinit_seed": sanity["reinit_seed"], "output": digits["output"],
              "classes": "predicted by the trained model",
              **compute.randomisation_check(f, f_random, x, classes, digits["output"],
                                            digits["batch_size"])}
    write_json(outputs["summary"], result)
    log.info("seed %s model randomisation: %s", params["seed"], result)
    return {"sanity_spearman_abs_gradient": result["spearman_abs_gradient_mean"]}


def attribution_deletion_figure(inputs, outputs, params):
    """Rule attribution_deletion_figure: the deletion curves, from the tidy table only."""
    style = params["cfg"]["figure"]
    with views.figure_style(style):
        fig = views.plot_deletion(pd.read_csv(inputs["table"]), style)
        save_figure(fig, outputs["png"], outputs["pdf"], dpi=style["dpi"])


def _summary(path, keys: tuple[str, ...]) -> dict:
    """A per-seed summary JSON, with the keys checks_seeds reads."""
    summary = json.loads(Path(path).read_text())
    missing = [k for k in keys if k not in summary]
    if missing:
        raise DataError(f"{path}: no {', '.join(map(repr, missing))}")
    return summary


def checks_seeds(inputs, outputs, params):
    """Rule checks_seeds: every seed's deletion and sanity summaries -> the per-seed numbers
    with their summary over the seeds (CSV) and a readable Markdown table."""
    seeds = [int(s) for s in params["cfg"]["seeds"]]
    deletion, sanity = inputs["deletion"], inputs["sanity"]
    if not len(seeds) == len(deletion) == len(sanity):
        raise DataError(f"checks_seeds: {len(seeds)} seeds but {len(deletion)} deletion and "
                        f"{len(sanity)} sanity summaries")
    values = tables.seed_values(
        {s: _summary(p, ("aoc", "ig_completeness_gap"))
         for s, p in zip(seeds, deletion, strict=True)},
        {s: _summary(p, ("spearman_abs_gradient_mean", "spearman_abs_gradient_x_input_mean"))
         for s, p in zip(seeds, sanity, strict=True)})
    table = tables.checks_seeds_table(values)
    write_csv(outputs["csv"], table)
    markdown = tables.checks_seeds_markdown(table)
    write_text(outputs["md"], markdown)
    log.info("checks across seeds:\n%s", markdown)
    aoc = table[table["seed"].isna() & (table["quantity"] == "deletion_aoc")]
    return {"checks_seeds_n": len(seeds),
            **{f"checks_seeds_aoc_mean_{m}": float(v)
               for m, v in zip(aoc["method"], aoc["mean"], strict=True)}}
