"""Rules of the sensitivity section (`workflow/rules/sensitivity.smk`), one function each, named
like the rule: read the inputs, call compute / tables / views, write every output atomically,
return the metrics to log. Wall-clock seconds go to the metrics only, never into a file."""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ...data.arrays import Reviews, load_reviews, load_tokens, pad_reviews
from ...infra.errors import ConfigError, DataError
from ...infra.io import save_figure, write_csv, write_json, write_text
from . import compute, tables, views

log = logging.getLogger(__name__)

# keras / core (TensorFlow) are imported only by the stages that run a model, so the figure
# and sensitivity_seeds rules start without TensorFlow.


def _mnist_test(path, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded sample of the test digits: (x (n, 784) float32 in [0, 1], labels (n,))."""
    from ...data.encodings import flatten

    with np.load(path) as arrays:
        missing = {"x_test", "y_test"} - set(arrays.files)
        if missing:
            raise DataError(f"{path}: missing arrays {sorted(missing)}")
        rows = compute.sample_rows(len(arrays["y_test"]), n, seed)
        return flatten(arrays["x_test"][rows]), arrays["y_test"][rows].astype(np.int64)


def _review_sample(path, n: int, seed: int) -> Reviews:
    """A seeded sample of the test reviews that have at least one word."""
    reviews = load_reviews(path)
    nonempty = np.flatnonzero(np.diff(reviews.offsets) > 0)
    if not len(nonempty):
        raise DataError(f"{path}: no review with a word")
    return compute.review_subset(reviews, nonempty[compute.sample_rows(len(nonempty), n, seed)])


def _bow_inputs(model, reviews: Reviews, imdb: dict) -> tuple[np.ndarray, np.ndarray]:
    """(x, eligible): the reviews' binary bag of words for the model's dictionary, and the word
    ids a flip may touch (real words: not the reserved ids 0..index_from)."""
    from ...data.encodings import reviews_bow

    vocab = int(model.input_shape[-1])
    x, _ = reviews_bow(reviews, vocab, imdb)
    return x, np.arange(vocab) > imdb["index_from"]


def _taylor_inputs(inputs: dict, models: dict, cfg: dict, imdb: dict):
    """(model name, f, x) for each scored model, by the input it reads: pixels, the bag of
    words, or the CNN's embedding output for token ids."""
    from ...core.models import load_model, model_fn, split_embedding

    n, seed = cfg["inputs"], cfg["seed"]
    for name, kind in models.items():
        model = load_model(inputs[name])
        if kind == "pixels":
            x, _ = _mnist_test(inputs["mnist"], n[name], seed)
            yield name, model_fn(model), x
        elif kind == "bag_of_words":
            x, _ = _bow_inputs(model, _review_sample(inputs["test"], n[name], seed), imdb)
            yield name, model_fn(model), x
        else:
            ids, _ = pad_reviews(_review_sample(inputs["test"], n[name], seed),
                                 int(model.input_shape[1]), imdb["start_char"])
            embed, head = split_embedding(model)
            yield name, head, embed(ids)


def taylor_validity(inputs, outputs, params):
    """Rule taylor_validity (one seed, all four models): relative first-order errors per eps
    (tidy CSV) and the eps at which the median passes the threshold (JSON)."""
    cfg = params["cfg"]["attribution"]
    taylor = cfg["taylor"]
    results, seconds = {}, {}
    for name, f, x in _taylor_inputs(inputs, params["models"], taylor,
                                     params["cfg"]["data"]["imdb"]):
        start = time.perf_counter()
        results[name] = compute.taylor_changes(f, x, taylor["eps"], taylor["random_directions"],
                                               taylor["seed"], cfg["batch_size"][name])
        seconds[name] = time.perf_counter() - start
        log.info("%s: %d inputs, Taylor changes in %.1f s", name, len(x), seconds[name])
    table = tables.taylor_table(results, taylor["eps"])
    summary = tables.taylor_summary(table, results, taylor)
    write_csv(outputs["csv"], table)
    write_json(outputs["json"], summary)
    metrics = {f"taylor_seconds_{m}": s for m, s in seconds.items()}
    for model, res in summary["models"].items():
        for output, by_direction in res["eps_at_threshold"].items():
            for direction, crossing in by_direction.items():
                log.info("seed %s %s %s %s: eps at %.0f %% = %s (%s)", params["seed"], model,
                         output, direction, 100 * taylor["threshold"], crossing["eps"],
                         crossing["status"])
                if crossing["eps"] is not None:
                    metrics[f"taylor_eps_{model}_{output}_{direction}"] = crossing["eps"]
    return metrics


def fgsm_robustness(inputs, outputs, params):
    """Rule fgsm_robustness (one seed, both MNIST models): accuracy per eps under FGSM, random
    signs and PGD (tidy CSV) and the summary (JSON)."""
    from ...core.models import load_model, model_fn

    cfg = params["cfg"]["attribution"]
    fgsm = cfg["fgsm"]
    if not any(np.isclose(fgsm["report_eps"], e) for e in fgsm["eps"]):
        raise ConfigError(f"attribution.fgsm.report_eps = {fgsm['report_eps']} is not in "
                          f"attribution.fgsm.eps = {fgsm['eps']}")
    x, y = _mnist_test(inputs["mnist"], fgsm["n"], fgsm["seed"])
    curves, seconds = {}, {}
    for name in params["models"]:  # pixel models (common.smk checks it)
        start = time.perf_counter()
        curves[name] = compute.robustness_curves(model_fn(load_model(inputs[name])), x, y,
                                                 fgsm, cfg["batch_size"][name])
        seconds[name] = time.perf_counter() - start
    table = tables.robustness_table(curves, fgsm["eps"], len(x))
    summary = tables.robustness_summary(table, fgsm)
    write_csv(outputs["csv"], table)
    write_json(outputs["json"], summary)
    log.info("seed %s accuracy at eps %s: %s", params["seed"], fgsm["report_eps"],
             summary["accuracy_at_report_eps"])
    return {**{f"fgsm_seconds_{m}": s for m, s in seconds.items()},
            **{f"accuracy_eps{fgsm['report_eps']}_{m}_{a}": v
               for m, by in summary["accuracy_at_report_eps"].items() for a, v in by.items()}}


def bow_word_flips(inputs, outputs, params):
    """Rule bow_word_flips (one seed): fewest word flips that change the bag-of-words model's
    prediction, first-order greedy vs random (success curves CSV, summary JSON)."""
    from ...core.models import load_model, model_fn

    cfg = params["cfg"]["attribution"]
    flips = cfg["word_flips"]
    model = load_model(inputs["model"])
    x, eligible = _bow_inputs(model, _review_sample(inputs["test"], flips["n"], flips["seed"]),
                              params["cfg"]["data"]["imdb"])
    start = time.perf_counter()
    need = {s: compute.word_flips(model_fn(model), x, eligible, flips["max_flips"], s,
                                  cfg["batch_size"]["imdb_bow_mlp"], flips["random_seed"])[0]
            for s in compute.STRATEGIES}
    seconds = time.perf_counter() - start
    table = tables.search_table(need, flips["max_flips"], "flips")
    summary = tables.search_summary(need, flips["max_flips"])
    write_csv(outputs["csv"], table)
    write_json(outputs["json"], summary)
    log.info("seed %s word flips (%d reviews, %.1f s): %s", params["seed"], len(x), seconds,
             {s: (summary[s]["median"], summary[s]["share_within_budget"]) for s in need})
    return {"word_flips_seconds": seconds,
            **{f"word_flips_median_{s}": summary[s]["median"] for s in need
               if summary[s]["median"] is not None},
            **{f"word_flips_share_within_budget_{s}": summary[s]["share_within_budget"]
               for s in need}}


def cnn_word_substitutions(inputs, outputs, params):
    """Rule cnn_word_substitutions (one seed): HotFlip-style vs random word substitutions on
    the CNN (success curves CSV, Markdown with example reviews, summary JSON)."""
    from ...core.models import load_model
    from ...data.encodings import display_tokens, word_names

    cfg = params["cfg"]["attribution"]
    subs_cfg = cfg["word_substitutions"]
    imdb = params["cfg"]["data"]["imdb"]
    model = load_model(inputs["model"])
    reviews = _review_sample(inputs["test"], subs_cfg["n"], subs_cfg["seed"])
    ids, position = pad_reviews(reviews, int(model.input_shape[1]), imdb["start_char"])
    vocab_size = compute.embedding_matrix(model).shape[0]
    eligible = np.arange(vocab_size) > imdb["index_from"]
    budget = subs_cfg["max_substitutions"]
    need, subs, seconds = {}, {}, {}
    for s in compute.STRATEGIES:
        start = time.perf_counter()
        need[s], subs[s] = compute.word_substitutions(
            model, ids, position >= 0, eligible, budget, s, cfg["batch_size"]["imdb_cnn"],
            subs_cfg["random_seed"])
        seconds[s] = time.perf_counter() - start
    table = tables.search_table(need, budget, "substitutions")
    summary = tables.search_summary(need, budget, subs_cfg["report"])
    tokens = load_tokens(inputs["tokens"])
    names = word_names(json.loads(Path(inputs["word_index"]).read_text()), vocab_size,
                       imdb["index_from"])
    rows = compute.pick_examples(need["gradient"], reviews.label, budget, subs_cfg["examples"])
    before, after = compute.substitution_probabilities(model, ids, subs["gradient"], rows,
                                                       cfg["batch_size"]["imdb_cnn"])
    picked = [{"review_id": str(reviews.review_id[i]), "label": int(reviews.label[i]),
               "p_before": float(b), "p_after": float(a),
               **_changes(display_tokens(reviews, i, tokens, imdb["oov_char"]),
                          position[i], subs["gradient"][i], names, subs_cfg["context"])}
              for i, b, a in zip(rows, before, after, strict=True)]
    examples = tables.substitution_examples(picked)
    write_csv(outputs["csv"], table)
    write_json(outputs["json"], {**summary, "examples": examples.to_dict(orient="records")})
    write_text(outputs["md"], tables.substitutions_markdown(table, summary, examples, subs_cfg))
    log.info("seed %s substitutions (%d reviews): %s", params["seed"], len(ids),
             {s: summary[s]["share_within"] for s in need})
    return {**{f"substitution_seconds_{s}": v for s, v in seconds.items()},
            **{f"substitution_success_{s}_within{k}": v for s in need
               for k, v in summary[s]["share_within"].items()}}


def _changes(words: list[str], position: np.ndarray, subs, names: list[str],
             context: int) -> dict:
    """The (old, new) word pairs of a review's substitutions and the excerpt around them."""
    changed = {int(position[col]): names[new] for col, _, new in subs}
    pairs = [(words[int(position[col])], names[new]) for col, _, new in subs]
    return {"pairs": pairs, "excerpt": tables.excerpt(words, changed, context)}


def _summaries(paths: list[str], seeds: list[int], kind: str) -> dict[int, dict]:
    if len(paths) != len(seeds):
        raise DataError(f"sensitivity_seeds: {len(seeds)} seeds but {len(paths)} {kind} files")
    return {s: json.loads(Path(p).read_text()) for s, p in zip(seeds, paths, strict=True)}


def sensitivity_seeds(inputs, outputs, params):
    """Rule sensitivity_seeds: every seed's summaries -> the per-seed numbers with their
    summary over the seeds (tidy CSV) and a readable Markdown table."""
    cfg = params["cfg"]
    seeds = [int(s) for s in cfg["seeds"]]
    values = tables.seed_values(*(_summaries(inputs[k], seeds, k) for k in
                                  ("taylor", "robustness", "flips", "substitutions")))
    table = tables.sensitivity_seeds_table(values)
    attribution = cfg["attribution"]
    settings = {"threshold": attribution["taylor"]["threshold"],
                "report_eps": attribution["fgsm"]["report_eps"],
                "flip_budget": attribution["word_flips"]["max_flips"]}
    markdown = tables.sensitivity_seeds_markdown(table, settings)
    write_csv(outputs["csv"], table)
    write_text(outputs["md"], markdown)
    log.info("sensitivity across seeds:\n%s", markdown)
    summary = table[table["seed"].isna()]
    return {"sensitivity_seeds_n": len(seeds),
            **{_metric_name("seeds_mean", q, m, v): x
               for q, m, v, x in zip(summary["quantity"], summary["model"], summary["variant"],
                                     summary["mean"], strict=True) if pd.notna(x)}}


def _metric_name(*parts: str) -> str:
    """An MLflow-safe metric name: the parts joined by "_", other characters dropped."""
    return "_".join(re.sub(r"[^A-Za-z0-9_.]+", "", p.replace(", ", "_")) for p in parts)


def _per_seed_tables(paths: list[str], seeds: list[int]) -> dict[int, pd.DataFrame]:
    if len(paths) != len(seeds):
        raise DataError(f"{len(seeds)} seeds but {len(paths)} tables")
    return {s: pd.read_csv(p) for s, p in zip(seeds, paths, strict=True)}


def taylor_validity_figure(inputs, outputs, params):
    """Rule taylor_validity_figure: error against eps per model, from the tidy tables only."""
    cfg = params["cfg"]
    seeds = [int(s) for s in cfg["seeds"]]
    style = views.figure_style(cfg["figure"], "taylor_validity_figure")
    with views.style_context(style):
        fig = views.plot_taylor(_per_seed_tables(inputs["tables"], seeds), seeds[0],
                                cfg["threshold"], style)
        save_figure(fig, outputs["png"], outputs["pdf"], dpi=style["dpi"])


def fgsm_robustness_figure(inputs, outputs, params):
    """Rule fgsm_robustness_figure: accuracy against eps per MNIST model, from the tidy tables."""
    cfg = params["cfg"]
    seeds = [int(s) for s in cfg["seeds"]]
    style = views.figure_style(cfg["figure"], "fgsm_robustness_figure")
    with views.style_context(style):
        fig = views.plot_robustness(_per_seed_tables(inputs["tables"], seeds), style)
        save_figure(fig, outputs["png"], outputs["pdf"], dpi=style["dpi"])
