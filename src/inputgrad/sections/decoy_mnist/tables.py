"""Tidy tables of Decoy MNIST: the per-seed scores (CSV), their summary (JSON, what the claims
read) and the across-seed table with its Markdown (`core.seeds`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from inputgrad.core import seeds as across

COLUMNS = ("quantity", "model", "version", "method", "value", "n", "ci_low", "ci_high",
           "window")
SEED_COLUMNS = ("quantity", "model", "version", "method", "seed", "value", *across.SUMMARY)
QUANTITIES = ("accuracy", "relevance_mass", "pointing_game", "detection_found",
              "detection_share")


def scores_table(accuracies: dict, scores: dict, interval) -> pd.DataFrame:
    """The per-seed table, one row per number: accuracy per (model, version) on the whole
    test set; per (model, version, method) the relevance mass and pointing game (mean over
    the scored digits, n, 95 % interval from `interval`), and the detection window (found
    1/0, its share of the mean map; `window` 'row,col corner')."""
    rows = [{"quantity": "accuracy", "model": m, "version": v, "method": "", "value": acc}
            for m, by_version in accuracies.items() for v, acc in by_version.items()]
    for model, by_version in scores.items():
        for version, by_method in by_version.items():
            for method, r in by_method.items():
                key = {"model": model, "version": version, "method": method}
                for quantity, column in (("relevance_mass", "mass"),
                                         ("pointing_game", "pointing")):
                    s = interval(r[column])
                    rows.append({"quantity": quantity, **key, "value": s["mean"], "n": s["n"],
                                 "ci_low": s["ci_low"], "ci_high": s["ci_high"]})
                w = r["window"]
                place = f"{w['row']},{w['col']} {w['corner'] or 'not a corner'}"
                rows.append({"quantity": "detection_found", **key, "value": w["found"],
                             "window": place})
                rows.append({"quantity": "detection_share", **key, "value": w["share"],
                             "window": place})
    table = pd.DataFrame(rows).reindex(columns=list(COLUMNS))
    return table.astype({"n": "Int64"})


def summary(table: pd.DataFrame, uniform: float, patch: int, digits: dict, methods,
            versions) -> dict:
    """The JSON the claims read: {accuracy: {model: {version}}, relevance_mass / pointing_game
    / detection_found: {model: {version: {method}}}, plus the uniform mass and what was
    scored."""
    out = {"uniform_mass": uniform, "patch": patch, "digits": dict(digits),
           "methods": list(methods), "versions": list(versions), "accuracy": {}}
    for _, r in table[table["quantity"] == "accuracy"].iterrows():
        out["accuracy"].setdefault(r["model"], {})[r["version"]] = float(r["value"])
    for quantity in ("relevance_mass", "pointing_game", "detection_found", "detection_share"):
        part = out.setdefault(quantity, {})
        for _, r in table[table["quantity"] == quantity].iterrows():
            value = None if pd.isna(r["value"]) else float(r["value"])
            part.setdefault(r["model"], {}).setdefault(r["version"], {})[r["method"]] = value
    windows = table[table["quantity"] == "detection_found"]
    out["detection_window"] = {
        m: {v: dict(zip(g["method"], g["window"], strict=True))
            for v, g in mg.groupby("version", sort=False)}
        for m, mg in windows.groupby("model", sort=False)}
    return out


def seed_values(tables: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """The per-seed rows of every seed's table, long: quantity, model, version, method,
    seed, value."""
    parts = [t.assign(seed=s)[["quantity", "model", "version", "method", "seed", "value"]]
             for s, t in tables.items()]
    return pd.concat(parts, ignore_index=True).fillna({"method": ""})


def decoy_seeds_table(values: pd.DataFrame) -> pd.DataFrame:
    """Per (quantity, model, version, method): its per-seed rows, then the summary row
    (`core.seeds.seeds_table`)."""
    return across.seeds_table(values, ["quantity", "model", "version", "method"],
                              SEED_COLUMNS)


def decoy_seeds_markdown(table: pd.DataFrame, uniform: float) -> str:
    """Readable Markdown: accuracies (model x version), then per (method, version) the
    relevance mass and pointing game of each model and the detection hits (k of K seeds)."""
    seeds = across.seed_list(table)
    summ = across.summaries(table).set_index(["quantity", "model", "version", "method"])

    def cell(quantity, model, version, method=""):
        key = (quantity, model, version, method)
        return across.cell(summ.loc[key]) if key in summ.index else across.MISSING

    acc = table[(table["quantity"] == "accuracy") & table["seed"].isna()]
    versions = list(dict.fromkeys(acc["version"]))
    acc_rows = [{"model": m, **{v: cell("accuracy", m, v) for v in versions}}
                for m in dict.fromkeys(acc["model"])]
    scored = summ.loc["relevance_mass"].reset_index()
    models = list(dict.fromkeys(scored["model"]))
    rows = []
    for (version, method), _ in scored.groupby(["version", "method"], sort=False):
        row = {"version": version, "method": method}
        for m in models:
            row[f"mass {m}"] = cell("relevance_mass", m, version, method)
        for m in models:
            row[f"pointing {m}"] = cell("pointing_game", m, version, method)
        for m in models:
            key = ("detection_found", m, version, method)
            hits = across.per_seed(table.set_index(["quantity", "model", "version", "method"])
                                   .loc[[key]].reset_index()) if key in summ.index else None
            row[f"found {m}"] = (f"{int(np.nansum(hits['value']))}/{len(hits)}"
                                 if hits is not None else across.MISSING)
        rows.append(row)
    return "\n".join([
        f"# Decoy MNIST across seeds ({across.seeds_phrase(seeds)})", "",
        "Cells: mean (min – max) over the seeds. Accuracy on the whole test set per version "
        "(same: the training rule's grey; random: a random digit's grey; none: no patch).", "",
        across.markdown(acc_rows), "",
        f"Relevance mass: share of |attribution| in the patch (uniform {uniform:.4f}); "
        "pointing: the top pixel is in the patch; found: seeds whose highest-mass 4 × 4 "
        "window of the mean |attribution| map is a corner patch.", "",
        across.markdown(rows), ""])
