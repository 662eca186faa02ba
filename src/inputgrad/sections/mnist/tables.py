"""Paper section 5.3, the table: per digit, Pearson r between mean Jacobians and the weights."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.stats import pearson_rows
from .compute import TARGETS

COLUMN_NOTES = {
    "mlp_probability": "MLP mean Jacobian of the class probability (the paper's quantity)",
    "mlp_logit": "MLP mean Jacobian of the class logit",
    "logreg_probability": "the regression's own mean probability Jacobian (reference)",
}


def correlation_table(mlp_jac: dict, weights: np.ndarray,
                      logreg_jac: dict | None = None) -> pd.DataFrame:
    """Per digit: Pearson r between the MLP's mean Jacobian (each target) and the logistic
    regression's weights; with logreg_jac, also the regression's own mean probability Jacobian
    against its weights (how far the softmax alone moves a linear model's picture)."""
    df = pd.DataFrame({"digit": np.arange(len(weights))})
    for target in TARGETS:
        if target in mlp_jac:
            df[f"mlp_{target}"] = pearson_rows(mlp_jac[target], weights)
    if logreg_jac is not None and "probability" in logreg_jac:
        df["logreg_probability"] = pearson_rows(logreg_jac["probability"], weights)
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
