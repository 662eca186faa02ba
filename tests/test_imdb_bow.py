"""Paper 5.2 section logic: bag of words, ḡ, Table 2, linear agreement, Table 2 across seeds
(fast, real Keras)."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from inputgrad.core import gradients
from inputgrad.core.models import build
from inputgrad.core.seeding import seed_everything
from inputgrad.core.stats import spearman
from inputgrad.infra.errors import ConfigError, DataError
from inputgrad.infra.io import load_npz
from inputgrad.sections.imdb_bow import stages, tables
from inputgrad.sections.imdb_bow.compute import (
    bag_of_words,
    fit_threshold,
    linear_agreement,
    mean_gradients,
    side_ranks,
    word_names,
)
from inputgrad.sections.imdb_bow.tables import gbar_frame, table2, table2_markdown


def test_bag_of_words_hand_made():
    # review 0: ids 4 4 7 2(oov) 0(pad) ; review 1: empty ; review 2: 3(unused) 9 1(start) 12(>=V)
    word_ids = np.array([4, 4, 7, 2, 0, 3, 9, 1, 12], np.int32)
    offsets = np.array([0, 5, 5, 9])
    x = bag_of_words(word_ids, offsets, vocab_size=10, index_from=3)
    expected = np.zeros((3, 10), np.float32)
    expected[0, [4, 7]] = 1
    expected[2, 9] = 1
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x, expected)


def _model(hidden, vocab=12, seed=0):
    seed_everything(seed)
    model = build({"name": "imdb_bow_mlp", "vocab_size": vocab, "hidden": hidden, "dropout": 0.5})
    # non-trivial weights everywhere (a fresh bias is 0)
    for w in model.weights:
        w.assign(np.random.default_rng(seed).normal(0, 0.5, w.shape).astype("float32"))
    return model


def _binary_x(n=7, vocab=12, seed=1):
    return (np.random.default_rng(seed).random((n, vocab)) < 0.4).astype(np.float32)


def test_logistic_regression_logit_gbar_is_the_weight_vector():
    model = _model(hidden=[])
    x = _binary_x()
    out = mean_gradients(model, x, batch_size=3)
    w = model.get_layer("logit").kernel.numpy()[:, 0]
    np.testing.assert_array_equal(out["logit"].astype(np.float32), w)
    np.testing.assert_allclose(gradients.mean_gradient(model, x, "logit", classes=0), w, rtol=0,
                               atol=0)


def test_one_pass_gbars_match_primitive_and_finite_differences():
    model = _model(hidden=[8, 4])
    x = _binary_x()
    out = mean_gradients(model, x, batch_size=3)
    for target in ("logit", "probability"):
        np.testing.assert_allclose(out[target],
                                   gradients.mean_gradient(model, x, target, classes=0),
                                   rtol=1e-5, atol=1e-8)
        fd = gradients.finite_difference(model, x, output=target, eps=1e-3)[:, 0].mean(axis=0)
        np.testing.assert_allclose(out[target], fd, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(out["logits"], model(x).numpy()[:, 0], rtol=1e-6)


def test_fit_threshold_and_agreement_hand_made():
    scores = np.array([-2.0, -1.0, 0.5, 1.0, 3.0, 3.0])
    target = np.array([0, 0, 0, 1, 1, 1])
    t, agree = fit_threshold(scores, target)
    assert agree == 1.0 and t == pytest.approx(0.75)
    # a cut between the tied 1.0 scores is not allowed: best is 3/4, at 0.5 or 1.5
    t, agree = fit_threshold(np.array([0.0, 1.0, 1.0, 2.0]), np.array([0, 1, 0, 1]))
    assert agree == pytest.approx(0.75) and t in (0.5, 1.5)
    # all one class: the cut at -inf (everything positive) wins
    t, agree = fit_threshold(np.array([-1.0, 2.0]), np.array([1, 1]))
    assert agree == 1.0 and t == -np.inf

    s = {  # 4 test reviews, 4 train reviews; the network's class is logit > 0
        "test_logit": np.array([2.0, -1.0, 0.5, -3.0]),
        "test_label": np.array([1, 0, 0, 1], np.int8),
        "train_logit": np.array([1.0, 1.0, -1.0, -1.0]),
        "train_label": np.array([1, 1, 0, 0], np.int8),
    }
    for g in ("test_probability", "test_logit", "train_probability"):
        s[f"test_score_{g}"] = np.array([0.3, 0.2, -0.1, -0.4])
        s[f"train_score_{g}"] = np.array([0.5, 0.4, 0.3, 0.1])
    res = linear_agreement(s)
    # t = 0 on test: rule 1 1 0 0 vs network 1 0 1 0 -> 2/4; vs labels 1 0 0 1 -> 2/4
    paper = res["rules"][0]
    assert paper["name"] == "test_probability/zero"
    assert paper["agreement_test"] == 0.5 and paper["accuracy_test"] == 0.5
    assert res["paper_rule_agreement_test"] == 0.5
    # fitted on train: cut between 0.3 and 0.4 -> t = 0.35; test rule 0 0 0 0 -> agreement 2/4
    assert res["fitted_threshold"] == pytest.approx(0.35)
    fitted = res["rules"][1]
    assert fitted["agreement_train"] == 1.0 and fitted["agreement_test"] == 0.5
    assert res["network"]["accuracy_test"] == 0.5 and res["network"]["accuracy_train"] == 1.0


def test_spearman_matches_definition():  # the core.stats copy this section ranks ḡ with
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert spearman(a, a ** 3) == pytest.approx(1.0)
    assert spearman(a, -a) == pytest.approx(-1.0)
    # ties get average ranks: ranks (1, 2.5, 2.5, 4) vs (1, 2, 3, 4)
    r = spearman([1, 2, 2, 3], [1, 2, 3, 4])
    assert r == pytest.approx(np.corrcoef([1, 2.5, 2.5, 4], [1, 2, 3, 4])[0, 1])


def test_table2_ranks_and_exclusions():
    names = ["<pad>", "<start>", "<oov>", "<unused>", "great", "worst", "plot", "waste", "never",
             "excellent"]
    g = np.array([9.0, 9, 9, 9, 0.5, -0.7, 0.01, -0.2, 5.0, 0.3])  # reserved ids: large, ignored
    x_train = np.ones((2, 10), np.float32)
    x_train[:, 8] = 0  # "never" never seen in training: not ranked despite its large ḡ
    x_test = np.zeros((4, 10), np.float32)
    x_test[:2, 4] = 1
    gbars = {k: g for k in ("test_probability", "test_logit", "train_probability", "train_logit")}
    frame = gbar_frame(gbars, names, x_test, x_train, index_from=3)
    assert list(frame.loc[frame["eligible"], "word"]) == ["great", "worst", "plot", "waste",
                                                          "excellent"]
    ranks = side_ranks(frame, "gbar_test_probability").set_index("word")
    assert ranks.loc["great", "rank_overall"] == 1 and ranks.loc["worst", "rank_overall"] == 5
    assert ranks.loc["waste", "rank_negative"] == 2 and pd.isna(ranks.loc["waste", "rank_positive"])
    paper = {"excellent": "positive", "great": "positive", "worst": "negative",
             "waste": "negative", "plot": "negative", "absent": "positive"}
    t = table2(frame, top_k=2, paper_words=paper)
    top_pos = t[t["section"] == "top_positive"]
    assert list(top_pos["word"]) == ["great", "excellent"] and list(top_pos["rank"]) == [1, 2]
    assert list(t[t["section"] == "top_negative"]["word"]) == ["worst", "waste"]
    pw = t[t["section"] == "paper_word"].set_index("word")
    assert pw.loc["great", "test_doc_share"] == 0.5
    assert pw.loc["excellent", "rank"] == 2 and pw.loc["worst", "rank"] == 1
    assert pd.isna(pw.loc["plot", "rank"]) and not pw.loc["plot", "sign_agrees"]
    assert pd.isna(pw.loc["absent", "rank"])
    md = table2_markdown(t)
    assert "great" in md and "<oov>" not in md and "never" not in md
    with pytest.raises(ConfigError, match="paper_words.great"):
        table2(frame, 2, {"great": "good"})


def test_word_names_hand_made():
    names = word_names({"the": 1, "good": 2, "rare": 40}, vocab_size=7, index_from=3)
    assert names == ["<pad>", "<start>", "<oov>", "<unused>", "the", "good", ""]


def _write_reviews(path, n, vocab, seed):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, 9, n)
    word_ids = rng.integers(2, vocab + 2, lengths.sum()).astype(np.int32)  # OOV and ids >= V too
    np.savez(path, word_ids=word_ids, token_idx=np.zeros_like(word_ids),
             offsets=np.concatenate([[0], np.cumsum(lengths)]), review_id=np.arange(n),
             rating=np.ones(n, np.int8), label=(np.arange(n) % 2).astype(np.int8))


def test_stages_write_outputs_and_return_metrics(tmp_path):
    """The rules' functions chained on tiny files in the real formats: every output is written,
    metrics are returned (timings only there: no clock in result files)."""
    from inputgrad.infra.config import compose

    cfg = compose(Path(__file__).parents[1] / "config" / "hydra", "imdb_bow_mlp",
                  profile="smoke")
    vocab = 12
    imdb = {**cfg["data"]["imdb"], "num_words": vocab}
    for split, seed in (("train", 0), ("test", 1)):
        _write_reviews(tmp_path / f"{split}.npz", 20, vocab, seed)
    (tmp_path / "word_index.json").write_text(json.dumps({f"w{r}": r for r in range(1, 30)}))
    _model(hidden=[4], vocab=vocab).save(tmp_path / "model.keras")
    inputs = {"model": str(tmp_path / "model.keras"), "train": str(tmp_path / "train.npz"),
              "test": str(tmp_path / "test.npz"), "word_index": str(tmp_path / "word_index.json")}
    gbar = {k: str(tmp_path / f"imdb_bow_gbar.{k}") for k in ("npz", "csv", "json")}
    gbar["scores"] = str(tmp_path / "imdb_bow_gbar_scores.npz")
    metrics = stages.imdb_bow_gbar(inputs, gbar, {"cfg": {"data": {"imdb": imdb},
                                                         "attribution": {"batch_size": 8}}})
    assert set(metrics) == {"gbar_spearman_train_test_probability",
                            "gbar_spearman_train_test_logit", "gradient_seconds_test",
                            "gradient_seconds_train"}
    summary = json.loads(Path(gbar["json"]).read_text())
    assert "gradient_seconds" not in summary and summary["vocab_size"] == vocab
    assert summary["spearman_train_test"]["logit"] == metrics["gbar_spearman_train_test_logit"]
    assert set(load_npz(gbar["npz"])) == {"word_id", "gbar_test_probability", "gbar_test_logit",
                                          "gbar_train_probability", "gbar_train_logit"}
    assert len(load_npz(gbar["scores"])["test_logit"]) == 20

    tables = {"csv": str(tmp_path / "table2_words.csv"), "md": str(tmp_path / "table2_words.md")}
    stages.table2_words({"csv": gbar["csv"], "json": gbar["json"]}, tables,
                        {"cfg": {"attribution": {"top_k": 2, "paper_words": {"w1": "positive"}}}})
    assert "Spearman correlation" in Path(tables["md"]).read_text()
    agreement = str(tmp_path / "bow_linear_agreement.json")
    metrics = stages.bow_linear_agreement({"scores": gbar["scores"]}, {"json": agreement}, {})
    assert metrics["bow_linear_agreement_t0"] == json.loads(
        Path(agreement).read_text())["paper_rule_agreement_test"]
    figure = {k: str(tmp_path / f"imdb_bow_gbar_figure.{k}") for k in ("png", "pdf")}
    figure_inputs = {"csv": gbar["csv"], "scores": gbar["scores"], "agreement": agreement}
    stages.imdb_bow_gbar_figure(figure_inputs, figure, {"cfg": {"figure": cfg["figure"]}})
    assert all(Path(p).stat().st_size > 0 for p in figure.values())


# ---------------------------------------------------------------- across seeds

# ḡ of words w1..w6 in three seeds; ranks (6 = largest): seed 0: 6 5 4 3 2 1, seed 1: 5 6 3 4 1 2,
# seed 2: 6 3 5 4 2 1
SEED_GBARS = {0: [5, 4, 3, -1, -2, -3], 1: [4, 5, -1, 3, -3, -2], 2: [5, -1, 4, 3, -2, -3]}


def seed_frame(values, names=None):
    """A per-word ḡ table in the real format; word 0 is reserved with a huge ḡ that must be
    ignored."""
    g = np.array([100.0, *values])
    names = names or ["<pad>", *(f"w{i}" for i in range(1, len(g)))]
    x = np.ones((2, len(g)), np.float32)
    gbars = {k: g for k in ("test_probability", "test_logit", "train_probability", "train_logit")}
    return gbar_frame(gbars, names, x, x, index_from=0)


def test_table2_seeds_pairs_two_seeds_hand_case():
    frames = {s: seed_frame(SEED_GBARS[s]) for s in (0, 1)}
    pairs = tables.table2_seeds_pairs(frames, "gbar_test_probability", top_k=2)
    assert len(pairs) == 1
    row = pairs.iloc[0]
    assert (row["seed_a"], row["seed_b"]) == (0, 1)
    # ranks 6 5 4 3 2 1 vs 5 6 3 4 1 2: sum d^2 = 6, rho = 1 - 6 * 6 / (6 * 35)
    assert row["spearman_gbar"] == pytest.approx(1 - 36 / 210)
    assert row["top_positive_overlap"] == 1.0  # {w1, w2} both times
    assert row["top_negative_overlap"] == 1.0  # {w5, w6} both times
    assert row["n_words"] == 6 and row["top_k"] == 2


def test_table2_seeds_pairs_three_seeds_gives_every_pair():
    frames = {s: seed_frame(v) for s, v in SEED_GBARS.items()}
    pairs = tables.table2_seeds_pairs(frames, "gbar_test_probability", 2)
    assert list(zip(pairs["seed_a"], pairs["seed_b"], strict=True)) == [(0, 1), (0, 2), (1, 2)]
    pair02 = pairs.iloc[1]
    assert pair02["top_positive_overlap"] == 0.5  # {w1, w2} vs {w1, w3}
    assert pair02["top_negative_overlap"] == 1.0
    # ranks 6 5 4 3 2 1 vs 6 3 5 4 2 1: sum d^2 = 4 + 1 + 1 = 6
    assert pair02["spearman_gbar"] == pytest.approx(1 - 36 / 210)
    # a word not eligible in one seed leaves the comparison of that pair
    frames[2].loc[frames[2]["word"] == "w6", "eligible"] = False
    pairs = tables.table2_seeds_pairs(frames, "gbar_test_probability", 2)
    assert list(pairs["n_words"]) == [6, 5, 5]


def test_table2_seeds_pairs_one_seed_has_no_pairs_and_errors_name_the_key():
    pairs = tables.table2_seeds_pairs({7: seed_frame([1, -1, 2])}, "gbar_test_probability", 20)
    assert pairs.empty and list(pairs.columns) == tables.PAIR_COLUMNS
    with pytest.raises(ConfigError, match="attribution.seeds.column: 'nope'"):
        tables.table2_seeds_pairs({0: seed_frame([1, 2])}, "nope", 2)


PAPER = {"w1": "positive", "w3": "positive", "w5": "negative", "absent": "positive"}
AGREEMENT = {0: 0.90, 1: 0.95, 2: 1.0}
ACCURACY = {0: 0.8, 1: 0.9, 2: 1.0}


def _agreement(seed):
    return {"paper_rule_agreement_test": AGREEMENT[seed],
            "fitted_rule_agreement_test": AGREEMENT[seed] - 0.1, "fitted_threshold": seed / 10}


def _value(table, word, quantity, seed=None):
    rows = table[(table["word"] == word) & (table["quantity"] == quantity)]
    rows = rows[rows["seed"].isna()] if seed is None else rows[rows["seed"] == seed]
    assert len(rows) == 1
    return rows.iloc[0]


def test_table2_seeds_ranks_shares_and_summaries():
    words = {s: table2(seed_frame(v), 2, PAPER) for s, v in SEED_GBARS.items()}
    table = tables.table2_seeds(words, {s: _agreement(s) for s in SEED_GBARS}, ACCURACY, PAPER)
    assert list(table.columns) == tables.SEED_COLUMNS
    # w1: side ranks 1 (5 largest), 2 (4 < 5), 1 -> mean 4/3
    assert [_value(table, "w1", "rank", s)["value"] for s in (0, 1, 2)] == [1, 2, 1]
    w1 = _value(table, "w1", "rank")
    assert (w1["n"], w1["mean"], w1["min"], w1["max"]) == (3, pytest.approx(4 / 3), 1, 2)
    # w3: ḡ 3 (side rank 3), -1 (other side: no rank), 4 (side rank 2)
    w3 = _value(table, "w3", "rank")
    assert pd.isna(_value(table, "w3", "rank", 1)["value"])
    assert (w3["n"], w3["mean"], w3["min"], w3["max"]) == (2, 2.5, 2, 3)
    assert _value(table, "w3", "sign_agrees")["mean"] == pytest.approx(2 / 3)
    # overall ranks of w3: 3rd, 4th (5 4 3 -1: ḡ -1 is 4th), 2nd
    assert [_value(table, "w3", "rank_overall", s)["value"] for s in (0, 1, 2)] == [3, 4, 2]
    assert _value(table, "w3", "gbar_test_probability", 2)["value"] == 4.0
    # w5 (negative): ḡ -2, -3, -2 -> side ranks 2, 1, 2
    assert _value(table, "w5", "rank")["mean"] == pytest.approx(5 / 3)
    # a word outside the vocabulary: no rank in any seed, never in the top k
    absent = _value(table, "absent", "rank")
    assert absent["n"] == 0 and pd.isna(absent["mean"])
    assert "in_top_k" not in set(table["quantity"])  # in how many seeds: the report's claims
    acc = table[(table["quantity"] == "test_accuracy") & table["seed"].isna()].iloc[0]
    assert acc["section"] == "network" and acc["mean"] == pytest.approx(0.9)
    assert acc["sd"] == pytest.approx(0.1) and pd.isna(acc["ci_low"])  # no interval below 5
    paper = table[(table["quantity"] == "paper_rule_agreement_test") & table["seed"].isna()]
    assert paper.iloc[0]["min"] == 0.9 and paper.iloc[0]["max"] == 1.0
    md = tables.table2_seeds_markdown(
        table, tables.table2_seeds_pairs({s: seed_frame(v) for s, v in SEED_GBARS.items()},
                                         "gbar_test_probability", 2))
    assert "| w3 " in md and "2.5" in md and " of 3" not in md
    assert "95.00% (90.00%–100.00%)" in md and "Spearman" in md
    with pytest.raises(ConfigError, match="paper_words.other"):
        tables.table2_seeds(words, {s: _agreement(s) for s in SEED_GBARS}, ACCURACY,
                            {"other": "positive"})


def _seed_files(tmp_path, seeds, paper):
    """Every seed's inputs of table2_seeds in the real formats, through the table2_words stage
    (word 1 is called "nan": it must stay a word when read back)."""
    inputs = {k: [] for k in ("gbar", "words", "agreement", "metrics")}
    names = ["<pad>", "nan", *(f"w{i}" for i in range(2, 7))]
    for s in seeds:
        files = {k: str(tmp_path / f"{k}{s}.{ext}") for k, ext in
                 (("gbar", "csv"), ("json", "json"), ("words", "csv"), ("md", "md"),
                  ("agreement", "json"), ("metrics", "json"))}
        seed_frame(SEED_GBARS[s], names).to_csv(files["gbar"], index=False)
        Path(files["json"]).write_text(json.dumps({}))
        stages.table2_words({"csv": files["gbar"], "json": files["json"]},
                            {"csv": files["words"], "md": files["md"]},
                            {"cfg": {"attribution": {"top_k": 2, "paper_words": paper}}})
        Path(files["agreement"]).write_text(json.dumps(_agreement(s)))
        Path(files["metrics"]).write_text(json.dumps({"test_accuracy": ACCURACY[s]}))
        for k in inputs:
            inputs[k].append(files[k])
    return inputs


def _seeds_params(seeds, paper):
    return {"cfg": {"seeds": seeds, "attribution": {
        "top_k": 2, "paper_words": paper,
        "seeds": {"top_k": 2, "column": "gbar_test_probability"}}}}


def test_table2_seeds_stage_reads_every_seed(tmp_path):
    paper = {"nan": "positive", "w5": "negative"}
    inputs = _seed_files(tmp_path, [0, 1, 2], paper)
    outputs = {k: str(tmp_path / f"out.{k}") for k in ("csv", "md", "pairs")}
    metrics = stages.table2_seeds(inputs, outputs, _seeds_params([0, 1, 2], paper))
    table = pd.read_csv(outputs["csv"], keep_default_na=False, na_values={"value": [""]})
    ranks = table[(table["word"] == "nan") & (table["quantity"] == "rank")]
    assert list(ranks["value"].iloc[:3]) == [1, 2, 1]  # the word "nan" as w1 above
    pairs = pd.read_csv(outputs["pairs"])
    assert len(pairs) == 3 and pairs["top_negative_overlap"].eq(1.0).all()
    # pairs 01 and 02 share rho = 1 - 36/210; 12: ranks 5 6 3 4 1 2 vs 6 3 5 4 2 1, sum d^2 = 16
    rho = [1 - 36 / 210, 1 - 36 / 210, 1 - 96 / 210]
    np.testing.assert_allclose(pairs["spearman_gbar"], rho)
    assert metrics["table2_seeds_spearman_gbar_mean"] == pytest.approx(np.mean(rho))
    assert metrics["table2_seeds_accuracy_sd"] == pytest.approx(0.1)
    assert metrics["table2_seeds_paper_rule_agreement_mean"] == pytest.approx(0.95)
    md = Path(outputs["md"]).read_text()
    assert "across 3 seeds" in md and "| nan " in md and "seed 2" in md
    Path(inputs["metrics"][1]).write_text("{}")
    with pytest.raises(DataError, match="test_accuracy"):
        stages.table2_seeds(inputs, outputs, _seeds_params([0, 1, 2], paper))
    with pytest.raises(DataError, match="2 seeds but 3 gbar files"):
        stages.table2_seeds(inputs, outputs, _seeds_params([0, 1], paper))


def test_table2_seeds_stage_with_one_seed_has_no_pairs(tmp_path):
    paper = {"w3": "positive"}
    inputs = _seed_files(tmp_path, [0], paper)
    outputs = {k: str(tmp_path / f"out.{k}") for k in ("csv", "md", "pairs")}
    metrics = stages.table2_seeds(inputs, outputs, _seeds_params([0], paper))
    assert Path(outputs["pairs"]).read_text().strip() == ",".join(tables.PAIR_COLUMNS)
    assert math.isnan(metrics["table2_seeds_spearman_gbar_mean"])
    assert math.isnan(metrics["table2_seeds_accuracy_sd"])  # sd needs two seeds
    table = pd.read_csv(outputs["csv"])
    summary = table[(table["quantity"] == "rank") & table["seed"].isna()].iloc[0]
    assert summary["n"] == 1 and summary["mean"] == 3 and pd.isna(summary["sd"])
    assert "no pairs" in Path(outputs["md"]).read_text()
