"""The maths of Sec. 5.2: bag-of-words vectors, ḡ in one gradient pass, the ranks of words by
ḡ, the scores x·ḡ, the linear rules "positive iff x·ḡ > t", and the comparison of ḡ between
seeds (arrays and per-word frames in, numbers out)."""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from ...core.stats import probability_scale, spearman
from ...data.encodings import RESERVED_NAMES, bag_of_words, reserved_ids, reviews_bow, word_names  # noqa: F401  (shared: data.encodings)

log = logging.getLogger(__name__)

# ḡ variants: which split it is averaged over, and the differentiated output.
GBARS = ("test_probability", "test_logit", "train_probability", "train_logit")
# the variants whose per-review scores x·ḡ the linear rules use
SCORED = ("test_probability", "test_logit", "train_probability")


# ---------------------------------------------------------------- bag of words

def eligible_words(names: list[str], x_train: np.ndarray, index_from: int) -> np.ndarray:
    """The words that can be ranked: not reserved, present in the word index, and seen in at
    least one training review (otherwise ḡ_j only reflects initial weights)."""
    ids = np.arange(len(names))
    return (ids > index_from) & (np.asarray(names) != "") & (x_train.sum(axis=0) > 0)


# ---------------------------------------------------------------- ḡ

def mean_gradients(f, x: np.ndarray, batch_size: int = 500) -> dict[str, np.ndarray]:
    """ḡ of the logit and of the predicted probability sigmoid(logit), plus every logit, in
    ONE gradient pass: d sigmoid(z)/dx = p (1 - p) dz/dx per review (exact chain rule).

    Equals `core.gradients.mean_gradient(f, x, "probability"|"logit", classes=0)` (tested).
    """
    from ...core.gradients import gradient_batches  # TensorFlow: only the rules that need it

    sum_logit = np.zeros(x.shape[1:], np.float64)
    sum_prob = np.zeros(x.shape[1:], np.float64)
    logits = np.empty(len(x), np.float32)
    for rows, grads, outs in gradient_batches(f, x, output="logit", classes=0,
                                              batch_size=batch_size):
        sum_logit += grads.sum(axis=0, dtype=np.float64)
        # p (1 - p) in float64, then float32 BLAS within a batch (a float64 product costs ~4x
        # the gradient pass itself), float64 across batches
        sum_prob += probability_scale(outs[:, 0]).astype(np.float32) @ grads
        logits[rows] = outs[:, 0]
    return {"logit": sum_logit / len(x), "probability": sum_prob / len(x), "logits": logits}


def split_gbars(f, x_test: np.ndarray, x_train: np.ndarray, batch_size: int) -> dict:
    """The four ḡ variants (GBARS), the logits per split, and the seconds per split's pass
    (wall clock: a metric to log, never part of a result file)."""
    gbars, logits, seconds = {}, {}, {}
    for split, x in (("test", x_test), ("train", x_train)):
        start = time.time()
        out = mean_gradients(f, x, batch_size)
        seconds[split] = time.time() - start
        log.info("ḡ over %d %s reviews in %.1f s", len(x), split, seconds[split])
        gbars[f"{split}_probability"], gbars[f"{split}_logit"] = out["probability"], out["logit"]
        logits[split] = out["logits"]
    return {"gbars": gbars, "logits": logits, "seconds": seconds}


def gbar_summary(gbars: dict[str, np.ndarray], eligible: np.ndarray, n_test: int,
                 n_train: int) -> dict:
    """Counts and the Spearman correlations of ḡ (train vs test; probability vs logit) over
    the eligible words."""
    ok = eligible
    return {
        "vocab_size": len(eligible), "eligible_words": int(ok.sum()),
        "n_test": n_test, "n_train": n_train,
        "spearman_train_test": {
            out: spearman(gbars[f"train_{out}"][ok], gbars[f"test_{out}"][ok])
            for out in ("probability", "logit")},
        "spearman_probability_logit_test": spearman(gbars["test_probability"][ok],
                                                    gbars["test_logit"][ok]),
    }


def review_scores(gbars: dict[str, np.ndarray], logits: dict[str, np.ndarray],
                  splits: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, np.ndarray]:
    """Per review of each split (name -> (x, y)): the logit, the label and the scores x·ḡ
    for the linear rules (the reserved columns of x are 0)."""
    scores = {}
    for split, (x, y) in splits.items():
        scores[f"{split}_logit"] = logits[split]
        scores[f"{split}_label"] = np.asarray(y).astype(np.int8).ravel()
        for key in SCORED:
            scores[f"{split}_score_{key}"] = x @ gbars[key].astype(np.float32)
    return scores


# ---------------------------------------------------------------- ranks

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
    """Agreement with the network (logit > 0) and accuracy of the rule x·ḡ > threshold."""
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
    for gbar in SCORED:
        train_pred = (scores["train_logit"] > 0).astype(np.int8)
        fitted, _ = fit_threshold(scores[f"train_score_{gbar}"], train_pred)
        zero = [("zero", 0.0)] if gbar != "train_probability" else []
        for source, t in zero + [("fitted_on_train", fitted)]:
            rules.append({"name": f"{gbar}/{source}", "gbar": gbar, "threshold_source": source,
                          "threshold": t, **evaluate_rule(scores, gbar, t)})
    by_name = {r["name"]: r for r in rules}
    fitted_rule = by_name["test_probability/fitted_on_train"]
    return {
        "definition": "rule: positive iff x·ḡ > threshold; agreement = share of reviews where "
                      "the rule's class equals the network's predicted class (logit > 0); "
                      "accuracy = against true labels; fitted threshold maximises agreement "
                      "with the network on the training set",
        "n_test": int(len(scores["test_label"])), "n_train": int(len(scores["train_label"])),
        "network": net,
        "paper_rule_agreement_test": by_name["test_probability/zero"]["agreement_test"],
        "fitted_threshold": fitted_rule["threshold"],
        "fitted_rule_agreement_test": fitted_rule["agreement_test"],
        "rules": rules,
    }


# ---------------------------------------------------------------- seeds

def top_words(frame: pd.DataFrame, column: str, k: int) -> tuple[set, set]:
    """(top-k positive, top-k negative) word ids by ḡ among eligible words."""
    words = side_ranks(frame, column)
    pos = set(words.loc[words["rank_positive"] <= k, "word_id"])
    neg = set(words.loc[words["rank_negative"] <= k, "word_id"])
    return pos, neg


def overlap(a: set, b: set, k: int) -> float:
    """Share of the top-k set in common (NaN if either set is empty)."""
    size = min(k, len(a), len(b))
    return len(a & b) / size if size else float("nan")


def compare_seeds(frame_a: pd.DataFrame, frame_b: pd.DataFrame, tops_a, tops_b, column: str,
                  top_k: int) -> dict:
    """Spearman of ḡ over the words eligible in both seeds, and the overlaps of the top
    positive / negative word sets (tops_*: `top_words` of each seed)."""
    fa, fb = frame_a.set_index("word_id"), frame_b.set_index("word_id")
    ok = fa["eligible"] & fb["eligible"].reindex(fa.index, fill_value=False)
    return {"n_words": int(ok.sum()),
            "spearman_gbar": spearman(fa.loc[ok, column], fb.loc[ok, column]),
            "top_positive_overlap": overlap(tops_a[0], tops_b[0], top_k),
            "top_negative_overlap": overlap(tops_a[1], tops_b[1], top_k)}
