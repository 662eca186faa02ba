"""core.cnn_fast: the exact fast paths of the imdb_cnn shape equal the general ones (the plain
tape of the gradient primitive; the naive one-forward-per-word occlusion), ties included."""

import keras
import numpy as np
import pytest

from inputgrad.core import cnn_fast
from inputgrad.core.methods import naive_occlusion
from inputgrad.core.models import imdb_bow_mlp, model_fn
from inputgrad.core.models import imdb_cnn as build_cnn
from inputgrad.sections.imdb_cnn import compute
from inputgrad.sections.text_faithfulness import compute as text

KERNEL = np.array([[3.0, 4.0], [0.0, 2.0], [1.0, 0.0]])  # per-offset L2 norms 5, 2, 1


def tied_cnn():
    """logit = relu(max_t sum_k KERNEL[k] . e(ids[t + k])), e(w) = (w, w) / 10."""
    model = build_cnn(num_words=10, maxlen=6, embedding_dim=2, filters=1, kernel_size=3,
                      hidden=1, dropout=0.0)
    model.get_layer("embedding").set_weights(
        [np.repeat(np.arange(10, dtype=np.float32)[:, None], 2, axis=1) / 10])
    conv, dense, out = [lay for lay in model.get_layer("head").layers if lay.weights]
    conv.set_weights([KERNEL[:, :, None].astype(np.float32), np.zeros(1, np.float32)])
    dense.set_weights([np.ones((1, 1), np.float32), np.zeros(1, np.float32)])
    out.set_weights([np.ones((1, 1), np.float32), np.zeros(1, np.float32)])
    return model


def random_cnn(seed=0, relu_in_conv=False):
    keras.utils.set_random_seed(seed)
    if not relu_in_conv:
        return build_cnn(num_words=40, maxlen=24, embedding_dim=6, filters=9, kernel_size=3,
                         hidden=5, dropout=0.2)
    model = keras.Sequential([  # the Keras imdb_cnn example's layer order: ReLU inside Conv1D
        keras.Input((24,), dtype="int32"), keras.layers.Embedding(40, 6),
        keras.layers.Dropout(0.2), keras.layers.Conv1D(9, 3, activation="relu"),
        keras.layers.GlobalMaxPooling1D(), keras.layers.Dense(5, activation="relu"),
        keras.layers.Dense(1)])
    return model


def random_ids(seed=0, n=11, maxlen=24, vocab=40):
    ids = np.random.default_rng(seed).integers(3, vocab, size=(n, maxlen)).astype(np.int32)
    ids[:4, :10] = 0  # pre-padding: identical all-padding windows tie
    ids[:4, 10] = 1  # start marker
    ids[5, 14:17] = ids[5, 3:6]  # a repeated phrase: a tie among real words
    ids[6, :] = ids[6, 0]  # one word repeated: every window ties
    return ids


def test_a_tie_splits_the_gradient_equally_as_the_tape_does():
    model = tied_cnn()
    ids = np.array([[7, 3, 2, 7, 3, 2], [0, 0, 7, 3, 2, 5]], np.int32)  # abc..abc: windows 0, 3 tie
    parts = cnn_fast.conv_maxpool(model)
    assert parts is not None and not parts.relu_in_conv
    norms, logits = cnn_fast.logit_gradient_norms(parts, ids)
    # tie: each occurrence gets half of the gradient (TensorFlow's reduce_max gradient);
    # a gather at one argmax would give [5, 2, 1, 0, 0, 0]
    np.testing.assert_allclose(norms[0], [2.5, 1, 0.5, 2.5, 1, 0.5], rtol=1e-6)
    np.testing.assert_allclose(norms[1], [0, 0, 5, 2, 1, 0], rtol=1e-6)
    tape, tape_logits = compute.tape_logit_norms(model, ids)
    np.testing.assert_allclose(norms, tape, rtol=1e-6, atol=0)
    np.testing.assert_array_equal(logits, tape_logits)


@pytest.mark.parametrize("relu_in_conv", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_fast_norms_equal_the_plain_tape_on_a_random_cnn(seed, relu_in_conv):
    model = random_cnn(seed, relu_in_conv)
    parts = cnn_fast.conv_maxpool(model)
    assert parts is not None and parts.relu_in_conv == relu_in_conv
    ids = random_ids(seed)
    norms, logits = compute.word_gradient_norms(model, ids, batch_size=4)
    # the same batches: which windows tie can hang on the last bit of the convolution, and
    # that depends on the batch (oneDNN), for the tape as for the fast path
    tape, tape_logits = compute.tape_logit_norms(model, ids, batch_size=4, chunk_size=8)
    assert (tape == 0).any() and (tape > 0).any()  # words outside every max window, and not
    np.testing.assert_allclose(norms["logit"], tape, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(logits, tape_logits, rtol=1e-6)
    # the probability target is the chain-rule rescale of the same pass
    scale = (1 / (1 + np.exp(-tape_logits))) * (1 / (1 + np.exp(tape_logits)))
    np.testing.assert_allclose(norms["probability"], tape * scale[:, None], rtol=1e-5,
                               atol=1e-12)


def test_a_relu_conv_whose_filters_are_all_negative_passes_no_gradient():
    model = random_cnn(2, relu_in_conv=True)
    conv = next(lay for lay in model.layers if isinstance(lay, keras.layers.Conv1D))
    kernel, bias = conv.get_weights()
    conv.set_weights([kernel, bias - 100.0])  # every window negative: relu 0 everywhere, tied
    ids = random_ids(2)
    norms, _ = cnn_fast.logit_gradient_norms(cnn_fast.conv_maxpool(model), ids)
    tape, _ = compute.tape_logit_norms(model, ids)
    np.testing.assert_array_equal(tape, 0)
    np.testing.assert_array_equal(norms, 0)


def test_other_models_keep_the_general_paths():
    assert cnn_fast.conv_maxpool(imdb_bow_mlp(vocab_size=20, hidden=(4,))) is None
    keras.utils.set_random_seed(0)
    same = keras.Sequential([  # padding "same": windows not the ones the fast path assumes
        keras.Input((10,), dtype="int32"), keras.layers.Embedding(20, 4),
        keras.layers.Conv1D(3, 3, padding="same"), keras.layers.GlobalMaxPooling1D(),
        keras.layers.Dense(1)])
    assert cnn_fast.conv_maxpool(same) is None
    avg = keras.Sequential([
        keras.Input((10,), dtype="int32"), keras.layers.Embedding(20, 4),
        keras.layers.Conv1D(3, 3), keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1)])
    assert cnn_fast.conv_maxpool(avg) is None
    ids = np.random.default_rng(0).integers(0, 20, size=(3, 10))
    norms, _ = compute.word_gradient_norms(same, ids, ("logit",))  # the tape path
    assert norms["logit"].shape == (3, 10)


def naive_scores(model, ids, words, direction, oov_char):
    f = model_fn(model)
    p0 = text.class_probability(f, ids, direction)
    return naive_occlusion(f, p0, ids, words, direction, 256, oov_char)


@pytest.mark.parametrize("model_seed", [(0, False), (1, True)])
def test_fast_occlusion_equals_the_naive_one(model_seed):
    seed, relu_in_conv = model_seed
    model = random_cnn(seed, relu_in_conv)
    ids = random_ids(seed)
    words = ids >= 3
    words[7] = True  # first and last columns too (edge windows)
    logits = text.logits_of(model_fn(model), ids)
    direction = text.direction_of(text.predicted_classes(logits))
    fast = text.word_scores("occlusion", model, ids, words, batch_size=4, oov_char=2)
    naive = np.where(words, naive_scores(model, ids, words, direction, 2), np.nan)
    np.testing.assert_array_equal(np.isnan(fast), np.isnan(naive))
    np.testing.assert_allclose(fast, naive, rtol=0, atol=1e-6)
    assert np.nanmax(np.abs(naive)) > 1e-3  # the scores are not all ~0


def hand_occlusion(row, fill):
    """relu(max_t sum_k KERNEL[k] . e(row[t + k])) with word j set to `fill`, per j, by hand."""
    logits = []
    for j in range(len(row)):
        e = np.repeat(np.asarray(row, np.float64)[:, None] / 10, 2, axis=1)
        e[j] = fill / 10
        windows = [sum(KERNEL[k] @ e[t + k] for k in range(3)) for t in range(len(row) - 2)]
        logits.append(max(max(windows), 0.0))
    return logits


def test_fast_occlusion_on_the_hand_cnn_by_hand():
    parts = cnn_fast.conv_maxpool(tied_cnn())
    ids = np.array([[7, 3, 2, 7, 3, 2], [0, 0, 7, 3, 2, 5], [9, 0, 0, 0, 0, 9]], np.int32)
    fast = cnn_fast.occlusion_logits(parts, ids, np.ones(ids.shape, bool), fill=1)
    # a word of one occurrence of the tied window: the other keeps the max (5.7)
    np.testing.assert_allclose(fast[0], 5.7, rtol=1e-6)
    for row, got in zip(ids, fast, strict=True):
        np.testing.assert_allclose(got, hand_occlusion(row, 1), rtol=1e-6)


def neighbourhood(ids, row, samples=40, seed=0):
    """LIME-like rows of one review: its words kept or set to the OOV id 2 at random."""
    rng = np.random.default_rng(seed)
    rows = np.repeat(ids[row:row + 1], samples, axis=0)
    words = np.flatnonzero(ids[row] >= 3)
    drop = rng.random((samples, len(words))) < 0.5
    rows[:, words] = np.where(drop, 2, rows[:, words])
    return rows


@pytest.mark.parametrize("model_seed", [(0, False), (1, True)])
def test_shared_prefix_logits_equal_the_model(model_seed):
    """The windows inside the columns every row shares are computed once: same logits as the
    model, for a review with padding (shared prefix 11 columns), without padding (prefix
    shorter than the kernel: the plain path), identical rows and a single row."""
    seed, relu_in_conv = model_seed
    model = random_cnn(seed, relu_in_conv)
    parts = cnn_fast.conv_maxpool(model)
    ids = random_ids(seed)
    for rows in (neighbourhood(ids, 0), neighbourhood(ids, 8), np.repeat(ids[:1], 5, axis=0),
                 ids[2:3], ids):
        plain = np.asarray(model(rows, training=False))
        fast = cnn_fast.shared_prefix_logits(parts, rows)
        assert fast.shape == plain.shape
        np.testing.assert_allclose(fast, plain, rtol=1e-6, atol=1e-7)


def test_lime_takes_the_shared_prefix_path_with_the_same_weights():
    """LIME on the CNN with its model given (the fast forward) and without (the plain one)."""
    model = random_cnn(1, True)
    ids = random_ids(1)[:5]
    words = ids >= 3
    options = {"samples": 60, "seed": 0}
    fast = text.word_scores("lime", model, ids, words, batch_size=16, oov_char=2, **options)
    logits = text.logits_of(model_fn(model), ids)
    direction = text.direction_of(text.predicted_classes(logits))
    from inputgrad.core.methods import attribute

    plain = attribute("lime", model_fn(model), ids, target=0, batch_size=16, features=words,
                      fill=2, direction=direction, **options)
    np.testing.assert_array_equal(np.isnan(fast), np.isnan(np.where(words, plain, np.nan)))
    np.testing.assert_allclose(fast, np.where(words, plain, np.nan), rtol=1e-5, atol=1e-7)
    assert np.nanmax(np.abs(plain)) > 1e-4


@pytest.mark.parametrize("relu_in_conv", [False, True])
def test_batches_of_padded_reviews_skip_the_padding_windows_with_the_same_norms(relu_in_conv):
    """Reviews sorted by their padding: a batch whose rows all start with more than K padding
    columns skips the windows inside them. With the padding embedding made to win filter 0's
    max pool, those windows tie and carry gradient: the norms (padding columns included)
    equal the plain tape's, ties split alike."""
    model = random_cnn(3, relu_in_conv)
    embedding = model.get_layer("embedding") if not relu_in_conv else model.layers[0]
    conv = next(lay for lay in model.layers if isinstance(lay, keras.layers.Conv1D)) \
        if relu_in_conv else next(lay for lay in model.get_layer("head").layers
                                  if isinstance(lay, keras.layers.Conv1D))
    table = embedding.get_weights()[0] * 0.1  # words weak, the padding strong: it wins the
    kernel = conv.get_weights()[0]  # max pool of the filters it points along
    table[0] = 4.0 * kernel.sum(axis=(0, 2)) / np.linalg.norm(kernel.sum(axis=(0, 2)))
    embedding.set_weights([table])
    leads = [8, 10, 12, 14, 9, 11, 0, 6, 7]
    ids = np.random.default_rng(3).integers(3, 40, size=(len(leads), 24)).astype(np.int32)
    for row, lead in enumerate(leads):
        ids[row, :lead] = 0
    calls = []
    padded = cnn_fast._padded_norms_fn(cnn_fast.conv_maxpool(model))

    def counted(rest, s):
        calls.append(int(s))
        return padded(rest, s)

    original = cnn_fast._padded_norms_fn
    cnn_fast._padded_norms_fn = lambda parts: counted
    try:
        norms, logits = cnn_fast.logit_gradient_norms(cnn_fast.conv_maxpool(model), ids,
                                                      batch_size=4)
    finally:
        cnn_fast._padded_norms_fn = original
    assert calls == [10 - 3, 6 - 3]  # two padded batches (leads 14..10 and 9..6), one plain
    padded_rows = [i for i, lead in enumerate(leads) if lead >= 6]
    assert (norms[padded_rows, :3] > 0).all()  # gradient in the skipped windows' words
    tape, tape_logits = compute.tape_logit_norms(model, ids, batch_size=9, chunk_size=9)
    np.testing.assert_allclose(norms, tape, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(logits, tape_logits, rtol=1e-6)
