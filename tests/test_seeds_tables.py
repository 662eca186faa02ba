"""Golden outputs of every section's across-seed (`*_seeds`) tables: the CSV bytes (as
the stages write them) and the Markdown of small synthetic per-seed inputs, captured from the
code before the tables shared `core.seeds` (then, deliberately, without the k-of-K counts that
moved to the report's claims: anomaly `seeds_better`, imdb_cnn `share_first`/`share_top3`,
imdb_bow `in_top_k`, the checks' "same order in k of K"). A refactor must keep them byte for
byte.

Regenerate (only for a deliberate change of an output):
    PYTHONPATH=src python tests/test_seeds_tables.py
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from inputgrad.sections.anomaly import tables as anomaly
from inputgrad.sections.checks import tables as checks
from inputgrad.sections.imdb_bow import tables as imdb_bow
from inputgrad.sections.imdb_cnn import tables as imdb_cnn
from inputgrad.sections.mnist import tables as mnist
from inputgrad.sections.sensitivity import tables as sensitivity
from inputgrad.sections.text_faithfulness import tables as text

GOLDEN = Path(__file__).parent / "data" / "seeds_golden"
SEED_SETS = {"one": [7], "three": [0, 4, 9], "five": [0, 1, 2, 3, 4]}


def _csv(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue()


def _value(seed: int, i: int = 0) -> float:
    """A deterministic number per seed and item, with some spread."""
    return round(0.3 + 0.1 * ((seed * 7 + i * 3) % 5) + 0.01 * i, 4)


# ----------------------------------------------------------------------------- anomaly

def _anomaly(seeds):
    def detection(seed):
        return pd.DataFrame([
            {"model": model, "detector": det, "shifted_set": shifted, "synthetic": synthetic,
             "auroc": _value(seed, i) + (0.3 if det == "gradient_logit" else 0.0),
             "fpr95": 1 - _value(seed, i), "n_in": 5, "n_shifted": 5}
            for i, (model, det, shifted, synthetic) in enumerate([
                ("mnist_mlp", "msp", "uniform_noise", True),
                ("mnist_mlp", "msp", "sklearn_digits", False),
                ("mnist_mlp", "gradient_logit", "uniform_noise", True),
                ("mnist_mlp", "gradient_logit", "sklearn_digits", False),
                ("imdb_cnn", "msp", "random_tokens", True)])])

    def deletion(seed):
        rows = []
        for model, method, groups in (("mnist_mlp", "gradient", (("pixel", 1), ("patch", 4))),
                                      ("imdb_cnn", "random", (("word", 1), ("window", 3)))):
            for j, (grouping, size) in enumerate(groups):
                drop = _value(seed, j + len(rows))
                rows += [{"model": model, "method": method, "grouping": grouping,
                          "group_size": size, "removed": k, "mean_probability": p, "n": 5}
                         for k, p in ((0, 1.0), (16, drop))]
        return pd.DataFrame(rows)

    values = anomaly.seed_values({s: detection(s) for s in seeds},
                                 {s: deletion(s) for s in seeds})
    table = anomaly.anomaly_seeds_table(values)
    return {"anomaly_seeds.csv": _csv(table), "anomaly_seeds.md": anomaly.anomaly_seeds_markdown(
        table)}


# ----------------------------------------------------------------------------- checks

def _checks(seeds):
    methods = ["gradient", "gradient_x_input", "integrated_gradients", "smoothgrad", "random"]
    deletion = {s: {"aoc": {m: _value(s, i) for i, m in enumerate(methods)},
                    "ig_completeness_gap": {"mean_abs": _value(s, 9) / 10}} for s in seeds}
    sanity = {s: {"spearman_abs_gradient_mean": _value(s, 5) - 0.5,
                  "spearman_abs_gradient_x_input_mean": _value(s, 6)} for s in seeds}
    table = checks.checks_seeds_table(checks.seed_values(deletion, sanity))
    return {"checks_seeds.csv": _csv(table), "checks_seeds.md": checks.checks_seeds_markdown(table)}


# ----------------------------------------------------------------------------- imdb_bow

def _gbar_frame(values):
    g = np.array([100.0, *values])
    names = ["<pad>", *(f"w{i}" for i in range(1, len(g)))]
    x = np.ones((2, len(g)), np.float32)
    gbars = {k: g for k in ("test_probability", "test_logit", "train_probability", "train_logit")}
    return imdb_bow.gbar_frame(gbars, names, x, x, index_from=0)


def _imdb_bow(seeds):
    paper = {"w1": "positive", "w3": "positive", "w5": "negative", "absent": "positive"}
    base = [5, 4, 3, -1, -2, -3]
    frames = {s: _gbar_frame([v * (1 + 0.1 * ((s + i) % 3)) * (-1 if (s + i) % 4 == 3 else 1)
                              for i, v in enumerate(base)]) for s in seeds}
    words = {s: imdb_bow.table2(frames[s], 2, paper) for s in seeds}
    agreements = {s: {"paper_rule_agreement_test": _value(s, 1),
                      "fitted_rule_agreement_test": _value(s, 2),
                      "fitted_threshold": _value(s, 3) - 0.5} for s in seeds}
    accuracies = {s: _value(s, 4) for s in seeds}
    table = imdb_bow.table2_seeds(words, agreements, accuracies, paper)
    pairs = imdb_bow.table2_seeds_pairs(frames, "gbar_test_probability", 2)
    return {"table2_seeds.csv": _csv(table), "table2_seeds_pairs.csv": _csv(pairs),
            "table2_seeds.md": imdb_bow.table2_seeds_markdown(table, pairs)}


# ----------------------------------------------------------------------------- imdb_cnn

def _imdb_cnn(seeds):
    occurrences = [("lack of credibility", "r1", 0, 3, "seen", 5),
                   ("lack of credibility", "r2", 1, 0, "truncated", 6),
                   ("ape was good", "r3", 1, 4, "seen", 8)]
    rows = []
    for s in seeds:
        for i, (phrase, review, label, position, status, seen) in enumerate(occurrences):
            for j, measure in enumerate(imdb_cnn.MEASURES):
                rank = (np.nan if status == "truncated"
                        else float(1 + (s * 3 + i + j) % seen))
                rows.append({"phrase": phrase, "review_id": review, "label": label,
                             "phrase_position": position, "status": status,
                             "words_seen": seen, "measure": measure, "seed": s, "rank": rank,
                             "percentile": rank / seen, "random_rank": (seen + 1) / 2,
                             "random_percentile": (seen + 1) / (2 * seen),
                             "top_expression": f"w{s} w{i} w{j}", "top_position": (s + j) % 4})
    table = imdb_cnn.table1_seeds(rows)
    if len(seeds) < 2:
        pairs = pd.DataFrame([{"seed_a": seeds[0], "seed_b": pd.NA, "reviews": pd.NA,
                               "same_top_share": np.nan, "spearman_reviews": pd.NA,
                               "spearman_mean": np.nan, "spearman_median": np.nan,
                               "note": f"single seed ({seeds[0]}): no pair of seeds to compare"}])
    else:
        pairs = pd.DataFrame([{"seed_a": a, "seed_b": b, "reviews": 10,
                               "same_top_share": _value(a + b, 1),
                               "spearman_reviews": 9, "spearman_mean": _value(a * b, 2),
                               "spearman_median": _value(a, b), "note": ""}
                              for k, a in enumerate(seeds) for b in seeds[k + 1:]])
    cfg = {"seeds": seeds, "model": {"maxlen": 6},
           "attribution": {"rank_by": "probability", "window": 3,
                           "table": {"paper_phrases": ["lack of credibility", "ape was good",
                                                       "not there"]}}}
    return {"table1_seeds.csv": _csv(table),
            "table1_seeds.md": imdb_cnn.seeds_markdown(table, pairs, cfg, 10)}


# ----------------------------------------------------------------------------- mnist

def _mnist(seeds):
    rng = np.random.default_rng(11)
    noise = rng.normal(size=(10, 784))
    mlp, logreg, weights = [], [], []
    for i, s in enumerate(seeds):
        w = rng.normal(size=(10, 784))
        mlp.append({"probability": w + 0.5 * noise, "logit": w + (-1) ** i * noise,
                    "probability_class": 2 * w + 1, "logit_class": -w, "n": np.int64(7),
                    "accuracy": np.float64(_value(s, 1))})
        logreg.append({"probability": 3 * w + noise, "logit": w, "n": np.int64(7),
                       "accuracy": np.float64(_value(s, 2))})
        weights.append({"weights": w, "bias": np.zeros(10)})
    table = mnist.seeds_table(seeds, mlp, logreg, weights)
    return {"mnist_seeds.csv": mnist.table_csv(table),  # as the stage writes it
            "mnist_seeds.md": mnist.seeds_markdown(table)}


# ----------------------------------------------------------------------------- sensitivity

def _sensitivity(seeds):
    taylor, robustness, flips, subs = {}, {}, {}, {}
    for s in seeds:
        taylor[s] = {"models": {m: {"eps_at_threshold": {
            "logit": {"random": {"eps": _value(s, i) / 10, "status": "crossed"},
                      "gradient": ({"eps": None, "status": "never"} if m == "mnist_logreg"
                                   else {"eps": _value(s, i + 1) / 100, "status": "crossed"})},
            "probability": {"random": {"eps": None, "status": "below_grid"} if s % 2 else
                            {"eps": _value(s, i + 2), "status": "crossed"}}}}
            for i, m in enumerate(("mnist_mlp", "mnist_logreg"))}}
        robustness[s] = {"accuracy_at_report_eps": {
            "mnist_mlp": {"fgsm": _value(s, 1), "pgd": _value(s, 2) - 0.2},
            "mnist_logreg": {"fgsm": _value(s, 3), "pgd": 0.1}}}
        flips[s] = {"gradient": {"median": 3.0 + s, "share_within_budget": _value(s, 4)},
                    "random": {"median": None if s % 2 == 0 else 40.0 + s,
                               "share_within_budget": _value(s, 5) - 0.3}}
        subs[s] = {st: {"share_within": {"1": _value(s, 6), "5": _value(s, 7)}}
                   for st in sensitivity.STRATEGIES}
    table = sensitivity.sensitivity_seeds_table(
        sensitivity.seed_values(taylor, robustness, flips, subs))
    settings = {"threshold": 0.1, "report_eps": 0.1, "flip_budget": 50}
    return {"sensitivity_seeds.csv": _csv(table),
            "sensitivity_seeds.md": sensitivity.sensitivity_seeds_markdown(table, settings)}


# ----------------------------------------------------------------------------- text faithfulness

def _text(seeds):
    summaries, agreements, sanities = [], [], []
    methods = ["gradient_norm", "occlusion", "lime", "random"]
    for s in seeds:
        for model, removals in (("imdb_cnn", ["oov", "padding"]), ("imdb_bow_mlp", ["absent"])):
            rows = [{"model": model, "seed": s, "method": m, "removal": r, "metric": metric,
                     "mean": _value(s, i + 2 * k + 3 * j)}
                    for i, m in enumerate(methods) for k, r in enumerate(removals)
                    for j, metric in enumerate(text.METRICS)]
            for row in rows:  # the 95 % interval over reviews: half-width 0.01 * (seed + 1)
                row["ci_low"], row["ci_high"] = (row["mean"] - 0.01 * (s + 1),
                                                 row["mean"] + 0.01 * (s + 1))
            rows.append({"model": model, "seed": s, "method": "integrated_gradients",
                         "removal": "none", "metric": "completeness_gap_abs",
                         "mean": _value(s, 8) / 10})
            summaries.append(pd.DataFrame(rows))
            agreements.append(pd.DataFrame([
                {"model": model, "seed": s, "method_a": a, "method_b": b, "measure": measure,
                 "mean": _value(s, i + j)}
                for i, (a, b) in enumerate([("gradient_norm", "occlusion"), ("lime", "occlusion"),
                                            ("occlusion", "random")])
                for j, measure in enumerate(("spearman", "abs_spearman", "top_overlap"))]))
            sanities.append(pd.DataFrame([{"model": model, "seed": s, "method": m,
                                           "measure": "spearman", "mean": _value(s, i) - 0.4}
                                          for i, m in enumerate(methods[:2])]))
    table = text.seeds_table(text.seed_values(summaries, agreements, sanities))
    cfg = {"attribution": {"aopc_percents": [10, 20], "removals": ["oov", "padding"],
                           "sample": {"cnn_reviews": 8, "bow_reviews": 9},
                           "agreement": {"headline": ["gradient_norm", "occlusion"],
                                         "top_percent": 20},
                           "sanity": {"reviews": 4}}}
    return {"text_faithfulness_seeds.csv": _csv(table),
            "text_faithfulness_seeds.md": text.seeds_markdown(table, cfg)}


SECTIONS = {"anomaly": _anomaly, "checks": _checks, "imdb_bow": _imdb_bow,
            "imdb_cnn": _imdb_cnn, "mnist": _mnist, "sensitivity": _sensitivity,
            "text_faithfulness": _text}


def outputs(section: str, seeds_name: str) -> dict[str, str]:
    return SECTIONS[section](SEED_SETS[seeds_name])


@pytest.mark.parametrize("seeds_name", list(SEED_SETS))
@pytest.mark.parametrize("section", list(SECTIONS))
def test_seeds_tables_match_golden_bytes(section, seeds_name):
    for name, text_out in outputs(section, seeds_name).items():
        path = GOLDEN / seeds_name / name
        assert text_out.encode() == path.read_bytes(), f"{seeds_name}/{name} differs"


def test_text_precision_gives_each_seed_its_half_width_and_rank():
    """Hand-made: two methods, two seeds; the second swaps places on seed 1."""
    rows = [{"model": "imdb_cnn", "seed": s, "method": m, "removal": "oov", "metric": metric,
             "mean": mean, "ci_low": mean - h, "ci_high": mean + h}
            for s, means in ((0, {"a": 0.5, "b": 0.3}), (1, {"a": 0.2, "b": 0.4}))
            for m, mean in means.items() for metric in text.METRICS
            for h in [0.01 if m == "a" else 0.03]]
    table = text.seeds_table(text.seed_values([pd.DataFrame(rows)], [], []))
    md = text.precision_markdown(table, "imdb_cnn", "oov").splitlines()
    a = next(line for line in md if line.startswith("| a "))
    assert "0.010 / 0.010" in a and "1 / 2" in a and "| no " in a
    b = next(line for line in md if line.startswith("| b "))
    assert "0.030 / 0.030" in b and "2 / 1" in b


if __name__ == "__main__":
    for seeds_name in SEED_SETS:
        for section in (sys.argv[1:] or SECTIONS):
            for name, text_out in outputs(section, seeds_name).items():
                path = GOLDEN / seeds_name / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(text_out.encode())
                print("wrote", path)
