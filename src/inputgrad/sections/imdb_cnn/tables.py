"""Table 1 (paper 5.1) as a tidy frame, one row per selected review, and its Markdown."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...data.arrays import Reviews
from ...infra.errors import ConfigError, DataError
from .compute import column_rank, display_tokens, select_reviews, top_window

TABLE_NOTE = (
    "Table 1 (paper 5.1): for each test review, the {width}-word expression starting at the word "
    "whose embedding gradient has the largest L2 norm (gradient of the predicted {rank_by}; ties, "
    "e.g. saturated probabilities, broken by the logit-gradient norm). Words in [brackets] are "
    "outside the {num_words}-word dictionary (the model sees one shared out-of-vocabulary id). "
    "`word_position` is the 0-based token index in the review; `words_seen` the tokens inside "
    "the {maxlen}-token window (longer reviews lose their beginning, as pad_sequences truncates). "
    "`phrase_rank`: rank of the paper's expression's first word among the review's words by "
    "gradient norm (1 = largest; empty if truncated away). `probability`: predicted P(positive); "
    "`label`: 1 = positive. Paper phrases matched in {counts}."
)


def table1(grads: dict[str, np.ndarray], reviews: Reviews, vocab: list[str], attr: dict,
           oov_char: int) -> tuple[pd.DataFrame, dict[str, int]]:
    """Table 1 as a tidy DataFrame (one row per selected review) and the reviews per phrase."""
    table_cfg, width = attr["table"], int(attr["window"])
    rank_by = attr["rank_by"]
    if f"norms_{rank_by}" not in grads:
        raise ConfigError(f"attribution.rank_by: {rank_by!r} not among the saved targets")
    tie = "logit" if rank_by != "logit" and "norms_logit" in grads else None
    if len(grads["review_id"]) != len(reviews) or not np.array_equal(grads["review_id"],
                                                                      reviews.review_id):
        raise DataError("gradient arrays and test reviews are not the same reviews in the "
                        "same order")
    selected = select_reviews(reviews, vocab, table_cfg["paper_phrases"],
                              table_cfg["random_reviews"], table_cfg["random_seed"])
    rows = []
    for s in selected:
        i = s["index"]
        norms, position = grads[f"norms_{rank_by}"][i], grads["position"][i]
        tiebreak = grads[f"norms_{tie}"][i] if tie else None
        words = display_tokens(reviews, i, vocab, oov_char)
        cols = top_window(norms, width, tiebreak)
        first = int(cols[0])
        row = {
            "selection": s["selection"],
            "review_id": str(reviews.review_id[i]),
            "label": int(reviews.label[i]),
            "probability": float(grads["probability"][i]),
            "expression": " ".join(words[position[c]] for c in cols),
            "word_position": int(position[first]),
            f"norm_{rank_by}": float(norms[first]),
        }
        if tie:
            row[f"norm_{tie}"] = float(grads[f"norms_{tie}"][i][first])
        row["review_words"] = len(words)
        row["words_seen"] = int((position >= 0).sum())
        row.update(phrase_rank_columns(s, norms, position, tiebreak))
        rows.append(row)
    return pd.DataFrame(rows), phrase_counts(selected, table_cfg["paper_phrases"])


def phrase_rank_columns(selected: dict, norms, position, tiebreak) -> dict:
    """paper_phrase, phrase_position, phrase_rank, phrase_status for one review.

    With several occurrences the best-ranked one seen by the model is reported; an
    occurrence whose first word was truncated away (outside the maxlen window) has no rank.
    """
    out = {"paper_phrase": "", "phrase_position": pd.NA, "phrase_rank": pd.NA,
           "phrase_status": ""}
    if not selected["phrase"]:
        return out
    column_of = {int(p): c for c, p in enumerate(position) if p >= 0}
    best = None
    statuses = []
    for phrase, starts in zip(selected["phrase"], selected["starts"], strict=True):
        for start in starts:
            if start in column_of:
                rank = column_rank(norms, column_of[start], tiebreak)
                statuses.append("seen")
                if best is None or rank < best[2]:
                    best = (phrase, start, rank)
            else:
                statuses.append("truncated")
    n = len(statuses)
    status = (f"{statuses.count('seen')} of {n} occurrence(s) seen" if n > 1
              else ("seen" if statuses[0] == "seen" else "truncated (outside the window)"))
    if best is None:
        first_phrase, first_start = selected["phrase"][0], selected["starts"][0][0]
        out.update(paper_phrase=first_phrase, phrase_position=first_start, phrase_status=status)
    else:
        out.update(paper_phrase=best[0], phrase_position=best[1], phrase_rank=best[2],
                   phrase_status=status)
    return out


def phrase_counts(selected: list[dict], phrases: list[str]) -> dict[str, int]:
    """Selected reviews per paper phrase."""
    return {p: sum(p in s["phrase"] for s in selected) for p in phrases}


def counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"“{p}”: {n} review(s)" for p, n in counts.items())


def table_note(cfg: dict, counts: dict[str, int]) -> str:
    """TABLE_NOTE filled in from the resolved config and the phrase counts."""
    attr, imdb = cfg["attribution"], cfg["data"]["imdb"]
    return TABLE_NOTE.format(width=attr["window"], rank_by=attr["rank_by"],
                             num_words=imdb["num_words"], maxlen=cfg["model"]["maxlen"],
                             counts=counts_text(counts))


def markdown(df: pd.DataFrame, note: str) -> str:
    """The table as Markdown (norms to 3 significant digits, P to 3 decimals), then the note."""
    shown = df.copy()
    for col in shown.columns:
        if col.startswith("norm_"):
            shown[col] = shown[col].map(lambda v: f"{v:.3g}")
    shown["probability"] = shown["probability"].map(lambda v: f"{v:.3f}")
    for col in ("phrase_position", "phrase_rank"):
        shown[col] = shown[col].map(lambda v: "" if v is None or v is np.nan or str(v) in
                                    ("<NA>", "nan") else str(int(v)))
    return shown.to_markdown(index=False) + "\n\n" + note + "\n"


def read_table1(path) -> pd.DataFrame:
    """Table 1 back from its CSV: empty phrase_position / phrase_rank are NaN, other empty
    cells stay empty strings."""
    return pd.read_csv(path, keep_default_na=False, na_values={"phrase_position": [""],
                                                               "phrase_rank": [""]})
