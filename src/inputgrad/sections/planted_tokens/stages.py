"""Rules of the planted-tokens section (`workflow/rules/planted_tokens.smk`), one function
each, named like the rule: read the inputs, call compute/tables/views, write every output
atomically, return the metrics to log."""

from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np
import pandas as pd

from ...data import planted
from ...data.arrays import load_reviews, load_tokens
from ...data.samples import sample_rows
from ...infra.errors import ConfigError, DataError
from ...infra.io import save_figure, save_npz, write_csv, write_json, write_text
from . import compute, tables, views

log = logging.getLogger(__name__)

# keras / TensorFlow are imported only by the stages that need them.


def _save_reviews(path, reviews, positions) -> None:
    save_npz(path, {**dataclasses.asdict(reviews), "planted_position": positions})


def _load(path):
    """(reviews, planted positions) of a planted_imdb output."""
    with np.load(path) as f:
        if "planted_position" not in f.files:
            raise DataError(f"{path}: no array 'planted_position' (not a planted_imdb output)")
        positions = f["planted_position"]
    return load_reviews(path), positions


def planted_imdb(inputs, outputs, params) -> dict:
    """Rule planted_imdb: the planted training reviews (a seeded subset of the training split)
    and the clean / consistent / swapped versions of a seeded sample of test reviews, with the
    display vocabulary extended by the two token names (see data.planted)."""
    cfg = params["cfg"]
    imdb, gen = cfg["data"]["imdb"], cfg["planted"]
    num_words = int(imdb["num_words"])
    vocab = load_tokens(inputs["tokens"])
    train, test = load_reviews(inputs["train"]), load_reviews(inputs["test"])
    if train.word_ids.max(initial=0) >= num_words:
        raise DataError(f"{inputs['train']}: word ids reach {train.word_ids.max()}, not below "
                        f"data.imdb.num_words={num_words}: the planted ids would collide")
    train = planted.subset(train, sample_rows(len(train), gen["train_reviews"], gen["seed"]))
    test = planted.subset(test, sample_rows(len(test), gen["test_reviews"], gen["seed"]))
    try:
        train_p, train_pos = planted.plant_train(train, num_words, len(vocab), gen["share"],
                                                 int(cfg["window"]), gen["seed"])
        versions = planted.test_versions(test, num_words, len(vocab), int(cfg["window"]),
                                         gen["seed"] + 1)
        names = planted.with_token_names(vocab, gen["token_names"])
    except ValueError as err:
        raise ConfigError(f"planted: {err}") from None
    _save_reviews(outputs["train"], train_p, train_pos)
    for version in planted.VERSIONS:
        _save_reviews(outputs[version], *versions[version])
    write_json(outputs["tokens"], names)
    shares = {c: float(np.mean(train_pos[train_p.label == c] >= 0)) for c in (0, 1)}
    summary = {"token_ids": {"class0": num_words, "class1": num_words + 1},
               "token_names": list(gen["token_names"]),
               "input_dim": planted.input_dim(num_words),
               "train_reviews": len(train_p), "test_reviews": len(test),
               "planted_share_class0": shares[0], "planted_share_class1": shares[1]}
    write_json(outputs["summary"], summary)
    log.info("planted tokens: %s", summary)
    return {"planted_share_class0": shares[0], "planted_share_class1": shares[1]}


def _check_width(cfg: dict, key: str) -> int:
    num_words = int(cfg["data"]["imdb"]["num_words"])
    width = int(cfg["model"][key])
    if width != planted.input_dim(num_words):
        raise ConfigError(f"model.{key}={width}: a planted model reads num_words + 2 = "
                          f"{planted.input_dim(num_words)} ids (data.imdb.num_words={num_words})")
    return width


def train_imdb_cnn_planted(inputs, outputs, params) -> dict:
    """Rule train_imdb_cnn_planted: the paper's CNN trained on the planted training reviews
    (tested on the consistent version), by the shared training stage."""
    from ...core.train import train_stage

    cfg = params["cfg"]
    _check_width(cfg, "num_words")
    maxlen, start = int(cfg["model"]["maxlen"]), int(cfg["data"]["imdb"]["start_char"])
    data = {}
    for split, key in (("train", "train"), ("test", "consistent")):
        reviews, positions = _load(inputs[key])
        data[f"x_{split}"], _, _ = compute.cnn_inputs(reviews, positions, maxlen, start)
        data[f"y_{split}"] = reviews.label.astype(np.float32)
    log.info("planted CNN: train %s, test %s", data["x_train"].shape, data["x_test"].shape)
    return train_stage(data, outputs, params)


def train_imdb_bow_mlp_planted(inputs, outputs, params) -> dict:
    """Rule train_imdb_bow_mlp_planted: the bag-of-words MLP on the planted training reviews
    (num_words + 2 columns; tested on the consistent version)."""
    from ...core.train import train_stage

    cfg = params["cfg"]
    width = _check_width(cfg, "vocab_size")
    index_from = int(cfg["data"]["imdb"]["index_from"])
    data = {}
    for split, key in (("train", "train"), ("test", "consistent")):
        reviews, positions = _load(inputs[key])
        data[f"x_{split}"], _, _ = compute.bow_inputs(reviews, positions, width, index_from)
        data[f"y_{split}"] = reviews.label.astype(np.float32)
    log.info("planted bag of words: train %s, test %s", data["x_train"].shape,
             data["x_test"].shape)
    return train_stage(data, outputs, params)


def _inputs(arch, reviews, positions, cfg, width):
    imdb = cfg["data"]["imdb"]
    if arch == "cnn":
        return compute.cnn_inputs(reviews, positions, int(cfg["maxlen"]), imdb["start_char"])
    return compute.bow_inputs(reviews, positions, width, imdb["index_from"])


def _arch_rows(arch, models, versions, cfg, width, token_ids, seed):
    """Rows of one architecture (planted and control models) and the figure's word scores."""
    from ...core.gradients import mean_gradient
    from ...core.models import model_fn
    from ...core.tokens import token_scores

    attr = cfg["attribution"]
    batch, output, imdb = attr["batch_size"], attr["output"], cfg["data"]["imdb"]
    methods = tables.methods_of(attr["methods"][arch], arch)
    arrays = {v: _inputs(arch, *versions[v], cfg, width) for v in planted.VERSIONS}
    labels = versions["clean"][0].label
    x_c, words_c, col_c = arrays["consistent"]
    eligible = np.flatnonzero((col_c >= 0) & (words_c.sum(axis=1) >= attr["min_words"]))
    pick = sample_rows(eligible, attr["reviews"][arch], attr["sample_seed"])
    x, words, column = x_c[pick], words_c[pick], col_c[pick]
    ids = compute.word_of_columns(x, arch)
    rows, scored, seconds = [], {}, {}
    names = tables.model_names(arch)
    for role, model in models.items():
        acc = {v: compute.accuracy(compute.logits(model, arrays[v][0], batch), labels)
               for v in planted.VERSIONS}
        rows += tables.accuracy_rows(arch, names[role], role, acc)
        classes = (compute.logits(model, x, batch) > 0).astype(np.int8)
        weights = None
        if "gbar" in methods:  # the paper's 5.2 ḡ of this model, over the consistent sample
            weights = mean_gradient(model_fn(model), x_c, output, classes=0,
                                    batch_size=batch)
        for method in methods:
            t = time.perf_counter()
            scores, _ = token_scores(method, model, x, words, classes,
                                     attr["method_options"].get(method), output, batch,
                                     fill=imdb["oov_char"], weights=weights)
            name = tables.label(method, arch)
            seconds[f"{arch}_{role}_{name}"] = time.perf_counter() - t
            per_review = compute.token_metrics(scores, words, column)
            ranking = compute.global_ranking(scores, words, ids, attr["min_count"])
            ranks = {int(t_): compute.rank_of(ranking, int(t_), token_ids) for t_ in token_ids}
            if method == "gbar":  # signed ḡ: class 1's token on top, class 0's at the bottom
                eligible_cols = np.zeros(width, bool)
                eligible_cols[imdb["index_from"] + 1:] = True
                ranks = compute.gbar_ranks(weights, token_ids, eligible_cols)
            rows += tables.method_rows(arch, names[role], role, name, per_review, ranks,
                                       token_ids)
            scored[(role, name)] = scores
        log.info("%s %s (%s): accuracy %s; %d methods on %d reviews", arch, role, names[role],
                 ", ".join(f"{v} {a:.3f}" for v, a in acc.items()), len(methods), len(x))
    rows = tables.with_control_gaps(rows)
    words_frame = pd.DataFrame()
    if arch == "cnn":  # the figure: the paper's per-word norm on the first scored reviews
        k, paper = attr["figure_reviews"], tables.label(attr["figure_method"], arch)
        reviews = versions["consistent"][0]
        words_frame = tables.figure_words(
            reviews, pick[:k], words[:k],
            {r: scored[(r, paper)][:k] for r in models if (r, paper) in scored},
            {r: compute.logits(m, x[:k], batch) for r, m in models.items()},
            names, paper, seed)
    return rows, words_frame, seconds


def planted_tokens(inputs, outputs, params) -> dict:
    """Rule planted_tokens (one seed): accuracy of the planted and the control models on each
    test version; per registered method relevance mass, pointing game and rank of the planted
    token on the consistent reviews; detection without being told (global rankings)."""
    from ...core.models import load_model

    cfg, seed = params["cfg"], int(params["seed"])
    compute.check_methods_cfg(cfg["attribution"])
    num_words = int(cfg["data"]["imdb"]["num_words"])
    width = planted.input_dim(num_words)
    token_ids = [num_words, num_words + 1]
    versions = {v: _load(inputs[v]) for v in planted.VERSIONS}
    start = time.perf_counter()
    all_rows, frames, seconds = [], [], {}
    for arch in compute.ARCHS:
        wide = load_model(inputs[f"{arch}_planted"])
        control = compute.widened(load_model(inputs[f"{arch}_control"]), width,
                                  cfg["data"]["imdb"]["oov_char"])
        for role, model in (("planted", wide), ("control", control)):
            shape = (width,) if arch == "bow" else (int(cfg["maxlen"]),)
            if tuple(model.input_shape[1:]) != shape:
                raise DataError(f"{inputs[f'{arch}_{role}']}: input shape {model.input_shape} "
                                f"does not fit the planted data {shape} (maxlen of "
                                "imdb_cnn_planted and imdb_cnn must agree)")
        rows, words_frame, sec = _arch_rows(arch, {"planted": wide, "control": control},
                                            versions, cfg, width, token_ids, seed)
        all_rows += rows
        frames.append(words_frame)
        seconds.update(sec)
    table = tables.seed_table(all_rows, seed)
    write_csv(outputs["csv"], table)
    write_json(outputs["json"], tables.seed_json(table))
    write_csv(outputs["words"], pd.concat(frames, ignore_index=True))
    total = time.perf_counter() - start
    log.info("seed %d: planted tokens scored in %.1f s (%s)", seed, total,
             ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()))
    return {**tables.headline_metrics(table), "planted_tokens_seconds": total}


def planted_tokens_seeds(inputs, outputs, params) -> dict:
    """Rule planted_tokens_seeds: every seed's table -> per-seed values and their summary."""
    seeds = [int(s) for s in params["cfg"]["seeds"]]
    if len(inputs["tables"]) != len(seeds):
        raise DataError(f"planted_tokens_seeds: {len(seeds)} seeds but "
                        f"{len(inputs['tables'])} tables")
    table = tables.seeds_table([pd.read_csv(p) for p in inputs["tables"]])
    write_csv(outputs["csv"], table)
    md = tables.seeds_markdown(table)
    write_text(outputs["md"], md)
    log.info("planted tokens across seeds:\n%s", md)
    return {}


def planted_tokens_figure(inputs, outputs, params) -> None:
    """Rule planted_tokens_figure: a planted review shaded by the paper's per-word gradient
    norm, planted CNN against the clean one, in the style of the Table 1 figure."""
    style = params["cfg"]["figure"]
    frame = pd.read_csv(inputs["words"], keep_default_na=False, na_values={"score": [""]})
    fig = views.planted_review_figure(frame, load_tokens(inputs["tokens"]), style)
    save_figure(fig, outputs["png"], dpi=style["dpi"])
