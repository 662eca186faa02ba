"""The sensitivity section's tidy tables and their Markdown: first-order validity, MNIST
robustness, word flips, word substitutions (with example reviews), and everything across seeds."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...core import seeds as across
from ...infra.errors import DataError
from .compute import (
    DIRECTIONS,
    OUTPUTS,
    STRATEGIES,
    eps_at_threshold,
    error_quartiles,
    median_need,
    relative_error,
    success_within,
)

MODEL_LABELS = {"mnist_mlp": "MNIST MLP", "mnist_logreg": "MNIST logistic regression",
                "imdb_bow_mlp": "IMDB bag-of-words MLP", "imdb_cnn": "IMDB CNN (embeddings)"}


def _json_number(v) -> float | None:
    """A float for JSON; None for NaN (strict JSON has no NaN)."""
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


# ----------------------------------------------------------------------------- Taylor

TAYLOR_COLUMNS = ["model", "output", "direction", "eps", "n", "q25", "median", "q75"]


def taylor_table(results: dict[str, dict], eps) -> pd.DataFrame:
    """Tidy relative errors |actual - predicted| / |actual|: per model, output, direction and
    eps, the quartiles over inputs (and random directions); n = pairs with a nonzero change."""
    rows = []
    for model, res in results.items():
        for output in OUTPUTS:
            for direction in DIRECTIONS:
                actual, predicted = res["changes"][(output, direction)]
                q = error_quartiles(relative_error(actual, predicted))
                rows += [{"model": model, "output": output, "direction": direction,
                          "eps": float(e), "n": int(q["n"][j]), "q25": q["q25"][j],
                          "median": q["median"][j], "q75": q["q75"][j]}
                         for j, e in enumerate(eps)]
    return pd.DataFrame(rows, columns=TAYLOR_COLUMNS)


def taylor_summary(table: pd.DataFrame, results: dict[str, dict], cfg: dict) -> dict:
    """Per model: the eps at which the median error passes the threshold (and how), per output
    and direction; the inputs' median L2 norm and the targets' median gradient norm (the scale
    of eps); with the settings."""
    models = {}
    for model, res in results.items():
        crossing = {}
        for (output, direction), g in table[table["model"] == model].groupby(
                ["output", "direction"], sort=False):
            value, status = eps_at_threshold(g["eps"], g["median"], cfg["threshold"])
            crossing.setdefault(output, {})[direction] = {"eps": _json_number(value),
                                                          "status": status}
        models[model] = {
            "n_inputs": int(len(res["input_norm"])),
            "input_norm_median": float(np.median(res["input_norm"])),
            "gradient_norm_median": {o: float(np.median(v))
                                     for o, v in res["gradient_norm"].items()},
            "eps_at_threshold": crossing,
        }
    return {"threshold": cfg["threshold"], "eps": [float(e) for e in cfg["eps"]],
            "random_directions": cfg["random_directions"], "seed": cfg["seed"],
            "models": models}


# ----------------------------------------------------------------------------- MNIST attacks

def robustness_table(curves: dict[str, dict[str, np.ndarray]], eps, n: int) -> pd.DataFrame:
    """Tidy accuracy (model, attack, eps, accuracy, n), model by model, attack by attack."""
    rows = [{"model": model, "attack": attack, "eps": float(e), "accuracy": float(acc), "n": n}
            for model, by_attack in curves.items() for attack, accs in by_attack.items()
            for e, acc in zip(eps, accs, strict=True)]
    return pd.DataFrame(rows, columns=["model", "attack", "eps", "accuracy", "n"])


def robustness_summary(table: pd.DataFrame, cfg: dict) -> dict:
    """Clean accuracy and the accuracy at the report eps per model and attack, with settings."""
    at = table[np.isclose(table["eps"], cfg["report_eps"])]
    clean = table[table["eps"] == 0]
    return {"n": int(table["n"].iloc[0]), "eps": [float(e) for e in cfg["eps"]],
            "report_eps": cfg["report_eps"], "pgd": dict(cfg["pgd"]),
            "clean_accuracy": {m: float(g["accuracy"].iloc[0])
                               for m, g in clean.groupby("model", sort=False)},
            "accuracy_at_report_eps": {m: dict(zip(g["attack"], map(float, g["accuracy"]),
                                                   strict=True))
                                       for m, g in at.groupby("model", sort=False)}}


# ----------------------------------------------------------------------------- word searches

def search_table(need: dict[str, np.ndarray], budget: int, unit: str) -> pd.DataFrame:
    """Tidy success curves: per strategy and k = 1..budget, the share of examples whose
    prediction changed within k changes (column `unit`: flips or substitutions)."""
    ks = np.arange(1, budget + 1)
    rows = [{"strategy": s, unit: int(k), "share_changed": float(v), "n": len(need[s])}
            for s in need for k, v in zip(ks, success_within(need[s], ks), strict=True)]
    return pd.DataFrame(rows, columns=["strategy", unit, "share_changed", "n"])


def search_summary(need: dict[str, np.ndarray], budget: int, report=()) -> dict:
    """Per strategy: the median and quartiles of the number of changes needed (None where the
    quantile lies beyond the budget: those examples did not change within it), the share
    changed within the budget and (if `report` is given) within each k of `report`."""
    out = {"n": int(len(next(iter(need.values())))), "budget": budget}
    for s, v in need.items():
        censored = np.where(v > budget, np.inf, v).astype(np.float64)
        with np.errstate(invalid="ignore"):
            quartiles = np.percentile(censored, [25, 50, 75])
        out[s] = {"median": _json_number(median_need(v, budget)),
                  "quartiles": [float(q) if np.isfinite(q) else None for q in quartiles],
                  "share_within_budget": float((v <= budget).mean())}
        if len(report):
            out[s]["share_within"] = {str(k): float(x) for k, x in
                                      zip(report, success_within(v, report), strict=True)}
    return out


def substitution_examples(picked: list[dict]) -> pd.DataFrame:
    """One row per example review: id, label, P(positive) before and after, the substitutions
    (old → new) and an excerpt around them."""
    rows = [{"review_id": e["review_id"], "label": "positive" if e["label"] == 1 else "negative",
             "p_positive_before": e["p_before"], "p_positive_after": e["p_after"],
             "substitutions": "; ".join(f"{old} → {new}" for old, new in e["pairs"]),
             "excerpt": e["excerpt"]} for e in picked]
    return pd.DataFrame(rows, columns=["review_id", "label", "p_positive_before",
                                       "p_positive_after", "substitutions", "excerpt"])


def excerpt(words: list[str], changed: dict[int, str], context: int) -> str:
    """The words around the changed token indices (± context), each change shown as
    ~~old~~ **new**, gaps as …."""
    keep = sorted({j for i in changed for j in range(max(i - context, 0),
                                                        min(i + context + 1, len(words)))})
    parts, last = [], None
    for j in keep:
        if last is not None and j > last + 1:
            parts.append("…")
        parts.append(f"~~{words[j]}~~ **{changed[j]}**" if j in changed else words[j])
        last = j
    return " ".join(parts)


def substitutions_markdown(table: pd.DataFrame, summary: dict, examples: pd.DataFrame,
                           cfg: dict) -> str:
    """Success rates within k substitutions (gradient-guided vs random) and the examples."""
    report = [str(k) for k in cfg["report"]]
    rates = pd.DataFrame([{"strategy": s.replace("_", " "),
                           **{f"within {k}": across.num(summary[s]["share_within"][k], ".2f")
                              for k in report}} for s in STRATEGIES])
    shown = examples.assign(
        p_positive_before=examples["p_positive_before"].map(lambda v: across.num(v)),
        p_positive_after=examples["p_positive_after"].map(lambda v: across.num(v)),
        excerpt=examples["excerpt"].str.replace("|", "\\|", regex=False))
    lines = [
        f"# Word substitutions on the IMDB CNN ({summary['n']} test reviews)", "",
        "Share of reviews whose predicted class changed within k word substitutions: "
        "HotFlip-style (each substitution the (position, word) pair with the most negative "
        "first-order effect on the predicted class's logit, gradient recomputed after each) "
        "against random substitutions (random position, random word).", "",
        rates.to_markdown(index=False, disable_numparse=True), "",
        f"Examples ({len(examples)} of the sampled reviews the guided search changed, the first "
        "of each label in turn; ~~old~~ **new**):", "",
        shown.to_markdown(index=False, disable_numparse=True) if len(shown) else "(none)", "",
    ]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- across seeds

SEED_COLUMNS = ["quantity", "model", "variant", "seed", "value", "note", "n", "mean", "sd",
                "min", "max", "ci_low", "ci_high"]
LABELS = {
    "taylor_eps_at_threshold": "first-order error passes {threshold:.0%} at eps (L2)",
    "mnist_accuracy": "MNIST accuracy at eps = {report_eps} (L-inf)",
    "bow_median_flips": "bag of words: median word flips to change the prediction",
    "bow_share_within_budget": "bag of words: share changed within {flip_budget} flips",
    "cnn_success_within": "CNN: share changed within k substitutions",
}


def seed_values(taylor: dict[int, dict], robustness: dict[int, dict], flips: dict[int, dict],
                substitutions: dict[int, dict]) -> pd.DataFrame:
    """Tidy per-seed numbers (quantity, model, variant, seed, value, note), quantity by
    quantity, from each seed's summaries (dicts keyed by seed, in the same seed order). A
    missing value has a note: "never" / "below_grid" (the Taylor error did not rise through
    the threshold on the eps grid / was above it already at the smallest eps) or "beyond
    budget" (at least half the reviews did not change within the flip budget)."""
    seeds = list(taylor)
    for name, d in (("robustness", robustness), ("flips", flips),
                    ("substitutions", substitutions)):
        if list(d) != seeds:
            raise DataError(f"sensitivity_seeds: seeds of the {name} summaries {list(d)} differ "
                            f"from those of the Taylor summaries {seeds}")
    rows = []

    def add(quantity, model, variant, per_seed, notes=None):
        rows.extend({"quantity": quantity, "model": model, "variant": variant, "seed": int(s),
                     "value": np.nan if v is None else float(v),
                     "note": (notes or {}).get(s, "")} for s, v in per_seed.items())

    first = taylor[seeds[0]]["models"]
    for model, res in first.items():
        for output, by_direction in res["eps_at_threshold"].items():
            for direction in by_direction:
                crossing = {s: taylor[s]["models"][model]["eps_at_threshold"][output][direction]
                            for s in seeds}
                add("taylor_eps_at_threshold", model, f"{output}, {direction}",
                    {s: c["eps"] for s, c in crossing.items()},
                    {s: c["status"] for s, c in crossing.items() if c["status"] != "crossed"})
    for model, by_attack in robustness[seeds[0]]["accuracy_at_report_eps"].items():
        for attack in by_attack:
            add("mnist_accuracy", model, attack,
                {s: robustness[s]["accuracy_at_report_eps"][model][attack] for s in seeds})
    for strategy in STRATEGIES:
        add("bow_median_flips", "imdb_bow_mlp", strategy,
            {s: flips[s][strategy]["median"] for s in seeds},
            {s: "beyond budget" for s in seeds if flips[s][strategy]["median"] is None})
        add("bow_share_within_budget", "imdb_bow_mlp", strategy,
            {s: flips[s][strategy]["share_within_budget"] for s in seeds})
    for strategy in STRATEGIES:
        for k in substitutions[seeds[0]][strategy]["share_within"]:
            add("cnn_success_within", "imdb_cnn", f"{strategy}, k = {k}",
                {s: substitutions[s][strategy]["share_within"][k] for s in seeds})
    return pd.DataFrame(rows, columns=["quantity", "model", "variant", "seed", "value", "note"])


def sensitivity_seeds_table(values: pd.DataFrame) -> pd.DataFrame:
    """Per (quantity, model, variant): its per-seed rows, then one summary row (seed empty)
    with `core.stats.seed_summary` of them (NaN values, e.g. "never crossed", left out; n
    counts the seeds with a value)."""
    return across.seeds_table(values, ["quantity", "model", "variant"], SEED_COLUMNS)


def _seed_rows(table: pd.DataFrame, fmt: str) -> pd.DataFrame:
    """One Markdown row per (model, variant): one cell per seed, then n, mean, sd, min – max and
    the 95 % interval."""
    rows = []
    for (model, variant), group in table.groupby(["model", "variant"], sort=False):
        summary = across.summaries(group).iloc[0]
        row = {"model": MODEL_LABELS.get(model, model), "variant": variant}
        row.update(across.seed_cells(group, lambda r: r["note"] if r["note"] else
                                     across.num(r["value"], fmt)))
        row.update(across.summary_cells(summary, fmt, n=True))
        rows.append(row)
    return pd.DataFrame(rows)


FORMATS = {"taylor_eps_at_threshold": ".3g", "mnist_accuracy": ".3f", "bow_median_flips": ".1f",
           "bow_share_within_budget": ".2f", "cnn_success_within": ".2f"}


def sensitivity_seeds_markdown(table: pd.DataFrame, settings: dict) -> str:
    """The cross-seed sensitivity numbers as Markdown, one table per quantity."""
    lines = [f"# Sensitivity across seeds ({across.seeds_phrase(across.seed_list(table))})", ""]
    for quantity, group in table.groupby("quantity", sort=False):
        lines += [f"## {LABELS[quantity].format(**settings)}", "",
                  across.markdown(_seed_rows(group, FORMATS[quantity])), ""]
    lines += [
        "Notes. Per seed, the models trained with that seed, on the same sampled inputs, "
        "directions and random draws. never: the median error stays below the threshold on "
        "the whole eps grid (logistic regression's logit is linear in the pixels: exact); "
        "below_grid: above it already at the smallest eps; beyond budget: at least half the "
        "reviews did not change within the flip budget, so the median exceeds it. Such seeds "
        "have no value: n counts the seeds with one, and mean, sd (ddof = 1) and min – max "
        "are over those; 95 % CI: Student-t interval for the mean, from 5 seeds on.",
    ]
    return "\n".join(lines) + "\n"
