"""The across-seed tables, one way for every section: the per-seed rows of each quantity
followed by its summary row (`core.stats.seed_summary`: n, mean, sd, min, max, 95 % Student-t
interval), and the Markdown cells read from those rows.

No verdicts here: how many seeds pass a claim's reference (k of K) is judged only by the
report's claims code, with the references in config/paper_claims.yaml.
"""

from __future__ import annotations

import pandas as pd

from .stats import seed_summary

SUMMARY = ("n", "mean", "sd", "min", "max", "ci_low", "ci_high")  # the keys of seed_summary


def summary_rows(values: pd.DataFrame, keys: list[str], columns: list[str], value: str = "value",
                 extra=None, ints=("seed", "n")) -> pd.DataFrame:
    """Long format: per group of `keys` (in first-seen order) its per-seed rows, then one
    summary row with the keys, `seed_summary(group[value])` and `extra(group, summary)` (more
    cells of the summary row; they win over the summary's), seed empty unless `extra` sets it.
    Columns `columns`; `ints` as nullable integers (the summary row has no seed)."""
    parts = []
    for key, group in values.groupby(keys, sort=False):
        summary = seed_summary(group[value])
        more = extra(group, summary) if extra else {}
        parts += [group, pd.DataFrame([{**dict(zip(keys, key, strict=True)), **summary, **more}])]
    table = pd.concat(parts, ignore_index=True).reindex(columns=columns)
    return table.astype(dict.fromkeys(ints, "Int64"))


def seed_rows(values: dict, summary_seed=None, **item) -> list[dict]:
    """The same as rows of dicts: {**item, seed, value} per seed of `values` ({seed: value}),
    then {**item, **seed_summary} (with seed `summary_seed` if given)."""
    rows = [{**item, "seed": s, "value": v} for s, v in values.items()]
    summary = {} if summary_seed is None else {"seed": summary_seed}
    return rows + [{**item, **summary, **seed_summary(list(values.values()))}]


def seeds_of(table: pd.DataFrame) -> list[int]:
    """The seeds of a long-format table, in table order (summary rows have none)."""
    return [int(s) for s in table["seed"].dropna().unique()]


def seeds_phrase(seeds: list[int]) -> str:
    """'3 seeds: 0, 1, 2' ('1 seed: 0')."""
    return f"{len(seeds)} seed{'s' if len(seeds) > 1 else ''}: {', '.join(map(str, seeds))}"


# ----------------------------------------------------------------------------- Markdown cells

def number(v, fmt: str = ".3f") -> str:
    """`v` formatted, or '—' when it is missing (None, NaN, NA)."""
    return "—" if v is None or pd.isna(v) else format(v, fmt)


def mean_range(summary, fmt: str = ".3f") -> str:
    """'mean (min – max)' of a summary row, or the mean alone for one seed."""
    if summary["n"] == 1:
        return number(summary["mean"], fmt)
    return (f"{number(summary['mean'], fmt)} ({number(summary['min'], fmt)} – "
            f"{number(summary['max'], fmt)})")


def interval(summary, fmt: str = ".3f") -> str:
    """'ci_low – ci_high' of a summary row, '—' when there is no interval (under 5 seeds)."""
    if pd.isna(summary["ci_low"]):
        return "—"
    return f"{number(summary['ci_low'], fmt)} – {number(summary['ci_high'], fmt)}"


def spread_cells(summary, fmt: str = ".3f") -> dict[str, str]:
    """The summary columns of a Markdown row: mean, sd, min – max, 95 % CI."""
    return {"mean": number(summary["mean"], fmt), "sd": number(summary["sd"], fmt),
            "min – max": f"{number(summary['min'], fmt)} – {number(summary['max'], fmt)}",
            "95 % CI": interval(summary, fmt)}
