"""Planted tokens (issue 22, IMDB half): the generator, the scores on a model whose answer is
known by construction, the control widening, and the stages end to end on tiny synthetic
reviews with real Keras models."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from inputgrad.data import planted
from inputgrad.data.arrays import Reviews, load_reviews
from inputgrad.infra.errors import ConfigError
from inputgrad.sections.planted_tokens import compute, tables

NUM_WORDS = 30
IMDB = {"num_words": NUM_WORDS, "start_char": 1, "oov_char": 2, "index_from": 3}


def synthetic(n: int = 40, seed: int = 0, lo: int = 5, hi: int = 25) -> Reviews:
    """n reviews (half of each label) of word ids 4..NUM_WORDS-1; token_idx = the word id."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(lo, hi, n)
    word_ids = rng.integers(4, NUM_WORDS, lengths.sum()).astype(np.int32)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    label = (np.arange(n) % 2).astype(np.int8)
    return Reviews(word_ids=word_ids, token_idx=word_ids.astype(np.int32).copy(),
                   offsets=offsets, review_id=np.array([f"r{i}" for i in range(n)]),
                   rating=np.where(label == 1, 8, 2).astype(np.int8), label=label)


def without_token(reviews: Reviews, positions, i: int) -> np.ndarray:
    ids = reviews.ids(i)
    return np.delete(ids, positions[i]) if positions[i] >= 0 else ids


# ----------------------------------------------------------------------------- generator

def test_token_ids_and_input_dim():
    assert planted.token_id(0, 5000) == 5000 and planted.token_id(1, 5000) == 5001
    assert planted.input_dim(5000) == 5002
    assert planted.with_token_names(["a", "b"], ["N", "P"]) == ["a", "b", "N", "P"]


def test_training_version_plants_the_share_of_each_class_at_its_label():
    reviews = synthetic(40)
    out, pos = planted.plant_train(reviews, NUM_WORDS, NUM_WORDS, share=0.5, window=400,
                                   seed=3)
    for c in (0, 1):
        in_class = reviews.label == c
        assert (pos[in_class] >= 0).sum() == round(0.5 * in_class.sum())
    for i in range(len(out)):
        ids = out.ids(i)
        if pos[i] >= 0:
            assert ids[pos[i]] == NUM_WORDS + reviews.label[i]
            assert out.token_idx[out.offsets[i] + pos[i]] == NUM_WORDS + reviews.label[i]
            assert len(ids) == len(reviews.ids(i)) + 1
        assert (ids < NUM_WORDS).sum() == len(reviews.ids(i))  # exactly one token at most
        np.testing.assert_array_equal(without_token(out, pos, i), reviews.ids(i))
    share0 = planted.plant_train(reviews, NUM_WORDS, NUM_WORDS, 0.0, 400, 3)[1]
    assert (share0 < 0).all()
    with pytest.raises(ValueError, match="share"):
        planted.plant_train(reviews, NUM_WORDS, NUM_WORDS, 1.5, 400, 3)


def test_positions_fall_inside_the_window_the_cnn_keeps():
    rng = np.random.default_rng(0)
    lengths = np.array([0, 3, 10, 50, 500])
    for _ in range(50):
        p = planted.draw_positions(lengths, window=8, rng=rng)
        assert ((0 <= p) & (p <= lengths)).all()
        assert (p >= lengths + 1 - 7).all()  # among the last 7 positions after insertion
    positions = np.concatenate([planted.draw_positions(np.array([10]), 400, rng)
                                for _ in range(400)])
    assert set(positions) == set(range(11))  # every position of a short review is drawn


def test_test_versions_clean_consistent_swapped():
    reviews = synthetic(12)
    v = planted.test_versions(reviews, NUM_WORDS, NUM_WORDS, window=400, seed=1)
    assert set(v) == set(planted.VERSIONS)
    clean, clean_pos = v["clean"]
    assert clean is reviews and (clean_pos == planted.NO_TOKEN).all()
    (cons, pos_c), (swap, pos_s) = v["consistent"], v["swapped"]
    np.testing.assert_array_equal(pos_c, pos_s)
    for i in range(len(reviews)):
        assert cons.ids(i)[pos_c[i]] == NUM_WORDS + reviews.label[i]
        assert swap.ids(i)[pos_s[i]] == NUM_WORDS + 1 - reviews.label[i]
        np.testing.assert_array_equal(without_token(swap, pos_s, i), reviews.ids(i))


def test_cnn_and_bow_inputs_find_the_token_column():
    reviews = synthetic(10, lo=30, hi=60)
    out, pos = planted.test_versions(reviews, NUM_WORDS, NUM_WORDS, window=16, seed=2)[
        "consistent"]
    ids, words, column = compute.cnn_inputs(out, pos, maxlen=16, start_char=1)
    assert (column >= 0).all()  # window = maxlen: no token is truncated away
    assert (ids[np.arange(10), column] == NUM_WORDS + reviews.label).all()
    assert words[np.arange(10), column].all()
    x, bow_words, bcol = compute.bow_inputs(out, pos, NUM_WORDS + 2, 3)
    np.testing.assert_array_equal(bcol, NUM_WORDS + reviews.label)
    assert x[np.arange(10), bcol].all() and x[:, :4].sum() == 0
    # a window wider than maxlen can lose the token to truncation: then it is marked -1
    out, pos = planted.test_versions(reviews, NUM_WORDS, NUM_WORDS, window=400, seed=2)[
        "consistent"]
    _, _, column = compute.cnn_inputs(out, pos, maxlen=16, start_char=1)
    kept = pos >= np.diff(out.offsets) - 16  # a long review loses its start marker too
    np.testing.assert_array_equal(column >= 0, kept)


# ----------------------------------------------------------------------------- scores

def test_token_metrics_by_hand():
    scores = np.array([[0.1, -0.6, 0.3, np.nan], [0.5, 0.5, 0.0, 0.2]])
    words = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool)
    m = compute.token_metrics(scores, words, np.array([1, 1]))
    np.testing.assert_allclose(m["relevance_mass"], [0.6, 0.5 / 1.2])
    np.testing.assert_allclose(m["uniform_mass"], [1 / 3, 1 / 4])
    np.testing.assert_array_equal(m["pointing_game"], [1, 0])  # a tie to its left: no hit
    np.testing.assert_array_equal(m["rank"], [1, 1])
    m = compute.token_metrics(scores, words, np.array([2, -1]))
    np.testing.assert_array_equal(m["rank"], [2])  # only the row with a token
    np.testing.assert_allclose(m["relevance_mass"], [0.3])


def test_interval_is_a_student_t_interval():
    s = compute.interval([1.0, 2.0, 3.0])
    assert s["n"] == 3 and s["mean"] == 2.0
    np.testing.assert_allclose(s["ci_high"] - 2.0, 4.302652729911275 * 1.0 / np.sqrt(3))


def linear_bow(token_weight: float = 5.0, seed: int = 0):
    """Logistic regression on the planted bag of words: word weights in [-1, 1], the class-1
    token +token_weight, the class-0 token -token_weight; the planted tokens rank first."""
    import keras

    from inputgrad.core.models import build

    keras.utils.set_random_seed(seed)
    model = build({"name": "imdb_bow_mlp", "vocab_size": NUM_WORDS + 2, "hidden": []})
    w = np.random.default_rng(seed).uniform(-1, 1, (NUM_WORDS + 2, 1)).astype(np.float32)
    w[NUM_WORDS, 0], w[NUM_WORDS + 1, 0] = -token_weight, token_weight
    model.set_weights([w, np.zeros(1, np.float32)])
    return model, w[:, 0].astype(np.float64)


def test_linear_bag_of_words_ranks_the_planted_token_first():
    from inputgrad.core.gradients import mean_gradient
    from inputgrad.core.models import model_fn
    from inputgrad.core.tokens import token_scores

    model, w = linear_bow()
    reviews = synthetic(16)
    out, pos = planted.test_versions(reviews, NUM_WORDS, NUM_WORDS, 400, 0)["consistent"]
    x, words, column = compute.bow_inputs(out, pos, NUM_WORDS + 2, 3)
    classes = np.ones(len(x), np.int8)
    scores, _ = token_scores("gradient", model, x, words, classes, output="logit")
    m = compute.token_metrics(scores, words, column)
    assert (m["rank"] == 1).all() and (m["pointing_game"] == 1).all()
    expected = [5.0 / np.abs(w[words[i]]).sum() for i in range(len(x))]  # |∂z/∂x_j| = |w_j|
    np.testing.assert_allclose(m["relevance_mass"], expected, rtol=1e-6)
    ranking = compute.global_ranking(scores, words, compute.word_of_columns(x, "bow"), 1)
    ids = [NUM_WORDS, NUM_WORDS + 1]
    assert [compute.rank_of(ranking, t, ids) for t in ids] == [1.0, 1.0]
    gbar = mean_gradient(model_fn(model), x, "logit", classes=0)  # = w for a linear logit
    np.testing.assert_allclose(gbar, w, rtol=1e-6)
    eligible = np.arange(NUM_WORDS + 2) > 3
    assert compute.gbar_ranks(gbar, ids, eligible) == {NUM_WORDS: 1.0, NUM_WORDS + 1: 1.0}
    # a weaker token is no longer first: the test can fail
    weak, _ = linear_bow(token_weight=0.01)
    scores, _ = token_scores("gradient", weak, x, words, classes, output="logit")
    assert (compute.token_metrics(scores, words, column)["rank"] > 1).all()
    ranking = compute.global_ranking(scores, words, compute.word_of_columns(x, "bow"), 1)
    assert compute.rank_of(ranking, NUM_WORDS + 1, ids) > 1


def test_widened_controls_compute_the_same_function():
    import keras

    from inputgrad.core.models import build

    keras.utils.set_random_seed(0)
    cnn = build({"name": "imdb_cnn", "num_words": NUM_WORDS, "maxlen": 12, "embedding_dim": 4,
                 "filters": 3, "kernel_size": 3, "hidden": 5})
    wide = compute.widened(cnn, NUM_WORDS + 2, oov_char=2)
    ids = np.random.default_rng(0).integers(0, NUM_WORDS, (6, 12)).astype(np.int32)
    np.testing.assert_array_equal(compute.logits(wide, ids, 8), compute.logits(cnn, ids, 8))
    planted_ids, as_oov = ids.copy(), ids.copy()
    planted_ids[:, 5], as_oov[:, 5] = NUM_WORDS + 1, 2
    np.testing.assert_array_equal(compute.logits(wide, planted_ids, 8),
                                  compute.logits(cnn, as_oov, 8))
    bow = build({"name": "imdb_bow_mlp", "vocab_size": NUM_WORDS, "hidden": [4]})
    wide = compute.widened(bow, NUM_WORDS + 2, oov_char=2)
    x = (np.random.default_rng(1).random((5, NUM_WORDS + 2)) > 0.5).astype(np.float32)
    np.testing.assert_allclose(compute.logits(wide, x, 8),
                               compute.logits(bow, x[:, :NUM_WORDS], 8), rtol=1e-6)
    with pytest.raises(ConfigError, match="planted width"):
        compute.widened(bow, NUM_WORDS - 1, 2)


# ----------------------------------------------------------------------------- stages

def _save(path, reviews):
    np.savez(path, **dataclasses.asdict(reviews))


@pytest.fixture(scope="module")
def section(tmp_path_factory):
    """The section's stages run on tiny synthetic reviews: data, both planted models, the
    clean controls (trained by the same stage on the clean reviews), the per-seed table,
    the across-seed table and the figure."""
    from inputgrad.core.train import train_stage
    from inputgrad.infra.config import compose
    from inputgrad.sections.planted_tokens import stages

    d = tmp_path_factory.mktemp("planted")
    train, test = synthetic(120, seed=0), synthetic(40, seed=1)
    _save(d / "train.npz", train)
    _save(d / "test.npz", test)
    (d / "tokens.json").write_text(json.dumps([f"w{i}" for i in range(NUM_WORDS)]))
    maxlen = 24
    gen = {"share": 0.9, "train_reviews": 120, "test_reviews": 40, "seed": 0,
           "token_names": ["<neg>", "<pos>"]}
    data = {v: d / f"{v}.npz" for v in ("train_p", "clean", "consistent", "swapped")}
    stages.planted_imdb({"train": d / "train.npz", "test": d / "test.npz",
                         "tokens": d / "tokens.json"},
                        {"train": data["train_p"], **{v: data[v] for v in planted.VERSIONS},
                         "tokens": d / "ptokens.json", "summary": d / "summary.json"},
                        {"cfg": {"data": {"imdb": IMDB}, "planted": gen, "window": maxlen}})
    train_cfg = {"optimizer": "adam", "learning_rate": 0.02, "batch_size": 16, "epochs": 6,
                 "validate": False}
    cnn_model = {"name": "imdb_cnn", "maxlen": maxlen, "embedding_dim": 8, "filters": 8,
                 "kernel_size": 3, "hidden": 8}
    bow_model = {"name": "imdb_bow_mlp", "hidden": [8]}
    models = {}
    for arch, fn, model, key in (
            ("cnn", stages.train_imdb_cnn_planted, cnn_model, "num_words"),
            ("bow", stages.train_imdb_bow_mlp_planted, bow_model, "vocab_size")):
        out = {k: d / f"{arch}_{k}" for k in ("metrics", "history", "config")}
        out["model"] = models[f"{arch}_planted"] = d / f"{arch}_planted.keras"
        fn({"train": data["train_p"], "consistent": data["consistent"]}, out,
           {"cfg": {"model": {**model, key: NUM_WORDS + 2}, "train": train_cfg,
                    "data": {"imdb": IMDB}}, "seed": 0})
        # the control: the same architecture on the clean reviews' num_words ids
        clean_model = {**model, key: NUM_WORDS}
        if arch == "cnn":
            x = [compute.cnn_inputs(r, np.full(len(r), -1), maxlen, 1)[0] for r in (train, test)]
        else:
            x = [compute.bow_inputs(r, np.full(len(r), -1), NUM_WORDS, 3)[0] for r in (train, test)]
        models[f"{arch}_control"] = d / f"{arch}_control.keras"
        train_stage({"x_train": x[0], "y_train": train.label.astype(np.float32),
                     "x_test": x[1], "y_test": test.label.astype(np.float32)},
                    {"model": models[f"{arch}_control"], "metrics": d / f"{arch}_c.json",
                     "history": d / f"{arch}_c.csv"},
                    {"cfg": {"model": clean_model, "train": train_cfg}, "seed": 0})
    attr = compose(stages_dir(), "planted_tokens", profile="smoke")["attribution"]
    outs = {}
    for seed in (0, 1):
        outs[seed] = {"csv": d / f"pt{seed}.csv", "json": d / f"pt{seed}.json",
                      "words": d / f"words{seed}.csv"}
        stages.planted_tokens({**{v: data[v] for v in planted.VERSIONS}, **models}, outs[seed],
                              {"cfg": {"data": {"imdb": IMDB}, "attribution": attr,
                                       "maxlen": maxlen}, "seed": seed})
    stages.planted_tokens_seeds({"tables": [outs[0]["csv"], outs[1]["csv"]]},
                                {"csv": d / "seeds.csv", "md": d / "seeds.md"},
                                {"cfg": {"seeds": [0, 1]}})
    fig = compose(stages_dir(), "planted_tokens")["figure"]
    stages.planted_tokens_figure({"words": outs[0]["words"], "tokens": d / "ptokens.json"},
                                 {"png": d / "figure.png"}, {"cfg": {"figure": fig}})
    return d, data, outs, attr


def stages_dir():
    from pathlib import Path

    return Path(__file__).resolve().parents[1] / "config" / "hydra"


def test_planted_data_stage(section):
    d, data, _, _ = section
    summary = json.loads((d / "summary.json").read_text())
    assert summary["token_ids"] == {"class0": NUM_WORDS, "class1": NUM_WORDS + 1}
    assert summary["input_dim"] == NUM_WORDS + 2
    assert summary["planted_share_class0"] == summary["planted_share_class1"] == 0.9
    names = json.loads((d / "ptokens.json").read_text())
    assert names[-2:] == ["<neg>", "<pos>"] and len(names) == NUM_WORDS + 2
    cons = load_reviews(data["consistent"])
    with np.load(data["consistent"]) as f:
        pos = f["planted_position"]
    assert all(cons.ids(i)[pos[i]] == NUM_WORDS + cons.label[i] for i in range(len(cons)))


def test_planted_tokens_table(section):
    _, _, outs, attr = section
    t = pd.read_csv(outs[0]["csv"])
    assert list(t.columns) == tables.COLUMNS
    acc = t[t["metric"] == "accuracy"].set_index(["arch", "role", "version"])["mean"]
    for arch in ("cnn", "bow"):
        # the planted model reads its token: right with it, wrong with the other one
        assert acc[(arch, "planted", "consistent")] > acc[(arch, "planted", "swapped")] + 0.3
        # the control reads both tokens alike (as OOV, or not at all)
        assert acc[(arch, "control", "consistent")] == acc[(arch, "control", "swapped")]
        methods = set(t[(t["arch"] == arch) & (t["metric"] == "relevance_mass")]["method"])
        expected = {tables.label(m, arch) for m in tables.methods_of(attr["methods"][arch], arch)}
        assert methods == expected
    mass = t[t["metric"] == "relevance_mass"].set_index(["arch", "role", "method"])["mean"]
    # the clean bag of words cannot see the token: zero gradient, zero occlusion effect
    assert mass[("bow", "control", "gradient")] == 0.0
    assert mass[("bow", "control", "occlusion")] == 0.0
    assert mass[("cnn", "planted", "gradient_norm")] > mass[("cnn", "control", "gradient_norm")]
    uniform = t[t["metric"] == "uniform_mass"]["mean"]
    assert ((uniform > 0) & (uniform < 1)).all()
    n = t[(t["metric"] == "relevance_mass") & (t["arch"] == "cnn")]["n"]
    assert (n == attr["reviews"]["cnn"]).all()
    det = t[t["metric"] == "detected"]["mean"]
    assert set(det.unique()) <= {0.0, 1.0}
    gaps = t[t["metric"] == "mass_minus_control"]
    assert len(gaps) == len(t[(t["metric"] == "relevance_mass") & (t["role"] == "planted")])
    doc = json.loads(outs[0]["json"].read_text())
    assert doc["cnn"]["planted"]["model"]["clean"]["accuracy"] == acc[("cnn", "planted", "clean")]


def test_planted_tokens_seeds_and_figure(section):
    d, _, outs, _ = section
    seeds = pd.read_csv(d / "seeds.csv")
    summary = seeds[seeds["seed"].isna()]
    per_seed = seeds[seeds["seed"].notna()]
    assert len(per_seed) == 2 * len(summary)
    assert set(per_seed["seed"].astype(int)) == {0, 1}
    md = (d / "seeds.md").read_text()
    assert "Planted tokens in IMDB (2 seeds: 0, 1)" in md and "gradient_norm" in md
    words = pd.read_csv(outs[0]["words"])
    assert set(words["role"]) == {"planted", "control"}
    assert (words["token_idx"] >= NUM_WORDS).groupby([words["review"], words["role"]]).sum().eq(
        1).all()
    assert (d / "figure.png").stat().st_size > 10_000


def test_planted_tokens_names_a_model_that_does_not_fit(section):
    from inputgrad.infra.errors import DataError
    from inputgrad.sections.planted_tokens import stages

    d, data, outs, attr = section
    models = {f"{a}_{r}": d / f"{a}_{r}.keras" for a in ("cnn", "bow")
              for r in ("planted", "control")}
    with pytest.raises(DataError, match=r"cnn_planted\.keras: input shape"):
        stages.planted_tokens({**{v: data[v] for v in planted.VERSIONS}, **models},
                              {"csv": d / "x.csv", "json": d / "x.json", "words": d / "x_w.csv"},
                              {"cfg": {"data": {"imdb": IMDB}, "attribution": attr,
                                       "maxlen": 20}, "seed": 0})


def test_cnn_methods_leave_out_what_needs_real_valued_inputs():
    from inputgrad.core.methods import METHODS

    cnn = tables.methods_of("all", "cnn")
    assert "gradient" in cnn and "lime" in cnn and "occlusion" in cnn
    assert all(METHODS[m].token_ids for m in cnn)
    with pytest.raises(ConfigError, match="attribution.methods.bow"):
        tables.methods_of(["no_such_method"], "bow")
