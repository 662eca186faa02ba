"""Table 1 (paper 5.1) as a tidy frame, one row per selected review, and its Markdown; Table 1
across seeds (the paper's phrases against a random word, and the stability of the ranking)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from ...core import seeds as across
from ...core.stats import seed_summary
from ...data.arrays import Reviews
from ...infra.errors import ConfigError, DataError
from .compute import (
    column_rank,
    display_tokens,
    occurrence_ranks,
    pair_stability,
    select_reviews,
    top_window,
    top_window_by_sum,
)

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
    tie = ranked_targets(grads, rank_by)
    check_same_reviews(grads, reviews)
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


def ranked_targets(grads: dict[str, np.ndarray], rank_by: str) -> str | None:
    """The tiebreak target for `rank_by` (the logit when ranking by probability), or None."""
    if f"norms_{rank_by}" not in grads:
        raise ConfigError(f"attribution.rank_by: {rank_by!r} not among the saved targets")
    return "logit" if rank_by != "logit" and "norms_logit" in grads else None


def check_same_reviews(grads: dict[str, np.ndarray], reviews: Reviews) -> None:
    if len(grads["review_id"]) != len(reviews) or not np.array_equal(grads["review_id"],
                                                                      reviews.review_id):
        raise DataError("gradient arrays and test reviews are not the same reviews in the "
                        "same order")


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


# ----------------------------------------------------------------------------- across seeds

MEASURES = ("window_rank_first_word", "window_rank_sum")
SUMMARY_COLUMNS = list(across.SUMMARY)
SEEDS_NOTE = (
    "Ranks (1 = top) of the window of {width} words starting at each occurrence of a paper "
    "phrase, among all windows of its review (one per word the model saw, `words_seen`), by the "
    "gradient of the predicted {rank_by} (ties broken by the logit-gradient norm). "
    "`window_rank_first_word` ranks a window by the norm of its first word, so it is the rank of "
    "the phrase's first word among the review's words: this is the paper's Table 1 rule (and "
    "Table 1's `phrase_rank`, which takes the best occurrence per review). `window_rank_sum` "
    "ranks a window by the sum of its words' norms. Percentile = rank / words_seen (small = "
    "near the top). Null reference: a word drawn at random from the review has median rank "
    "(words_seen + 1) / 2, percentile (words_seen + 1) / (2 words_seen), about 0.5. Rows with "
    "seed `all` summarise the seeds: `n` (seeds with a rank), `mean` (with its `percentile`), "
    "`sd`, `min`, `max` of the rank, and a 95 % t interval for the mean if 5 or more seeds ran "
    "(in how many seeds the phrase is first: the report's claims). A "
    "`truncated` occurrence lies before the {maxlen}-token window and has no rank."
)
STABILITY_NOTE = (
    "Stability over all {reviews} test reviews, for each pair of seeds: `same_top_share` is the "
    "share of reviews (with at least one word) whose top window, Table 1's expression (the "
    "position of its first word), is the same in both seeds; `spearman_mean` and "
    "`spearman_median` summarise over reviews the Spearman correlation of the per-word "
    "{rank_by}-gradient norms of the two seeds (padding and the start marker left out; "
    "`spearman_reviews` counts the reviews used: at least 3 words and norms not constant in "
    "either seed)."
)


def seed_rows(grads: dict[str, np.ndarray], reviews: Reviews, vocab: list[str],
              occurrences: list[dict], attr: dict, oov_char: int, seed: int) -> list[dict]:
    """One seed's rows: per paper-phrase occurrence and measure, the rank and percentile of
    its window, the random-word reference and the review's top window by that measure."""
    width, rank_by = int(attr["window"]), attr["rank_by"]
    tie = ranked_targets(grads, rank_by)
    check_same_reviews(grads, reviews)
    rows = []
    for occ in occurrences:
        i = occ["index"]
        norms, position = grads[f"norms_{rank_by}"][i], grads["position"][i]
        tiebreak = grads[f"norms_{tie}"][i] if tie else None
        words = display_tokens(reviews, i, vocab, oov_char)
        seen = int((position >= 0).sum())
        column = np.flatnonzero(position == occ["start"])
        ranks = (occurrence_ranks(norms, int(column[0]), width, tiebreak) if len(column)
                 else dict.fromkeys(MEASURES, np.nan))
        tops = {"window_rank_first_word": top_window(norms, width, tiebreak),
                "window_rank_sum": top_window_by_sum(norms, width, tiebreak)}
        top_positions = {m: int(position[cols[0]]) for m, cols in tops.items()}
        for measure in MEASURES:
            rank = ranks[measure]
            rows.append({
                "phrase": occ["phrase"],
                "review_id": str(reviews.review_id[i]),
                "label": int(reviews.label[i]),
                "phrase_position": int(occ["start"]),
                "status": "seen" if len(column) else "truncated",
                "words_seen": seen,
                "measure": measure,
                "seed": seed,
                "rank": rank,
                "percentile": rank / seen,
                "random_rank": (seen + 1) / 2,
                "random_percentile": (seen + 1) / (2 * seen),
                "top_expression": " ".join(words[position[c]] for c in tops[measure]),
                "top_position": top_positions[measure],
            })
    return rows


def table1_seeds(rows: list[dict]) -> pd.DataFrame:
    """The per-seed rows (seed_rows of every seed), each occurrence and measure followed by
    its summary row over seeds (seed `all`)."""
    per_seed = pd.DataFrame(rows)
    keys = ["phrase", "review_id", "label", "phrase_position", "status", "words_seen",
            "measure"]
    return across.seeds_table(per_seed, keys, [*per_seed.columns, *SUMMARY_COLUMNS],
                              int_columns=("rank", "top_position", "n"), value="rank",
                              extra=summary_row)


def summary_row(key: dict, group: pd.DataFrame, stats: dict) -> dict:
    """The across-seed summary of one occurrence and measure (NaN ranks = truncated), beside
    `stats`, the `seed_summary` of its ranks."""
    words = key["words_seen"]
    return {"seed": "all", "rank": np.nan, "percentile": stats["mean"] / words,
            "random_rank": (words + 1) / 2, "random_percentile": (words + 1) / (2 * words),
            "top_expression": "", "top_position": np.nan}


def stability(ranks: dict[int, dict]) -> pd.DataFrame:
    """One row per pair of seeds (compute.pair_stability of their seed_ranks); with a single
    seed, one row with no numbers and a note."""
    seeds = list(ranks)
    if len(seeds) < 2:
        return pd.DataFrame([{"seed_a": seeds[0], "seed_b": pd.NA, "reviews": pd.NA,
                              "same_top_share": np.nan, "spearman_reviews": pd.NA,
                              "spearman_mean": np.nan, "spearman_median": np.nan,
                              "note": f"single seed ({seeds[0]}): no pair of seeds to compare"}])
    return pd.DataFrame([{"seed_a": a, "seed_b": b, **pair_stability(ranks[a], ranks[b]),
                          "note": ""} for a, b in itertools.combinations(seeds, 2)])


def seeds_note(cfg: dict) -> str:
    attr = cfg["attribution"]
    return SEEDS_NOTE.format(width=attr["window"], rank_by=attr["rank_by"],
                             maxlen=cfg["model"]["maxlen"])


def seeds_markdown(table: pd.DataFrame, pairs: pd.DataFrame, cfg: dict, reviews: int) -> str:
    """table1_seeds.md: per paper phrase and occurrence, the rank per seed next to the random
    word and the summary over seeds; then the stability over all reviews; then the notes."""
    seeds = cfg["seeds"]
    lines = ["# Table 1 across seeds: the paper's phrases against a random word\n",
             f"Seeds: {', '.join(map(str, seeds))} (K = {len(seeds)}).\n"]
    for phrase in cfg["attribution"]["table"]["paper_phrases"]:
        lines.append(f"## “{phrase}”\n")
        occurrences = table[table["phrase"] == phrase]
        if occurrences.empty:
            lines.append("Not in the test reviews.\n")
        for _, occ in occurrences.groupby(["review_id", "phrase_position"], sort=False):
            lines += occurrence_markdown(occ)
    lines += ["## Stability over all test reviews\n", stability_markdown(pairs) + "\n",
              STABILITY_NOTE.format(reviews=reviews, rank_by=cfg["attribution"]["rank_by"])
              + "\n", seeds_note(cfg) + "\n"]
    return "\n".join(lines)


def occurrence_markdown(occ: pd.DataFrame) -> list[str]:
    """One occurrence: a heading, the per-seed ranks of both measures, the summary lines."""
    first = occ.iloc[0]
    head = (f"### {first['review_id']} (label {first['label']}), token {first['phrase_position']}"
            f", {first['words_seen']} words seen")
    if first["status"] == "truncated":
        return [head + "\n", "Truncated away: the model never saw this occurrence.\n"]
    by = {m: occ[occ["measure"] == m].set_index("seed") for m in MEASURES}
    first_word, window_sum = by["window_rank_first_word"], by["window_rank_sum"]
    shown = pd.DataFrame({"seed": [s for s in first_word.index if s != "all"]})
    shown["first-word rank (Table 1)"] = [_rank_cell(first_word.loc[s]) for s in shown["seed"]]
    shown["window-sum rank"] = [_rank_cell(window_sum.loc[s]) for s in shown["seed"]]
    shown["random word"] = f"{first['random_rank']:g} ({first['random_percentile']:.3f})"
    shown["top expression (first word)"] = [_top_cell(first_word.loc[s]) for s in shown["seed"]]
    shown["top expression (sum)"] = [_top_cell(window_sum.loc[s]) for s in shown["seed"]]
    return [head + "\n", shown.to_markdown(index=False) + "\n",
            _summary_line("First-word rank", first_word.loc["all"]),
            _summary_line("Window-sum rank", window_sum.loc["all"])]


def _rank_cell(row) -> str:
    return f"{int(row['rank'])} ({row['percentile']:.3f})"


def _top_cell(row) -> str:
    return f"{row['top_expression']} (token {int(row['top_position'])})"


def _summary_line(label: str, s) -> str:
    """`label` over seeds: mean (percentile), range, interval."""
    line = (f"{label} over {int(s['n'])} seed(s): mean {s['mean']:.1f} (percentile "
            f"{s['percentile']:.3f}), min {s['min']:g}, max {s['max']:g}")
    if not np.isnan(s["ci_low"]):
        line += f", 95 % interval of the mean {s['ci_low']:.1f}–{s['ci_high']:.1f}"
    return line + ".\n"


def stability_markdown(pairs: pd.DataFrame) -> str:
    if pairs["seed_b"].isna().all():
        return str(pairs["note"].iloc[0]) + "."
    shown = pd.DataFrame({
        "seeds": [f"{a} vs {b}" for a, b in zip(pairs["seed_a"], pairs["seed_b"], strict=True)],
        "reviews": pairs["reviews"],
        "same top window": pairs["same_top_share"].map(lambda v: f"{v:.3f}"),
        "reviews (Spearman)": pairs["spearman_reviews"],
        "Spearman mean": pairs["spearman_mean"].map(lambda v: f"{v:.3f}"),
        "Spearman median": pairs["spearman_median"].map(lambda v: f"{v:.3f}"),
    })
    over = (f"Over the {len(pairs)} pair(s): same top window {_range(pairs['same_top_share'])}; "
            f"Spearman mean {_range(pairs['spearman_mean'])}.")
    return shown.to_markdown(index=False) + "\n\n" + over


def _range(values) -> str:
    """mean (min–max) of a column over the seed pairs."""
    s = seed_summary(values)
    return f"{s['mean']:.3f} ({s['min']:.3f}–{s['max']:.3f})"
