"""Paper Sec. 5.2: a fully connected network on binary bag-of-words vectors, interpreted
globally by the mean input gradient ḡ (Table 2) and by the linear rule "positive if x·ḡ > t".

Representation. Review i is the binary vector x_i in {0, 1}^V with x_ij = 1 iff word id j
occurs in the review (ids follow `keras.datasets.imdb`: id = rank in the Keras word index +
index_from). Column j IS word id j, so the input keeps the width V = model.vocab_size; the
reserved ids 0..index_from (0 padding, 1 start marker, 2 out-of-vocabulary, 3 unused) are not
words and their columns are always 0, so they carry no information and never enter Table 2.

Stages (one Snakemake rule each, thin scripts in workflow/scripts/imdb_bow_*.py):
`train` -> `gradients` (ḡ arrays, per-word table, per-review scores x·ḡ) -> `table2`,
`agreement` -> `figure` (reads only the saved tables/arrays).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .data import Reviews, load_reviews
from .io import save_figure, save_npz, write_csv, write_json, write_text
from .tracking import log_to_runs

log = logging.getLogger(__name__)

MODEL = "imdb_bow_mlp"
RESERVED_NAMES = {0: "<pad>", 1: "<start>", 2: "<oov>"}
# ḡ variants: which split it is averaged over, and the differentiated output.
GBARS = ("test_probability", "test_logit", "train_probability", "train_logit")


# ---------------------------------------------------------------- bag of words

def reserved_ids(index_from: int) -> np.ndarray:
    """Ids that are not words: 0 .. index_from (padding, start, OOV, and unused id index_from
    since word ranks start at 1)."""
    return np.arange(index_from + 1)


def bag_of_words(word_ids: np.ndarray, offsets: np.ndarray, vocab_size: int,
                 index_from: int = 3) -> np.ndarray:
    """Binary (n, V) float32 matrix: x[i, j] = 1 iff word id j occurs in review i.

    word_ids/offsets are the flat layout of `data.Reviews`. Ids >= V (outside a dictionary
    smaller than the prepared one) and the reserved ids 0..index_from are dropped.
    """
    word_ids = np.asarray(word_ids)
    offsets = np.asarray(offsets)
    n = len(offsets) - 1
    rows = np.repeat(np.arange(n), np.diff(offsets))
    keep = (word_ids > index_from) & (word_ids < vocab_size)
    x = np.zeros((n, vocab_size), dtype=np.float32)
    x[rows[keep], word_ids[keep]] = 1.0  # duplicates set the same 1: binary by construction
    return x


def reviews_bow(reviews: Reviews, vocab_size: int, imdb_cfg: dict) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) for one split; checks that the dictionary fits the prepared ids."""
    if vocab_size > imdb_cfg["num_words"]:
        raise ValueError(
            f"model.vocab_size={vocab_size} exceeds data.imdb.num_words={imdb_cfg['num_words']}: "
            "the prepared word ids stop at num_words (rarer words are already OOV)")
    if vocab_size <= imdb_cfg["index_from"] + 1:
        raise ValueError(f"model.vocab_size={vocab_size} leaves no word after the reserved ids "
                         f"0..{imdb_cfg['index_from']}")
    x = bag_of_words(reviews.word_ids, reviews.offsets, vocab_size, imdb_cfg["index_from"])
    return x, reviews.label.astype(np.float32)


def word_names(word_index_path, vocab_size: int, index_from: int = 3) -> list[str]:
    """names[j] = the word with id j (id = rank + index_from); reserved ids get <...> names,
    ids without a word in the index (tiny dictionaries) an empty string."""
    word_index = json.loads(Path(word_index_path).read_text())
    names = [""] * vocab_size
    for word, rank in word_index.items():
        wid = rank + index_from
        if wid < vocab_size:
            names[wid] = word
    for wid in reserved_ids(index_from):
        names[wid] = RESERVED_NAMES.get(int(wid), "<unused>")
    return names


# ---------------------------------------------------------------- ḡ

def mean_gradients(f, x: np.ndarray, batch_size: int = 500) -> dict[str, np.ndarray]:
    """ḡ of the logit and of the predicted probability sigmoid(logit), plus every logit, in
    ONE gradient pass: d sigmoid(z)/dx = p (1 - p) dz/dx per review (exact chain rule).

    Equals `gradients.mean_gradient(f, x, "probability"|"logit", classes=0)` (tested).
    """
    from .gradients import gradient_batches

    sum_logit = np.zeros(x.shape[1:], np.float64)
    sum_prob = np.zeros(x.shape[1:], np.float64)
    logits = np.empty(len(x), np.float32)
    for rows, grads, outs in gradient_batches(f, x, output="logit", classes=0,
                                              batch_size=batch_size):
        z = outs[:, 0].astype(np.float64)
        p = 1.0 / (1.0 + np.exp(-z))
        sum_logit += grads.sum(axis=0, dtype=np.float64)
        # float32 BLAS within a batch (a float64 product costs ~4x the gradient pass itself),
        # float64 across batches
        sum_prob += (p * (1.0 - p)).astype(np.float32) @ grads
        logits[rows] = outs[:, 0]
    return {"logit": sum_logit / len(x), "probability": sum_prob / len(x), "logits": logits}


def spearman(a, b) -> float:
    """Spearman's rho = Pearson correlation of the (average-tie) ranks; no scipy needed."""
    ra = pd.Series(np.asarray(a, dtype=np.float64)).rank().to_numpy()
    rb = pd.Series(np.asarray(b, dtype=np.float64)).rank().to_numpy()
    return float(np.corrcoef(ra, rb)[0, 1])


def gbar_frame(gbars: dict[str, np.ndarray], names: list[str], x_test: np.ndarray,
               x_train: np.ndarray, index_from: int) -> pd.DataFrame:
    """Tidy per-word table: one row per column j of the input (= word id j).

    `eligible` marks the words that can be ranked: not reserved, present in the word index,
    and seen in at least one training review (otherwise ḡ_j only reflects initial weights).
    """
    ids = np.arange(len(names))
    test_docs = x_test.sum(axis=0).astype(np.int64)
    train_docs = x_train.sum(axis=0).astype(np.int64)
    frame = pd.DataFrame({
        "word_id": ids, "word": names,
        "reserved": ids <= index_from,
        "test_docs": test_docs, "test_doc_share": test_docs / max(len(x_test), 1),
        "train_docs": train_docs,
    })
    for key in GBARS:
        frame[f"gbar_{key}"] = gbars[key]
    frame["eligible"] = ~frame["reserved"] & (frame["word"] != "") & (frame["train_docs"] > 0)
    return frame


def compute_gradients(model, x_train, y_train, x_test, y_test, names, index_from: int,
                      batch_size: int) -> dict:
    """Everything the later stages need, from one trained model and the two splits."""
    gbars, logits, seconds = {}, {}, {}
    for split, x in (("test", x_test), ("train", x_train)):
        start = time.time()
        out = mean_gradients(model, x, batch_size)
        seconds[split] = time.time() - start
        log.info("ḡ over %d %s reviews in %.1f s", len(x), split, seconds[split])
        gbars[f"{split}_probability"], gbars[f"{split}_logit"] = out["probability"], out["logit"]
        logits[split] = out["logits"]
    frame = gbar_frame(gbars, names, x_test, x_train, index_from)
    ok = frame["eligible"].to_numpy()
    summary = {
        "vocab_size": len(names), "eligible_words": int(ok.sum()),
        "n_test": len(x_test), "n_train": len(x_train),
        "spearman_train_test": {
            out: spearman(gbars[f"train_{out}"][ok], gbars[f"test_{out}"][ok])
            for out in ("probability", "logit")},
        "spearman_probability_logit_test": spearman(gbars["test_probability"][ok],
                                                    gbars["test_logit"][ok]),
        "gradient_seconds": seconds,
    }
    # Per-review scores x·ḡ for the linear rules (the reserved columns of x are 0).
    scores = {}
    for split, x, y in (("test", x_test, y_test), ("train", x_train, y_train)):
        scores[f"{split}_logit"] = logits[split]
        scores[f"{split}_label"] = np.asarray(y).astype(np.int8).ravel()
        for key in ("test_probability", "test_logit", "train_probability"):
            scores[f"{split}_score_{key}"] = x @ gbars[key].astype(np.float32)
    arrays = {"word_id": np.arange(len(names)), **{f"gbar_{k}": v for k, v in gbars.items()}}
    return {"arrays": arrays, "frame": frame, "summary": summary, "scores": scores}


# ---------------------------------------------------------------- Table 2

def side_ranks(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Eligible words with their ranks by ḡ (`column`):
    rank_overall: 1 = largest ḡ ... N = most negative ḡ;
    rank_positive: among words with ḡ > 0, 1 = largest; rank_negative: among ḡ < 0,
    1 = most negative (NaN on the other side)."""
    words = frame[frame["eligible"]].sort_values(column, ascending=False, kind="stable").copy()
    words["rank_overall"] = np.arange(1, len(words) + 1)
    g = words[column]
    words["rank_positive"] = g.where(g > 0).rank(ascending=False, method="first")
    words["rank_negative"] = g.where(g < 0).rank(ascending=True, method="first")
    return words


def table2(frame: pd.DataFrame, top_k: int, paper_words: dict[str, str],
           column: str = "gbar_test_probability") -> pd.DataFrame:
    """Tidy Table 2: the top_k words on each side of ḡ, then one row per paper word.

    section: top_positive | top_negative | paper_word; rank: the side rank (see `side_ranks`);
    for paper words `expected` is the paper's sentiment and rank is the rank among words on
    that side (NaN when ḡ has the other sign, `sign_agrees` False).
    """
    words = side_ranks(frame, column)
    keep = ["word", "word_id", "gbar_test_probability", "gbar_test_logit", "test_docs",
            "test_doc_share", "rank_overall"]
    pos = words[words["rank_positive"] <= top_k].sort_values("rank_positive")
    neg = words[words["rank_negative"] <= top_k].sort_values("rank_negative")
    parts = [
        pos[keep].assign(section="top_positive", rank=pos["rank_positive"]),
        neg[keep].assign(section="top_negative", rank=neg["rank_negative"]),
    ]
    rows = []
    by_word = words.set_index("word")
    for word, expected in paper_words.items():
        if expected not in ("positive", "negative"):
            raise ValueError(f"attribution.paper_words.{word}: expected 'positive' or "
                             f"'negative', got {expected!r}")
        if word not in by_word.index:
            rows.append({"word": word, "section": "paper_word", "expected": expected})
            continue
        r = by_word.loc[word]
        rows.append({"word": word, "word_id": r["word_id"], **{k: r[k] for k in keep[2:]},
                     "section": "paper_word", "expected": expected,
                     "rank": r[f"rank_{expected}"],
                     "sign_agrees": bool((r[column] > 0) == (expected == "positive"))})
    parts.append(pd.DataFrame(rows))
    out = pd.concat(parts, ignore_index=True)
    out["n_ranked"] = len(words)
    out["n_positive"] = int((words[column] > 0).sum())
    out["n_negative"] = int((words[column] < 0).sum())
    cols = ["section", "rank", "word", "word_id", "gbar_test_probability", "gbar_test_logit",
            "test_docs", "test_doc_share", "rank_overall", "expected", "sign_agrees",
            "n_ranked", "n_positive", "n_negative"]
    out = out.reindex(columns=cols)
    for col in ("rank", "word_id", "test_docs", "rank_overall"):
        out[col] = out[col].astype("Int64")
    return out


def table2_markdown(table: pd.DataFrame, summary: dict | None = None) -> str:
    def fmt(block):
        return pd.DataFrame({
            "word": block["word"].to_numpy(),
            "ḡ (prob.)": [f"{v:+.2e}" for v in block["gbar_test_probability"]],
            "ḡ (logit)": [f"{v:+.3f}" for v in block["gbar_test_logit"]],
            "test docs": [f"{s:.1%}" for s in block["test_doc_share"]],
        })

    pos = table[table["section"] == "top_positive"].reset_index(drop=True)
    neg = table[table["section"] == "top_negative"].reset_index(drop=True)
    k = max(len(pos), len(neg))
    side = pd.concat([fmt(pos).reindex(range(k)).add_prefix("positive: "),
                      fmt(neg).reindex(range(k)).add_prefix("negative: ")], axis=1)
    side.insert(0, "rank", range(1, k + 1))
    paper = table[table["section"] == "paper_word"]
    n = int(table["n_ranked"].iloc[0]) if len(table) else 0
    npos, nneg = (int(table[c].iloc[0]) if len(table) else 0 for c in ("n_positive", "n_negative"))
    paper_md = pd.DataFrame({
        "word": paper["word"], "expected": paper["expected"],
        "side rank": [("—" if pd.isna(r) else f"{int(r)} of {npos if e == 'positive' else nneg}")
                      for r, e in zip(paper["rank"], paper["expected"])],
        "overall rank": [("—" if pd.isna(r) else f"{int(r)} of {n}") for r in paper["rank_overall"]],
        "ḡ (prob.)": [("—" if pd.isna(v) else f"{v:+.2e}") for v in paper["gbar_test_probability"]],
        "test docs": [("—" if pd.isna(s) else f"{s:.1%}") for s in paper["test_doc_share"]],
    })
    lines = [
        "# Table 2: words ranked by the mean input gradient ḡ (bag-of-words MLP)", "",
        side.to_markdown(index=False, disable_numparse=True), "",
        "Paper's example words:", "",
        paper_md.to_markdown(index=False, disable_numparse=True), "",
        "Notes. ḡ (prob.) = mean over all test reviews of d P(positive)/d x_j, the binary "
        "input treated as continuous (the paper's quantity; it orders the rows); ḡ (logit) = "
        "the same for the logit. test docs = share of test reviews containing the word. "
        f"Ranked: the {n} dictionary words seen in training (reserved ids 0-3 excluded); "
        f"{npos} have ḡ > 0, {nneg} have ḡ < 0. side rank = rank among words on the paper's "
        "side (positive words: 1 = largest ḡ; negative words: 1 = most negative ḡ; — when ḡ "
        "has the other sign); overall rank: 1 = largest ḡ, "
        f"{n} = most negative.",
    ]
    if summary:
        rho = summary["spearman_train_test"]
        lines.append(f"Spearman correlation of ḡ over train vs test reviews: "
                     f"{rho['probability']:.5f} (probability), {rho['logit']:.5f} (logit).")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- linear agreement

def rule_predictions(scores: np.ndarray, threshold: float) -> np.ndarray:
    """The paper's linear rule: class 1 iff x·ḡ > threshold."""
    return (np.asarray(scores) > threshold).astype(np.int8)


def fit_threshold(scores: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """The threshold t maximising the share of rows with (score > t) == target.

    Candidates are -inf and the midpoints between consecutive distinct scores (all distinct
    cut points); ties in agreement go to the candidate closest to 0. Returns (t, agreement).
    """
    scores = np.asarray(scores, dtype=np.float64)
    target = np.asarray(target).astype(bool)
    order = np.argsort(scores, kind="stable")
    s, y = scores[order], target[order]
    n = len(s)
    # cut after position i (i = 0..n): rows [0, i) predicted 0, rows [i, n) predicted 1
    neg_below = np.concatenate([[0], np.cumsum(~y)])
    pos_above = y.sum() - np.concatenate([[0], np.cumsum(y)])
    correct = neg_below + pos_above
    valid = np.ones(n + 1, bool)
    valid[1:n] = s[1:] > s[:-1]  # a cut between equal scores is not realisable
    cuts = np.concatenate([[-np.inf], (s[:-1] + s[1:]) / 2, [np.inf]])
    best = correct[valid].max()
    choices = np.flatnonzero(valid & (correct == best))
    pick = choices[np.argmin(np.abs(np.where(np.isfinite(cuts[choices]), cuts[choices], 1e300)))]
    return float(cuts[pick]), float(best / n)


def evaluate_rule(scores: dict, gbar: str, threshold: float) -> dict:
    out = {}
    for split in ("test", "train"):
        pred_net = (scores[f"{split}_logit"] > 0).astype(np.int8)
        rule = rule_predictions(scores[f"{split}_score_{gbar}"], threshold)
        out[f"agreement_{split}"] = float((rule == pred_net).mean())
        out[f"accuracy_{split}"] = float((rule == scores[f"{split}_label"]).mean())
    return out


def linear_agreement(scores: dict) -> dict:
    """Agreement of sign rules x·ḡ > t with the network's predicted class (logit > 0).

    Rules: ḡ from the test set (the paper's) with t = 0 and with t fitted on the TRAINING set
    (maximising agreement with the network's training-set predictions); the same for the
    logit ḡ; and a fully train-side rule (ḡ and t both from the training set).
    """
    net = {}
    for split in ("test", "train"):
        pred = (scores[f"{split}_logit"] > 0).astype(np.int8)
        net[f"accuracy_{split}"] = float((pred == scores[f"{split}_label"]).mean())
        net[f"positive_share_{split}"] = float(pred.mean())
    rules = []
    for gbar in ("test_probability", "test_logit", "train_probability"):
        train_pred = (scores["train_logit"] > 0).astype(np.int8)
        fitted, _ = fit_threshold(scores[f"train_score_{gbar}"], train_pred)
        thresholds = ([("zero", 0.0)] if gbar != "train_probability" else []) + [("fitted_on_train", fitted)]
        for source, t in thresholds:
            rules.append({"name": f"{gbar}/{source}", "gbar": gbar, "threshold_source": source,
                          "threshold": t, **evaluate_rule(scores, gbar, t)})
    by_name = {r["name"]: r for r in rules}
    return {
        "definition": "rule: positive iff x·ḡ > threshold; agreement = share of reviews where "
                      "the rule's class equals the network's predicted class (logit > 0); "
                      "accuracy = against true labels; fitted threshold maximises agreement "
                      "with the network on the training set",
        "n_test": int(len(scores["test_label"])), "n_train": int(len(scores["train_label"])),
        "network": net,
        "paper_rule_agreement_test": by_name["test_probability/zero"]["agreement_test"],
        "fitted_threshold": by_name["test_probability/fitted_on_train"]["threshold"],
        "fitted_rule_agreement_test": by_name["test_probability/fitted_on_train"]["agreement_test"],
        "rules": rules,
    }


# ---------------------------------------------------------------- figure

def plot_mean_gradient(frame: pd.DataFrame, scores: dict, agreement: dict, style: dict):
    """Left: diverging bars of ḡ for the top words each side; right: x·ḡ vs logit (test)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    col = "gbar_test_probability"
    k = style["top_words"]
    words = frame[frame["eligible"]].sort_values(col, ascending=False, kind="stable")
    top = pd.concat([words.head(k), words.tail(k).iloc[::-1]]).drop_duplicates("word_id")
    top = top.sort_values(col)
    fig, (ax_bar, ax_sc) = plt.subplots(
        1, 2, figsize=(style["width"], style["height"]),
        gridspec_kw={"width_ratios": style["width_ratios"]})
    colors = np.where(top[col] > 0, style["positive_color"], style["negative_color"])
    ax_bar.barh(np.arange(len(top)), top[col], color=colors)
    ax_bar.set_yticks(np.arange(len(top)), top["word"], fontsize=style["word_fontsize"])
    ax_bar.axvline(0, color="black", lw=0.8)
    ax_bar.set_ylim(-0.6, len(top) - 0.4)
    ax_bar.xaxis.set_major_locator(MaxNLocator(5, symmetric=True))
    ax_bar.set_xlabel("ḡ = mean over test reviews of ∂P(positive)/∂x_word")
    ax_bar.set_title(f"Top {k} words on each side of ḡ")

    s, z, y = scores["test_score_test_probability"], scores["test_logit"], scores["test_label"]
    t = agreement["fitted_threshold"]
    label_colors = np.array([style["negative_color"], style["positive_color"]])
    order = np.random.default_rng(0).permutation(len(s))  # interleave: no class hides the other
    inset = ax_sc.inset_axes(style["zoom_box"])
    hx = float(np.quantile(np.abs(s), style["zoom_quantile"]))
    hz = float(np.quantile(np.abs(z), style["zoom_quantile"]))
    for ax, size in ((ax_sc, style["point_size"]), (inset, 3 * style["point_size"])):
        ax.scatter(s[order], z[order], s=size, alpha=style["alpha"], c=label_colors[y[order]],
                   lw=0, rasterized=True)
        ax.axhline(0, color="black", lw=0.8)
        ax.axvline(0, color="black", lw=0.9, ls="--")
        ax.axvline(t, color=style["threshold_color"], lw=1.2)
    inset.set_xlim(-hx, hx)
    inset.set_ylim(-hz, hz)
    inset.tick_params(labelsize=style["legend_fontsize"] - 1)
    inset.set_title("zoom near (0, 0)", fontsize=style["legend_fontsize"])
    ax_sc.indicate_inset_zoom(inset, edgecolor="gray")
    handles = [
        Line2D([], [], ls="", marker="o", color=style["negative_color"], label="true negative"),
        Line2D([], [], ls="", marker="o", color=style["positive_color"], label="true positive"),
        Line2D([], [], color="black", lw=0.9, ls="--",
               label=f"x·ḡ = 0 (agreement {agreement['paper_rule_agreement_test']:.2%})"),
        Line2D([], [], color=style["threshold_color"], lw=1.2,
               label=f"fitted t = {t:.3g} (agreement {agreement['fitted_rule_agreement_test']:.2%})"),
    ]
    ax_sc.legend(handles=handles, loc="upper left", fontsize=style["legend_fontsize"],
                 framealpha=0.9)
    ax_sc.set_xlabel("x·ḡ (linear score)")
    ax_sc.set_ylabel("network logit")
    ax_sc.set_title("Linear score vs network output, test reviews")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- stages (rules)

def _load_split(path, vocab_size: int, imdb_cfg: dict):
    return reviews_bow(load_reviews(path), vocab_size, imdb_cfg)


def train_stage(train_path, test_path, experiment_file, model_cfg: dict, train_cfg: dict,
                imdb_cfg: dict, outputs: dict, seed: int, tracking_uri=None) -> dict:
    """Rule train_imdb_bow_mlp: bag-of-words for both splits, then the shared training path."""
    from .tracking import Tracker, read_id, results_dir_of
    from .train import train_and_log

    vocab = model_cfg["vocab_size"]
    x_train, y_train = _load_split(train_path, vocab, imdb_cfg)
    x_test, y_test = _load_split(test_path, vocab, imdb_cfg)
    log.info("bag of words: train %s, test %s, %.1f distinct dictionary words per review",
             x_train.shape, x_test.shape, x_train.sum(axis=1).mean())
    data = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    full_cfg = {"model": model_cfg, "train": train_cfg, "data": {"imdb": imdb_cfg}}
    return train_and_log(model_cfg, full_cfg, data, outputs,
                         Tracker.for_results(results_dir_of(experiment_file), tracking_uri),
                         read_id(experiment_file), f"{MODEL}-seed{seed}", seed)


def gradients_stage(model_path, train_path, test_path, word_index_path, run_id_file,
                    imdb_cfg: dict, batch_size: int, outputs: dict,
                    tracking_uri=None) -> dict:
    """Rule imdb_bow_gradients: ḡ (test and train; probability and logit), per-word table,
    per-review scores x·ḡ; all logged into the model's MLflow run."""
    import keras


    model = keras.models.load_model(model_path)
    vocab = int(model.input_shape[-1])
    x_train, y_train = _load_split(train_path, vocab, imdb_cfg)
    x_test, y_test = _load_split(test_path, vocab, imdb_cfg)
    names = word_names(word_index_path, vocab, imdb_cfg["index_from"])
    res = compute_gradients(model, x_train, y_train, x_test, y_test, names,
                            imdb_cfg["index_from"], batch_size)
    log.info("Spearman(ḡ train, ḡ test): %s", res["summary"]["spearman_train_test"])
    save_npz(Path(outputs["gbar"]), res["arrays"])
    save_npz(Path(outputs["scores"]), res["scores"])
    write_csv(outputs["table"], res["frame"])
    write_json(Path(outputs["summary"]), res["summary"])
    log_to_runs(run_id_file, tracking_uri, [run_id_file],
                [outputs[k] for k in ("gbar", "table", "summary")], "attributions",
                metrics={f"gbar_spearman_train_test_{k}": v
                         for k, v in res["summary"]["spearman_train_test"].items()})
    return res["summary"]


def table2_stage(table_path, summary_path, run_id_file, top_k: int, paper_words: dict,
                 outputs: dict, tracking_uri=None) -> pd.DataFrame:
    """Rule table2_words: Table 2 as tidy CSV and Markdown."""

    frame = pd.read_csv(table_path, keep_default_na=False, na_values=[])
    summary = json.loads(Path(summary_path).read_text())
    table = table2(frame, top_k, paper_words)
    write_csv(outputs["csv"], table)
    write_text(outputs["md"], table2_markdown(table, summary))
    log_to_runs(run_id_file, tracking_uri, [run_id_file], [outputs["csv"], outputs["md"]],
                "tables")
    return table


def agreement_stage(scores_path, run_id_file, output, tracking_uri=None) -> dict:
    """Rule bow_linear_agreement: the linear rules vs the network, as JSON."""

    with np.load(scores_path) as f:
        scores = {k: f[k] for k in f.files}
    result = linear_agreement(scores)
    write_json(Path(output), result)
    log_to_runs(run_id_file, tracking_uri, [run_id_file], [output], "tables", metrics={
        "bow_linear_agreement_t0": result["paper_rule_agreement_test"],
        "bow_linear_agreement_fitted": result["fitted_rule_agreement_test"]})
    log.info("linear agreement: t=0 %.4f, fitted t=%.4g %.4f", result["paper_rule_agreement_test"],
             result["fitted_threshold"], result["fitted_rule_agreement_test"])
    return result


def figure_stage(table_path, scores_path, agreement_path, run_id_file, style: dict,
                 outputs: dict, tracking_uri=None) -> None:
    """Rule imdb_bow_mean_gradient: the figure, from saved tables/arrays only."""

    frame = pd.read_csv(table_path, keep_default_na=False, na_values=[])
    with np.load(scores_path) as f:
        scores = {k: f[k] for k in f.files}
    agreement = json.loads(Path(agreement_path).read_text())
    fig = plot_mean_gradient(frame, scores, agreement, style)
    save_figure(fig, outputs["png"], outputs["pdf"], dpi=style["dpi"])
    log_to_runs(run_id_file, tracking_uri, [run_id_file], [outputs["png"], outputs["pdf"]],
                "figures")
