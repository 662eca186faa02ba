"""Paper 5.1: per-word embedding gradients of the IMDB CNN, masking, argmax windows, Table 1."""

import json

import keras
import numpy as np
import pandas as pd
import pytest

from inputgrad.core import gradients, stats
from inputgrad.core.models import imdb_cnn as build_cnn
from inputgrad.core.models import split_embedding
from inputgrad.data.arrays import Reviews, pad_reviews
from inputgrad.infra.errors import ConfigError, DataError
from inputgrad.infra.io import load_npz, save_npz, write_json
from inputgrad.sections.imdb_cnn import compute, stages, tables

MAXLEN = 6
# Conv1D kernel (kernel_size=3, embedding_dim=2, filters=1): per-offset weight vectors with
# L2 norms 5, 2 and 1, so the gradient norm of each word in the max window is known by hand.
KERNEL = np.array([[3.0, 4.0], [0.0, 2.0], [1.0, 0.0]])


def hand_cnn():
    """logit = max_t relu(sum_k KERNEL[k] . e(ids[t + k])): Dense layers are the identity."""
    model = build_cnn(num_words=8, maxlen=MAXLEN, embedding_dim=2, filters=1, kernel_size=3,
                      hidden=1, dropout=0.0)
    emb = np.array([[w, w] for w in range(8)], dtype=np.float32) / 10
    emb[1] = [10.0, 10.0]  # the start marker: a huge embedding wins the max pooling
    model.get_layer("embedding").set_weights([emb])
    head = model.get_layer("head")
    conv, dense, out = [lay for lay in head.layers if lay.weights]
    conv.set_weights([KERNEL[:, :, None].astype(np.float32), np.zeros(1, np.float32)])
    dense.set_weights([np.ones((1, 1), np.float32), np.zeros(1, np.float32)])
    out.set_weights([np.ones((1, 1), np.float32), np.zeros(1, np.float32)])
    return model


def reviews_of(seqs, tokens=None):
    """A Reviews object with word ids `seqs`; token i of review r is tokens[r][i] (vocab index)."""
    word_ids = np.concatenate([np.asarray(s, np.int32) for s in seqs])
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in seqs])]).astype(np.int64)
    token_idx = (np.concatenate([np.asarray(t, np.int32) for t in tokens]) if tokens is not None
                 else np.arange(len(word_ids), dtype=np.int32))
    n = len(seqs)
    return Reviews(word_ids=word_ids, token_idx=token_idx, offsets=offsets,
                   review_id=np.array([f"pos/{i}_9" for i in range(n)]),
                   rating=np.full(n, 9, np.int8), label=np.ones(n, np.int8))


def save_reviews(path, reviews):
    """The reviews in the prepared-data format (`data.arrays.load_reviews` reads it)."""
    np.savez(path, **{k: getattr(reviews, k) for k in Reviews.__dataclass_fields__})


def test_hand_cnn_gradient_shape_masking_and_argmax_window():
    model = hand_cnn()
    # review 0: 3 words -> [pad, pad, start, 3, 5, 2]; review 1: 7 words, truncated to the
    # last 6 (start marker and first word dropped, as pad_sequences does)
    reviews = reviews_of([[3, 5, 2], [4, 4, 4, 3, 5, 6, 7]])
    ids, position = pad_reviews(reviews, MAXLEN, start_char=1)
    np.testing.assert_array_equal(position, [[-1, -1, -1, 0, 1, 2], [1, 2, 3, 4, 5, 6]])
    embed, f = split_embedding(model)

    grads, logits = gradients.gradient(f, embed(ids), "logit", classes=0)
    assert grads.shape == (2, MAXLEN, 2)  # one gradient vector per word column

    norms, out = compute.word_gradient_norms(model, ids, batch_size=1, chunk_size=1)
    np.testing.assert_allclose(out, logits[:, 0], rtol=1e-6)
    # review 0: the start-marker window (columns 2-4) wins the max pool; its gradient sits on
    # columns 2, 3, 4 with norms |K0| = 5, |K1| = 2, |K2| = 1. Review 1 (ids 4 4 3 5 6 7):
    # window t=3 (5, 6, 7) wins: columns 3, 4, 5.
    np.testing.assert_allclose(norms["logit"], [[0, 0, 5, 2, 1, 0], [0, 0, 0, 5, 2, 1]], atol=1e-6)
    assert logits[0, 0] == pytest.approx(70 + 0.6 + 0.5, rel=1e-5)
    p = 1 / (1 + np.exp(-logits[:, 0]))
    np.testing.assert_allclose(norms["probability"], norms["logit"] * (p * (1 - p))[:, None],
                               rtol=1e-4, atol=1e-12)

    masked = compute.mask_padding(norms["logit"], position)
    assert np.isnan(masked[0, :3]).all() and not np.isnan(masked[1]).any()
    # unmasked, the start marker (column 2) would be the argmax; masked it is the first word
    assert np.argmax(norms["logit"][0]) == 2
    np.testing.assert_array_equal(compute.top_window(masked[0], 3), [3, 4, 5])
    np.testing.assert_array_equal(compute.top_window(masked[1], 3), [3, 4, 5])
    assert position[0, 3] == 0 and position[1, 3] == 4  # token indices of the first words
    assert [compute.column_rank(masked[0], c) for c in (3, 4, 5)] == [1, 2, 3]
    assert compute.column_rank(masked[1], 0) == 4  # the zero-norm words come last
    with pytest.raises(ValueError, match="masked"):
        compute.column_rank(masked[0], 1)


def test_reduce_inside_the_primitive_equals_reducing_outside():
    keras.utils.set_random_seed(0)
    model = build_cnn(num_words=10, maxlen=5, embedding_dim=4, filters=3, kernel_size=3,
                      hidden=2, dropout=0.0)
    embed, f = split_embedding(model)
    x = embed(np.random.default_rng(0).integers(0, 10, size=(5, 5)))
    full = list(gradients.gradient_batches(f, x, "probability", classes=0, batch_size=2))
    reduced = list(gradients.gradient_batches(f, x, "probability", classes=0, batch_size=2,
                                              reduce=compute.embedding_norm))
    assert [r for r, _, _ in full] == [r for r, _, _ in reduced]
    for (_, g, out), (_, norms, out_r) in zip(full, reduced, strict=True):
        assert norms.shape == g.shape[:2]
        np.testing.assert_allclose(norms, np.linalg.norm(g, axis=-1), rtol=1e-6)
        np.testing.assert_array_equal(out, out_r)


def test_probability_norms_from_one_logit_pass_equal_a_direct_probability_pass():
    keras.utils.set_random_seed(1)
    model = build_cnn(num_words=10, maxlen=7, embedding_dim=4, filters=3, kernel_size=3,
                      hidden=2, dropout=0.0)
    embed, f = split_embedding(model)
    ids = np.random.default_rng(1).integers(0, 10, size=(6, 7))
    norms, logits = compute.word_gradient_norms(model, ids, batch_size=4, chunk_size=5)
    direct, probs = gradients.gradient(f, embed(ids), "probability", classes=0)
    np.testing.assert_allclose(norms["probability"], np.linalg.norm(direct, axis=-1),
                               rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(1 / (1 + np.exp(-logits)), probs[:, 0], rtol=1e-6)


def test_relu_after_max_pool_computes_the_keras_example_exactly():
    keras.utils.set_random_seed(2)
    ours = build_cnn(num_words=12, maxlen=9, embedding_dim=4, filters=5, kernel_size=3,
                     hidden=3, dropout=0.0)
    ids_in = keras.Input((9,), dtype="int32")
    example = keras.Sequential([  # the Keras imdb_cnn example's layer order
        keras.layers.Embedding(12, 4), keras.layers.Conv1D(5, 3, activation="relu"),
        keras.layers.GlobalMaxPooling1D(), keras.layers.Dense(3), keras.layers.Activation("relu"),
        keras.layers.Dense(1)])
    example(ids_in)
    example.set_weights(ours.get_weights())
    ids = np.random.default_rng(2).integers(0, 12, size=(16, 9))
    np.testing.assert_array_equal(ours.predict(ids, verbose=0), example.predict(ids, verbose=0))


def test_window_is_shorter_at_the_end_and_ties_use_the_tiebreak():
    norms = np.array([np.nan, 0.1, 0.2, 0.9], np.float32)
    np.testing.assert_array_equal(compute.top_window(norms, 3), [3])
    zeros = np.array([np.nan, 0.0, 0.0, 0.0])  # saturated probability: all norms 0
    tie = np.array([np.nan, 1.0, 3.0, 2.0])
    np.testing.assert_array_equal(compute.top_window(zeros, 3, tie), [2, 3])
    assert compute.column_rank(zeros, 1, tie) == 3
    with pytest.raises(ValueError, match="no word"):
        compute.top_window(np.full(3, np.nan), 3)


@pytest.fixture
def float64_keras():
    keras.config.set_dtype_policy("float64")
    try:
        yield
    finally:
        keras.config.set_dtype_policy("float32")


@pytest.mark.parametrize("output", ["logit", "probability"])
def test_embedding_gradients_match_finite_differences(float64_keras, output):
    keras.utils.set_random_seed(3)
    model = build_cnn(num_words=20, maxlen=7, embedding_dim=3, filters=4, kernel_size=3,
                      hidden=5, dropout=0.2)
    embed, f = split_embedding(model)
    ids = np.random.default_rng(0).integers(0, 20, size=(3, 7))
    x = embed(ids)
    assert x.dtype == np.float64
    fd = gradients.finite_difference(f, x, output, eps=1e-4)[:, 0]
    grads, _ = gradients.gradient(f, x, output, classes=0)
    # the primitive feeds float32 inputs: agreement to float32 precision
    np.testing.assert_allclose(grads, fd, rtol=1e-4, atol=1e-6)
    norms, _ = compute.word_gradient_norms(model, ids, targets=(output,), batch_size=2,
                                           chunk_size=2)
    np.testing.assert_allclose(norms[output], np.linalg.norm(fd, axis=-1), rtol=1e-4, atol=1e-6)


def test_phrases_oov_marks_truncation_and_table_rows():
    vocab = ["lack", "of", "credibility", "good", "film", "bad", "ape", "was", "outstanding"]
    toks = [[5, 0, 1, 2, 3],            # 'lack of credibility' seen
            [0, 1, 2, 4, 4, 4, 4, 4],   # occurrence at the start: truncated away (maxlen 6)
            [6, 7, 8, 4, 0, 1, 2],      # two phrases in one review
            [3, 4, 3, 4]]               # no phrase
    word_ids = [[9, 7, 2, 8, 9], [7, 3, 8, 4, 4, 4, 4, 4], [9, 3, 9, 4, 7, 3, 8], [5, 4, 5, 4]]
    reviews = reviews_of(word_ids, toks)
    assert compute.display_tokens(reviews, 0, vocab, oov_char=2) == [
        "bad", "lack", "[of]", "credibility", "good"]
    assert compute.find_phrase(["a", "b", "a", "b"], ["a", "b"]) == [0, 2]

    phrases = ["Lack of credibility!", "ape was outstanding"]
    sel = compute.select_reviews(reviews, vocab, phrases, n_random=5, seed=0)
    by_index = {s["index"]: s for s in sel}
    assert by_index[2]["selection"] == "paper: Lack of credibility!; paper: ape was outstanding"
    assert [s["index"] for s in sel if s["selection"] == "random"] == [3]  # only non-paper left
    assert tables.phrase_counts(sel, phrases) == {phrases[0]: 3, phrases[1]: 1}

    ids, position = pad_reviews(reviews, MAXLEN, start_char=1)
    rng = np.random.default_rng(1)
    logit_norms = compute.mask_padding(rng.random(ids.shape).astype(np.float32) + 0.1, position)
    logit_norms[0, position[0] == 3] = 9.0   # review 0: 'credibility' is the top word
    grads = {"norms_logit": logit_norms, "norms_probability": logit_norms * 0.25,
             "position": position, "probability": np.full(4, 0.5, np.float32),
             "review_id": reviews.review_id}
    attr = {"rank_by": "probability", "window": 3,
            "table": {"paper_phrases": phrases, "random_reviews": 5, "random_seed": 0}}
    table, counts = tables.table1(grads, reviews, vocab, attr, oov_char=2)
    rows = table.set_index("review_id")
    assert len(table) == 4 and counts == {phrases[0]: 3, phrases[1]: 1}
    assert rows.loc["pos/0_9", "expression"] == "credibility good"  # window cut at the end
    assert rows.loc["pos/0_9", "word_position"] == 3
    assert rows.loc["pos/0_9", "norm_probability"] == pytest.approx(9 * 0.25)
    assert rows.loc["pos/0_9", "phrase_position"] == 1
    assert rows.loc["pos/1_9", "phrase_status"] == "truncated (outside the window)"
    assert pd.isna(rows.loc["pos/1_9", "phrase_rank"])
    assert rows.loc["pos/1_9", "words_seen"] == 6 and rows.loc["pos/1_9", "review_words"] == 8
    # review 2 (7 tokens) lost its first token, 'ape': one of its two phrases is truncated
    assert rows.loc["pos/2_9", "phrase_status"] == "1 of 2 occurrence(s) seen"
    assert rows.loc["pos/2_9", "paper_phrase"] == "Lack of credibility!"
    assert rows.loc["pos/3_9", "selection"] == "random"
    # the rank of the phrase's first word, by hand
    col = int(np.flatnonzero(position[0] == 1)[0])
    valid = logit_norms[0][~np.isnan(logit_norms[0])]
    assert rows.loc["pos/0_9", "phrase_rank"] == 1 + int((valid > logit_norms[0, col]).sum())

    grads["review_id"] = grads["review_id"][::-1]
    with pytest.raises(DataError, match="same order"):
        tables.table1(grads, reviews, vocab, attr, oov_char=2)


def test_empty_reviews_are_never_drawn_and_the_draw_is_unchanged_without_them():
    vocab = ["lack", "of", "credibility", "good", "film"]
    full = [[3, 4], [4], [3, 3, 4], [4, 3], [3], [4, 4, 4]]
    # without empty reviews: the seeded draw over the non-paper reviews, as before
    sel = compute.select_reviews(reviews_of(full, full), vocab, ["lack of"], n_random=3, seed=7)
    expected = np.random.default_rng(7).choice(np.arange(6), size=3, replace=False)
    assert [s["index"] for s in sel] == [int(i) for i in expected]
    # reviews 1 and 4 emptied: never drawn, whatever the sample size; the rest drawn as before
    seqs = [s if i not in (1, 4) else [] for i, s in enumerate(full)]
    reviews = reviews_of(seqs, seqs)
    sel = compute.select_reviews(reviews, vocab, ["lack of"], n_random=10, seed=7)
    assert sorted(s["index"] for s in sel) == [0, 2, 3, 5]
    sel = compute.select_reviews(reviews, vocab, ["lack of"], n_random=2, seed=7)
    expected = np.random.default_rng(7).choice([0, 2, 3, 5], size=2, replace=False)
    assert [s["index"] for s in sel] == [int(i) for i in expected]
    # so Table 1 has a word for every row
    ids, position = pad_reviews(reviews, MAXLEN, start_char=1)
    norms = compute.mask_padding(np.ones(ids.shape, np.float32), position)
    grads = {"norms_logit": norms, "position": position, "review_id": reviews.review_id,
             "probability": np.full(6, 0.5, np.float32)}
    attr = {"rank_by": "logit", "window": 3,
            "table": {"paper_phrases": ["lack of"], "random_reviews": 10, "random_seed": 7}}
    table, _ = tables.table1(grads, reviews, vocab, attr, oov_char=2)
    assert len(table) == 4 and (table["review_words"] > 0).all()


def test_word_gradient_stage_saves_arrays_and_no_clock(tmp_path):
    model = hand_cnn()
    model.save(tmp_path / "model.keras")
    reviews = reviews_of([[3, 5, 2], [4, 4, 4, 3, 5, 6, 7]])
    save_reviews(tmp_path / "test.npz", reviews)
    cfg = {"model": {"maxlen": MAXLEN}, "data": {"imdb": {"start_char": 1}},
           "attribution": {"targets": ["probability", "logit"], "batch_size": 1,
                           "chunk_size": 1}}
    out = {"gradients": tmp_path / "g.npz", "summary": tmp_path / "g.json"}
    metrics = stages.imdb_cnn_word_gradients(
        {"model": str(tmp_path / "model.keras"), "test": str(tmp_path / "test.npz")}, out,
        {"cfg": cfg})
    assert set(metrics) == {"word_gradients_seconds", "word_gradients_accuracy"}
    assert json.loads(out["summary"].read_text()) == {"accuracy": 1.0}  # no wall-clock time
    saved = load_npz(out["gradients"])
    assert list(saved) == ["norms_logit", "norms_probability", "position", "logit",
                           "probability", "label", "review_id"]
    np.testing.assert_allclose(saved["norms_logit"],
                               [[np.nan] * 3 + [2, 1, 0], [0, 0, 0, 5, 2, 1]], atol=1e-6)
    np.testing.assert_array_equal(saved["review_id"], reviews.review_id)
    cfg["attribution"]["targets"] = ["logits"]
    with pytest.raises(ConfigError, match="attribution.targets"):
        stages.imdb_cnn_word_gradients({"model": "unused", "test": "unused"}, out, {"cfg": cfg})


def test_views_render_from_saved_arrays(tmp_path):
    vocab = ["lack", "of", "credibility", "good", "film"]
    reviews = reviews_of([[3, 4, 5, 6, 7], [6, 6, 6, 6]], [[3, 0, 1, 2, 4], [3, 4, 3, 4]])
    ids, position = pad_reviews(reviews, MAXLEN, start_char=1)
    norms = compute.mask_padding(np.linspace(0.1, 1, ids.size).reshape(ids.shape)
                                 .astype(np.float32), position)
    grads = {"norms_logit": norms, "norms_probability": norms / 4, "position": position,
             "probability": np.array([0.2, 0.9], np.float32), "review_id": reviews.review_id,
             "logit": np.zeros(2, np.float32), "label": reviews.label}
    npz, tokens, test = tmp_path / "g.npz", tmp_path / "tokens.json", tmp_path / "test.npz"
    save_npz(npz, grads)
    save_reviews(test, reviews)
    write_json(tokens, vocab)
    cfg = {"model": {"maxlen": MAXLEN, "embedding_dim": 2},
           "data": {"imdb": {"oov_char": 2, "num_words": 8}},
           "attribution": {"rank_by": "probability", "window": 3,
                           "table": {"paper_phrases": ["lack of credibility"],
                                     "random_reviews": 1, "random_seed": 0}}}
    inputs = {"gradients": str(npz), "test": str(test), "tokens": str(tokens)}
    csv, md = tmp_path / "t.csv", tmp_path / "t.md"
    stages.table1_expressions(inputs, {"csv": csv, "md": md}, {"cfg": cfg})
    assert "Paper phrases matched in “lack of credibility”: 1 review(s)" in md.read_text()
    cfg["figure"] = {"paper_reviews": 3, "random_reviews": 1, "cmap": "Reds",
                     "context_words": 2, "font_size": 9, "width_in": 6, "dpi": 50}
    html, png = tmp_path / "v.html", tmp_path / "v.png"
    stages.table1_expressions_figure({**inputs, "table": str(csv)}, {"html": html, "png": png},
                                     {"cfg": cfg})
    text = html.read_text()
    assert "credibility" in text and "title='norm" in text and text.count("<h2>") == 2
    assert png.read_bytes()[:4] == b"\x89PNG"


def write_seed_inputs(tmp_path, reviews, vocab, norms_by_seed, maxlen=MAXLEN):
    """Per-seed gradient files with the given probability norms (logit norms = 4 x, so the
    tiebreak never reorders), the test reviews and the tokens; returns the stage inputs."""
    _, position = pad_reviews(reviews, maxlen, start_char=1)
    paths = []
    for seed, norms in norms_by_seed.items():
        prob = np.where(position >= 0, np.asarray(norms, np.float32), np.nan).astype(np.float32)
        path = tmp_path / f"g{seed}.npz"
        save_npz(path, {"norms_logit": prob * 4, "norms_probability": prob, "position": position,
                        "probability": np.full(len(reviews), 0.5, np.float32),
                        "review_id": reviews.review_id})
        paths.append(str(path))
    save_reviews(tmp_path / "test.npz", reviews)
    write_json(tmp_path / "tokens.json", vocab)
    return {"gradients": paths, "test": str(tmp_path / "test.npz"),
            "tokens": str(tmp_path / "tokens.json")}


def seeds_cfg(seeds):
    return {"seeds": seeds, "model": {"maxlen": MAXLEN},
            "data": {"imdb": {"oov_char": 2, "num_words": 8}},
            "attribution": {"rank_by": "probability", "window": 3,
                            "table": {"paper_phrases": ["lack of credibility", "ape was good"],
                                      "random_reviews": 1, "random_seed": 0}}}


def run_table1_seeds(tmp_path, inputs, seeds):
    out = {"csv": tmp_path / "s.csv", "md": tmp_path / "s.md",
           "stability": tmp_path / "stability.csv"}
    metrics = stages.table1_seeds(inputs, out, {"cfg": seeds_cfg(seeds)})
    table = pd.read_csv(out["csv"], keep_default_na=False, na_values=[""], dtype={"seed": str})
    return table, pd.read_csv(out["stability"]), out["md"].read_text(), metrics


# Three hand-made seeds. Columns: [start marker, token 0..4] for reviews 0 and 2 (5 tokens);
# review 1 (7 tokens) is truncated to its last 6, losing its phrase (token 0).
VOCAB = ["lack", "of", "credibility", "good", "film"]
TOKENS = [[3, 0, 1, 2, 4], [0, 1, 2, 4, 4, 4, 4], [4, 3, 0, 1, 2]]
NAN = np.nan
HAND_NORMS = {
    # review 0, phrase at column 2: first-word ranks 1, 3, 4 of 5 words; window sums (3 words)
    # seed 0: 8, 7, 2, 0, 0 -> rank 2; seed 1: 6, 3.5, 5.5, 4.5, 4 -> 5; seed 2: 6, 9, 12, 9, 5
    # -> 2 (its tie with column 4 goes to the earlier column, as word_order does)
    0: [[NAN, 1, 5, 2, 0, 0], [1, 2, 3, 4, 5, 6], [NAN, .1, .2, .9, .3, .1]],
    1: [[NAN, 3, 2, 1, .5, 4], [1, 2, 3, 4, 5, 6], [NAN, .5, .1, .8, .2, .3]],
    2: [[NAN, 1, 2, 3, 4, 5], [6, 5, 4, 3, 2, 1], [NAN, 0, 0, .7, 0, 0]],
}


def test_table1_seeds_null_reference_on_hand_made_norms(tmp_path):
    reviews = reviews_of([[5] * len(t) for t in TOKENS], TOKENS)
    inputs = write_seed_inputs(tmp_path, reviews, VOCAB, HAND_NORMS)
    table, pairs, md, metrics = run_table1_seeds(tmp_path, inputs, [0, 1, 2])
    first = table[table["measure"] == "window_rank_first_word"].set_index(["review_id", "seed"])
    by_sum = table[table["measure"] == "window_rank_sum"].set_index(["review_id", "seed"])
    r0 = first.loc["pos/0_9"]
    assert list(r0.loc[["0", "1", "2"], "rank"]) == [1, 3, 4]
    np.testing.assert_allclose(r0.loc[["0", "1", "2"], "percentile"], [0.2, 0.6, 0.8])
    assert list(by_sum.loc["pos/0_9"].loc[["0", "1", "2"], "rank"]) == [2, 5, 2]
    assert (r0["words_seen"] == 5).all() and (r0["phrase_position"] == 1).all()
    assert (r0["random_rank"] == 3).all() and (r0["random_percentile"] == 0.6).all()
    assert r0.loc["0", "top_expression"] == "lack of credibility"
    assert by_sum.loc[("pos/0_9", "0"), "top_expression"] == "good lack of"
    assert by_sum.loc[("pos/0_9", "0"), "top_position"] == 0
    summary = r0.loc["all"]
    assert summary["n"] == 3 and np.isnan(summary["ci_low"])  # no interval from 3 seeds
    assert "share_first" not in summary and "share_top3" not in summary  # the report's claims
    assert (summary["mean"], summary["min"], summary["max"]) == pytest.approx((8 / 3, 1, 4))
    assert summary["sd"] == pytest.approx(np.std([1, 3, 4], ddof=1))
    assert summary["percentile"] == pytest.approx(8 / 3 / 5)
    # review 1: the phrase was truncated away in every seed: no rank, no share
    r1 = first.loc["pos/1_9"]
    assert (r1["status"] == "truncated").all() and r1["rank"].isna().all()
    assert r1.loc["all", "n"] == 0 and np.isnan(r1.loc["all", "mean"])
    assert (r1["random_rank"] == 3.5).all() and (r1["words_seen"] == 6).all()
    r2 = first.loc["pos/2_9"]
    assert list(r2.loc[["0", "1", "2"], "rank"]) == [1, 1, 1]
    assert r2.loc["all", "min"] == 1 and r2.loc["all", "max"] == 1
    assert set(table["phrase"]) == {"lack of credibility"}
    # one row per (occurrence, measure, seed) plus one summary row per (occurrence, measure)
    assert len(table) == 3 * 2 * 4
    # stability: top columns r0 (2, 5, 5), r1 (5, 5, 0), r2 (3, 3, 3)
    pairs = pairs.set_index(["seed_a", "seed_b"])
    assert pairs["same_top_share"].to_dict() == pytest.approx(
        {(0, 1): 2 / 3, (0, 2): 1 / 3, (1, 2): 2 / 3})
    assert (pairs["reviews"] == 3).all()
    _, position = pad_reviews(reviews, MAXLEN, start_char=1)
    for (a, b), row in pairs.iterrows():
        rho = [stats.spearman(np.array(HAND_NORMS[a][i])[position[i] >= 0],
                              np.array(HAND_NORMS[b][i])[position[i] >= 0]) for i in range(3)]
        assert row["spearman_reviews"] == 3
        assert row["spearman_mean"] == pytest.approx(np.mean(rho))
        assert row["spearman_median"] == pytest.approx(np.median(rho))
    assert "0 vs 2" in md
    assert "## “ape was good”" in md and "Not in the test reviews." in md
    assert "Truncated away" in md and "over 3 seed(s): mean 2.7" in md and "first in" not in md
    assert set(metrics) == {"table1_seeds_seconds", "table1_seeds_same_top_share",
                            "table1_seeds_spearman_mean"}
    assert metrics["table1_seeds_same_top_share"] == pytest.approx(5 / 9)


def test_table1_seeds_single_seed_and_mismatched_inputs(tmp_path):
    reviews = reviews_of([[5] * len(t) for t in TOKENS], TOKENS)
    inputs = write_seed_inputs(tmp_path, reviews, VOCAB, {0: HAND_NORMS[1]})
    table, pairs, md, metrics = run_table1_seeds(tmp_path, inputs, [0])
    assert len(pairs) == 1 and pd.isna(pairs["seed_b"]).all()
    assert pairs["note"][0] == "single seed (0): no pair of seeds to compare"
    assert "single seed (0): no pair of seeds to compare." in md
    summary = table[(table["seed"] == "all") & (table["review_id"] == "pos/0_9")
                    & (table["measure"] == "window_rank_first_word")].iloc[0]
    assert summary["n"] == 1 and summary["mean"] == 3 and np.isnan(summary["sd"])
    assert set(metrics) == {"table1_seeds_seconds"}
    with pytest.raises(ConfigError, match="seeds"):
        run_table1_seeds(tmp_path, inputs, [0, 1])
    shifted = load_npz(inputs["gradients"][0])
    shifted["position"] = np.roll(shifted["position"], 1, axis=1)
    save_npz(tmp_path / "shifted.npz", shifted)
    with pytest.raises(DataError, match="positions differ"):
        run_table1_seeds(tmp_path, {**inputs, "gradients": [*inputs["gradients"],
                                                            str(tmp_path / "shifted.npz")]},
                         [0, 5])


def test_stability_statistics_on_hand_made_arrays():
    rng = np.random.default_rng(0)
    norms = rng.random((6, 8)).round(1)  # rounding makes ties
    norms[:, :2] = np.nan  # padding and start marker
    norms[3, 2:] = 0.5  # constant: no Spearman
    norms[4, :6] = np.nan  # 2 words: no Spearman
    norms[5] = np.nan  # no word at all
    same = compute.seed_ranks(norms)
    out = compute.pair_stability(same, compute.seed_ranks(norms.copy()))
    assert out == {"reviews": 5, "same_top_share": 1.0, "spearman_reviews": 3,
                   "spearman_mean": pytest.approx(1.0), "spearman_median": pytest.approx(1.0)}
    reversed_norms = np.where(np.isnan(norms), np.nan, 10 - norms)
    out = compute.pair_stability(same, compute.seed_ranks(reversed_norms))
    assert out["spearman_mean"] == pytest.approx(-1) and out["spearman_median"] == pytest.approx(-1)
    # the vectorised statistics equal core.stats on each review's words, with ties
    other = np.where(np.isnan(norms), np.nan, rng.random(norms.shape).round(1))
    out = compute.pair_stability(same, compute.seed_ranks(other, chunk_size=2))
    valid = ~np.isnan(norms[:4])
    rho = [stats.spearman(norms[i][valid[i]], other[i][valid[i]]) for i in range(3)]
    assert out["spearman_reviews"] == 3 and out["reviews"] == 5
    assert out["spearman_mean"] == pytest.approx(np.mean(rho), abs=1e-12)
    assert out["spearman_median"] == pytest.approx(np.median(rho), abs=1e-12)
    full = rng.random((5, 7)).round(1)
    np.testing.assert_allclose(compute.row_ranks(full), [stats.rankdata(r) for r in full])
    ranks = compute.row_ranks(norms)
    np.testing.assert_array_equal(np.isnan(ranks), np.isnan(norms))
    assert [list(ranks[i][valid[i]]) for i in range(4)] == [
        list(stats.rankdata(norms[i][valid[i]])) for i in range(4)]


def test_top_columns_pick_the_word_order_top_with_ties():
    norms = np.array([[np.nan, 0.0, 0.0, 0.0], [np.nan, 1, 3, 3], [np.nan] * 4,
                      [2, 1, 2, np.nan]], np.float32)
    tie = np.array([[np.nan, 1, 3, 2], [np.nan, 9, 1, 1], [np.nan] * 4, [1, 5, 1, np.nan]])
    expected = [compute.word_order(n, t)[0] for n, t in zip(norms[[0, 1, 3]], tie[[0, 1, 3]],
                                                               strict=True)]
    assert list(compute.top_columns(norms, tie)) == [expected[0], expected[1], -1, expected[2]]
    assert list(compute.top_columns(norms, tie)) == [2, 2, -1, 0]
    assert list(compute.top_columns(norms)) == [1, 2, -1, 0]
    assert compute.occurrence_ranks(np.array([np.nan, 1, 5, 2, 0, 0]), 2, 3) == {
        "window_rank_first_word": 1, "window_rank_sum": 2}
    np.testing.assert_allclose(compute.window_sums(np.array([np.nan, 1, 5, 2, 0]), 3),
                               [np.nan, 8, 7, 2, 0])


def test_smoke_workflow_table1_and_views(smoke_run):
    work = smoke_run["work"] / "results"
    table = pd.read_csv(work / "tables" / "seed0" / "table1_expressions.csv")
    for phrase in ("fantastic film total", "lack of credibility", "ape was outstanding"):
        assert (table["paper_phrase"] == phrase).any(), phrase
    assert table["phrase_rank"].dropna().between(1, 64).all()
    attributions = work / "attributions" / "imdb_cnn" / "seed0"
    with np.load(attributions / "imdb_cnn_word_gradients.npz") as g:
        assert g["norms_probability"].shape == g["position"].shape == (48, 64)
        assert np.array_equal(np.isnan(g["norms_logit"]), g["position"] < 0)
    assert "seconds" not in json.loads((attributions / "imdb_cnn_word_gradients.json").read_text())
    figure = work / "figures" / "table1_expressions_figure.html"
    assert "[unseenword]" in figure.read_text()
    seeds = pd.read_csv(work / "tables" / "table1_seeds.csv", dtype={"seed": str})
    for phrase in ("fantastic film total", "lack of credibility", "ape was outstanding"):
        assert (seeds["phrase"] == phrase).any(), phrase
    assert set(seeds["seed"]) == {"0", "1", "2", "all"}  # .test/config: seeds [0, 1, 2]
    stability = pd.read_csv(work / "tables" / "table1_seeds_stability.csv")
    assert len(stability) == 3  # one row per pair of seeds
    assert stability["same_top_share"].between(0, 1).all()
