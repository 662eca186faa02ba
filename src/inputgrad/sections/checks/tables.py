"""The checks' tidy tables: deletion curves and their summary; the checks across seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from inputgrad.core import seeds as across
from inputgrad.infra.errors import DataError

from .compute import aoc_by_method


def deletion_table(curves: dict[str, np.ndarray], ks, n: int) -> pd.DataFrame:
    """Tidy deletion curves (method, k, mean_probability, n), method by method, k by k."""
    rows = [{"method": method, "k": int(k), "mean_probability": float(p), "n": n}
            for method, probs in curves.items() for k, p in zip(ks, probs, strict=True)]
    return pd.DataFrame(rows, columns=["method", "k", "mean_probability", "n"])


def deletion_summary(table: pd.DataFrame, gap, digits: dict, deletion: dict,
                     options: dict) -> dict:
    """AOC per method, IG's completeness gap (NaN without IG) and the k=0 probability, with
    the settings. options: the composed methods config."""
    ks = deletion["ks"]
    gap = np.full(1, np.nan) if gap is None else np.abs(gap)
    return {
        "n": int(table["n"].iloc[0]), "digits_seed": digits["seed"], "output": digits["output"],
        "ks": list(ks), "aoc": aoc_by_method(table),
        "ig_completeness_gap": {"target": digits["output"],
                                "steps": options["integrated_gradients"]["steps"],
                                "mean_abs": float(np.mean(gap)),
                                "max_abs": float(np.max(gap))},
        "mean_probability_k0": float(table.loc[table["k"] == min(ks),
                                               "mean_probability"].iloc[0]),
    }


# ----------------------------------------------------------------------------- across seeds

SEED_COLUMNS = ["quantity", "method", "seed", "value", "rank", "n", "mean", "sd", "min", "max",
                "ci_low", "ci_high"]
LABELS = {"deletion_aoc": "deletion AOC",
          "completeness_gap_mean_abs": "IG completeness gap, mean abs (logit)",
          "sanity_spearman": "sanity Spearman, trained vs re-initialised (mean over digits)"}


def seed_values(deletion: dict[int, dict], sanity: dict[int, dict]) -> pd.DataFrame:
    """Tidy per-seed numbers (quantity, method, seed, value), quantity by quantity, method by
    method, seed by seed, from each seed's attribution_deletion and attribution_sanity
    summaries (dicts keyed by seed, in the same seed order)."""
    seeds = list(deletion)
    if not seeds or seeds != list(sanity):
        raise DataError(f"checks_seeds: seeds of the deletion summaries {seeds} and of the "
                        f"sanity summaries {list(sanity)} differ")
    methods = list(deletion[seeds[0]]["aoc"])
    for s in seeds:
        if list(deletion[s]["aoc"]) != methods:
            raise DataError(f"checks_seeds: seed {s} has AOC methods {list(deletion[s]['aoc'])}, "
                            f"seed {seeds[0]} has {methods}")
    per_seed = {("deletion_aoc", m): {s: deletion[s]["aoc"][m] for s in seeds} for m in methods}
    per_seed[("completeness_gap_mean_abs", "integrated_gradients")] = {
        s: deletion[s]["ig_completeness_gap"]["mean_abs"] for s in seeds}
    per_seed[("sanity_spearman", "gradient")] = {
        s: sanity[s]["spearman_abs_gradient_mean"] for s in seeds}
    per_seed[("sanity_spearman", "gradient_x_input")] = {
        s: sanity[s]["spearman_abs_gradient_x_input_mean"] for s in seeds}
    rows = [{"quantity": q, "method": m, "seed": int(s), "value": float(v)}
            for (q, m), values in per_seed.items() for s, v in values.items()]
    return pd.DataFrame(rows, columns=["quantity", "method", "seed", "value"])


def _aoc_rank(values: pd.Series) -> pd.Series:
    """Rank of each method by AOC, 1 = largest (ties share the best rank)."""
    return values.rank(ascending=False, method="min").astype("Int64")


def checks_seeds_table(values: pd.DataFrame) -> pd.DataFrame:
    """Per (quantity, method): its per-seed rows, then one summary row (seed empty) with
    `core.stats.seed_summary` of them. `rank` (deletion AOC only): the method's rank within
    its seed, and in the summary row its rank by mean AOC (1 = most faithful)."""
    values = values.copy()
    aoc = values["quantity"] == "deletion_aoc"
    values.loc[aoc, "rank"] = values[aoc].groupby("seed")["value"].transform(_aoc_rank)
    table = across.seeds_table(values, ["quantity", "method"], SEED_COLUMNS, int_columns=())
    summary_aoc = table["seed"].isna() & (table["quantity"] == "deletion_aoc")
    table.loc[summary_aoc, "rank"] = _aoc_rank(table.loc[summary_aoc, "mean"])
    for column in ("seed", "rank", "n"):
        table[column] = table[column].astype("Int64")
    return table


def _seed_rows(table: pd.DataFrame, first: list[str], cell) -> pd.DataFrame:
    """One Markdown row per (quantity, method): the `first` cells, one cell per seed
    (`cell(per-seed row)`), then mean, sd, min – max and the 95 % interval."""
    rows = []
    for _, group in table.groupby(["quantity", "method"], sort=False):
        summary = across.summaries(group).iloc[0]
        row = dict(zip(first, [_label(summary, c) for c in first], strict=True))
        row.update(across.seed_cells(group, cell))
        row.update(across.summary_cells(summary))
        rows.append(row)
    return pd.DataFrame(rows)


def _label(summary: pd.Series, column: str) -> str:
    if column == "quantity":
        return LABELS[summary["quantity"]]
    if column == "method":
        return summary["method"].replace("_", " ")
    return across.num(summary[column], "d")


def _aoc_cell(row: pd.Series) -> str:
    """A seed's AOC with its rank within the seed."""
    return f"{across.num(row['value'])} ({across.num(row['rank'], 'd')})"


def _order(ranked: pd.DataFrame) -> str:
    """'a > b = c > ...': the methods by rank, '=' between tied ranks."""
    text = ""
    previous = None
    for method, rank in zip(ranked["method"], ranked["rank"], strict=True):
        if previous is not None:
            text += " = " if rank == previous else " > "
        text += method.replace("_", " ")
        previous = rank
    return text


def checks_seeds_markdown(table: pd.DataFrame) -> str:
    """The cross-seed checks as Markdown: the deletion AOC by method (ranked by mean AOC, each
    seed's own rank in parentheses), then the diagnostics, then how to read them."""
    seeds = across.seed_list(table)
    aoc = table[table["quantity"] == "deletion_aoc"]
    ranked = aoc[aoc["seed"].isna()].sort_values("rank", kind="stable")
    order = ranked["method"].tolist()
    aoc = aoc.set_index("method").loc[order].reset_index()
    lines = [
        f"# Attribution checks across seeds ({across.seeds_phrase(seeds)})", "",
        "Deletion test: area over the curve (AOC) per method; larger = the ranking finds the "
        "pixels the model uses. Methods ranked by mean AOC; each seed's own rank in "
        "parentheses.", "",
        across.markdown(_seed_rows(aoc, ["rank", "method"], _aoc_cell)), "",
        f"Order by mean AOC: {_order(ranked)}.", "",
        "Diagnostics:", "",
        across.markdown(_seed_rows(table[table["quantity"] != "deletion_aoc"],
                                   ["quantity", "method"], lambda r: across.num(r["value"]))),
        "",
        "Notes. Per seed, the checks model trained with that seed, on the same digits, "
        "deletion grid and method seeds. sd: sample standard deviation over the seeds (ddof = "
        "1; — for one seed). 95 % CI: Student-t interval for the mean, given from 5 seeds on "
        "(— otherwise). Completeness gap: mean over digits of abs(sum of IG attributions - "
        "(f(x) - f(0))), 0 for exact IG. Sanity Spearman: rank correlation of the abs "
        "gradient (or abs gradient x input) maps of the trained and a re-initialised model; "
        "low = the map depends on what the model learned.",
    ]
    return "\n".join(lines) + "\n"
