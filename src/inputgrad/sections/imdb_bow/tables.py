"""Tidy tables of Sec. 5.2: the per-word ḡ table, Table 2, Table 2 across seeds (and the
pairs of seeds), with their Markdown."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from ...core import seeds as across
from ...infra.errors import ConfigError
from .compute import GBARS, compare_seeds, eligible_words, side_ranks, top_words


def gbar_frame(gbars: dict[str, np.ndarray], names: list[str], x_test: np.ndarray,
               x_train: np.ndarray, index_from: int) -> pd.DataFrame:
    """Tidy per-word table: one row per column j of the input (= word id j).

    `eligible` marks the words that can be ranked (`compute.eligible_words`).
    """
    ids = np.arange(len(names))
    test_docs = x_test.sum(axis=0).astype(np.int64)
    train_docs = x_train.sum(axis=0).astype(np.int64)
    frame = pd.DataFrame({
        "word_id": ids, "word": names,
        "reserved": ids <= index_from,
        "test_docs": test_docs, "test_doc_share": test_docs / max(len(x_test), 1),
        "train_docs": train_docs,
    })
    for key in GBARS:
        frame[f"gbar_{key}"] = gbars[key]
    frame["eligible"] = eligible_words(names, x_train, index_from)
    return frame


def table2(frame: pd.DataFrame, top_k: int, paper_words: dict[str, str],
           column: str = "gbar_test_probability") -> pd.DataFrame:
    """Tidy Table 2: the top_k words on each side of ḡ, then one row per paper word.

    section: top_positive | top_negative | paper_word; rank: the side rank (see `side_ranks`);
    for paper words `expected` is the paper's sentiment and rank is the rank among words on
    that side (NaN when ḡ has the other sign, `sign_agrees` False).
    """
    words = side_ranks(frame, column)
    keep = ["word", "word_id", "gbar_test_probability", "gbar_test_logit", "test_docs",
            "test_doc_share", "rank_overall"]
    pos = words[words["rank_positive"] <= top_k].sort_values("rank_positive")
    neg = words[words["rank_negative"] <= top_k].sort_values("rank_negative")
    parts = [
        pos[keep].assign(section="top_positive", rank=pos["rank_positive"]),
        neg[keep].assign(section="top_negative", rank=neg["rank_negative"]),
    ]
    rows = []
    by_word = words.set_index("word")
    for word, expected in paper_words.items():
        if expected not in ("positive", "negative"):
            raise ConfigError(f"attribution.paper_words.{word}: expected 'positive' or "
                              f"'negative', got {expected!r}")
        if word not in by_word.index:
            rows.append({"word": word, "section": "paper_word", "expected": expected})
            continue
        r = by_word.loc[word]
        rows.append({"word": word, "word_id": r["word_id"], **{k: r[k] for k in keep[2:]},
                     "section": "paper_word", "expected": expected,
                     "rank": r[f"rank_{expected}"],
                     "sign_agrees": bool((r[column] > 0) == (expected == "positive"))})
    parts.append(pd.DataFrame(rows))
    out = pd.concat(parts, ignore_index=True)
    out["n_ranked"] = len(words)
    out["n_positive"] = int((words[column] > 0).sum())
    out["n_negative"] = int((words[column] < 0).sum())
    cols = ["section", "rank", "word", "word_id", "gbar_test_probability", "gbar_test_logit",
            "test_docs", "test_doc_share", "rank_overall", "expected", "sign_agrees",
            "n_ranked", "n_positive", "n_negative"]
    out = out.reindex(columns=cols)
    for col in ("rank", "word_id", "test_docs", "rank_overall"):
        out[col] = out[col].astype("Int64")
    return out


def _side_md(block: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "word": block["word"].to_numpy(),
        "ḡ (prob.)": [f"{v:+.2e}" for v in block["gbar_test_probability"]],
        "ḡ (logit)": [f"{v:+.3f}" for v in block["gbar_test_logit"]],
        "test docs": [f"{s:.1%}" for s in block["test_doc_share"]],
    })


def _count(table: pd.DataFrame, column: str) -> int:
    return int(table[column].iloc[0]) if len(table) else 0


def table2_markdown(table: pd.DataFrame, summary: dict | None = None) -> str:
    """Table 2 as Markdown: both sides next to each other, the paper's words, and notes
    (plus the train-vs-test Spearman of ḡ when `summary` is given)."""
    pos = table[table["section"] == "top_positive"].reset_index(drop=True)
    neg = table[table["section"] == "top_negative"].reset_index(drop=True)
    k = max(len(pos), len(neg))
    side = pd.concat([_side_md(pos).reindex(range(k)).add_prefix("positive: "),
                      _side_md(neg).reindex(range(k)).add_prefix("negative: ")], axis=1)
    side.insert(0, "rank", range(1, k + 1))
    paper = table[table["section"] == "paper_word"]
    n, npos, nneg = (_count(table, c) for c in ("n_ranked", "n_positive", "n_negative"))
    paper_md = pd.DataFrame({
        "word": paper["word"], "expected": paper["expected"],
        "side rank": [("—" if pd.isna(r) else f"{int(r)} of {npos if e == 'positive' else nneg}")
                      for r, e in zip(paper["rank"], paper["expected"], strict=True)],
        "overall rank": [("—" if pd.isna(r) else f"{int(r)} of {n}")
                         for r in paper["rank_overall"]],
        "ḡ (prob.)": [("—" if pd.isna(v) else f"{v:+.2e}")
                      for v in paper["gbar_test_probability"]],
        "test docs": [("—" if pd.isna(s) else f"{s:.1%}") for s in paper["test_doc_share"]],
    })
    lines = [
        "# Table 2: words ranked by the mean input gradient ḡ (bag-of-words MLP)", "",
        side.to_markdown(index=False, disable_numparse=True), "",
        "Paper's example words:", "",
        paper_md.to_markdown(index=False, disable_numparse=True), "",
        "Notes. ḡ (prob.) = mean over all test reviews of d P(positive)/d x_j, the binary "
        "input treated as continuous (the paper's quantity; it orders the rows); ḡ (logit) = "
        "the same for the logit. test docs = share of test reviews containing the word. "
        f"Ranked: the {n} dictionary words seen in training (reserved ids 0-3 excluded); "
        f"{npos} have ḡ > 0, {nneg} have ḡ < 0. side rank = rank among words on the paper's "
        "side (positive words: 1 = largest ḡ; negative words: 1 = most negative ḡ; — when ḡ "
        "has the other sign); overall rank: 1 = largest ḡ, "
        f"{n} = most negative.",
    ]
    if summary:
        rho = summary["spearman_train_test"]
        lines.append(f"Spearman correlation of ḡ over train vs test reviews: "
                     f"{rho['probability']:.5f} (probability), {rho['logit']:.5f} (logit).")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- across seeds

SEED_COLUMNS = ["section", "word", "expected", "quantity", "seed", "value", *across.SUMMARY]
WORD_QUANTITIES = ("rank", "rank_overall", "gbar_test_probability", "sign_agrees")
AGREEMENT_QUANTITIES = ("paper_rule_agreement_test", "fitted_rule_agreement_test",
                        "fitted_threshold")
PAIR_COLUMNS = ["seed_a", "seed_b", "n_words", "spearman_gbar", "top_positive_overlap",
                "top_negative_overlap", "top_k"]


def _word_values(row: pd.Series | None) -> dict[str, float]:
    """A paper word's quantities in one seed's Table 2 (row None: the word is not ranked)."""
    if row is None:
        return dict.fromkeys(WORD_QUANTITIES, float("nan"))
    # Table 2 in memory has pd.NA (nullable ints), read back from CSV NaN: both become NaN
    return {q: float("nan") if pd.isna(row[q]) else float(row[q]) for q in WORD_QUANTITIES}


def _paper_row(words: pd.DataFrame, word: str, seed: int) -> pd.Series | None:
    rows = words[(words["section"] == "paper_word") & (words["word"] == word)]
    if rows.empty:
        raise ConfigError(f"attribution.paper_words.{word}: not in the Table 2 of seed {seed}")
    row = rows.iloc[0]
    return None if pd.isna(row["rank_overall"]) else row


def table2_seeds(words: dict[int, pd.DataFrame], agreements: dict[int, dict],
                 accuracies: dict[int, float], paper_words: dict[str, str]) -> pd.DataFrame:
    """Tidy Table 2 across seeds: one row per (item, quantity, seed), then a summary row per
    (item, quantity) (`core.stats.seed_summary`: NaN values ignored, n = seeds with a value).

    section paper_word (one per word of `paper_words`, from each seed's Table 2): rank (side
    rank; NaN when ḡ has the other sign), rank_overall, gbar_test_probability and sign_agrees
    (1/0); whether a word is in the top k in how many seeds is judged by the report's claims;
    section linear_agreement (each seed's `bow_linear_agreement`); section network:
    test_accuracy.
    """
    seeds = sorted(words)
    rows = []
    for word, expected in paper_words.items():
        per_seed = {s: _word_values(_paper_row(words[s], word, s)) for s in seeds}
        for q in WORD_QUANTITIES:
            rows += across.seed_rows({s: per_seed[s][q] for s in seeds},
                                     {"section": "paper_word", "word": word,
                                      "expected": expected, "quantity": q})
    for q in AGREEMENT_QUANTITIES:
        rows += across.seed_rows({s: float(agreements[s][q]) for s in seeds},
                                 {"section": "linear_agreement", "quantity": q})
    rows += across.seed_rows({s: float(accuracies[s]) for s in seeds},
                             {"section": "network", "quantity": "test_accuracy"})
    out = pd.DataFrame(rows).reindex(columns=SEED_COLUMNS)
    for col in ("seed", "n"):
        out[col] = out[col].astype("Int64")
    return out


def table2_seeds_pairs(frames: dict[int, pd.DataFrame], column: str,
                       top_k: int) -> pd.DataFrame:
    """One row per unordered pair of seeds (none for a single seed): the Spearman correlation
    of ḡ (`column` of the per-word table) over the words eligible in both, and the overlap
    (share of top_k) of the top positive / negative word sets."""
    seeds = sorted(frames)
    for s in seeds:
        if column not in frames[s]:
            raise ConfigError(f"attribution.seeds.column: {column!r} not in the ḡ table of "
                              f"seed {s}")
    tops = {s: top_words(frames[s], column, top_k) for s in seeds}
    rows = [{"seed_a": a, "seed_b": b, "top_k": top_k,
             **compare_seeds(frames[a], frames[b], tops[a], tops[b], column, top_k)}
            for a, b in itertools.combinations(seeds, 2)]
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


def _per_seed(block: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """(the per-seed rows, the summary row) of one (item, quantity)."""
    return across.per_seed(block), across.summaries(block).iloc[0]


def _words_md(table: pd.DataFrame) -> pd.DataFrame:
    words = table[table["section"] == "paper_word"]
    rows = []
    for word, block in words.groupby("word", sort=False):
        ranks, rank = _per_seed(block[block["quantity"] == "rank"])
        rows.append({"word": word, "expected": rank["expected"],
                     **across.seed_cells(ranks, lambda r: across.num(r["value"], ".0f")),
                     "mean": across.num(rank["mean"], ".1f"),
                     "min–max": across.span(rank["min"], rank["max"], ".0f", "–", "—")})
    return pd.DataFrame(rows)


MODEL_LABELS = {
    "test_accuracy": ("network test accuracy", ".4f"),
    "paper_rule_agreement_test": ("agreement, x·ḡ > 0 (paper's rule)", ".2%"),
    "fitted_rule_agreement_test": ("agreement, x·ḡ > t (t fitted on train)", ".2%"),
    "fitted_threshold": ("fitted t", "+.3g"),
}


def _model_md(table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for quantity, (label, spec) in MODEL_LABELS.items():
        values, summary = _per_seed(table[(table["section"] != "paper_word")
                                          & (table["quantity"] == quantity)])
        spread = across.span(summary["min"], summary["max"], spec, "–")
        rows.append({"quantity": label,
                     **across.seed_cells(values, lambda r, spec=spec: across.num(r["value"],
                                                                                 spec)),
                     "mean (min–max)": f"{across.num(summary['mean'], spec)} ({spread})",
                     "95 % CI": across.interval(summary, spec)})
    return pd.DataFrame(rows)


def _range(values: pd.Series, spec: str) -> str:
    v = values.dropna()
    if v.empty:
        return "—"
    return f"{v.min():{spec}}–{v.max():{spec}} (mean {v.mean():{spec}})"


def _pairs_md(pairs: pd.DataFrame) -> str:
    if pairs.empty:
        return "One seed: no pairs of seeds to compare."
    k = int(pairs["top_k"].iloc[0])
    return (f"Pairs of seeds ({len(pairs)}; table2_seeds_pairs.csv): Spearman correlation of ḡ "
            f"over the words ranked in both {_range(pairs['spearman_gbar'], '.4f')}; share of "
            f"the top {k} positive words in common {_range(pairs['top_positive_overlap'], '.2f')},"
            f" of the top {k} negative words {_range(pairs['top_negative_overlap'], '.2f')}.")


def table2_seeds_markdown(table: pd.DataFrame, pairs: pd.DataFrame) -> str:
    """Table 2 across seeds as Markdown: the paper's words' side ranks per seed, the network's
    accuracy and the linear rule per seed with mean (min–max), and the pairs of seeds."""
    seeds = table["seed"].dropna().unique()
    lines = [
        f"# Table 2 across {len(seeds)} seeds: the paper's words and the linear rule "
        "(bag-of-words MLP)", "",
        "Side rank of the paper's words by ḡ in each seed's Table 2:", "",
        across.markdown(_words_md(table)), "",
        "Network and linear rule x·ḡ > t, test reviews:", "",
        across.markdown(_model_md(table)), "",
        _pairs_md(pairs), "",
        "Notes. side rank = rank among the words on the paper's side of ḡ (positive words: "
        "1 = largest ḡ; negative words: 1 = most negative ḡ; — when ḡ has the other sign in "
        "that seed, or the word is not ranked); mean and min–max over the seeds with a rank. "
        "agreement = share of test "
        "reviews where the rule's class equals the network's. 95 % CI: Student-t interval for "
        "the mean over seeds, only with 5 or more seeds.",
    ]
    return "\n".join(lines) + "\n"
