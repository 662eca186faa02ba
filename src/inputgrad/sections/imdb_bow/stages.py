"""The rules of Sec. 5.2 (`workflow/rules/imdb_bow.smk`), one function each, named like the
rule: read the inputs, call compute/tables/views, write every output, return the metrics."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from ...data.arrays import load_reviews
from ...infra.errors import DataError
from ...infra.io import load_npz, save_figure, save_npz, write_csv, write_json, write_text
from . import compute, tables, views

log = logging.getLogger(__name__)


def _load_split(path, vocab_size: int, imdb_cfg: dict):
    return compute.reviews_bow(load_reviews(path), vocab_size, imdb_cfg)


def _read_frame(path) -> pd.DataFrame:
    # the word column holds words such as "null" and "nan": keep them as text
    return pd.read_csv(path, keep_default_na=False, na_values=[])


def _read_table2(path) -> pd.DataFrame:
    # words stay text; only the numeric columns' empty cells (no rank, no word id) are NaN
    numeric = ("rank", "word_id", "gbar_test_probability", "gbar_test_logit", "test_docs",
               "test_doc_share", "rank_overall", "sign_agrees")
    return pd.read_csv(path, keep_default_na=False, na_values={c: [""] for c in numeric})


def _accuracy(path) -> float:
    metrics = json.loads(Path(path).read_text())
    if "test_accuracy" not in metrics:
        raise DataError(f"{path}: no 'test_accuracy'")
    return float(metrics["test_accuracy"])


def train_imdb_bow_mlp(inputs, outputs, params) -> dict:
    """Rule train_imdb_bow_mlp: bag-of-words for both splits, then the shared training path."""
    from ...core.train import train_stage

    cfg = params["cfg"]
    vocab, imdb = cfg["model"]["vocab_size"], cfg["data"]["imdb"]
    x_train, y_train = _load_split(inputs["train"], vocab, imdb)
    x_test, y_test = _load_split(inputs["test"], vocab, imdb)
    log.info("bag of words: train %s, test %s, %.1f distinct dictionary words per review",
             x_train.shape, x_test.shape, x_train.sum(axis=1).mean())
    data = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    return train_stage(data, outputs, params)


def imdb_bow_gbar(inputs, outputs, params) -> dict:
    """Rule imdb_bow_gbar: ḡ (test and train; probability and logit) as arrays (npz), the
    per-word table (csv), its summary (json) and the per-review scores x·ḡ (scores)."""
    from ...core.models import load_model, model_fn

    cfg = params["cfg"]
    imdb = cfg["data"]["imdb"]
    model = load_model(inputs["model"], compile=True)
    vocab = int(model.input_shape[-1])
    x_train, y_train = _load_split(inputs["train"], vocab, imdb)
    x_test, y_test = _load_split(inputs["test"], vocab, imdb)
    word_index = json.loads(Path(inputs["word_index"]).read_text())
    names = compute.word_names(word_index, vocab, imdb["index_from"])
    res = compute.split_gbars(model_fn(model), x_test, x_train, cfg["attribution"]["batch_size"])
    gbars = res["gbars"]
    frame = tables.gbar_frame(gbars, names, x_test, x_train, imdb["index_from"])
    summary = compute.gbar_summary(gbars, frame["eligible"].to_numpy(), len(x_test), len(x_train))
    scores = compute.review_scores(gbars, res["logits"],
                                   {"test": (x_test, y_test), "train": (x_train, y_train)})
    log.info("Spearman(ḡ train, ḡ test): %s", summary["spearman_train_test"])
    save_npz(outputs["npz"], {"word_id": frame["word_id"].to_numpy(),
                              **{f"gbar_{k}": v for k, v in gbars.items()}})
    write_csv(outputs["csv"], frame)
    write_json(outputs["json"], summary)
    save_npz(outputs["scores"], scores)
    rho = summary["spearman_train_test"]
    return {**{f"gbar_spearman_train_test_{k}": v for k, v in rho.items()},
            **{f"gradient_seconds_{k}": v for k, v in res["seconds"].items()}}


def table2_words(inputs, outputs, params) -> None:
    """Rule table2_words: Table 2 as tidy CSV and Markdown."""
    attribution = params["cfg"]["attribution"]
    frame = _read_frame(inputs["csv"])
    summary = json.loads(Path(inputs["json"]).read_text())
    table = tables.table2(frame, attribution["top_k"], attribution["paper_words"])
    write_csv(outputs["csv"], table)
    write_text(outputs["md"], tables.table2_markdown(table, summary))


def bow_linear_agreement(inputs, outputs, params) -> dict:
    """Rule bow_linear_agreement: the linear rules vs the network, as JSON."""
    result = compute.linear_agreement(load_npz(inputs["scores"]))
    write_json(outputs["json"], result)
    log.info("linear agreement: t=0 %.4f, fitted t=%.4g %.4f", result["paper_rule_agreement_test"],
             result["fitted_threshold"], result["fitted_rule_agreement_test"])
    return {"bow_linear_agreement_t0": result["paper_rule_agreement_test"],
            "bow_linear_agreement_fitted": result["fitted_rule_agreement_test"]}


def table2_seeds(inputs, outputs, params) -> dict:
    """Rule table2_seeds: every seed's ḡ table, Table 2, linear agreement and test accuracy
    -> Table 2 across seeds (tidy CSV, Markdown) and the pairs of seeds (CSV)."""
    cfg = params["cfg"]
    attribution = cfg["attribution"]
    seeds = [int(s) for s in cfg["seeds"]]
    files = {k: inputs[k] for k in ("gbar", "words", "agreement", "metrics")}
    if any(len(v) != len(seeds) for v in files.values()):
        raise DataError(f"table2_seeds: {len(seeds)} seeds but "
                        + ", ".join(f"{len(v)} {k} files" for k, v in files.items()))
    by_seed = {k: dict(zip(seeds, v, strict=True)) for k, v in files.items()}
    table = tables.table2_seeds(
        {s: _read_table2(p) for s, p in by_seed["words"].items()},
        {s: json.loads(Path(p).read_text()) for s, p in by_seed["agreement"].items()},
        {s: _accuracy(p) for s, p in by_seed["metrics"].items()},
        attribution["paper_words"])
    across = attribution["seeds"]
    pairs = tables.table2_seeds_pairs({s: _read_frame(p) for s, p in by_seed["gbar"].items()},
                                      across["column"], across["top_k"])
    write_csv(outputs["csv"], table)
    write_text(outputs["md"], tables.table2_seeds_markdown(table, pairs))
    write_csv(outputs["pairs"], pairs)
    summary = table[table["seed"].isna() & (table["section"] != "paper_word")]
    summary = summary.set_index("quantity")
    log.info("Table 2 across seeds %s; pairs:\n%s", seeds, pairs.to_string(index=False))
    return {"table2_seeds_spearman_gbar_mean": float(pairs["spearman_gbar"].mean()),
            "table2_seeds_accuracy_sd": float(summary.loc["test_accuracy", "sd"]),
            "table2_seeds_paper_rule_agreement_mean": float(
                summary.loc["paper_rule_agreement_test", "mean"])}


def imdb_bow_gbar_figure(inputs, outputs, params) -> None:
    """Rule imdb_bow_gbar_figure: the ḡ figure, from the saved table and arrays only."""
    style = params["cfg"]["figure"]
    frame = _read_frame(inputs["csv"])
    scores = load_npz(inputs["scores"])
    agreement = json.loads(Path(inputs["agreement"]).read_text())
    fig = views.imdb_bow_gbar_figure(frame, scores, agreement, style)
    save_figure(fig, outputs["png"], outputs["pdf"], dpi=style["dpi"])
