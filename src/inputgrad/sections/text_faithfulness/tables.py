"""Tidy tables of the text faithfulness section: per seed (AOPC summary, curves, agreement,
sanity) and across seeds (per-seed values and their summary), with the cross-seed Markdown."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core import seeds as across
from ...core.stats import seed_summary
from ...infra.errors import DataError
from .compute import METRICS, review_summary

SUMMARY_COLUMNS = ["model", "seed", "method", "removal", "metric", "n", "mean", "sd", "ci_low",
                   "ci_high", "rank", "diff_random", "diff_random_ci_low", "diff_random_ci_high"]
CURVE_COLUMNS = ["model", "seed", "method", "removal", "curve", "percent", "mean_probability",
                 "sd", "n"]
AGREEMENT_COLUMNS = ["model", "seed", "method_a", "method_b", "measure", "n", "mean", "sd"]
SANITY_COLUMNS = ["model", "seed", "method", "measure", "n", "mean", "sd", "min", "max"]
SEED_COLUMNS = ["model", "quantity", "method", "method_b", "removal", "seed", "value", "rank",
                "n", "mean", "sd", "min", "max", "ci_low", "ci_high"]
DIAGNOSTICS = {("integrated_gradients", "completeness_gap"): "completeness_gap_abs",
               ("integrated_gradients", "completeness_delta"): "completeness_delta_abs",
               ("lime", "lime_r2"): "lime_r2"}
LOWER_IS_BETTER = {"sufficiency_aopc"}
HALF_WIDTH = "_half_width"  # quantity suffix: half the 95 % interval over one seed's reviews


# ----------------------------------------------------------------------------- per seed

def summary_table(model: str, seed: int, faith: dict, info: dict) -> pd.DataFrame:
    """One row per (method, removal, metric): mean over reviews with sd and 95 % interval,
    the method's rank among the methods (1 = most faithful: highest comprehensiveness,
    lowest sufficiency), and the paired difference from the random ranking on the same
    reviews. Then the diagnostics (removal "none"): IG's mean |completeness gap| and mean
    |p(y|x) - p(y|baseline)|, LIME's mean R²."""
    rows = []
    for (method, removal), r in faith.items():
        floor = faith.get(("random", removal))
        for metric in METRICS:
            diff = (review_summary(r[metric] - floor[metric]) if floor is not None
                    else dict.fromkeys(("mean", "ci_low", "ci_high"), np.nan))
            rows.append({"model": model, "seed": seed, "method": method, "removal": removal,
                         "metric": metric, **review_summary(r[metric]),
                         "diff_random": diff["mean"], "diff_random_ci_low": diff["ci_low"],
                         "diff_random_ci_high": diff["ci_high"]})
    table = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    for (_, metric), group in table.groupby(["removal", "metric"], sort=False):
        table.loc[group.index, "rank"] = group["mean"].rank(
            ascending=metric in LOWER_IS_BETTER, method="min")
    diagnostics = [{"model": model, "seed": seed, "method": method, "removal": "none",
                    "metric": name, **review_summary(np.abs(info[method][key]))}
                   for (method, key), name in DIAGNOSTICS.items()
                   if key in info.get(method, {})]
    table = pd.concat([table, pd.DataFrame(diagnostics, columns=SUMMARY_COLUMNS)],
                      ignore_index=True)
    for column in ("seed", "n", "rank"):
        table[column] = table[column].astype("Int64")
    return table


def curves_table(model: str, seed: int, faith: dict, percents) -> pd.DataFrame:
    """Mean (and sd) over reviews of p(y) along the deletion and insertion curves."""
    rows = []
    for (method, removal), r in faith.items():
        for curve in ("deletion", "insertion"):
            values = r[curve]
            for k, p in enumerate(percents):
                s = review_summary(values[:, k])
                rows.append({"model": model, "seed": seed, "method": method,
                             "removal": removal, "curve": curve, "percent": int(p),
                             "mean_probability": s["mean"], "sd": s["sd"], "n": s["n"]})
    return pd.DataFrame(rows, columns=CURVE_COLUMNS)


def agreement_table(model: str, seed: int, pairs: dict) -> pd.DataFrame:
    """Per pair of methods and measure: mean and sd over reviews (NaN values, e.g. a constant
    ranking, left out)."""
    rows = []
    for (a, b), measures in pairs.items():
        for measure, values in measures.items():
            s = review_summary(values)
            rows.append({"model": model, "seed": seed, "method_a": a, "method_b": b,
                         "measure": measure, "n": s["n"], "mean": s["mean"], "sd": s["sd"]})
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)


def sanity_table(model: str, seed: int, result: dict) -> pd.DataFrame:
    """Per method and measure: mean, sd, min and max over reviews of the trained vs
    re-initialised Spearman correlation."""
    rows = []
    for method, measures in result.items():
        for measure, values in measures.items():
            s = seed_summary(values)
            rows.append({"model": model, "seed": seed, "method": method, "measure": measure,
                         **{k: s[k] for k in ("n", "mean", "sd", "min", "max")}})
    return pd.DataFrame(rows, columns=SANITY_COLUMNS)


# ----------------------------------------------------------------------------- across seeds

def seed_values(summaries: list[pd.DataFrame], agreements: list[pd.DataFrame],
                sanities: list[pd.DataFrame]) -> pd.DataFrame:
    """Tidy per-seed values (model, quantity, method, method_b, removal, seed, value) from the
    per-seed tables of every model and seed: AOPC and diagnostics (their mean over reviews),
    agreement of every pair (mean Spearman, mean |score| Spearman, mean top overlap) and the
    sanity Spearman."""
    parts = []
    for t in summaries:
        parts.append(pd.DataFrame({"model": t["model"], "quantity": t["metric"],
                                   "method": t["method"], "method_b": "",
                                   "removal": t["removal"], "seed": t["seed"],
                                   "value": t["mean"]}))
        aopc = t[t["metric"].isin(METRICS)]  # the precision of each seed's AOPC
        parts.append(pd.DataFrame({"model": aopc["model"],
                                   "quantity": aopc["metric"] + HALF_WIDTH,
                                   "method": aopc["method"], "method_b": "",
                                   "removal": aopc["removal"], "seed": aopc["seed"],
                                   "value": (aopc["ci_high"] - aopc["ci_low"]) / 2}))
    for t in agreements:
        parts.append(pd.DataFrame({"model": t["model"], "quantity": "agreement_" + t["measure"],
                                   "method": t["method_a"], "method_b": t["method_b"],
                                   "removal": "", "seed": t["seed"], "value": t["mean"]}))
    for t in sanities:
        parts.append(pd.DataFrame({"model": t["model"], "quantity": "sanity_" + t["measure"],
                                   "method": t["method"], "method_b": "", "removal": "",
                                   "seed": t["seed"], "value": t["mean"]}))
    if not parts:
        raise DataError("text_faithfulness_seeds: no per-seed tables")
    return pd.concat(parts, ignore_index=True)


def seeds_table(values: pd.DataFrame) -> pd.DataFrame:
    """Per (model, quantity, method, method_b, removal): its per-seed rows, then one summary
    row (seed empty) with `core.stats.seed_summary`. `rank` (AOPC only): within the seed, and
    in the summary row by the mean over seeds (1 = most faithful)."""
    keys = ["model", "quantity", "method", "method_b", "removal"]
    table = across.seeds_table(values, keys, SEED_COLUMNS, int_columns=())
    aopc = table["quantity"].isin(METRICS)
    per_seed = aopc & table["seed"].notna()
    summary = aopc & table["seed"].isna()
    for mask, column, by in ((per_seed, "value", ["model", "quantity", "removal", "seed"]),
                             (summary, "mean", ["model", "quantity", "removal"])):
        for _, group in table[mask].groupby(by, sort=False):
            table.loc[group.index, "rank"] = group[column].rank(
                ascending=group["quantity"].iloc[0] in LOWER_IS_BETTER, method="min")
    for column in ("seed", "rank", "n"):
        table[column] = table[column].astype("Int64")
    return table


def _cell(summary: pd.Series) -> str:
    """'mean (min – max)', or 'mean [ci_low, ci_high]' from 5 seeds on, or the one value."""
    return across.cell(summary, brackets=True)


def aopc_markdown(table: pd.DataFrame, model: str, removals: list[str]) -> str:
    """Methods (ranked by mean comprehensiveness of the first removal) x AOPC per removal."""
    s = across.summaries(table[(table["model"] == model) & table["quantity"].isin(METRICS)])
    first = s[(s["quantity"] == METRICS[0]) & (s["removal"] == removals[0])]
    order = first.sort_values(["rank", "method"], kind="stable")["method"].tolist()
    rows = []
    for method in order:
        row = {"method": method.replace("_", " ")}
        for removal in removals:
            for metric in METRICS:
                hit = s[(s["method"] == method) & (s["removal"] == removal)
                        & (s["quantity"] == metric)]
                label = f"{metric.split('_')[0]} ({removal})"
                row[label] = _cell(hit.iloc[0]) if len(hit) else "—"
        rows.append(row)
    return across.markdown(rows)


def precision_markdown(table: pd.DataFrame, model: str, removal: str) -> str:
    """Per method and AOPC: each seed's 95 % half-width over its reviews and rank among the
    methods, and whether the rank is the same on every seed."""
    t = table[(table["model"] == model) & (table["removal"] == removal)
              & table["seed"].notna()]
    seeds = sorted(int(x) for x in t["seed"].dropna().unique())
    first = t[t["quantity"] == METRICS[0]]
    order = (first.groupby("method", sort=False)["rank"].mean().sort_values(kind="stable")
             .index.tolist())
    rows = []
    for method in order:
        row = {"method": method.replace("_", " ")}
        for metric in METRICS:
            name = metric.split("_")[0]
            mine = t[(t["method"] == method) & (t["quantity"] == metric)].set_index("seed")
            half = t[(t["method"] == method)
                     & (t["quantity"] == metric + HALF_WIDTH)].set_index("seed")["value"]
            ranks = [int(mine.loc[s, "rank"]) for s in seeds]
            row[f"{name} ± per seed"] = " / ".join(f"{half.loc[s]:.3f}" for s in seeds)
            row[f"{name} rank per seed"] = " / ".join(map(str, ranks))
            row[f"{name} same rank"] = "yes" if len(set(ranks)) == 1 else "no"
        rows.append(row)
    return across.markdown(rows)


def pair_markdown(table: pd.DataFrame, model: str, reference: str) -> str:
    """Agreement of every method with `reference`: the three measures, mean over seeds."""
    s = across.summaries(table[(table["model"] == model)
                         & table["quantity"].str.startswith("agreement_")])
    s = s[(s["method"] == reference) | (s["method_b"] == reference)]
    rows = {}
    for _, r in s.iterrows():
        other = r["method_b"] if r["method"] == reference else r["method"]
        rows.setdefault(other, {"method": other.replace("_", " ")})
        rows[other][r["quantity"].removeprefix("agreement_").replace("_", " ")] = _cell(r)
    return across.markdown(list(rows.values()))


def sanity_markdown(table: pd.DataFrame, model: str) -> str:
    s = across.summaries(table[(table["model"] == model)
                               & (table["quantity"] == "sanity_spearman")])
    return across.markdown({"method": s["method"].str.replace("_", " "),
                            "Spearman trained vs re-initialised": [_cell(r) for _, r in
                                                                    s.iterrows()]})


def headline(table: pd.DataFrame, model: str, pair: list[str]) -> str:
    """'a vs b: Spearman x, |score| Spearman y, top overlap z' (means over seeds)."""
    a, b = pair
    s = across.summaries(table[(table["model"] == model)
                         & (((table["method"] == a) & (table["method_b"] == b))
                            | ((table["method"] == b) & (table["method_b"] == a)))])
    parts = [f"{q.removeprefix('agreement_').replace('_', ' ')} {_cell(r)}"
             for q, r in zip(s["quantity"], (r for _, r in s.iterrows()), strict=True)]
    return f"{pair[0].replace('_', ' ')} vs {pair[1].replace('_', ' ')}: " + ", ".join(parts)


def seeds_markdown(table: pd.DataFrame, cfg: dict) -> str:
    """The cross-seed tables: AOPC per model and method, agreement with occlusion, the
    headline agreement, sanity, and how to read them."""
    attr = cfg["attribution"]
    cnn, bow = "imdb_cnn", "imdb_bow_mlp"
    lines = [
        "# Text faithfulness across seeds "
        f"({across.seeds_phrase(across.seed_list(table))})", "",
        f"ERASER AOPC over the top {', '.join(map(str, attr['aopc_percents']))} % of each "
        f"review's words; comprehensiveness (higher = the top words matter) and sufficiency "
        f"(lower = the top words suffice) of p(y|x), y = the predicted class. Cells: mean "
        f"over seeds of the per-seed mean over reviews, with min – max over seeds (95 % "
        f"interval in brackets from 5 seeds on).", "",
        f"## IMDB CNN (Sec. 5.1), {attr['sample']['cnn_reviews']} test reviews per seed", "",
        aopc_markdown(table, cnn, attr["removals"]), "",
        f"Precision per seed ({attr['removals'][0]} removal): the 95 % half-width of each "
        "AOPC over the seed's reviews, the method's rank among the methods (1 = most "
        "faithful) on each seed, and whether that rank is the same on every seed:", "",
        precision_markdown(table, cnn, attr["removals"][0]), "",
        "Headline: " + headline(table, cnn, attr["agreement"]["headline"]) + ".", "",
        "Agreement with occlusion (the exact single-word effect):", "",
        pair_markdown(table, cnn, "occlusion"), "",
        f"Sanity (model randomisation, {attr['sanity']['reviews']} reviews; near 1 = the "
        f"scores ignore what the model learned):", "",
        sanity_markdown(table, cnn), "",
        f"## Bag-of-words MLP (Sec. 5.2), {attr['sample']['bow_reviews']} test reviews per seed",
        "", aopc_markdown(table, bow, ["absent"]), "",
        "Precision per seed:", "", precision_markdown(table, bow, "absent"), "",
        "Agreement with occlusion:", "", pair_markdown(table, bow, "occlusion"), "",
        "Notes. A removed CNN word is replaced by the out-of-vocabulary id (oov: a token the "
        "model sees in every review) or by the padding id (padding: seen only before the "
        "review, and IG's baseline); a removed bag-of-words word is absent (x = 0). Agreement: "
        "per review, Spearman of the ranking scores, Spearman of their sizes, and the shared "
        f"share of the top {attr['agreement']['top_percent']} % words.",
    ]
    return "\n".join(lines) + "\n"
