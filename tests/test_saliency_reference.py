"""Our registry against PAIR-code's `saliency` package (framework-agnostic, numpy in and out)
on a small seeded Keras MLP, one digit-like input at a time, the predicted class's logit.

Tolerances, and why:
- gradient: rtol 1e-6 (the same float32 gradient; only the tape differs).
- integrated gradients: saliency sums the gradient at np.linspace(0, 1, m) (both end points)
  and divides by m, a rule with an O(1/m) bias; ours is the midpoint rule, O(1/m²). With
  m = 2000 both are within ~1e-3 of the integral: rtol 2e-3 plus atol 1e-4 x max |IG|.
- SmoothGrad, SmoothGrad² (saliency's magnitude=True) and VarGrad (= SG² - SG², saliency has
  no VarGrad): saliency draws its noise with np.random.normal, one example at a time; we feed
  it our own draws (float32, the order of `noise_tunnel`), so only the float32 sums differ:
  rtol 1e-5; VarGrad, a difference of two such means, atol 1e-5 x the mean square.
"""

import numpy as np
import pytest

from inputgrad.core.methods import attribute

saliency = pytest.importorskip("saliency.core")

SAMPLES, NOISE, SEED = 12, 0.15, 3


@pytest.fixture(scope="module")
def setup():
    import keras
    import tensorflow as tf

    from inputgrad.core.models import mnist_mlp, model_fn

    keras.utils.set_random_seed(0)
    f = model_fn(mnist_mlp(inputs=10, hidden=(16, 8), dropout=0.0, classes=3))
    x = np.random.default_rng(1).random(10).astype(np.float32)
    c = int(np.argmax(f(x[None]).numpy()))

    def call_model(batch, call_model_args=None, expected_keys=None):
        t = tf.convert_to_tensor(np.asarray(batch, np.float32))
        with tf.GradientTape() as tape:
            tape.watch(t)
            out = f(t)[:, c]
        return {saliency.INPUT_OUTPUT_GRADIENTS: tape.gradient(out, t).numpy()}

    return f, x, c, call_model


def ours(method, f, x, c, **options):
    return attribute(method, f, x[None], target=np.array([c]), output="logit", **options)[0]


def test_gradient(setup):
    f, x, c, call_model = setup
    theirs = saliency.GradientSaliency().GetMask(x, call_model)
    np.testing.assert_allclose(ours("gradient", f, x, c), theirs, rtol=1e-6, atol=1e-8)


def test_integrated_gradients(setup):
    f, x, c, call_model = setup
    m = 2000
    theirs = saliency.IntegratedGradients().GetMask(x, call_model, x_baseline=np.zeros_like(x),
                                                    x_steps=m, batch_size=500)
    mine = ours("integrated_gradients", f, x, c, steps=m)
    np.testing.assert_allclose(mine, theirs, rtol=2e-3, atol=1e-4 * np.abs(theirs).max())


def our_draws(x):
    """The noise `noise_tunnel` adds to a one-example batch, sample by sample."""
    sigma = NOISE * float(x.max() - x.min())
    rng = np.random.default_rng(SEED)
    noise = rng.normal(0.0, sigma, size=(SAMPLES, 1) + x.shape).astype(np.float32)
    return iter(noise[:, 0])


def smoothed(x, call_model, monkeypatch, magnitude):
    draws = our_draws(x)
    monkeypatch.setattr(saliency.base.np.random, "normal", lambda *a, **k: next(draws))
    return saliency.GradientSaliency().GetSmoothedMask(
        x, call_model, stdev_spread=NOISE, nsamples=SAMPLES, magnitude=magnitude)


@pytest.mark.parametrize("method, magnitude", [("smoothgrad", False), ("smoothgrad_sq", True)])
def test_smoothgrad_and_its_square(setup, monkeypatch, method, magnitude):
    f, x, c, call_model = setup
    theirs = smoothed(x, call_model, monkeypatch, magnitude)
    mine = ours(method, f, x, c, samples=SAMPLES, noise=NOISE, seed=SEED)
    np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-9)


def test_vargrad_is_their_smoothgrad_square_minus_smoothgrad_squared(setup, monkeypatch):
    f, x, c, call_model = setup
    sq = smoothed(x, call_model, monkeypatch, True).astype(np.float64)
    sg = smoothed(x, call_model, monkeypatch, False).astype(np.float64)
    mine = ours("vargrad", f, x, c, samples=SAMPLES, noise=NOISE, seed=SEED)
    np.testing.assert_allclose(mine, sq - sg ** 2, rtol=0, atol=1e-5 * sq.max())
    assert (mine >= 0).all() and mine.max() > 1e-4 * sq.max()  # not trivially zero
