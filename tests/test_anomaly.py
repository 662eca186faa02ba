"""Anomaly section (issue 13 items 3-4) and core.groups: AUROC / FPR95 on hand-computable
scores, GradNorm's closed form against autodiff, the detectors on models whose gradients are
known, the shifted sets, group sums that preserve the total, grouped deletion, the stages on
tiny real Keras models and the cross-seed table."""

import itertools
import math

import matplotlib
import numpy as np
import pandas as pd
import pytest

from inputgrad.core import groups
from inputgrad.core.models import build, model_fn
from inputgrad.core.stats import sigmoid, softmax
from inputgrad.infra.errors import ConfigError, DataError
from inputgrad.sections.anomaly import compute, stages, tables

IMDB = {"num_words": 30, "start_char": 1, "oov_char": 2, "index_from": 3}


def brute_auroc(a, b):
    pairs = [(1.0 if y > x else 0.5 if y == x else 0.0) for x, y in itertools.product(a, b)]
    return sum(pairs) / len(pairs)


# ----------------------------------------------------------------------------- metrics

def test_auroc_separable_reversed_tied_and_hand_case():
    assert compute.auroc([0, 1, 2], [3, 4]) == 1.0
    assert compute.auroc([3, 4], [0, 1, 2]) == 0.0
    assert compute.auroc([5, 5], [5, 5, 5]) == 0.5
    # pairs: 2 vs (1, 2, 3) -> 1 + 0.5 + 0; 4 vs all -> 3; (1.5 + 3) / 6
    assert compute.auroc([1, 2, 3], [2, 4]) == pytest.approx(0.75)
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 5, 40), rng.integers(1, 6, 30)  # many ties
    assert compute.auroc(a, b) == pytest.approx(brute_auroc(a, b))


def test_fpr_at_95_tpr_hand_cases():
    shifted = np.arange(1, 21)  # 19 of 20 flagged at threshold 2
    assert compute.fpr_at_tpr([0, 1.5, 2, 3], shifted, 0.95) == 0.5
    assert compute.fpr_at_tpr([0, 0.5], shifted, 0.95) == 0.0  # separable
    assert compute.fpr_at_tpr([0, 0.5, 1], shifted, 1.0) == pytest.approx(1 / 3)  # t = 1
    assert compute.fpr_at_tpr([30, 40], shifted, 0.95) == 1.0  # reversed
    with pytest.raises(ValueError):
        compute.fpr_at_tpr([1], [2], 0.0)


def test_detection_turns_raw_values_into_anomaly_scores():
    # low MSP / GradNorm and high gradient norms are anomalous: a perfectly separated case
    inside = {"msp": [0.9, 0.95], "gradnorm": [5.0, 6.0], "gradient_logprob": [0.1, 0.2],
              "gradient_logit": [1.0, 1.0]}
    shifted = {"msp": [0.5], "gradnorm": [1.0], "gradient_logprob": [3.0],
               "gradient_logit": [1.0]}
    out = compute.detection({k: np.array(v) for k, v in inside.items()},
                            {k: np.array(v) for k, v in shifted.items()}, 0.95)
    assert [out[d]["auroc"] for d in compute.DETECTORS] == [1.0, 1.0, 1.0, 0.5]
    assert out["msp"]["fpr95"] == 0.0 and out["gradient_logit"]["fpr95"] == 1.0


# ----------------------------------------------------------------------------- core.groups

def test_patch_groups_layout_and_edges():
    np.testing.assert_array_equal(groups.patch_groups(4, 4, 2).reshape(4, 4),
                                  [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]])
    g = groups.patch_groups(5, 5, 2).reshape(5, 5)  # 3 x 3 patches, 1-pixel edge patches
    assert g.max() == 8 and groups.patch_grid(5, 5, 2) == (3, 3)
    assert (g[4] == [6, 6, 7, 7, 8]).all() and (g[:, 4] == [2, 2, 5, 5, 8]).all()


def test_window_groups_skip_padding_and_start_marker():
    position = np.array([-1, -1, 0, 1, 2, 3, 4])
    np.testing.assert_array_equal(groups.window_groups(position, 2), [-1, -1, 0, 0, 1, 1, 2])
    np.testing.assert_array_equal(groups.window_groups(position, 1), [-1, -1, 0, 1, 2, 3, 4])


@pytest.mark.parametrize("k", [1, 2, 3, 4, 7, 28])
def test_group_sums_preserve_the_total(k):
    rng = np.random.default_rng(k)
    a = rng.normal(size=(5, 784))
    sums = groups.group_sums(a, groups.patch_groups(28, 28, k))
    assert sums.shape == (5, math.prod(groups.patch_grid(28, 28, k)))
    np.testing.assert_allclose(sums.sum(axis=1), a.sum(axis=1), rtol=1e-12, atol=1e-12)


def test_group_sums_hand_case_and_per_row_text_windows():
    a = np.arange(16, dtype=float).reshape(1, 4, 4)
    # patches of 2 x 2: 0+1+4+5, 2+3+6+7, 8+9+12+13, 10+11+14+15
    np.testing.assert_array_equal(groups.group_sums(a, groups.patch_groups(4, 4, 2)),
                                  [[10, 18, 42, 50]])
    position = np.array([[-1, 0, 1, 2, 3], [-1, -1, -1, 0, 1]])
    scores = np.array([[9.0, 1, 2, 3, 4], [9.0, 9, 9, 5, 6]])
    labels = groups.window_groups(position, 2)
    sums = groups.group_sums(scores, labels)
    np.testing.assert_array_equal(sums, [[3, 7], [11, 0]])
    # the total of the grouped (non-padding) features is preserved, padding left out
    np.testing.assert_allclose(sums.sum(axis=1), np.where(position >= 0, scores, 0).sum(axis=1))
    spread = groups.spread(sums, labels)
    np.testing.assert_array_equal(spread[0], [np.nan, 3, 3, 7, 7])


def test_grouped_order_removes_whole_groups_first():
    # patches of 2 pixels: (0, 1) sums to 5, (2, 3) to 6 although pixel 0 is the largest
    score = np.array([[5.0, 0.0, 3.0, 3.0]])
    order = groups.grouped_order(score, np.array([0, 0, 1, 1]))
    assert order.tolist() == [[2, 3, 0, 1]]
    assert groups.grouped_order(score, np.arange(4)).tolist() == [[0, 2, 3, 1]]
    # padding (-1) last, whatever its score
    order = groups.grouped_order(np.array([[9.0, 1.0, 2.0]]), np.array([[-1, 0, 1]]))
    assert order.tolist() == [[2, 1, 0]]


def test_normalize_none_abs_zscore():
    m = np.array([[1.0, -3.0, 2.0], [4.0, 4.0, 4.0]])
    assert groups.normalize(m, "none") is m
    np.testing.assert_array_equal(groups.normalize(m, "abs"), np.abs(m))
    z = groups.normalize(m, "zscore")
    np.testing.assert_allclose(z[0].mean(), 0, atol=1e-12)
    np.testing.assert_allclose(z[0].std(), 1)
    np.testing.assert_array_equal(z[1], 0)  # a constant row
    with_nan = groups.normalize(np.array([[np.nan, 1.0, 3.0]]), "zscore")
    np.testing.assert_allclose(with_nan, [[np.nan, -1.0, 1.0]])
    with pytest.raises(ValueError, match="zscore"):
        groups.normalize(m, "max")


# ----------------------------------------------------------------------------- GradNorm

def kl_weight_gradient_l1(model, x):
    """Autodiff: L1 norm of d KL(u || softmax([0, z] or z)) / d (last kernel), per input."""
    import tensorflow as tf

    kernel = model.layers[-1].kernel
    out = []
    for row in x:
        with tf.GradientTape() as tape:
            z = model(row[None], training=False)
            if z.shape[-1] == 1:
                z = tf.concat([tf.zeros_like(z), z], axis=1)
            logq = tf.nn.log_softmax(z)
            k = z.shape[-1]
            kl = tf.reduce_sum((1.0 / k) * (-math.log(k) - logq))
        out.append(float(tf.reduce_sum(tf.abs(tape.gradient(kl, kernel)))))
    return np.array(out)


@pytest.mark.parametrize("name,kwargs", [
    ("mnist_mlp", {"inputs": 6, "hidden": (5,), "classes": 4}),
    ("mnist_logreg", {"inputs": 6, "classes": 3}),
    ("imdb_bow_mlp", {"vocab_size": 6, "hidden": (5,)}),
])
def test_gradnorm_closed_form_matches_autodiff(name, kwargs):
    import keras

    keras.utils.set_random_seed(1)
    model = build({"name": name, **kwargs})
    x = np.random.default_rng(0).random((4, 6)).astype(np.float32)
    _, _, features = compute.differentiable(model)
    h, logits = features.predict(x, verbose=0)
    expected = kl_weight_gradient_l1(model, x)
    if logits.shape[1] == 1:
        # autodiff through [0, z]: the kernel is the one column of z, so the closed form
        # ||h||_1 |p - 1/2| is exact
        np.testing.assert_allclose(compute.gradnorm(h, logits), expected, rtol=1e-4)
    else:
        np.testing.assert_allclose(compute.gradnorm(h, logits), expected, rtol=1e-4)
        np.testing.assert_allclose(
            compute.gradnorm(h, logits),
            np.abs(h).sum(1) * np.abs(softmax(logits) - 1 / logits.shape[1]).sum(1), rtol=1e-6)
    if name == "mnist_logreg":
        np.testing.assert_allclose(h, x)  # logistic regression: h is the input itself


# ----------------------------------------------------------------------------- detectors

def linear_model(weights, bias):
    import keras

    x_in = keras.Input((weights.shape[0],))
    dense = keras.layers.Dense(weights.shape[1])
    model = keras.Model(x_in, dense(x_in))
    dense.set_weights([np.asarray(weights, np.float32), np.asarray(bias, np.float32)])
    return model


def test_detectors_on_multinomial_logistic_regression_hand_formulas():
    rng = np.random.default_rng(2)
    w, b = rng.normal(size=(5, 3)), rng.normal(size=3)
    x = rng.random((7, 5)).astype(np.float32)
    values = compute.detector_values(linear_model(w, b), x, batch_size=3, chunk_size=4)
    p = softmax(x @ w + b)
    c = p.argmax(axis=1)
    np.testing.assert_allclose(values["msp"], p.max(axis=1), rtol=1e-5)
    # d z_c / dx = w[:, c]; d log p_c / dx = w[:, c] - W p
    np.testing.assert_allclose(values["gradient_logit"], np.linalg.norm(w[:, c].T, axis=1),
                               rtol=1e-5)
    np.testing.assert_allclose(values["gradient_logprob"],
                               np.linalg.norm(w[:, c].T - p @ w.T, axis=1), rtol=1e-4)
    np.testing.assert_allclose(values["gradnorm"],
                               np.abs(x).sum(1) * np.abs(p - 1 / 3).sum(1), rtol=1e-5)


def test_binary_detectors_match_a_direct_log_probability_gradient():
    from inputgrad.core.gradients import gradient

    rng = np.random.default_rng(3)
    w, b = rng.normal(size=(6, 1)), np.array([0.3])
    x = rng.random((9, 6)).astype(np.float32)
    model = linear_model(w, b)
    values = compute.detector_values(model, x, batch_size=4, chunk_size=5)
    z = (x @ w + b)[:, 0]
    p = sigmoid(z)
    np.testing.assert_allclose(values["msp"], np.maximum(p, 1 - p), rtol=1e-5)
    np.testing.assert_allclose(values["gradient_logit"], np.linalg.norm(w), rtol=1e-5)
    np.testing.assert_allclose(values["gradnorm"], np.abs(x).sum(1) * np.abs(p - 0.5),
                               rtol=1e-5)

    def log_probs(xb):  # two-class log-probabilities [log(1 - p), log p]
        import tensorflow as tf

        zb = model_fn(model)(xb)
        return tf.concat([tf.math.log_sigmoid(-zb), tf.math.log_sigmoid(zb)], axis=1)

    grads, _ = gradient(log_probs, x, "logit", (z > 0).astype(np.int32), 16)
    np.testing.assert_allclose(values["gradient_logprob"], np.linalg.norm(grads, axis=1),
                               rtol=1e-4)


def test_cnn_detectors_differentiate_the_embedding_output():
    import keras

    keras.utils.set_random_seed(0)
    model = build({"name": "imdb_cnn", "num_words": 30, "maxlen": 12, "embedding_dim": 4,
                   "filters": 5, "kernel_size": 3, "hidden": 6, "dropout": 0.2})
    ids = np.random.default_rng(0).integers(1, 30, (5, 12)).astype(np.int32)
    values = compute.detector_values(model, ids, batch_size=2, chunk_size=3)
    assert all(v.shape == (5,) and np.isfinite(v).all() for v in values.values())
    p = sigmoid(model(ids, training=False).numpy()[:, 0])
    np.testing.assert_allclose(values["msp"], np.maximum(p, 1 - p), rtol=1e-5)
    np.testing.assert_allclose(values["gradient_logprob"],
                               (1 - values["msp"]) * values["gradient_logit"], rtol=1e-6)


# ----------------------------------------------------------------------------- shifted sets

def test_bilinear_upsampling_and_mnist_like_digits():
    m = compute.bilinear_matrix(20, 8)
    np.testing.assert_allclose(m.sum(axis=1), 1.0)
    assert (m >= 0).all()
    digit = np.zeros((1, 8, 8))
    digit[0, 1:7, 2:4] = 16  # a bar in the left half
    out = compute.like_mnist(digit)
    assert out.shape == (1, 28, 28) and out.dtype == np.float32
    assert 0 <= out.min() and out.max() <= 1
    cy, cx = compute.centre_of_mass(out[0])
    # moved to the centre as MNIST does, to the nearest whole pixel
    assert abs(cy - 14) <= 0.5 + 1e-6 and abs(cx - 14) <= 0.5 + 1e-6
    assert compute.like_mnist(np.full((1, 8, 8), 8.0))[0, 4:24, 4:24] == pytest.approx(0.5)


def test_shift_zero_moves_without_wrapping():
    a = np.arange(9.0).reshape(3, 3)
    np.testing.assert_array_equal(compute.shift_zero(a, 1, -1),
                                  [[0, 0, 0], [1, 2, 0], [4, 5, 0]])


def mnist_cfg(**over):
    cfg = {"n_in": 6, "n_shifted": 4, "seed": 0, "sets": list(compute.MNIST_SETS),
           "gaussian": {"mean": 0.1307, "sd": 0.3081}, "sklearn_box": 20}
    return {**cfg, **over}


def test_mnist_sets_are_disjoint_deterministic_and_named():
    x = np.random.default_rng(0).random((12, 28, 28)).astype(np.float32)
    digits8 = np.random.default_rng(1).integers(0, 17, (10, 8, 8)).astype(float)
    sets = compute.mnist_sets(x, digits8, mnist_cfg())
    assert list(sets) == ["in_distribution", *compute.MNIST_SETS]
    assert sets["in_distribution"].shape == (6, 784)
    assert all(v.shape == (4, 784) and v.dtype == np.float32 for k, v in sets.items()
               if k != "in_distribution")
    assert all(0 <= v.min() and v.max() <= 1 for v in sets.values())
    # inverted and rotated come from the same disjoint sample of test digits
    source = 1 - sets["inverted"].reshape(4, 28, 28)
    np.testing.assert_allclose(np.rot90(source, 1, axes=(1, 2)).reshape(4, -1),
                               sets["rotated_90"], atol=1e-6)
    flat = x.reshape(12, -1)
    hits = [np.flatnonzero((np.abs(flat - row) < 1e-6).all(1)) for row in source.reshape(4, -1)]
    used = {int(np.flatnonzero((flat == r).all(1))[0]) for r in sets["in_distribution"]}
    assert used.isdisjoint(int(h[0]) for h in hits)
    again = compute.mnist_sets(x, digits8, mnist_cfg(sets=["uniform_noise"]))
    np.testing.assert_array_equal(again["uniform_noise"], sets["uniform_noise"])
    with pytest.raises(ConfigError, match="anomaly.mnist"):
        compute.mnist_sets(x, digits8, mnist_cfg(n_in=10))
    with pytest.raises(ConfigError, match="blurred"):
        compute.mnist_sets(x, digits8, mnist_cfg(sets=["blurred"]))


def toy_reviews(n=10, seed=0):
    from inputgrad.data.arrays import Reviews

    rng = np.random.default_rng(seed)
    lengths = rng.integers(5, 15, n)
    ids = rng.integers(2, IMDB["num_words"], lengths.sum()).astype(np.int32)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return Reviews(ids, np.arange(len(ids), dtype=np.int32), offsets,
                   np.array([f"r{i}" for i in range(n)]), np.full(n, 8, np.int8),
                   (np.arange(n) % 2).astype(np.int8))


def test_text_sets_keep_lengths_and_words():
    reviews = toy_reviews()
    cfg = {"n_in": 4, "n_shifted": 5, "seed": 0, "sets": list(compute.TEXT_SETS)}
    sets = compute.text_sets(reviews, cfg, IMDB["num_words"], IMDB["index_from"])
    ids, offsets = sets["shuffled_words"]
    for name in ("random_tokens", "random_tokens_uniform"):
        np.testing.assert_array_equal(sets[name][1], offsets)  # the same lengths
    low = sets["random_tokens_uniform"][0]
    assert low.min() > IMDB["index_from"] and low.max() < IMDB["num_words"]
    assert sets["random_tokens"][0].max() < IMDB["num_words"]
    source = np.concatenate([reviews.ids(i) for i in
                             compute.split_sample(10, 4, 5, 0, "x")[1]])
    for s, e in zip(offsets[:-1], offsets[1:], strict=True):  # same words per review
        assert sorted(ids[s:e]) == sorted(source[s:e])
    # the bag of words cannot see the shuffle
    bow = build({"name": "imdb_bow_mlp", "vocab_size": IMDB["num_words"], "hidden": (4,)})
    np.testing.assert_array_equal(compute.text_inputs(bow, ids, offsets, IMDB),
                                  compute.text_inputs(bow, source, offsets, IMDB))


# ----------------------------------------------------------------------------- deletion

def test_deletion_curve_on_a_linear_model_hand_case():
    # class 0's logit weights 0.5, 3, 1, 2 on an all-ones digit; class 1's logit 0
    w = np.zeros((4, 2))
    w[:, 0] = [0.5, 3.0, 1.0, 2.0]
    f = model_fn(linear_model(w, np.zeros(2)))
    x = np.ones((1, 4), np.float32)

    def predict(xb):
        return softmax(f(xb).numpy())

    order = groups.grouped_order(w[:, 0][None], np.array([0, 0, 1, 1]))  # patches 3.5 and 3
    assert order.tolist() == [[1, 0, 3, 2]]
    curve = compute.deletion_curve(predict, x, np.array([0]), order, [0, 2, 4])
    expected = [sigmoid(6.5), sigmoid(3.0), 0.5]
    np.testing.assert_allclose(curve, expected, rtol=1e-5)
    with pytest.raises(ConfigError, match="ks"):
        compute.deletion_curve(predict, x, np.array([0]), order, [5])


def test_mnist_and_text_deletion_rows():
    import keras

    keras.utils.set_random_seed(0)
    mlp = build({"name": "mnist_mlp", "inputs": 784, "hidden": (8,), "classes": 3})
    x = np.random.default_rng(0).random((4, 784)).astype(np.float32)
    cfg = {"methods": ["gradient", "gradient_x_input"], "patch_sizes": [2, 4],
           "ks": [0, 16, 32]}
    rows = compute.mnist_deletion(model_fn(mlp), x, cfg, 8)
    assert [(r["method"], r["grouping"], r["group_size"]) for r in rows] == [
        (m, g, k) for m in cfg["methods"] for g, k in (("pixel", 1), ("patch", 2), ("patch", 4))]
    for r in rows:
        assert r["curve"].shape == (3,) and r["n"] == 4
        assert r["curve"][0] == pytest.approx(rows[0]["curve"][0])  # nothing removed yet
    cnn = build({"name": "imdb_cnn", "num_words": 30, "maxlen": 12, "embedding_dim": 4,
                 "filters": 5, "kernel_size": 3, "hidden": 6, "dropout": 0.2})
    reviews = toy_reviews()
    text = {"n": 3, "seed": 0, "methods": ["gradient"], "window": 3, "ks": [0, 3, 6]}
    ids, offsets = compute.take_reviews(reviews, compute.text_sample(reviews, text))
    from inputgrad.data.arrays import pad_reviews

    padded, position = pad_reviews(compute.as_reviews(ids, offsets), 12, 1)
    rows = compute.text_deletion(cnn, padded, position, text, 8)
    assert [(r["grouping"], r["group_size"]) for r in rows] == [("word", 1), ("window", 3)]
    assert rows[0]["curve"][0] == pytest.approx(rows[1]["curve"][0])
    with pytest.raises(ConfigError, match="max of ks"):
        compute.text_sample(reviews, {**text, "ks": [0, 50]})


# ----------------------------------------------------------------------------- stages

@pytest.fixture(scope="module")
def stage_files(tmp_path_factory):
    """Tiny real models of the four kinds, a 28 x 28 MNIST test set and IMDB test reviews in
    the prepared formats."""
    import keras

    base = tmp_path_factory.mktemp("anomaly")
    specs = {"mnist_mlp": {"inputs": 784, "hidden": (8,), "classes": 10},
             "mnist_logreg": {"inputs": 784, "classes": 10},
             "imdb_cnn": {"num_words": 30, "maxlen": 16, "embedding_dim": 4, "filters": 5,
                          "kernel_size": 3, "hidden": 6, "dropout": 0.2},
             "imdb_bow_mlp": {"vocab_size": 30, "hidden": (4,)}}
    files = {}
    for seed in (0, 1):
        keras.utils.set_random_seed(seed)
        for name, kw in specs.items():
            path = base / f"{name}{seed}.keras"
            build({"name": name, **kw}).save(path)
            files[(name, seed)] = str(path)
    rng = np.random.default_rng(0)
    np.savez(base / "mnist.npz", x_test=rng.random((30, 28, 28)).astype(np.float32),
             y_test=np.zeros(30, np.int64))
    r = toy_reviews(20)
    np.savez(base / "imdb_test.npz", word_ids=r.word_ids, token_idx=r.token_idx,
             offsets=r.offsets, review_id=r.review_id, rating=r.rating, label=r.label)
    return base, files


STAGE_CFG = {
    "anomaly": {"batch_size": 8, "chunk_size": 6, "tpr": 0.95,
                "mnist": mnist_cfg(n_in=10, n_shifted=8),
                "imdb": {"n_in": 6, "n_shifted": 5, "seed": 0, "sets": list(compute.TEXT_SETS)}},
    "grouped": {"batch_size": 8,
                "mnist": {"n": 5, "seed": 0, "methods": ["gradient", "gradient_x_input"],
                          "patch_sizes": [2], "ks": [0, 4, 8]},
                "imdb_cnn": {"enabled": True, "n": 4, "seed": 0, "window": 3,
                             "methods": ["gradient", "gradient_x_input"], "ks": [0, 3]}},
    "data": {"imdb": IMDB},
}


def run_seed(base, files, seed, out):
    data = {"mnist": str(base / "mnist.npz"), "imdb_test": str(base / "imdb_test.npz")}
    models = {name: files[(name, seed)] for name in ("mnist_mlp", "mnist_logreg", "imdb_cnn",
                                                     "imdb_bow_mlp")}
    outputs = {"anomaly": out / f"seed{seed}" / "gradient_anomaly.csv",
               "deletion": out / f"seed{seed}" / "grouped_deletion.csv"}
    kinds = {"mnist_mlp": "pixels", "mnist_logreg": "pixels", "imdb_cnn": "token_ids",
             "imdb_bow_mlp": "bag_of_words"}  # config.yaml `models`
    m1 = stages.gradient_anomaly({**models, **data}, {"table": outputs["anomaly"]},
                                 {"cfg": STAGE_CFG, "models": kinds, "seed": seed})
    m2 = stages.grouped_deletion({**models, **data}, {"table": outputs["deletion"]},
                                 {"cfg": STAGE_CFG, "seed": seed})
    return outputs, {**m1, **m2}


def test_stages_per_seed_then_across_seeds_and_figure(tmp_path, stage_files):
    base, files = stage_files
    per_seed = {seed: run_seed(base, files, seed, tmp_path) for seed in (0, 1)}
    outputs, metrics = per_seed[0]
    anomaly = pd.read_csv(outputs["anomaly"])
    assert list(anomaly.columns) == tables.ANOMALY_COLUMNS
    assert len(anomaly) == 4 * 5 * 2 + 4 * 3 * 2  # detectors x sets x models
    assert anomaly["auroc"].between(0, 1).all() and anomaly["fpr95"].between(0, 1).all()
    assert set(anomaly.loc[~anomaly["synthetic"], "shifted_set"]) == {"sklearn_digits"}
    assert (anomaly.loc[anomaly["model"].str.startswith("mnist"), "n_in"] == 10).all()
    deletion = pd.read_csv(outputs["deletion"])
    assert list(deletion.columns) == tables.DELETION_COLUMNS
    assert set(deletion["grouping"]) == {"pixel", "patch", "word", "window"}
    assert "anomaly_seconds_imdb_cnn" in metrics and "grouped_aoc_mnist_mlp_gradient_patch2" \
        in metrics
    # same seed, same bytes (no timings in the files)
    again, _ = run_seed(base, files, 0, tmp_path / "again")
    for key in ("anomaly", "deletion"):
        assert again[key].read_bytes() == outputs[key].read_bytes()

    inputs = {"anomaly": [str(per_seed[s][0]["anomaly"]) for s in (0, 1)],
              "deletion": [str(per_seed[s][0]["deletion"]) for s in (0, 1)]}
    out = {"csv": str(tmp_path / "anomaly_seeds.csv"), "md": str(tmp_path / "anomaly_seeds.md")}
    m = stages.anomaly_seeds(inputs, out, {"cfg": {"seeds": [0, 1]}})
    assert m["anomaly_seeds_n"] == 2
    table = pd.read_csv(out["csv"])
    one = table[(table["quantity"] == "auroc") & (table["model"] == "imdb_cnn")
                & (table["method"] == "msp") & (table["condition"] == "random_tokens")]
    seeds_rows, summary = one[one["seed"].notna()], one[one["seed"].isna()].iloc[0]
    assert summary["mean"] == pytest.approx(seeds_rows["value"].mean())
    assert "seeds_better" not in table  # verdicts (k of K) are the report's claims
    md = (tmp_path / "anomaly_seeds.md").read_text()
    assert "2 seeds: 0, 1" in md and "| sklearn digits " in md and "| random tokens * " in md
    assert md.count("| MNIST MLP ") == 4 + 4 + 4  # AUROC, FPR95: 4 detectors; deletion: 4
    with pytest.raises(DataError, match="2 seeds but 1 anomaly"):
        stages.anomaly_seeds({**inputs, "anomaly": inputs["anomaly"][:1]}, out,
                             {"cfg": {"seeds": [0, 1]}})

    before = dict(matplotlib.rcParams)
    style = {"width_in": 8, "height_in": 6, "dpi": 40, "font_size": 7, "style": "whitegrid",
             "alpha": 0.8, "line_width": 1, "marker_size": 6,
             "colors": {"msp": "grey", "gradnorm": "green"}}
    fig_out = {"png": tmp_path / "f.png", "pdf": tmp_path / "f.pdf"}
    stages.anomaly_figure({"table": out["csv"]}, fig_out, {"cfg": {"figure": style}})
    assert fig_out["png"].stat().st_size > 0 and fig_out["pdf"].stat().st_size > 0
    assert dict(matplotlib.rcParams) == before


def test_seed_table_hand_case_and_one_seed():
    def anomaly(v):
        return pd.DataFrame([{"model": "mnist_mlp", "detector": "msp",
                              "shifted_set": "uniform_noise", "synthetic": True, "auroc": v,
                              "fpr95": 1 - v, "n_in": 5, "n_shifted": 5}])

    def deletion(single, patch):
        rows = [{"model": "mnist_mlp", "method": "gradient", "grouping": g, "group_size": s,
                 "removed": k, "mean_probability": p, "n": 5}
                for g, s, curve in (("pixel", 1, single), ("patch", 4, patch))
                for k, p in zip((0, 16), curve, strict=True)]
        return pd.DataFrame(rows)

    # AOC with two points: (p0 - p16) / 2
    values = tables.seed_values({0: anomaly(0.4), 1: anomaly(0.9), 2: anomaly(0.8)},
                                {0: deletion((1, .8), (1, .6)), 1: deletion((1, .8), (1, .9)),
                                 2: deletion((1, .7), (1, .5))})
    table = tables.anomaly_seeds_table(values)
    summary = table[table["seed"].isna()].set_index(["quantity", "condition"])
    assert summary.loc[("auroc", "uniform_noise"), "mean"] == pytest.approx(0.7)
    gain = summary.loc[("aoc_gain", "patch4")]
    assert gain["mean"] == pytest.approx((0.1 - 0.05 + 0.1) / 3)
    assert np.isnan(gain["ci_low"])  # interval from 5 seeds
    md = tables.anomaly_seeds_markdown(table)
    assert " of 3 seeds" not in md and "0.700 (0.400 – 0.900)" in md
    single = tables.anomaly_seeds_table(tables.seed_values({7: anomaly(0.6)},
                                                           {7: deletion((1, .8), (1, .6))}))
    assert "(1 seed: 7)" in tables.anomaly_seeds_markdown(single)


# ----------------------------------------------------------------------------- explain flags

def test_explain_group_and_normalize_on_images_and_text(tmp_path, capsys):
    import json

    import keras

    from inputgrad import explain
    from inputgrad.cli import main

    keras.utils.set_random_seed(0)
    logreg = build({"name": "mnist_logreg"})
    x = np.random.default_rng(1).random((3, 784)).astype(np.float32)
    raw = explain.explain_array(logreg, x, "gradient_x_input", "logit", target=2)
    grouped = explain.explain_array(logreg, x, "gradient_x_input", "logit", target=2, group=7)
    assert grouped["grouped"].shape == (3, 4, 4) and grouped["groups"].shape == (784,)
    np.testing.assert_allclose(grouped["grouped"].sum(axis=(1, 2)),  # the total is kept
                               raw["attributions"].sum(axis=1), rtol=1e-5)
    np.testing.assert_array_equal(grouped["attributions"], raw["attributions"])
    z = explain.explain_array(logreg, x, "gradient_x_input", "logit", target=2,
                              normalize="zscore", group=4)
    np.testing.assert_allclose(z["attributions"].mean(axis=1), 0, atol=1e-9)
    np.testing.assert_allclose(z["grouped"].reshape(3, -1).std(axis=1), 1)
    images = x.reshape(3, 28, 28)  # (n, h, w) inputs are grouped the same way
    np.testing.assert_array_equal(explain.image_groups(images.shape[1:], 7)[0],
                                  groups.patch_groups(28, 28, 7))
    with pytest.raises(explain.ExplainError, match="--group"):
        explain.explain_array(logreg, x, group=0)
    with pytest.raises(explain.ExplainError, match="--normalize"):
        explain.explain_array(logreg, x, normalize="max")
    bow = build({"name": "imdb_bow_mlp", "vocab_size": 30, "hidden": (4,)})
    with pytest.raises(explain.ExplainError, match="square number"):
        explain.explain_array(bow, np.ones((2, 30), np.float32), group=2)

    cnn = build({"name": "imdb_cnn", "num_words": 20, "maxlen": 12, "embedding_dim": 4,
                 "filters": 3, "hidden": 5})
    ids = np.array([[0, 0, 0, 1, 5, 6, 7, 8, 9, 10, 11, 12]])  # padding, start, 8 words
    res = explain.explain_array(cnn, ids, "gradient", "logit", group=3)
    np.testing.assert_array_equal(res["groups"][0], [-1] * 4 + [0, 0, 0, 1, 1, 1, 2, 2])
    np.testing.assert_allclose(res["grouped"][0],
                               [res["per_token"][0, 4:7].sum(), res["per_token"][0, 7:10].sum(),
                                res["per_token"][0, 10:].sum()], rtol=1e-6)
    path = tmp_path / "cnn.keras"
    cnn.save(path)
    index = tmp_path / "index.json"
    index.write_text(json.dumps({"great": 1, "movie": 2, "bad": 3}))
    words = explain.explain_text(cnn, "great movie not bad at all", index, "gradient", group=2)
    by_word = explain.explain_text(cnn, "great movie not bad at all", index, "gradient")
    assert words["word"].tolist() == ["great movie", "[not] bad", "[at] [all]"]
    np.testing.assert_allclose(words["score"].sum(), by_word["score"].sum(), rtol=1e-6)
    assert main(["explain", str(path), "--text", "great movie, not bad", "--word-index",
                 str(index), "--group", "2", "--normalize", "abs"]) == 0
    assert "great movie" in capsys.readouterr().out
    pixels = tmp_path / "x.npy"
    np.save(pixels, x)
    logreg.save(tmp_path / "lr.keras")
    out = tmp_path / "att.npz"
    assert main(["explain", str(tmp_path / "lr.keras"), "--input", str(pixels), "--group", "4",
                 "--normalize", "zscore", "--out", str(out)]) == 0
    assert "group sums (3, 7, 7)" in capsys.readouterr().out
    with np.load(out) as saved:
        assert saved["grouped"].shape == (3, 7, 7)
