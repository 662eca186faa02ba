"""The anomaly section's tidy tables: detection per seed, grouped deletion curves per seed, and
both across seeds (`core.seeds`: per-seed rows plus summary rows) with their Markdown."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core import seeds as across
from ...core.deletion import area_over_curve
from ...infra.errors import DataError
from .compute import DETECTORS, SETS

ANOMALY_COLUMNS = ["model", "detector", "shifted_set", "synthetic", "auroc", "fpr95", "n_in",
                   "n_shifted"]
DELETION_COLUMNS = ["model", "method", "grouping", "group_size", "removed", "mean_probability",
                    "n"]
SEED_COLUMNS = ["quantity", "model", "method", "condition", "synthetic", "seed", "value", "n",
                "mean", "sd", "min", "max", "ci_low", "ci_high"]
MODEL_LABELS = {"mnist_mlp": "MNIST MLP", "mnist_logreg": "MNIST logistic regression",
                "imdb_cnn": "IMDB CNN", "imdb_bow_mlp": "IMDB bag-of-words MLP"}
DETECTOR_LABELS = {"msp": "MSP", "gradnorm": "GradNorm",
                   "gradient_logprob": "‖∇ log p‖", "gradient_logit": "‖∇ logit‖"}


# ----------------------------------------------------------------------------- per seed

def anomaly_rows(model: str, results: dict[str, dict], n_in: int,
                 n_shifted: dict[str, int]) -> list[dict]:
    """Rows of one model: results = {shifted set: {detector: {"auroc", "fpr95"}}}."""
    return [{"model": model, "detector": d, "shifted_set": s, "synthetic": SETS[s][0],
             "auroc": r[d]["auroc"], "fpr95": r[d]["fpr95"], "n_in": n_in,
             "n_shifted": n_shifted[s]}
            for s, r in results.items() for d in DETECTORS]


def anomaly_table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=ANOMALY_COLUMNS)


def deletion_table(model: str, curves: list[dict]) -> pd.DataFrame:
    """Tidy deletion curves of one model: one row per (method, grouping, removed count)."""
    rows = [{"model": model, "method": c["method"], "grouping": c["grouping"],
             "group_size": c["group_size"], "removed": int(k), "mean_probability": float(p),
             "n": c["n"]}
            for c in curves for k, p in zip(c["ks"], c["curve"], strict=True)]
    return pd.DataFrame(rows, columns=DELETION_COLUMNS)


def condition(grouping: str, size: int) -> str:
    """'pixel', 'word', 'patch4' (4 x 4 pixels), 'window3' (3 words)."""
    return grouping if size == 1 else f"{grouping}{size}"


def deletion_aoc(table: pd.DataFrame) -> pd.DataFrame:
    """Area over each deletion curve, and its gain over the same method's single-feature
    curve (pixel or word): model, method, condition, aoc, aoc_gain (NaN for single)."""
    rows = []
    for (model, method), g in table.groupby(["model", "method"], sort=False):
        aocs = {condition(gr, int(size)): area_over_curve(c["removed"], c["mean_probability"])
                for (gr, size), c in g.groupby(["grouping", "group_size"], sort=False)}
        single = next(v for k, v in aocs.items() if k in ("pixel", "word"))
        rows += [{"model": model, "method": method, "condition": k, "aoc": v,
                  "aoc_gain": np.nan if k in ("pixel", "word") else v - single}
                 for k, v in aocs.items()]
    return pd.DataFrame(rows, columns=["model", "method", "condition", "aoc", "aoc_gain"])


# ----------------------------------------------------------------------------- across seeds

def seed_values(anomaly: dict[int, pd.DataFrame], deletion: dict[int, pd.DataFrame]
                ) -> pd.DataFrame:
    """Tidy per-seed numbers (quantity, model, method, condition, synthetic, seed, value) from
    each seed's gradient_anomaly and grouped_deletion tables (dicts keyed by seed)."""
    if list(anomaly) != list(deletion):
        raise DataError(f"anomaly_seeds: seeds of the anomaly tables {list(anomaly)} and of the "
                        f"deletion tables {list(deletion)} differ")
    parts = []
    for seed, table in anomaly.items():
        for quantity in ("auroc", "fpr95"):
            parts.append(pd.DataFrame({
                "quantity": quantity, "model": table["model"], "method": table["detector"],
                "condition": table["shifted_set"], "synthetic": table["synthetic"],
                "seed": seed, "value": table[quantity]}))
    for seed, table in deletion.items():
        aoc = deletion_aoc(table)
        for quantity, column in (("deletion_aoc", "aoc"), ("aoc_gain", "aoc_gain")):
            part = aoc.dropna(subset=[column])
            parts.append(pd.DataFrame({
                "quantity": quantity, "model": part["model"], "method": part["method"],
                "condition": part["condition"], "synthetic": pd.NA, "seed": seed,
                "value": part[column]}))
    return pd.concat(parts, ignore_index=True)


def anomaly_seeds_table(values: pd.DataFrame) -> pd.DataFrame:
    """Per (quantity, model, method, condition): its per-seed rows, then one summary row (seed
    empty) with `seed_summary` (`core.seeds`). No verdicts: how many seeds beat a reference
    (AUROC > 0.5) is judged by the report's claims, from config/paper_claims.yaml."""
    return across.seeds_table(values, ["quantity", "model", "method", "condition"], SEED_COLUMNS,
                              extra=lambda key, group, summary: {
                                  "synthetic": group["synthetic"].iloc[0]})


def _set_label(name: str) -> str:
    return f"{name.replace('_', ' ')}{' *' if SETS[name][0] else ''}"


def detection_markdown(table: pd.DataFrame, quantity: str) -> str:
    """One table per group of models with the same shifted sets (MNIST, IMDB): one row per
    (model, detector), one column per shifted set, the summary cells."""
    summary = table[(table["quantity"] == quantity) & table["seed"].isna()]
    blocks: dict[tuple, list[dict]] = {}
    for (model, method), g in summary.groupby(["model", "method"], sort=False):
        row = {"model": MODEL_LABELS.get(model, model),
               "detector": DETECTOR_LABELS.get(method, method)}
        row.update({_set_label(r["condition"]): across.cell(r) for _, r in g.iterrows()})
        blocks.setdefault(tuple(g["condition"]), []).append(row)
    return "\n\n".join(across.markdown(rows) for rows in blocks.values())


def deletion_markdown(table: pd.DataFrame) -> str:
    """One row per (model, method, condition): AOC, and the gain of grouping over single
    features."""
    rows = []
    aoc = table[(table["quantity"] == "deletion_aoc") & table["seed"].isna()]
    gain = table[(table["quantity"] == "aoc_gain") & table["seed"].isna()]
    gain = gain.set_index(["model", "method", "condition"])
    for _, r in aoc.iterrows():
        key = (r["model"], r["method"], r["condition"])
        row = {"model": MODEL_LABELS.get(r["model"], r["model"]),
               "method": r["method"].replace("_", " "), "removed by": r["condition"],
               "AOC": across.cell(r), "gain over single": "—"}
        if key in gain.index:
            row["gain over single"] = across.cell(gain.loc[key])
        rows.append(row)
    return across.markdown(rows)


def anomaly_seeds_markdown(table: pd.DataFrame) -> str:
    """The cross-seed tables as Markdown: AUROC and FPR95 per model, detector and shifted set;
    grouped deletion AOC; how to read them."""
    seeds = across.seed_list(table)
    lines = [
        "# Gradient-norm anomaly detection and grouped attributions "
        f"({across.seeds_phrase(seeds)})", "",
        "AUROC of each detector (higher score = more anomalous; the shifted set is the "
        "positive class; 0.5 = chance, below 0.5 = the detector points the wrong way). "
        "Cells: mean over seeds (min – max). Sets marked * are synthetic; sklearn digits is "
        "a real, independently collected digit set.", "",
        detection_markdown(table, "auroc"), "",
        "FPR at 95 % TPR: the share of in-distribution test inputs flagged when the "
        "threshold flags 95 % of the shifted inputs (lower = better).", "",
        detection_markdown(table, "fpr95"), "",
        "Grouped deletion: area over the deletion curve (AOC; larger = the ranking finds what "
        "the model uses) when features are removed one by one (pixel, word) or whole groups "
        "at a time (k x k patches, windows of w words) ranked by their summed attribution, "
        "at the same numbers of removed pixels or words; gain = AOC(grouped) - AOC(single).",
        "",
        deletion_markdown(table), "",
        "Notes. Detectors: MSP = maximum softmax probability (Hendrycks & Gimpel 2017); "
        "GradNorm = L1 norm of the gradient of KL(uniform || softmax) with respect to the last "
        "layer's weights (Huang et al. 2021, T = 1), low = anomalous; ‖∇ log p‖ and "
        "‖∇ logit‖ = L2 norm of the input gradient (pixels, bag of words, or the CNN's "
        "embedding output) of the predicted class's log-probability or logit, high = "
        "anomalous. Binary models: softmax over [1 - p, p]. The bag of words ignores word "
        "order, so for it 'shuffled words' is a second in-distribution sample (AUROC near 0.5 "
        "is expected). Per seed, the model trained with that seed; the samples and shifted "
        "sets are the same for every seed. sd (ddof = 1) and the 95 % Student-t interval "
        "(from 5 seeds) are in the CSV.",
    ]
    return "\n".join(lines) + "\n"
