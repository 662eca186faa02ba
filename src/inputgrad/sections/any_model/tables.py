"""Tidy tables of the any_model section: per-seed summaries the claims read, and the
across-seed table (core.seeds)."""

from __future__ import annotations

import pandas as pd

from inputgrad.core import seeds as across

SEED_COLUMNS = ["part", "model", "quantity", "seed", "value", *across.SUMMARY]
REGRESSION_QUANTITIES = ("test_r2", "sign_agreement", "spearman", "first_order_share")
IMAGE_QUANTITIES = ("p_class", "r_mean_jacobian", "r_logreg_weights")


def regression_summary(models: pd.DataFrame, steps: pd.DataFrame, seed: int) -> dict:
    """{seed, models: {model: {quantity: value}}, tree_steps: [...]}: what the claims read."""
    by_model = {
        r["model"]: {k: (None if pd.isna(v) else float(v)) for k, v in r.items() if k != "model"}
        for r in models.to_dict("records")
    }
    smooth = [m for m in by_model if m != "gradient_boosting"]
    return {
        "seed": seed,
        "models": by_model,
        "min_sign_agreement_smooth": min(by_model[m]["sign_agreement"] for m in smooth),
        "min_sign_agreement_all": min(v["sign_agreement"] for v in by_model.values()),
        "tree_steps": steps.to_dict("records"),
    }


def class_image_summary(table: pd.DataFrame, min_probability: float) -> dict:
    """Per model: the smallest class probability, whether every image reaches
    `min_probability`, and the mean r over digits with the mean Jacobian and the weights."""
    out = {"min_probability": min_probability}
    for model, g in table.groupby("model", sort=False):
        out[model] = {
            "min_p_class": float(g["p_class"].min()),
            "all_confident": float((g["p_class"] >= min_probability).all()),
            "mean_r_mean_jacobian": float(g["r_mean_jacobian"].mean()),
            "mean_r_logreg_weights": float(g["r_logreg_weights"].mean()),
        }
    return out


def seeds_table(regression: dict, images: dict) -> pd.DataFrame:
    """Long across-seed table: per (part, model, quantity) the per-seed values then a summary
    row (class images: the mean over digits per seed; p_class: the minimum)."""
    rows = []
    for s, t in regression.items():
        for _, r in t.iterrows():
            rows += [
                {
                    "part": "regression",
                    "model": r["model"],
                    "quantity": q,
                    "seed": s,
                    "value": float(r[q]),
                }
                for q in REGRESSION_QUANTITIES
            ]
    for s, t in images.items():
        for model, g in t.groupby("model", sort=False):
            for q in IMAGE_QUANTITIES:
                v = g[q].min() if q == "p_class" else g[q].mean()
                rows.append(
                    {
                        "part": "class_images",
                        "model": model,
                        "quantity": q,
                        "seed": s,
                        "value": float(v),
                    }
                )
    return across.seeds_table(pd.DataFrame(rows), ["part", "model", "quantity"], SEED_COLUMNS)


def seeds_markdown(table: pd.DataFrame) -> str:
    rows = []
    for _, group in table.groupby(["part", "model", "quantity"], sort=False):
        summary = across.summaries(group).iloc[0]
        row = {"part": summary["part"], "model": summary["model"], "quantity": summary["quantity"]}
        row.update(across.seed_cells(group, lambda r: across.num(r["value"])))
        row.update(across.summary_cells(summary))
        rows.append(row)
    note = (
        "Regression (diabetes): test R², sign agreement and Spearman of each model's ḡ "
        "with the linear coefficients, share of the variance of f explained by "
        "∇f(x)·(x − x̄). Class images: smallest class probability over the 10 digits, "
        "mean Pearson r over digits with the MLP's mean Jacobian and the logistic "
        "regression's weights."
    )
    return note + "\n\n" + across.markdown(rows) + "\n"
