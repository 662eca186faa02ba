"""The across-seed tables, one way for every section: long format, one row per item and seed
with its `value`, each item followed by one summary row (`core.stats.seed_summary`: n, mean,
sd, min, max and the 95 % Student-t interval; seed empty, or a label such as "all"), and the
few pieces every `*_seeds` Markdown is made of (one number formatter, ranges, intervals, the
per-seed and summary cells, one table renderer).

Sections report per-seed values and their summaries here, never verdicts: how many seeds meet
a claim (k of K) is the report's business (`sections/report/claims.py`, from
`config/paper_claims.yaml`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import pandas as pd

from .stats import seed_summary

SUMMARY = ("n", "mean", "sd", "min", "max", "ci_low", "ci_high")  # seed_summary's keys
MISSING = "—"


# ----------------------------------------------------------------------------- tables

def seed_rows(values: dict, item: dict, summary_seed=None) -> list[dict]:
    """Rows of one item: `{**item, seed, value}` per seed of `values` (seed -> value, in
    order), then its summary row (`seed_summary` of the values; seed `summary_seed`, or
    absent)."""
    rows = [{**item, "seed": s, "value": v} for s, v in values.items()]
    summary = {**item, **seed_summary(list(values.values()))}
    if summary_seed is not None:
        summary["seed"] = summary_seed
    return rows + [summary]


def seeds_table(values: pd.DataFrame, keys: Sequence[str], columns: Sequence[str],
                int_columns: Iterable[str] = ("seed", "n"), value: str = "value",
                extra: Callable[[dict, pd.DataFrame, dict], dict] | None = None
                ) -> pd.DataFrame:
    """The long across-seed table of tidy per-seed `values`: per item (group of `keys`, in
    order of appearance), its per-seed rows, then one summary row with the keys and
    `seed_summary` of its `value` column (NaN left out; n = seeds with a value), plus
    `extra(key, group, summary)` (more cells of the summary row, e.g. a seed label). Columns
    `columns`, in that order; `int_columns` as nullable integers."""
    keys = list(keys)
    parts = []
    for key, group in values.groupby(keys, sort=False):
        key = dict(zip(keys, key, strict=True))
        summary = seed_summary(group[value])
        parts += [group, pd.DataFrame([{**key, **summary,
                                        **(extra(key, group, summary) if extra else {})}])]
    table = pd.concat(parts, ignore_index=True).reindex(columns=list(columns))
    return table.astype(dict.fromkeys(int_columns, "Int64"))


def per_seed(table: pd.DataFrame) -> pd.DataFrame:
    """The per-seed rows of an across-seed table (seed set)."""
    return table[table["seed"].notna()]


def summaries(table: pd.DataFrame) -> pd.DataFrame:
    """The summary rows of an across-seed table (seed empty)."""
    return table[table["seed"].isna()]


def seed_list(table: pd.DataFrame) -> list[int]:
    """The seeds of an across-seed table, in order of appearance."""
    return [int(s) for s in table["seed"].dropna().unique()]


# ----------------------------------------------------------------------------- Markdown

def num(v, fmt: str = ".3f", missing: str | None = MISSING) -> str:
    """A number as text; `missing` for None / NaN (missing None: format NaN as it is)."""
    if missing is not None and (v is None or pd.isna(v)):
        return missing
    return format(v, fmt)


def span(low, high, fmt: str = ".3f", sep: str = " – ", missing: str | None = None) -> str:
    """'low – high'; `missing` alone if given and low is NaN (else each end as `num`)."""
    if missing is not None and pd.isna(low):
        return missing
    return f"{num(low, fmt)}{sep}{num(high, fmt)}"


def interval(summary, fmt: str = ".3f", sep: str = " – ", missing: str = MISSING) -> str:
    """The 95 % interval of a summary row, `missing` when there is none (under 5 seeds)."""
    return span(summary["ci_low"], summary["ci_high"], fmt, sep, missing)


def cell(summary, fmt: str = ".3f", brackets: bool = False) -> str:
    """A summary row in one cell: 'mean (min – max)', the value alone for one seed, and with
    `brackets` 'mean [ci_low, ci_high]' when there is an interval (5 seeds on)."""
    if summary["n"] == 1:
        return num(summary["mean"], fmt)
    if brackets and pd.notna(summary["ci_low"]):
        return (f"{num(summary['mean'], fmt)} [{num(summary['ci_low'], fmt)}, "
                f"{num(summary['ci_high'], fmt)}]")
    return f"{num(summary['mean'], fmt)} ({span(summary['min'], summary['max'], fmt)})"


def seed_cells(group: pd.DataFrame, text: Callable[[pd.Series], str]) -> dict[str, str]:
    """One cell per per-seed row of `group`: 'seed s' -> text(row)."""
    return {f"seed {int(r['seed'])}": text(r) for _, r in per_seed(group).iterrows()}


def summary_cells(summary, fmt: str = ".3f", n: bool = False) -> dict[str, str]:
    """The summary row's cells: (n,) mean, sd, min – max and the 95 % interval."""
    cells = {"n": num(summary["n"], "d")} if n else {}
    return {**cells, "mean": num(summary["mean"], fmt), "sd": num(summary["sd"], fmt),
            "min – max": span(summary["min"], summary["max"], fmt),
            "95 % CI": interval(summary, fmt)}


def markdown(rows) -> str:
    """Rows (dicts or a frame) as a Markdown table, cells as given (no number parsing)."""
    return pd.DataFrame(rows).to_markdown(index=False, disable_numparse=True)


def seeds_phrase(seeds: Sequence[int]) -> str:
    """'3 seeds: 0, 4, 9' / '1 seed: 7'."""
    k = len(seeds)
    return f"{k} seed{'s' if k > 1 else ''}: {', '.join(map(str, seeds))}"
