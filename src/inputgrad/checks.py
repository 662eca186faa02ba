"""Beyond the paper: do the attributions mean anything? Three cheap checks.

1. Faithfulness (deletion test) on the MNIST MLP: rank the pixels of each digit by an
   attribution for the predicted class (gradient |g|, gradient x input, Integrated Gradients
   with a black baseline, SmoothGrad |.|, and a seeded random ranking as control), set the top
   k to 0 and follow the mean predicted-class probability. A faithful ranking makes it fall
   fast; the area over the curve (AOC) summarises it. IG's completeness gap is a diagnostic.
2. Sanity check (model randomisation, Adebayo et al. 2018): |gradient| maps of the trained
   model vs of the same architecture with re-initialised weights; Spearman rank correlation
   per digit. An explanation that explains the model should change: low correlation expected.
3. Seed variability of the bag-of-words ḡ ranking (paper 5.2): test accuracy over seeds and,
   per pair of seeds, the Spearman correlation of ḡ and the overlap of the top-k word sets.

Every gradient comes from `inputgrad.gradients` (the one primitive and the methods on it).
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .io import save_figure, write_csv, write_json

log = logging.getLogger(__name__)

METHODS = ("gradient", "gradient_x_input", "integrated_gradients", "smoothgrad", "random")
ABSOLUTE = ("gradient", "smoothgrad")  # ranked by |attribution|; the others by signed value


# ----------------------------------------------------------------------------- ranks

def rankdata(a) -> np.ndarray:
    """Ranks 1..n of a 1-d array, ties get their average rank (as scipy's rankdata)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    order = np.argsort(a, kind="stable")
    ranks = np.empty(len(a), np.float64)
    ranks[order] = np.arange(1, len(a) + 1)
    _, inverse, counts = np.unique(a, return_inverse=True, return_counts=True)
    if (counts > 1).any():  # average the ranks within each group of equal values
        sums = np.bincount(inverse, weights=ranks)
        ranks = (sums / counts)[inverse]
    return ranks


def spearman(a, b) -> float:
    """Spearman's rho: Pearson correlation of the average-tie ranks; NaN if either is constant."""
    a, b = np.asarray(a).ravel(), np.asarray(b).ravel()
    if a.shape != b.shape:
        raise ValueError(f"spearman: arrays of different sizes {a.size} and {b.size}")
    ra, rb = rankdata(a), rankdata(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denom = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    return float((ra * rb).sum() / denom) if denom > 0 else float("nan")


def spearman_rows(a, b) -> np.ndarray:
    """Spearman's rho between matching rows of a and b (n, d)."""
    a = np.asarray(a).reshape(len(a), -1)
    b = np.asarray(b).reshape(len(b), -1)
    return np.array([spearman(u, v) for u, v in zip(a, b, strict=True)])


# ----------------------------------------------------------------------------- deletion

def select_digits(n_total: int, n: int, seed: int) -> np.ndarray:
    """Sorted indices of a seeded random subset of min(n, n_total) rows."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_total, size=min(n, n_total), replace=False))


def softmax(z) -> np.ndarray:
    z = np.asarray(z, np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def attributions(f, x, classes, cfg: dict, output: str = "logit",
                 batch_size: int = 256) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """{method: attribution (n, d)} for the given classes (not random), and IG's completeness gap."""
    from .gradients import gradient, gradient_x_input, integrated_gradients, smoothgrad

    out, seconds = {}, {}
    start = time.perf_counter()
    out["gradient"], _ = gradient(f, x, output, classes, batch_size)
    seconds["gradient"] = time.perf_counter() - start
    start = time.perf_counter()
    out["gradient_x_input"] = gradient_x_input(f, x, output, classes, batch_size)
    seconds["gradient_x_input"] = time.perf_counter() - start
    start = time.perf_counter()
    out["integrated_gradients"], gap = integrated_gradients(
        f, x, baseline=None, steps=cfg["ig_steps"], output=output, classes=classes,
        batch_size=batch_size)
    seconds["integrated_gradients"] = time.perf_counter() - start
    start = time.perf_counter()
    out["smoothgrad"] = smoothgrad(f, x, noise=cfg["smoothgrad_noise"],
                                   samples=cfg["smoothgrad_samples"], seed=cfg["smoothgrad_seed"],
                                   output=output, classes=classes, batch_size=batch_size)
    seconds["smoothgrad"] = time.perf_counter() - start
    log.info("attributions of %d digits: %s", len(x),
             ", ".join(f"{m} {s:.2f} s" for m, s in seconds.items()))
    return out, gap


def deletion_orders(attrs: dict[str, np.ndarray], n: int, d: int,
                    random_seed: int) -> dict[str, np.ndarray]:
    """{method: (n, d) pixel indices, most important first}. |.| for ABSOLUTE methods, the
    signed value (positive evidence first) otherwise; stable ties; 'random': a seeded
    permutation per row."""
    orders = {}
    for method, a in attrs.items():
        score = np.abs(a) if method in ABSOLUTE else a
        orders[method] = np.argsort(-score.reshape(n, d), axis=1, kind="stable")
    rng = np.random.default_rng(random_seed)
    orders["random"] = rng.permuted(np.tile(np.arange(d), (n, 1)), axis=1)
    return orders


def delete_top(x, order, k: int, value: float = 0.0) -> np.ndarray:
    """Copy of x (n, d) with, in each row, the pixels order[:, :k] set to `value`."""
    x = np.array(x, copy=True)
    if k > 0:
        np.put_along_axis(x, order[:, :k], value, axis=1)
    return x


def deletion_curves(predict_proba, x, classes, orders: dict[str, np.ndarray],
                    ks) -> pd.DataFrame:
    """Tidy table (method, k, mean_probability, n): mean probability of `classes` after
    deleting the top-k pixels of each ranking. predict_proba: (n, d) -> (n, classes)."""
    x = np.asarray(x).reshape(len(x), -1)
    rows = np.arange(len(x))
    out = []
    for method, order in orders.items():
        for k in ks:
            if not 0 <= k <= x.shape[1]:
                raise ValueError(f"deletion.ks: {k} outside [0, {x.shape[1]}]")
            p = predict_proba(delete_top(x, order, int(k)))[rows, classes]
            out.append({"method": method, "k": int(k), "mean_probability": float(np.mean(p)),
                        "n": len(x)})
    return pd.DataFrame(out, columns=["method", "k", "mean_probability", "n"])


def area_over_curve(ks, probs) -> float:
    """Mean drop of the probability below its k=0 value over the k range (trapezoid rule):
    (1 / (k_max - k_min)) * ∫ (p(k_min) - p(k)) dk. Larger = the ranking finds what matters."""
    ks = np.asarray(ks, np.float64)
    probs = np.asarray(probs, np.float64)
    order = np.argsort(ks)
    ks, probs = ks[order], probs[order]
    if len(ks) < 2 or ks[-1] == ks[0]:
        return float("nan")
    drop = probs[0] - probs
    return float(np.sum((drop[1:] + drop[:-1]) * np.diff(ks)) / 2 / (ks[-1] - ks[0]))


def aoc_by_method(table: pd.DataFrame) -> dict[str, float]:
    return {m: area_over_curve(g["k"], g["mean_probability"])
            for m, g in table.groupby("method", sort=False)}


# ----------------------------------------------------------------------------- sanity

def reinitialised(model, seed: int):
    """Same architecture, fresh weights from its initialisers (seeded)."""
    import keras

    keras.utils.set_random_seed(seed)
    clone = keras.models.clone_model(model)
    clone.build(model.input_shape)
    return clone


def randomisation_check(f_trained, f_random, x, classes, output: str = "logit",
                        batch_size: int = 256) -> dict:
    """Per digit Spearman rho between the trained and the re-initialised model's |gradient|
    (and |gradient x input|) maps, same digits, same target class."""
    from .gradients import gradient

    g_t, _ = gradient(f_trained, x, output, classes, batch_size)
    g_r, _ = gradient(f_random, x, output, classes, batch_size)
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


# ----------------------------------------------------------------------------- seed variability

def top_words(frame: pd.DataFrame, column: str, k: int) -> tuple[set, set]:
    """(top-k positive, top-k negative) word ids by ḡ among eligible words."""
    from .imdb_bow import side_ranks

    words = side_ranks(frame, column)
    pos = set(words.loc[words["rank_positive"] <= k, "word_id"])
    neg = set(words.loc[words["rank_negative"] <= k, "word_id"])
    return pos, neg


def _overlap(a: set, b: set, k: int) -> float:
    size = min(k, len(a), len(b))
    return len(a & b) / size if size else float("nan")


def seed_variability(frames: dict[int, pd.DataFrame], accuracies: dict[int, float],
                     column: str, top_k: int) -> pd.DataFrame:
    """One row per unordered pair of seeds (one row with seed_b empty if a single seed):
    Spearman of ḡ over the words eligible in both, overlap (share of top_k) of the top
    positive / negative word sets, and the accuracy mean / sd (ddof=1) over all seeds."""
    seeds = sorted(frames)
    if not seeds or set(seeds) != set(accuracies):
        raise ValueError(f"seed_variability: seeds of ḡ tables {seeds} and of accuracies "
                         f"{sorted(accuracies)} differ")
    for s in seeds:
        if column not in frames[s]:
            raise KeyError(f"seed_variability.column: {column!r} not in the ḡ table of seed {s}")
    acc = np.array([accuracies[s] for s in seeds], np.float64)
    common = {"n_seeds": len(seeds), "accuracy_mean": float(acc.mean()),
              "accuracy_sd": float(acc.std(ddof=1)) if len(acc) > 1 else float("nan"),
              "top_k": top_k}
    tops = {s: top_words(frames[s], column, top_k) for s in seeds}
    rows = []
    pairs = list(itertools.combinations(seeds, 2)) or [(seeds[0], None)]
    for a, b in pairs:
        row = {"seed_a": a, "seed_b": b, "accuracy_a": accuracies[a],
               "accuracy_b": accuracies[b] if b is not None else float("nan")}
        if b is None:
            row.update(spearman_gbar=float("nan"), top_positive_overlap=float("nan"),
                       top_negative_overlap=float("nan"), n_words=int(frames[a]["eligible"].sum()))
        else:
            fa, fb = (frames[s].set_index("word_id") for s in (a, b))
            ok = fa["eligible"] & fb["eligible"].reindex(fa.index, fill_value=False)
            row.update(spearman_gbar=spearman(fa.loc[ok, column], fb.loc[ok, column]),
                       top_positive_overlap=_overlap(tops[a][0], tops[b][0], top_k),
                       top_negative_overlap=_overlap(tops[a][1], tops[b][1], top_k),
                       n_words=int(ok.sum()))
        rows.append({**row, **common})
    out = pd.DataFrame(rows)
    out["seed_b"] = out["seed_b"].astype("Int64")
    return out


# ----------------------------------------------------------------------------- figure

def plot_deletion(table: pd.DataFrame, style: dict):
    """Deletion curves, mean predicted-class probability vs k, one line per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": style["font_size"]})
    fig, ax = plt.subplots(figsize=(style["width_in"], style["height_in"]))
    aoc = aoc_by_method(table)
    methods = [m for m in METHODS if m in set(table["method"])] + sorted(
        set(table["method"]) - set(METHODS))
    for m in methods:
        g = table[table["method"] == m].sort_values("k")
        ax.plot(g["k"], g["mean_probability"], marker=style["markers"].get(m, "o"),
                ms=style["marker_size"], lw=style["line_width"], color=style["colors"].get(m),
                ls=style["line_styles"].get(m, "-"), label=f"{m.replace('_', ' ')} (AOC {aoc[m]:.3f})")
    n = int(table["n"].iloc[0])
    ax.set_xlabel("pixels set to 0, highest attribution first (k)")
    ax.set_ylabel("mean predicted-class probability")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.grid(alpha=0.3)
    ax.set_title(f"Deletion test, MNIST MLP ({n} test digits)")
    ax.legend(frameon=False, loc=style["legend_loc"])
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- stages (rules)

def _load(model_path, data_path, digits: dict):
    import keras

    from .mnist import load_data, model_fn

    model = keras.models.load_model(model_path, compile=False)
    data = load_data(data_path)
    idx = select_digits(len(data["x_test"]), digits["n"], digits["seed"])
    x = data["x_test"][idx]
    f = model_fn(model)
    classes = np.asarray(f(x).numpy().argmax(axis=1), np.int32)
    return model, f, x, classes, idx


def log_run(experiment_file, run_id_file, tracking_uri, paths, artifact_path: str,
            metrics: dict | None = None, configs: dict | None = None) -> None:
    """Reopen a model's MLflow run by its id file; log files, metrics, config slices."""
    from .tracking import log_to_runs

    log_to_runs(experiment_file, tracking_uri, [run_id_file], paths, artifact_path, configs,
                metrics)


def deletion_stage(model_path, data_path, digits: dict, cfg: dict, csv_path, summary_path) -> dict:
    """Rule attribution_deletion: curves (tidy CSV) and summary JSON (AOC, IG completeness)."""
    _, f, x, classes, idx = _load(model_path, data_path, digits)
    attrs, gap = attributions(f, x, classes, cfg, digits["output"], digits["batch_size"])
    orders = deletion_orders(attrs, len(x), x.shape[1], cfg["random_seed"])

    def proba(xb):
        return softmax(f(xb).numpy())

    table = deletion_curves(proba, x, classes, orders, cfg["ks"])
    aoc = aoc_by_method(table)
    summary = {
        "n": len(x), "digits_seed": digits["seed"], "output": digits["output"],
        "ks": list(cfg["ks"]), "aoc": aoc,
        "ig_completeness_gap": {"target": digits["output"], "steps": cfg["ig_steps"],
                                "mean_abs": float(np.mean(np.abs(gap))),
                                "max_abs": float(np.max(np.abs(gap)))},
        "mean_probability_k0": float(table.loc[table["k"] == min(cfg["ks"]),
                                               "mean_probability"].iloc[0]),
    }
    write_csv(csv_path, table)
    write_json(summary_path, summary)
    log.info("deletion AOC: %s", json.dumps(aoc))
    log.info("IG completeness gap (%s): %s", digits["output"], summary["ig_completeness_gap"])
    return summary


def sanity_stage(model_path, data_path, digits: dict, cfg: dict, out_path) -> dict:
    """Rule attribution_sanity: model randomisation check, as JSON."""
    model, f, x, classes, _ = _load(model_path, data_path, digits)
    from .mnist import model_fn

    f_random = model_fn(reinitialised(model, cfg["reinit_seed"]))
    result = {"reinit_seed": cfg["reinit_seed"], "output": digits["output"],
              "classes": "predicted by the trained model",
              **randomisation_check(f, f_random, x, classes, digits["output"],
                                    digits["batch_size"])}
    write_json(out_path, result)
    log.info("model randomisation: %s", result)
    return result


def seed_variability_stage(seeds, gbar_tables, metrics_files, cfg: dict, out_path) -> pd.DataFrame:
    """Rule seed_variability: ḡ tables and metrics.json of every seed -> tidy CSV."""
    seeds = [int(s) for s in seeds]
    if not len(seeds) == len(gbar_tables) == len(metrics_files):
        raise ValueError(f"seed_variability: {len(seeds)} seeds but {len(gbar_tables)} ḡ tables "
                         f"and {len(metrics_files)} metrics files")
    frames = {s: pd.read_csv(p, keep_default_na=False, na_values=[])
              for s, p in zip(seeds, gbar_tables)}
    accuracies = {}
    for s, p in zip(seeds, metrics_files):
        metrics = json.loads(Path(p).read_text())
        if "test_accuracy" not in metrics:
            raise KeyError(f"{p}: no 'test_accuracy'")
        accuracies[s] = float(metrics["test_accuracy"])
    table = seed_variability(frames, accuracies, cfg["column"], cfg["top_k"])
    write_csv(out_path, table)
    log.info("seed variability:\n%s", table.to_string(index=False))
    return table


def figure_stage(table_path, style: dict, png, pdf) -> None:
    """Rule attribution_deletion_figure: from the tidy table only."""

    fig = plot_deletion(pd.read_csv(table_path), style)
    save_figure(fig, png, pdf, dpi=style["dpi"])
