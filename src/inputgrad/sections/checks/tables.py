"""The checks' tidy tables: deletion curves and their summary, seed variability of ḡ."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from inputgrad.infra.errors import ConfigError, DataError

from .compute import accuracy_spread, aoc_by_method, compare_seeds, top_words


def deletion_table(curves: dict[str, np.ndarray], ks, n: int) -> pd.DataFrame:
    """Tidy deletion curves (method, k, mean_probability, n), method by method, k by k."""
    rows = [{"method": method, "k": int(k), "mean_probability": float(p), "n": n}
            for method, probs in curves.items() for k, p in zip(ks, probs, strict=True)]
    return pd.DataFrame(rows, columns=["method", "k", "mean_probability", "n"])


def deletion_summary(table: pd.DataFrame, gap: np.ndarray, digits: dict, deletion: dict) -> dict:
    """AOC per method, IG's completeness gap and the k=0 probability, with the settings."""
    ks = deletion["ks"]
    return {
        "n": int(table["n"].iloc[0]), "digits_seed": digits["seed"], "output": digits["output"],
        "ks": list(ks), "aoc": aoc_by_method(table),
        "ig_completeness_gap": {"target": digits["output"], "steps": deletion["ig_steps"],
                                "mean_abs": float(np.mean(np.abs(gap))),
                                "max_abs": float(np.max(np.abs(gap)))},
        "mean_probability_k0": float(table.loc[table["k"] == min(ks),
                                               "mean_probability"].iloc[0]),
    }


def seed_variability_table(frames: dict[int, pd.DataFrame], accuracies: dict[int, float],
                           column: str, top_k: int) -> pd.DataFrame:
    """One row per unordered pair of seeds (one row with seed_b empty if a single seed):
    Spearman of ḡ over the words eligible in both, overlap (share of top_k) of the top
    positive / negative word sets, and the accuracy mean / sd (ddof=1) over all seeds."""
    seeds = sorted(frames)
    if not seeds or set(seeds) != set(accuracies):
        raise DataError(f"seed_variability: seeds of ḡ tables {seeds} and of accuracies "
                        f"{sorted(accuracies)} differ")
    for s in seeds:
        if column not in frames[s]:
            raise ConfigError(f"seed_variability.column: {column!r} not in the ḡ table of "
                              f"seed {s}")
    mean, sd = accuracy_spread([accuracies[s] for s in seeds])
    common = {"n_seeds": len(seeds), "accuracy_mean": mean, "accuracy_sd": sd, "top_k": top_k}
    tops = {s: top_words(frames[s], column, top_k) for s in seeds}
    rows = []
    for a, b in list(itertools.combinations(seeds, 2)) or [(seeds[0], None)]:
        row = {"seed_a": a, "seed_b": b, "accuracy_a": accuracies[a],
               "accuracy_b": accuracies[b] if b is not None else float("nan")}
        if b is None:
            row.update(spearman_gbar=float("nan"), top_positive_overlap=float("nan"),
                       top_negative_overlap=float("nan"), n_words=int(frames[a]["eligible"].sum()))
        else:
            row.update(compare_seeds(frames[a], frames[b], tops[a], tops[b], column, top_k))
        rows.append({**row, **common})
    out = pd.DataFrame(rows)
    out["seed_b"] = out["seed_b"].astype("Int64")
    return out
