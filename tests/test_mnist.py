"""Paper section 5.3: mean Jacobians of the MNIST models, correlation table, figure."""

import keras
import numpy as np
import pandas as pd
import pytest

from inputgrad.core import gradients
from inputgrad.core.models import build, model_fn
from inputgrad.core.stats import pearson_rows, softmax
from inputgrad.infra.errors import ConfigError
from inputgrad.infra.io import load_npz
from inputgrad.sections.mnist import compute as mnist
from inputgrad.sections.mnist import stages
from inputgrad.sections.mnist.tables import correlation_table
from inputgrad.sections.mnist.views import symmetric_limit

FIGURE = {"cmap": "RdBu_r", "scale_quantile": 1.0, "width_in": 8, "height_in": 2.5, "dpi": 40,
          "font_size": 7, "style": "white"}


@pytest.fixture
def float64():
    """Build models in float64 (floatx and the global dtype policy, which Keras caches)."""
    old_floatx, old_policy = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    yield
    keras.config.set_floatx(old_floatx)
    keras.config.set_dtype_policy(old_policy)


def _randomize(model, seed=0, scale=0.3):
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if layer.weights:
            layer.set_weights([rng.normal(0, scale, w.shape).astype(w.dtype)
                               for w in layer.get_weights()])
    return model


def _digits(n, seed=1):
    return np.random.default_rng(seed).random((n, 28, 28)).astype(np.float32)


def test_logreg_logit_jacobian_is_its_weight_matrix():
    model = _randomize(build({"name": "mnist_logreg"}))
    x = mnist.flatten(_digits(6))
    jac, logits = gradients.gradient(model_fn(model), x, output="logit", classes="all")
    weights, bias = mnist.dense_weights(model)
    assert jac.shape == (6, 10, 784) and logits.shape == (6, 10) and weights.shape == (10, 784)
    for i in range(len(x)):  # exactly W (= kernel.T) for every example
        np.testing.assert_array_equal(jac[i], model.get_layer("logits").kernel.numpy().T)
    np.testing.assert_allclose(logits, x @ weights.T + bias, rtol=1e-5, atol=1e-5)
    for factorize in (True, False):
        mean = mnist.mean_jacobians(model, x, batch_size=4, factorize=factorize)
        np.testing.assert_allclose(mean["logit"], weights, rtol=0, atol=1e-7)


def test_logreg_probability_jacobian_is_softmax_chain_rule():
    model = _randomize(build({"name": "mnist_logreg"}), scale=0.05)
    x = mnist.flatten(_digits(5, seed=2))
    weights, bias = mnist.dense_weights(model)
    p = softmax(x.astype(np.float64) @ weights.T + bias)
    # d p_c / d x = sum_k p_c (delta_ck - p_k) W_k
    expected = np.einsum("nc,nck,kd->ncd", p, np.eye(10)[None] - p[:, None, :], weights)
    jac, _ = gradients.gradient(model_fn(model), x, output="probability", classes="all")
    np.testing.assert_allclose(jac, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("output", ["probability", "logit"])
def test_mlp_jacobian_matches_finite_differences(float64, output):
    # the registry's MLP, narrowed so 2 x 784 forward passes stay cheap; float64 weights
    model = _randomize(build({"name": "mnist_mlp", "inputs": 784, "hidden": [24, 24]}), scale=0.1)
    assert model.get_layer("logits").kernel.dtype == "float64"
    x = mnist.flatten(_digits(3, seed=3)).astype(np.float64)
    f = model_fn(model)
    jac, _ = gradients.gradient(f, x, output=output, classes="all")
    fd = gradients.finite_difference(f, x, output=output, eps=1e-4)
    assert jac.shape == fd.shape == (3, 10, 784)
    rel = np.abs(jac - fd).max() / np.abs(fd).max()
    assert rel <= 1e-3, rel
    for factorize in (True, False):
        mean = mnist.mean_jacobians(model, x, [output], batch_size=2, factorize=factorize)[output]
        np.testing.assert_allclose(mean, fd.mean(axis=0), rtol=0, atol=1e-3 * np.abs(fd).max())


@pytest.mark.parametrize("name", ["mnist_mlp", "mnist_logreg"])
def test_mean_jacobian_through_the_first_layer_equals_the_direct_one(name):
    model = _randomize(build({"name": name}), seed=6, scale=0.05)
    x = _digits(40, seed=7)
    assert mnist.first_dense_split(model) is not None
    fast = mnist.mean_jacobians(model, x, batch_size=16)
    direct = mnist.mean_jacobians(model, x, batch_size=16, factorize=False)
    for target in mnist.TARGETS:
        assert fast[target].shape == (10, 784)
        np.testing.assert_allclose(fast[target], direct[target], rtol=0,
                                   atol=1e-5 * np.abs(direct[target]).max())
    gaps = mnist.check_factorized(model, x[:8])
    assert set(gaps) == set(mnist.TARGETS) and max(gaps.values()) < 1e-5


def test_rules_write_arrays_of_the_paper_shapes(tmp_path):
    data = tmp_path / "mnist.npz"
    np.savez(data, x_train=_digits(8), y_train=np.arange(8) % 10, x_test=_digits(12, seed=4),
             y_test=np.arange(12) % 10)
    model = _randomize(build({"name": "mnist_logreg"}), scale=0.05)
    model.save(tmp_path / "model.keras")
    inputs = {"model": str(tmp_path / "model.keras"), "data": str(data)}
    cfg = {"model": {"name": "mnist_logreg"},
           "attribution": {"targets": ["probability", "logit"], "batch_size": 5}}
    metrics = stages.mnist_jacobian(inputs, {"jacobian": tmp_path / "jac.npz"}, {"cfg": cfg})
    stages.mnist_logreg_weights(inputs, {"weights": tmp_path / "w.npz"}, {})
    jac, w = load_npz(tmp_path / "jac.npz"), load_npz(tmp_path / "w.npz")
    assert jac["probability"].shape == jac["logit"].shape == w["weights"].shape == (10, 784)
    assert int(jac["n"]) == 12 and jac["mean_probability"].shape == (10,)
    assert metrics["logit_jacobian_minus_weights_max_abs"] < 1e-6
    assert set(metrics) == {"factorised_gap_probability", "factorised_gap_logit",
                            "logit_jacobian_minus_weights_max_abs", "mnist_jacobian_seconds"}
    assert max(metrics["factorised_gap_probability"], metrics["factorised_gap_logit"]) < 1e-5
    np.testing.assert_allclose(jac["logit"], w["weights"], atol=1e-6)
    # the class probabilities sum to 1, so their mean Jacobians sum to 0
    np.testing.assert_allclose(jac["probability"].sum(axis=0), 0, atol=1e-6)
    bad = {**cfg, "attribution": {"targets": ["prob"], "batch_size": 5}}
    with pytest.raises(ConfigError, match="attribution.targets"):
        stages.mnist_jacobian(inputs, {"jacobian": tmp_path / "x.npz"}, {"cfg": bad})
    assert not (tmp_path / "x.npz").exists()


def test_train_mnist_checks_the_pixel_count(tmp_path):
    data = tmp_path / "mnist.npz"
    np.savez(data, x_train=_digits(4), y_train=np.arange(4), x_test=_digits(2),
             y_test=np.arange(2))
    with pytest.raises(ConfigError, match="model.inputs"):
        stages.train_mnist({"data": str(data)}, {}, {"cfg": {"model": {"inputs": 100}}, "seed": 0})


def test_correlation_table_is_per_digit_pearson():
    rng = np.random.default_rng(5)
    weights = rng.normal(size=(10, 784))
    jac = {"probability": 2 * weights + rng.normal(size=(10, 784)), "logit": -weights}
    df = correlation_table(jac, weights, {"probability": weights * 3})
    assert list(df.columns) == ["digit", "mlp_probability", "mlp_logit", "logreg_probability"]
    expected = [np.corrcoef(jac["probability"][c], weights[c])[0, 1] for c in range(10)]
    np.testing.assert_allclose(df["mlp_probability"], expected, rtol=1e-12)
    np.testing.assert_allclose(df[["mlp_logit", "logreg_probability"]], [[-1, 1]] * 10)
    assert np.isnan(pearson_rows(np.ones((1, 4)), np.arange(4.0)[None]))[0]


def test_figure_renders_from_hand_made_arrays(tmp_path):
    yy, xx = np.mgrid[:28, :28]
    ring = ((np.hypot(yy - 13.5, xx - 13.5) - 8) ** 2 < 6).astype(float).ravel()
    weights = np.stack([np.roll(ring, 28 * c) - 0.3 for c in range(10)])
    np.savez(tmp_path / "mlp.npz", probability=1e-3 * weights, logit=weights, n=np.int64(7))
    np.savez(tmp_path / "w.npz", weights=weights, bias=np.zeros(10))
    pd.DataFrame({"digit": range(10), "mlp_probability": np.linspace(0, 0.9, 10),
                  "mlp_logit": 0.5}).to_csv(tmp_path / "t.csv", index=False)
    inputs = {"mlp": tmp_path / "mlp.npz", "weights": tmp_path / "w.npz",
              "table": tmp_path / "t.csv"}
    png, pdf = tmp_path / "f.png", tmp_path / "f.pdf"
    stages.mnist_jacobian_figure(inputs, {"png": png, "pdf": pdf}, {"cfg": {"figure": FIGURE}})
    assert png.read_bytes()[:4] == b"\x89PNG" and pdf.read_bytes()[:4] == b"%PDF"
    assert not list(tmp_path.glob(".f.*"))  # no temp files left behind
    no_cmap = {k: v for k, v in FIGURE.items() if k != "cmap"}
    with pytest.raises(ConfigError, match="cmap"):
        stages.mnist_jacobian_figure(inputs, {"png": png, "pdf": pdf}, {"cfg": {"figure": no_cmap}})


def test_symmetric_limit():
    values = np.array([-4.0, 1.0, 2.0, 3.0])
    assert symmetric_limit(values) == 4.0
    assert symmetric_limit(np.zeros(3)) == 1.0
    assert symmetric_limit(values, 0.5) == pytest.approx(2.5)
    with pytest.raises(ConfigError, match="scale_quantile"):
        symmetric_limit(values, 0)
