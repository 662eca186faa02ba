"""Rules of the text faithfulness section (`workflow/rules/text_faithfulness.smk`), one
function each, named like the rule: read the inputs, call compute/tables/views, write every
output atomically, return the metrics to log."""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from ...data.arrays import load_reviews, pad_reviews
from ...infra.errors import ConfigError, DataError
from ...infra.io import load_npz, save_figure, write_csv, write_text
from . import compute, tables, views

log = logging.getLogger(__name__)

# keras / TensorFlow are imported only by the per-seed stages, so the cross-seed table and
# the figure start without them.


def _check(attr: dict) -> None:
    compute.check_percents(attr["percents"], attr["aopc_percents"])
    unknown = [r for r in attr["removals"] if r not in compute.REMOVALS]
    if unknown or not attr["removals"]:
        raise ConfigError(f"removals: {attr['removals']}; choose from {compute.REMOVALS}")


def _per_review(seconds: dict, n: int) -> dict:
    return {f"seconds_per_review_{m}": s / n for m, s in seconds.items()}


def _aopc_metrics(prefix: str, faith: dict, removal: str) -> dict:
    return {f"{prefix}_{metric}_{method}": float(np.mean(r[metric]))
            for (method, rem), r in faith.items() if rem == removal
            for metric in compute.METRICS}


def text_faithfulness(inputs, outputs, params) -> dict:
    """Rule text_faithfulness (one seed's CNN): every text method on a seeded sample of test
    reviews -> AOPC summary (csv), deletion/insertion curves, agreement between methods, and
    the model-randomisation check on the first `sanity.reviews` of them."""
    from ...core.methods import METHODS
    from ...core.models import load_model, model_fn, reinitialised

    attr, imdb = params["cfg"]["attribution"], params["cfg"]["data"]["imdb"]
    _check(attr)
    model = load_model(inputs["model"])
    ids, position = pad_reviews(load_reviews(inputs["test"]), int(model.input_shape[1]),
                                imdb["start_char"])
    words = position >= 0
    sample = attr["sample"]
    pick = compute.select_reviews(words.sum(axis=1), sample["cnn_reviews"],
                                  sample["min_words"], sample["seed"])
    ids, words = ids[pick], words[pick]
    f = model_fn(model)
    classes = compute.predicted_classes(compute.logits_of(f, ids, attr["batch_size"]))
    common = {"classes": classes, "output": attr["output"], "batch_size": attr["batch_size"],
              "oov_char": imdb["oov_char"]}
    start = time.perf_counter()
    methods = compute.methods_of(attr["methods"]["cnn"], "imdb_cnn")
    options = attr["method_options"]
    scores, info, seconds = compute.all_word_scores(model, ids, words, methods, options,
                                                    **common)
    fills = {"oov": imdb["oov_char"], "padding": compute.PAD_ID}
    faith = compute.faithfulness(f, ids, words, scores, compute.direction_of(classes),
                                 attr["percents"], attr["aopc_percents"],
                                 {r: compute.id_remover(fills[r]) for r in attr["removals"]},
                                 attr["batch_size"])
    pairs = compute.agreement(scores, words, attr["agreement"]["top_percent"])
    seconds["faithfulness"] = time.perf_counter() - start - sum(seconds.values())
    m = min(attr["sanity"]["reviews"], len(ids))
    randomised = reinitialised(model, attr["sanity"]["reinit_seed"])
    checked = [k for k in methods if METHODS[k].needs != "nothing"]  # random: no model
    rand_scores, _, _ = compute.all_word_scores(randomised, ids[:m], words[:m], checked,
                                                options, **{**common, "classes": classes[:m]})
    sanity = compute.sanity({k: scores[k][:m] for k in rand_scores}, rand_scores, words[:m])
    seed, name = params["seed"], "imdb_cnn"
    write_csv(outputs["csv"], tables.summary_table(name, seed, faith, info))
    write_csv(outputs["curves"], tables.curves_table(name, seed, faith, attr["percents"]))
    write_csv(outputs["agreement"], tables.agreement_table(name, seed, pairs))
    write_csv(outputs["sanity"], tables.sanity_table(name, seed, sanity))
    seconds["total"] = time.perf_counter() - start
    log.info("seed %s: %d reviews (%.0f words on average), %s", seed, len(ids),
             words.sum(axis=1).mean(), ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()))
    return {**{f"text_{k}": v for k, v in _per_review(seconds, len(ids)).items()},
            **_aopc_metrics("text", faith, attr["removals"][0]),
            "text_ig_completeness_gap_abs": float(np.mean(np.abs(
                info["integrated_gradients"]["completeness_gap"]))),
            "text_lime_r2": float(np.nanmean(info["lime"]["lime_r2"]))}


def bow_faithfulness(inputs, outputs, params) -> dict:
    """Rule bow_faithfulness (one seed's bag-of-words MLP): gradient, gradient x input, ḡ (of
    imdb_bow_gbar), logistic-regression coefficients, occlusion and random on a seeded sample
    of test reviews -> AOPC summary (csv), curves and agreement."""
    from ...core.models import load_model, model_fn
    from ...data.encodings import reviews_bow

    attr, imdb = params["cfg"]["attribution"], params["cfg"]["data"]["imdb"]
    compute.check_percents(attr["percents"], attr["aopc_percents"])
    model = load_model(inputs["model"])
    vocab = int(model.input_shape[-1])
    gbar = load_npz(inputs["gbar"])
    key = f"gbar_{attr['bow_gbar']}"
    if key not in gbar or gbar[key].shape != (vocab,):
        raise DataError(f"{inputs['gbar']}: no array {key!r} of length {vocab}")
    sample = attr["sample"]
    x_test, _ = reviews_bow(load_reviews(inputs["test"]), vocab, imdb)
    pick = compute.select_reviews((x_test > 0).sum(axis=1), sample["bow_reviews"],
                                  sample["min_words"], sample["seed"])
    x = x_test[pick]
    words = x > 0
    del x_test  # 25k x V floats: not held while the training matrix is built
    start = time.perf_counter()
    x_train, y_train = reviews_bow(load_reviews(inputs["train"]), vocab, imdb)
    lr = attr["logistic_regression"]
    coef = compute.fit_logistic_regression(x_train, y_train, lr["c"], lr["max_iter"],
                                           params["seed"])
    del x_train
    seconds = {"logistic_regression_fit": time.perf_counter() - start}
    f = model_fn(model)
    classes = compute.predicted_classes(compute.logits_of(f, x, attr["batch_size"]))
    direction = compute.direction_of(classes)
    weights = {"gbar": gbar[key], "logistic_regression": coef}
    scores = {}
    for method in compute.methods_of(attr["methods"]["bow"], "imdb_bow_mlp"):
        t = time.perf_counter()
        scores[method] = compute.bow_scores(method, model, x, classes,
                                            attr["method_options"].get(method),
                                            weights.get(method), attr["output"],
                                            attr["batch_size"])
        seconds[method] = time.perf_counter() - t
    t = time.perf_counter()
    faith = compute.faithfulness(f, x, words, scores, direction, attr["percents"],
                                 attr["aopc_percents"], {compute.BOW_REMOVAL: compute.bow_remove},
                                 attr["batch_size"])
    pairs = compute.agreement(scores, words, attr["agreement"]["top_percent"])
    seconds["faithfulness"] = time.perf_counter() - t
    seed, name = params["seed"], "imdb_bow_mlp"
    write_csv(outputs["csv"], tables.summary_table(name, seed, faith, {}))
    write_csv(outputs["curves"], tables.curves_table(name, seed, faith, attr["percents"]))
    write_csv(outputs["agreement"], tables.agreement_table(name, seed, pairs))
    seconds["total"] = time.perf_counter() - start
    log.info("seed %s: %d reviews (%.0f distinct words on average), %s", seed, len(x),
             words.sum(axis=1).mean(), ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()))
    return {**{f"bow_{k}": v for k, v in _per_review(seconds, len(x)).items()},
            **_aopc_metrics("bow", faith, compute.BOW_REMOVAL)}


def _read(paths, what: str, seeds: list[int]) -> list[pd.DataFrame]:
    if len(paths) != len(seeds):
        raise DataError(f"text_faithfulness_seeds: {len(seeds)} seeds but {len(paths)} "
                        f"{what} files")
    return [pd.read_csv(p) for p in paths]


def text_faithfulness_seeds(inputs, outputs, params) -> dict:
    """Rule text_faithfulness_seeds: every seed's per-seed tables (CNN and bag of words) ->
    per-seed values with their summary over the seeds (csv) and the Markdown tables."""
    cfg = params["cfg"]
    seeds = [int(s) for s in cfg["seeds"]]
    values = tables.seed_values(
        _read(inputs["cnn"], "CNN summary", seeds) + _read(inputs["bow"], "BoW summary", seeds),
        _read(inputs["cnn_agreement"], "CNN agreement", seeds)
        + _read(inputs["bow_agreement"], "BoW agreement", seeds),
        _read(inputs["cnn_sanity"], "CNN sanity", seeds))
    table = tables.seeds_table(values)
    write_csv(outputs["csv"], table)
    markdown = tables.seeds_markdown(table, cfg)
    write_text(outputs["md"], markdown)
    log.info("text faithfulness across seeds:\n%s", markdown)
    first = cfg["attribution"]["removals"][0]
    s = table[table["seed"].isna() & (table["model"] == "imdb_cnn")
              & (table["removal"] == first)]
    a, b = cfg["attribution"]["agreement"]["headline"]
    head = table[table["seed"].isna() & (table["quantity"] == "agreement_spearman_abs")
                 & (((table["method"] == a) & (table["method_b"] == b))
                    | ((table["method"] == b) & (table["method_b"] == a)))]
    return {**{f"text_seeds_{q}_{m}": float(v)
               for q, m, v in zip(s["quantity"], s["method"], s["mean"], strict=True)},
            f"text_seeds_agreement_spearman_abs_{a}_{b}": float(head["mean"].iloc[0])
            if len(head) else float("nan")}


def text_faithfulness_figure(inputs, outputs, params) -> None:
    """Rule text_faithfulness_figure: AOPC per method across seeds and the first seed's
    deletion curves, CNN and bag of words, from the tidy tables only."""
    cfg = params["cfg"]
    seeds = pd.read_csv(inputs["seeds"])
    curves = pd.concat([pd.read_csv(inputs["cnn_curves"]), pd.read_csv(inputs["bow_curves"])],
                       ignore_index=True)
    style = cfg["figure"]
    with views.figure_style(style):
        fig = views.faithfulness_figure(seeds, curves, cfg["attribution"]["removals"][0], style)
        save_figure(fig, outputs["png"], outputs["pdf"], dpi=style["dpi"])
