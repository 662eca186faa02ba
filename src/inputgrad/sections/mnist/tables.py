"""Paper section 5.3, the tables: per digit, Pearson r between mean Jacobians and the weights
(one seed), and the same across seeds with the test accuracies and the seed-averaged Jacobians."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core import seeds as across
from ...core.stats import pearson_rows
from .compute import TARGETS, class_key, seed_mean

COLUMN_NOTES = {
    "mlp_probability": "MLP mean Jacobian of the class probability (the paper's quantity)",
    "mlp_logit": "MLP mean Jacobian of the class logit",
    "logreg_probability": "the regression's own mean probability Jacobian (reference)",
    "mlp_probability_class": "MLP class-conditional mean Jacobian of the class probability: row "
                             "c averaged over the test digits whose true label is c only",
    "mlp_logit_class": "MLP class-conditional mean Jacobian of the class logit (digits of "
                       "class c only)",
}
SUMMARY = across.SUMMARY


def correlation_table(mlp_jac: dict, weights: np.ndarray,
                      logreg_jac: dict | None = None) -> pd.DataFrame:
    """Per digit: Pearson r between the MLP's mean Jacobian (each target) and the logistic
    regression's weights; with logreg_jac, also the regression's own mean probability Jacobian
    against its weights (how far the softmax alone moves a linear model's picture); then the
    MLP's class-conditional mean Jacobians (each target) against the weights, if present."""
    df = pd.DataFrame({"digit": np.arange(len(weights))})
    for target in TARGETS:
        if target in mlp_jac:
            df[f"mlp_{target}"] = pearson_rows(mlp_jac[target], weights)
    if logreg_jac is not None and "probability" in logreg_jac:
        df["logreg_probability"] = pearson_rows(logreg_jac["probability"], weights)
    for target in TARGETS:  # appended after the paper's columns, which keep their order
        if class_key(target) in mlp_jac:
            df[f"mlp_{class_key(target)}"] = pearson_rows(mlp_jac[class_key(target)], weights)
    return df


def table_csv(df: pd.DataFrame) -> str:
    """The tidy CSV, 4 decimals."""
    return df.to_csv(index=False, float_format="%.4f")


def table_markdown(df: pd.DataFrame, n: int) -> str:
    """The table as Markdown, with the mean per column and a note per column; n test digits."""
    notes = "\n".join(f"- `{c}`: {COLUMN_NOTES[c]}" for c in df.columns if c in COLUMN_NOTES)
    means = ", ".join(f"`{c}` {df[c].mean():.3f}" for c in df.columns if c != "digit")
    table = df.to_markdown(index=False, floatfmt=["g"] + [".3f"] * (df.shape[1] - 1))
    return ("Pearson correlation over the 784 pixels, per digit, between each mean Jacobian (over "
            f"the {n} test digits) and the logistic-regression weights.\n\n"
            + table + f"\n\nMean over digits: {means}.\n\n" + notes + "\n")


def digit_correlations(table: pd.DataFrame, n_classes: int,
                       column: str = "mlp_probability") -> np.ndarray:
    """One column of the table as an array indexed by digit 0..n_classes-1 (NaN if missing)."""
    return table.set_index("digit")[column].reindex(range(n_classes)).to_numpy()


def seeds_table(seeds, mlp: list[dict], logreg: list[dict], weights: list[dict]) -> pd.DataFrame:
    """Across seeds, tidy: one row per (quantity, variant, digit, seed) with its `value`, then a
    row seed "all" with the `seed_summary` of the per-seed values, then for the correlations a
    row seed "averaged": the Jacobians averaged over seeds against the seed-averaged weights.

    quantity `test_accuracy` (variant mlp / logreg), `mean_r` (mean over digits of the Pearson r
    of a table column, the variant, against that seed's regression weights) and `r` (per digit).
    mlp, logreg: each seed's mnist_jacobian arrays; weights: each seed's mnist_logreg_weights."""
    values: dict[tuple, dict] = {}  # (quantity, variant, digit) -> {seed: value}, in row order
    for seed, m, lg, w in zip(seeds, mlp, logreg, weights, strict=True):
        values.setdefault(("test_accuracy", "mlp", None), {})[seed] = float(m["accuracy"])
        values.setdefault(("test_accuracy", "logreg", None), {})[seed] = float(lg["accuracy"])
        _add_correlations(values, seed, correlation_table(m, w["weights"], lg))
    jacobians = [*TARGETS, *(class_key(t) for t in TARGETS)]
    mean_weights = seed_mean(weights, ["weights"])["weights"]
    averaged = correlation_table(seed_mean(mlp, jacobians), mean_weights,
                                 seed_mean(logreg, ["probability"]))
    _add_correlations(values, "averaged", averaged)
    rows = []
    for (quantity, variant, digit), by_seed in values.items():
        item = {"quantity": quantity, "variant": variant, "digit": digit}
        rows += across.seed_rows({s: by_seed[s] for s in seeds}, item, summary_seed="all")
        if "averaged" in by_seed:
            rows.append({**item, "seed": "averaged", "value": by_seed["averaged"]})
    df = pd.DataFrame(rows, columns=["quantity", "variant", "digit", "seed", "value", *SUMMARY])
    return df.astype({"digit": "Int64", "n": "Int64"})


def _add_correlations(values: dict, seed, table: pd.DataFrame) -> None:
    """Each column's mean over digits (quantity mean_r), then its per-digit r (quantity r)."""
    columns = [c for c in table.columns if c != "digit"]
    for column in columns:
        values.setdefault(("mean_r", column, None), {})[seed] = float(table[column].mean())
    for column in columns:
        for digit, r in zip(table["digit"], table[column], strict=True):
            values.setdefault(("r", column, int(digit)), {})[seed] = float(r)


def seeds_markdown(df: pd.DataFrame) -> str:
    """The cross-seed table as Markdown: accuracies and mean r per seed with their summary and
    the seed-averaged r, then the seed-averaged r per digit; a note per variant."""
    seeds = [s for s in df["seed"].unique() if s not in ("all", "averaged")]
    overview = pd.DataFrame([_overview_row(quantity, variant, part.set_index("seed"), seeds)
                             for (quantity, variant), part in df[df["quantity"] != "r"].groupby(
                                 ["quantity", "variant"], sort=False)])
    averaged = df[(df["quantity"] == "r") & (df["seed"] == "averaged")]
    per_digit = averaged.pivot(index="digit", columns="variant", values="value")
    per_digit = per_digit[list(averaged["variant"].unique())].reset_index()
    floatfmt = ["g"] + [".3f"] * (per_digit.shape[1] - 1)
    notes = "\n".join(f"- `{c}`: {note}" for c, note in COLUMN_NOTES.items()
                      if c in set(df["variant"]))
    return (f"MNIST across {len(seeds)} seeds ({', '.join(map(str, seeds))}): test accuracy, "
            "and the mean over digits of the Pearson r (784 pixels) between each mean Jacobian "
            "and the same seed's logistic-regression weights; summary over seeds (95 % CI: "
            "Student t, 5 or more seeds); seed-averaged: the Jacobians averaged over the seeds "
            "against the seed-averaged weights.\n\n"
            + across.markdown(overview)  # keep the formats above
            + "\n\nSeed-averaged Jacobians vs seed-averaged weights, r per digit:\n\n"
            + per_digit.to_markdown(index=False, floatfmt=floatfmt) + "\n\n" + notes + "\n")


def _overview_row(quantity: str, variant: str, by_seed: pd.DataFrame, seeds) -> dict:
    """One Markdown row: the value per seed, the summary ("all") and the seed-averaged value."""
    fmt = ".4f" if quantity == "test_accuracy" else ".3f"
    summary = by_seed.loc["all"]
    row = {"quantity": quantity, "variant": variant}
    row.update({f"seed {s}": across.num(by_seed.loc[s, "value"], fmt, None) for s in seeds})
    row["mean"] = across.num(summary["mean"], fmt, None)
    row["sd"] = across.num(summary["sd"], fmt, "–")  # one seed
    row["min–max"] = (f"{across.num(summary['min'], fmt, None)}–"
                      f"{across.num(summary['max'], fmt, None)}")
    row["95 % CI"] = across.interval(summary, fmt, "–", "–")
    row["seed-averaged"] = (format(by_seed.loc["averaged", "value"], fmt)
                            if "averaged" in by_seed.index else "")
    return row
