"""Tidy tables of the planted-tokens section: the per-seed table (long: one row per
architecture, model, version, method and metric, with n, mean and a 95 % interval over the
reviews), its JSON, the figure's word scores, and the across-seed table (core.seeds)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core import seeds as across
from ...infra.errors import ConfigError
from .compute import interval

MODEL_OF = {"cnn": "imdb_cnn", "bow": "imdb_bow_mlp"}
PROVIDES = {"cnn": ("gradient", "predict", "nothing"),
            "bow": ("gradient", "predict", "weights", "nothing")}
CNN_LABELS = {"gradient": "gradient_norm"}  # the paper's per-word norm (text tables' name)
COLUMNS = ["seed", "arch", "model", "role", "version", "method", "metric", "n", "mean",
           "ci_low", "ci_high"]
KEYS = ["arch", "role", "version", "method", "metric"]


def model_names(arch: str) -> dict[str, str]:
    """{role: experiment name}: the planted model and its control (the clean model)."""
    return {"planted": f"{MODEL_OF[arch]}_planted", "control": MODEL_OF[arch]}


def methods_of(spec, arch: str) -> list[str]:
    """The registry methods an architecture is scored with (config `methods.cnn` / `.bow`);
    the CNN reads token ids, so "all" leaves out the methods that need real-valued inputs."""
    from ...core.methods import select

    try:
        return select(spec, PROVIDES[arch], token_ids=arch == "cnn")
    except ValueError as err:
        raise ConfigError(f"attribution.methods.{arch}: {err}") from None


def label(method: str, arch: str) -> str:
    return CNN_LABELS.get(method, method) if arch == "cnn" else method


def _row(arch, model, role, version, method, metric, summary) -> dict:
    return {"arch": arch, "model": model, "role": role, "version": version, "method": method,
            "metric": metric, **summary}


def _one(value) -> dict:
    return {"n": 1, "mean": float(value), "ci_low": np.nan, "ci_high": np.nan}


def accuracy_rows(arch, model, role, acc: dict) -> list[dict]:
    """Accuracy per test version, and the drop from consistent to swapped tokens."""
    rows = [_row(arch, model, role, v, "", "accuracy", _one(a)) for v, a in acc.items()]
    return rows + [_row(arch, model, role, "consistent-swapped", "", "accuracy_drop",
                        _one(acc["consistent"] - acc["swapped"]))]


def method_rows(arch, model, role, method, per_review: dict, ranks: dict,
                token_ids) -> list[dict]:
    """Per-review metrics (mean and interval), mass over uniform, and detection without being
    told (global rank of each token, detected = both rank 1)."""
    rows = [_row(arch, model, role, "consistent", method, m, interval(v))
            for m, v in per_review.items()]
    ratio = np.mean(per_review["relevance_mass"]) / np.mean(per_review["uniform_mass"])
    rows.append(_row(arch, model, role, "consistent", method, "mass_over_uniform", _one(ratio)))
    for c, t in enumerate(token_ids):
        rows.append(_row(arch, model, role, "consistent", method, f"global_rank_class{c}",
                         _one(ranks[int(t)])))
    detected = all(ranks[int(t)] == 1 for t in token_ids)
    rows.append(_row(arch, model, role, "consistent", method, "detected", _one(detected)))
    return rows


def with_control_gaps(rows: list[dict]) -> list[dict]:
    """Adds, per planted method row of relevance mass, the planted minus the control mean."""
    control = {(r["arch"], r["method"]): r["mean"] for r in rows
               if r["role"] == "control" and r["metric"] == "relevance_mass"}
    extra = [_row(r["arch"], r["model"], "planted", "consistent", r["method"],
                  "mass_minus_control", _one(r["mean"] - control[(r["arch"], r["method"])]))
             for r in rows if r["role"] == "planted" and r["metric"] == "relevance_mass"
             and (r["arch"], r["method"]) in control]
    return rows + extra


def seed_table(rows: list[dict], seed: int) -> pd.DataFrame:
    return pd.DataFrame([{**r, "seed": seed} for r in rows]).reindex(columns=COLUMNS)


def seed_json(table: pd.DataFrame) -> dict:
    """{arch: {role: {method or "model": {version: {metric: mean}}}}} of a per-seed table."""
    out: dict = {}
    for r in table.itertuples():
        node = out.setdefault(r.arch, {}).setdefault(r.role, {}).setdefault(
            r.method if isinstance(r.method, str) and r.method else "model", {})
        node.setdefault(r.version, {})[r.metric] = None if pd.isna(r.mean) else float(r.mean)
    return out


def headline_metrics(table: pd.DataFrame) -> dict:
    """The numbers logged to MLflow: accuracy per version and each method's mass, planted."""
    t = table[table["role"] == "planted"]
    out = {}
    for r in t[t["metric"].isin(["accuracy", "relevance_mass", "detected"])].itertuples():
        name = "_".join(x for x in ("planted", r.arch, r.method or "", r.version, r.metric) if x)
        out[name.replace("-", "_")] = float(r.mean)
    return out


def figure_words(reviews, rows, words, scores: dict, logits: dict, models: dict, method: str,
                 seed: int) -> pd.DataFrame:
    """One row per word column of each figure review and model role: the review token index
    (into the display vocabulary), its position, the score and whether it is the planted one.
    The CNN keeps the last `words` columns' worth of tokens of a review (pre-truncation)."""
    out = []
    for k, i in enumerate(rows):
        toks = reviews.token_idx[reviews.offsets[i]:reviews.offsets[i + 1]]
        cols = np.flatnonzero(words[k])
        first = len(toks) - len(cols)
        for role, s in scores.items():
            for j, c in enumerate(cols):
                out.append({"seed": seed, "review": int(i), "review_id": reviews.review_id[i],
                            "label": int(reviews.label[i]), "role": role, "model": models[role],
                            "method": method, "logit": float(logits[role][k]),
                            "position": first + j, "token_idx": int(toks[first + j]),
                            "score": float(s[k, c])})
    return pd.DataFrame(out)


# ----------------------------------------------------------------------------- seeds

def seeds_table(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Long across-seed table: per item (arch, role, version, method, metric) its per-seed
    means as `value`, then the summary row (core.seeds)."""
    values = pd.concat(frames, ignore_index=True)
    values["method"] = values["method"].fillna("")
    values = values.rename(columns={"mean": "value"})[["seed", *KEYS, "model", "value"]]
    columns = ["seed", *KEYS, "model", "value", *across.SUMMARY]
    return across.seeds_table(values, KEYS, columns,
                              extra=lambda key, group, s: {"model": group["model"].iloc[0]})


def seeds_markdown(table: pd.DataFrame) -> str:
    """Accuracy per version, then per method mass / pointing / detection, planted vs control."""
    s = across.summaries(table)
    seeds = across.seed_list(table)
    lines = [f"# Planted tokens in IMDB ({across.seeds_phrase(seeds)})", "",
             "Accuracy per test version (mean (min – max) over seeds):", ""]
    acc = s[s["metric"].isin(["accuracy", "accuracy_drop"])]
    lines.append(across.markdown([
        {"arch": r["arch"], "model": r["model"], "version": r["version"],
         "metric": r["metric"], "value": across.cell(r)} for _, r in acc.iterrows()]))
    lines += ["", "Per method, on the consistent test reviews (mass: share of |attribution| "
              "on the token; uniform = 1/words; detected: share of seeds where both tokens "
              "top the global ranking):", ""]
    rows = []
    wanted = ["relevance_mass", "uniform_mass", "mass_over_uniform", "pointing_game", "rank",
              "detected"]
    m = s[s["metric"].isin(wanted)]
    for (arch, role, method), g in m.groupby(["arch", "role", "method"], sort=False):
        by = {r["metric"]: r for _, r in g.iterrows()}
        rows.append({"arch": arch, "role": role, "method": method,
                     **{k: across.cell(by[k]) if k in by else across.MISSING for k in wanted}})
    lines.append(across.markdown(rows))
    return "\n".join(lines) + "\n"
