"""Rules of paper section 5.1 (IMDB CNN): train, per-word gradients, Table 1 (per seed and
across seeds), its views.

Each function is `run(inputs, outputs, params)` of the rule of the same name (infra.stage).
"""

from __future__ import annotations

import logging
import time

import numpy as np

from ...data.arrays import load_reviews, load_tokens
from ...infra.errors import ConfigError, DataError
from ...infra.io import load_npz, save_figure, save_npz, write_csv, write_json, write_text
from . import compute, tables, views

log = logging.getLogger(__name__)


def train_imdb_cnn(inputs, outputs, params):
    """Rule train_imdb_cnn: the shared training stage on the padded IMDB reviews."""
    from ...core.train import train_stage

    cfg = params["cfg"]
    data = compute.load_data(inputs["train"], inputs["test"], cfg["model"]["maxlen"],
                             cfg["data"]["imdb"]["start_char"])
    return train_stage(data, outputs, params)


def imdb_cnn_word_gradients(inputs, outputs, params):
    """Rule imdb_cnn_word_gradients: per-word gradient norms of every test review (npz), and
    the accuracy of the saved predictions (json). Returns the time taken as a metric."""
    from ...core.models import load_model

    cfg = params["cfg"]
    compute.check_targets(cfg["attribution"]["targets"])
    reviews = load_reviews(inputs["test"])
    model = load_model(inputs["model"], compile=True)
    start = time.perf_counter()
    arrays = compute.word_gradients(model, reviews, cfg)
    seconds = time.perf_counter() - start
    accuracy = compute.accuracy(arrays)
    log.info("per-word gradients (%s) for %d reviews in %.1f s; accuracy of the saved "
             "predictions %.4f", ", ".join(cfg["attribution"]["targets"]), len(reviews),
             seconds, accuracy)
    save_npz(outputs["gradients"], arrays, compressed=True)
    write_json(outputs["summary"], {"accuracy": accuracy})
    return {"word_gradients_seconds": seconds, "word_gradients_accuracy": accuracy}


def table1_expressions(inputs, outputs, params):
    """Rule table1_expressions: Table 1 (csv, md) from the saved gradient arrays."""
    cfg = params["cfg"]
    grads = load_npz(inputs["gradients"])
    reviews, vocab = load_reviews(inputs["test"]), load_tokens(inputs["tokens"])
    df, counts = tables.table1(grads, reviews, vocab, cfg["attribution"],
                               cfg["data"]["imdb"]["oov_char"])
    write_csv(outputs["csv"], df)
    write_text(outputs["md"], tables.markdown(df, tables.table_note(cfg, counts)))
    log.info("Table 1: %d rows; %s", len(df), tables.counts_text(counts))


def table1_seeds(inputs, outputs, params):
    """Rule table1_seeds: the paper's phrases ranked in every seed next to a random word
    (csv, md), and the stability of the per-word ranking between seeds over all test reviews
    (stability csv). One seed's gradient arrays are held at a time. Returns the time taken
    and the mean stability over the seed pairs as metrics."""
    cfg = params["cfg"]
    seeds, paths = cfg["seeds"], inputs["gradients"]
    if len(seeds) != len(paths):
        raise ConfigError(f"seeds: {len(seeds)} seed(s) {seeds} but {len(paths)} gradient files")
    attr, oov_char = cfg["attribution"], cfg["data"]["imdb"]["oov_char"]
    reviews, vocab = load_reviews(inputs["test"]), load_tokens(inputs["tokens"])
    occurrences = compute.phrase_occurrences(reviews, vocab, attr["table"]["paper_phrases"])
    start = time.perf_counter()
    rows, ranks, position = [], {}, None
    for seed, path in zip(seeds, paths, strict=True):
        grads = load_npz(path)
        if position is None:
            position = grads["position"]
        elif not np.array_equal(grads["position"], position):
            raise DataError(f"{path}: word positions differ from those of seed {seeds[0]}")
        rows += tables.seed_rows(grads, reviews, vocab, occurrences, attr, oov_char, seed)
        tie = tables.ranked_targets(grads, attr["rank_by"])
        ranks[seed] = compute.seed_ranks(grads[f"norms_{attr['rank_by']}"],
                                         grads[f"norms_{tie}"] if tie else None)
    table, pairs = tables.table1_seeds(rows), tables.stability(ranks)
    seconds = time.perf_counter() - start
    write_csv(outputs["csv"], table)
    write_csv(outputs["stability"], pairs)
    write_text(outputs["md"], tables.seeds_markdown(table, pairs, cfg, len(reviews)))
    log.info("Table 1 across %d seed(s): %d phrase occurrence(s), %d seed pair(s), %.1f s",
             len(seeds), len(occurrences), len(pairs) if len(seeds) > 1 else 0, seconds)
    metrics = {"table1_seeds_seconds": seconds}
    if len(seeds) > 1:
        metrics.update(table1_seeds_same_top_share=float(pairs["same_top_share"].mean()),
                       table1_seeds_spearman_mean=float(pairs["spearman_mean"].mean()))
    return metrics


def table1_expressions_figure(inputs, outputs, params):
    """Rule table1_expressions_figure: HTML and PNG views of Table 1's reviews, from the saved
    table and gradient arrays only (never the model)."""
    import matplotlib.pyplot as plt

    cfg = params["cfg"]
    df, grads = tables.read_table1(inputs["table"]), load_npz(inputs["gradients"])
    reviews, vocab = load_reviews(inputs["test"]), load_tokens(inputs["tokens"])
    write_text(outputs["html"], views.html_view(df, grads, reviews, vocab, cfg))
    fig = views.png_view(df, grads, reviews, vocab, cfg)
    save_figure(fig, outputs["png"], dpi=cfg["figure"]["dpi"])
    plt.close(fig)
