"""Tidy tables of Sec. 5.2: the per-word ḡ table, Table 2 and its Markdown."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...infra.errors import ConfigError
from .compute import GBARS, eligible_words


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


def side_ranks(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Eligible words with their ranks by ḡ (`column`):
    rank_overall: 1 = largest ḡ ... N = most negative ḡ;
    rank_positive: among words with ḡ > 0, 1 = largest; rank_negative: among ḡ < 0,
    1 = most negative (NaN on the other side)."""
    words = frame[frame["eligible"]].sort_values(column, ascending=False, kind="stable").copy()
    words["rank_overall"] = np.arange(1, len(words) + 1)
    g = words[column]
    words["rank_positive"] = g.where(g > 0).rank(ascending=False, method="first")
    words["rank_negative"] = g.where(g < 0).rank(ascending=True, method="first")
    return words


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
