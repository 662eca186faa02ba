"""Gradients of log-probabilities, probabilities and losses on a model built to be confident.

A small ReLU MLP is given weights that put every test point's predicted class 20-40 logits
ahead of the others, so p_y rounds to 1 in float32 (1 - p_y < 2^-24). The float64
reference is the closed form with the same weights: d log p_c / dx = J^T (e_c - p), with
J = dz/dx = W2^T diag(relu'(h)) W1^T. The framework's own float32 forms lose the dz_c term
there; `core.gradients` must not.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from inputgrad.core.gradients import gradient
from inputgrad.core.models import model_fn

D, H, K = 12, 16, 4


def weights(seed=0):
    rng = np.random.default_rng(seed)
    w1 = rng.normal(0, 1, (D, H)).astype(np.float32)
    b1 = rng.normal(0, 0.1, H).astype(np.float32)
    w2 = rng.normal(0, 1, (H, K)).astype(np.float32)
    b2 = np.zeros(K, np.float32)
    return w1, b1, w2, b2


def points(w, n=40, seed=1):
    """Inputs whose logit margin (top minus second) lies in [20, 40]: saturated in float32,
    while the other classes' probabilities (e^-20 .. e^-40) stay normal float32 numbers."""
    rng = np.random.default_rng(seed)
    found = []
    while len(found) < n:
        x = rng.normal(0, 1, (4096, D)).astype(np.float32) * rng.uniform(0.5, 4, (4096, 1))
        z = np.sort(logits64(w, x), axis=1)
        margin = z[:, -1] - z[:, -2]
        found.extend(x[(margin > 20) & (margin < 40)].astype(np.float32))
    return np.asarray(found[:n], np.float32)


def logits64(w, x):
    w1, b1, w2, b2 = (np.asarray(a, np.float64) for a in w)
    return np.maximum(np.asarray(x, np.float64) @ w1 + b1, 0) @ w2 + b2


def reference(w, x, cls, output):
    """float64 closed form of d output[c] / dx."""
    w1, b1, w2, b2 = (np.asarray(a, np.float64) for a in w)
    h = np.asarray(x, np.float64) @ w1 + b1
    z = np.maximum(h, 0) @ w2 + b2
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    e = np.eye(K)[cls]
    # e_c - p with 1 - p_c as the sum of the other classes' p: float64 too rounds 1 - p_c to 0
    # at margins past 37
    others = p * (1 - e)
    dlogp = e * others.sum(axis=1, keepdims=True) - others
    upstream = {"log_probability": dlogp, "cross_entropy": -dlogp,
                "probability": p[np.arange(len(x)), cls][:, None] * dlogp}[output]
    # dz/dx applied to the upstream vector: W1 diag(relu') W2 u
    return ((upstream @ w2.T) * (h > 0)) @ w1.T


@pytest.fixture(scope="module")
def saturated():
    w = weights()
    x_in = keras.Input((D,))
    hidden = keras.layers.Dense(H, activation="relu")
    out = keras.layers.Dense(K)
    model = keras.Model(x_in, out(hidden(x_in)))
    hidden.set_weights(w[:2])
    out.set_weights(w[2:])
    x = points(w)
    z = model_fn(model)(x).numpy()
    # the premise: 1 - p_y is below float32's resolution next to 1 (2^-24), so p_y rounds to 1
    # or to its float32 neighbour 1 - 2^-24, and 1 - p_y in float32 carries no correct digit
    z64 = np.sort(logits64(w, x), axis=1)
    assert np.all(np.exp(z64[:, :-1] - z64[:, -1:]).sum(axis=1) < 2.0 ** -24)
    assert np.all(tf.nn.softmax(z).numpy().max(axis=1) >= 1 - 2.0 ** -24)
    return model_fn(model), w, x, z.argmax(axis=1).astype(np.int32)


def agrees(grads, ref):
    """Sign on every coordinate where the float64 value is not tiny; norm to 1e-5 relative."""
    big = np.abs(ref) > 1e-3 * np.abs(ref).max(axis=1, keepdims=True)
    signs = np.all(np.sign(grads)[big] == np.sign(ref)[big])
    norm = np.linalg.norm(grads, axis=1)
    ref_norm = np.linalg.norm(ref, axis=1)
    return signs and np.all(np.abs(norm - ref_norm) <= 1e-5 * ref_norm)


@pytest.mark.parametrize("output", ["log_probability", "cross_entropy", "probability"])
def test_saturated_gradients_match_float64(saturated, output):
    f, w, x, cls = saturated
    grads, _ = gradient(f, x, output, cls, batch_size=16)
    assert agrees(grads, reference(w, x, cls, output))


def test_saturated_jacobian_of_probabilities_matches_float64(saturated):
    f, w, x, cls = saturated
    jac, _ = gradient(f, x, "probability", "all", batch_size=16)
    z = logits64(w, x)
    logp = z - z.max(axis=1, keepdims=True)
    for c in range(K):
        # rows where p_c > 1e-12: TensorFlow's float32 backward returns 0 for gradients of
        # order 1e-24 (seen at p_c ~ 1e-25), far below anything an evaluation reads
        rows = logp[:, c] - np.log(np.exp(logp).sum(axis=1)) > np.log(1e-12)
        assert rows.sum() >= 5
        ref = reference(w, x[rows], np.full(rows.sum(), c), "probability")
        assert agrees(jac[rows, c], ref)


def test_true_label_loss_gradient_when_prediction_is_wrong(saturated):
    """FGSM differentiates the loss of the true label; where that label is not the predicted
    class, p_label is tiny and the gradient is the ordinary one (no cancellation either way)."""
    f, w, x, cls = saturated
    labels = (cls + 1) % K
    grads, _ = gradient(f, x, "cross_entropy", labels, batch_size=16)
    assert agrees(grads, reference(w, x, labels, "cross_entropy"))


@pytest.mark.parametrize("form", ["keras_crossentropy", "log_softmax", "logsumexp"])
def test_framework_forms_fail_on_saturated_model(saturated, form):
    """The check above has teeth: the float32 forms this project used before (logsumexp of
    logit differences, log_softmax) and Keras' own cross-entropy lose the dz_y term."""
    f, w, x, cls = saturated

    def naive(xb):
        z = f(xb)
        if form == "log_softmax":
            return -tf.nn.log_softmax(z, axis=-1)
        if form == "logsumexp":
            return tf.reduce_logsumexp(z[:, None, :] - z[:, :, None], axis=-1)
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)
        return tf.stack([loss(tf.fill((tf.shape(z)[0],), c), z) for c in range(K)], axis=1)

    grads, _ = gradient(naive, x, "logit", cls, batch_size=16)
    assert not agrees(grads, reference(w, x, cls, "cross_entropy"))


def test_binary_log_probability_and_probability():
    """One logit z = x·v, saturated at z = 30: d log sigmoid(z) = sigmoid(-z) v and
    d sigmoid(z) = sigmoid(z) sigmoid(-z) v, both non-zero in float32 here."""
    v = np.array([[1.0], [-2.0], [0.5]], np.float32)
    x_in = keras.Input((3,))
    dense = keras.layers.Dense(1, use_bias=False)
    model = keras.Model(x_in, dense(x_in))
    dense.set_weights([v])
    x = np.array([[30.0, 0.0, 0.0], [20.0, 1.0, 2.0]], np.float32)
    z = (x.astype(np.float64) @ v.astype(np.float64))[:, 0]
    q = 1.0 / (1.0 + np.exp(z))  # sigmoid(-z)
    f = model_fn(model)
    logp, _ = gradient(f, x, "log_probability", 0, batch_size=2)
    prob, _ = gradient(f, x, "probability", 0, batch_size=2)
    np.testing.assert_allclose(logp, q[:, None] * v[:, 0], rtol=1e-6)
    np.testing.assert_allclose(prob, (q * (1 - q))[:, None] * v[:, 0], rtol=1e-6)
