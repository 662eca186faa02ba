"""The maths of the checks: attributions and deletion curves, and model randomisation.
Every gradient goes through `core.methods.attribute`.

`core.methods` (TensorFlow) is imported inside the functions that need it, so the figure and
checks_seeds rules, which import this module too, start without TensorFlow (~8 s).
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from inputgrad.core.deletion import area_over_curve, delete_top  # noqa: F401
from inputgrad.core.stats import spearman_rows
from inputgrad.data.samples import sample_rows
from inputgrad.infra.errors import ConfigError

log = logging.getLogger(__name__)

CONTROL = "random"  # the control ranking: a seeded permutation per digit
PROVIDES = ("gradient",)  # what the checks give a method: a differentiable MNIST model


# ----------------------------------------------------------------------------- deletion

def select_digits(n_total: int, n: int, seed: int) -> np.ndarray:
    """Sorted indices of a seeded random subset of min(n, n_total) rows."""
    return sample_rows(n_total, n, seed)


def method_options(methods, config: dict, batch_size: int) -> dict[str, dict]:
    """{method: options} for the configured methods ("all" or names, `core.methods.select`),
    from the one methods config (IG: all
    path points of a batch of digits in one compiled call of at most `batch_size` rows)."""
    from inputgrad.core.methods import configured

    try:
        return configured(methods, PROVIDES, config, batch_size)
    except ValueError as err:
        raise ConfigError(f"deletion.methods: {err}") from None


def attributions(f, x, classes, methods, options: dict, output: str = "logit",
                 batch_size: int = 256,
                 ) -> tuple[dict[str, np.ndarray], np.ndarray | None, dict[str, float]]:
    """({method: attribution (n, d)} of `classes`, IG's completeness gap per digit (None
    without IG), {method: seconds}). options: the composed methods config."""
    from inputgrad.core.methods import attribute, completeness_gap

    out, seconds = {}, {}
    for method, kw in method_options(methods, options, batch_size).items():
        start = time.perf_counter()
        out[method] = attribute(method, f, x, target=classes, output=output,
                                batch_size=batch_size, **kw)
        seconds[method] = time.perf_counter() - start
    gap = None
    if "integrated_gradients" in out:
        gap = completeness_gap(f, x, out["integrated_gradients"], classes, output,
                               batch_size=batch_size)
    log.info("attributions of %d digits: %s", len(x),
             ", ".join(f"{m} {s:.2f} s" for m, s in seconds.items()))
    return out, gap, seconds


def deletion_orders(attrs: dict[str, np.ndarray], n: int, d: int,
                    random_seed: int) -> dict[str, np.ndarray]:
    """{method: (n, d) pixel indices, most important first}: by |value| for the methods the
    registry marks `absolute`, by the signed value (positive evidence first) otherwise; stable
    ties; 'random': a seeded permutation per row."""
    from inputgrad.core.methods import METHODS

    orders = {}
    for method, a in attrs.items():
        score = np.abs(a) if METHODS[method].absolute else a
        orders[method] = np.argsort(-score.reshape(n, d), axis=1, kind="stable")
    rng = np.random.default_rng(random_seed)
    orders[CONTROL] = rng.permuted(np.tile(np.arange(d), (n, 1)), axis=1)
    return orders


def deletion_curves(predict_proba, x, classes, orders: dict[str, np.ndarray],
                    ks) -> dict[str, np.ndarray]:
    """{method: mean probability of `classes` after deleting the top-k pixels, one per k}.
    predict_proba: (n, d) -> (n, classes)."""
    x = np.asarray(x).reshape(len(x), -1)
    rows = np.arange(len(x))
    for k in ks:
        if not 0 <= k <= x.shape[1]:
            raise ConfigError(f"deletion.ks: {k} outside [0, {x.shape[1]}]")
    return {method: np.array([np.mean(predict_proba(delete_top(x, order, int(k)))[rows, classes])
                              for k in ks])
            for method, order in orders.items()}


def aoc_by_method(table: pd.DataFrame) -> dict[str, float]:
    """{method: area over its curve} from the tidy deletion table, in table order."""
    return {m: area_over_curve(g["k"], g["mean_probability"])
            for m, g in table.groupby("method", sort=False)}


# ----------------------------------------------------------------------------- sanity

def randomisation_check(f_trained, f_random, x, classes, output: str = "logit",
                        batch_size: int = 256) -> dict:
    """Per digit Spearman rho between the trained and the re-initialised model's |gradient|
    (and |gradient x input|) maps, same digits, same target class."""
    from inputgrad.core.methods import attribute

    g_t, g_r = (attribute("gradient", f, x, target=classes, output=output,
                          batch_size=batch_size) for f in (f_trained, f_random))
    x = np.asarray(x, np.float32)
    rho_g = spearman_rows(np.abs(g_t), np.abs(g_r))
    rho_gx = spearman_rows(np.abs(g_t * x), np.abs(g_r * x))
    return {
        "n": len(x),
        "spearman_abs_gradient_mean": float(np.nanmean(rho_g)),
        "spearman_abs_gradient_sd": float(np.nanstd(rho_g)),
        "spearman_abs_gradient_min": float(np.nanmin(rho_g)),
        "spearman_abs_gradient_max": float(np.nanmax(rho_g)),
        "spearman_abs_gradient_x_input_mean": float(np.nanmean(rho_gx)),
    }
