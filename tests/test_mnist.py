"""Paper section 5.3: mean Jacobians of the MNIST models (all digits and class-conditional),
correlation tables (one seed, across seeds), figures."""

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
from inputgrad.sections.mnist.views import symmetric_limit, variants_figure

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
    x, labels = _digits(40, seed=7), np.arange(40) % 10
    assert mnist.first_dense_split(model) is not None
    fast = mnist.mean_jacobians(model, x, batch_size=16, labels=labels)
    direct = mnist.mean_jacobians(model, x, batch_size=16, factorize=False, labels=labels)
    names = [*mnist.TARGETS, *(mnist.class_key(t) for t in mnist.TARGETS)]
    assert sorted(fast) == sorted(direct) == sorted(names)
    for name in names:
        assert fast[name].shape == (10, 784)
        np.testing.assert_allclose(fast[name], direct[name], rtol=0,
                                   atol=1e-5 * np.abs(direct[name]).max())
    gaps = mnist.check_factorized(model, x[:8])
    assert set(gaps) == set(mnist.TARGETS) and max(gaps.values()) < 1e-5
    # digits 8 and 9 are absent from the first 8 rows: their class rows are NaN and skipped
    gaps = mnist.check_factorized(model, x[:8], labels=labels[:8])
    assert set(gaps) == set(names) and max(gaps.values()) < 1e-5


def test_class_conditional_jacobian_of_the_regression():
    model = _randomize(build({"name": "mnist_logreg"}), seed=3, scale=0.05)
    x = mnist.flatten(_digits(23, seed=8))
    labels = np.random.default_rng(9).integers(0, 9, len(x))  # no digit of class 9
    labels[:9] = np.arange(9)
    weights, _ = mnist.dense_weights(model)
    for factorize in (True, False):
        mean = mnist.mean_jacobians(model, x, batch_size=5, factorize=factorize, labels=labels)
        # the logit Jacobian is W for every digit, so its mean over any digits is W as well
        np.testing.assert_allclose(mean["logit_class"][:9], weights[:9], rtol=0, atol=1e-7)
        assert np.isnan(mean["logit_class"][9]).all()
        assert np.isnan(mean["probability_class"][9]).all()
        # row c: d p_c / d x averaged over the digits labelled c, computed directly per class
        for c in range(9):
            jac, _ = gradients.gradient(model_fn(model), x[labels == c], output="probability")
            np.testing.assert_allclose(mean["probability_class"][c], jac[:, c].mean(axis=0),
                                       rtol=0, atol=1e-6 * np.abs(jac).max())
    with pytest.raises(ValueError, match="labels"):
        mnist.mean_jacobians(model, x, labels=labels[:5])
    with pytest.raises(ValueError, match="labels"):
        mnist.mean_jacobians(model, x, labels=labels + 5)


@pytest.mark.parametrize("name", ["mnist_mlp", "mnist_logreg"])
def test_class_sums_leave_the_all_digit_means_exactly_as_mean_gradient(name):
    model = _randomize(build({"name": name}), seed=4, scale=0.05)
    x, labels = mnist.flatten(_digits(30, seed=5)), np.arange(30) % 10
    layer, head = mnist.first_dense_split(model)
    kernel = np.asarray(layer.kernel, np.float32)
    z = x @ kernel + np.asarray(layer.bias, np.float32)
    for target in mnist.TARGETS:
        direct = gradients.mean_gradient(model_fn(model), x, target, "all", batch_size=7)
        fast = gradients.mean_gradient(head, z, target, "all", batch_size=7)
        for factorize, expected in ((False, direct), (True, fast @ kernel.T.astype(np.float64))):
            with_labels = mnist.mean_jacobians(model, x, [target], 7, factorize, labels=labels)
            without = mnist.mean_jacobians(model, x, [target], 7, factorize)
            assert list(without) == [target]
            np.testing.assert_array_equal(with_labels[target], expected)  # bit for bit
            np.testing.assert_array_equal(without[target], expected)


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
    for name in ("probability", "logit", "probability_class", "logit_class"):
        assert jac[name].shape == w["weights"].shape == (10, 784)
    assert int(jac["n"]) == 12 and jac["mean_probability"].shape == (10,)
    assert metrics["logit_jacobian_minus_weights_max_abs"] < 1e-6
    gaps = {f"factorised_gap_{n}" for n in ("probability", "logit", "probability_class",
                                            "logit_class")}
    assert set(metrics) == gaps | {"logit_jacobian_minus_weights_max_abs",
                                   "mnist_jacobian_seconds"}
    assert max(metrics[g] for g in gaps) < 1e-5
    np.testing.assert_allclose(jac["logit"], w["weights"], atol=1e-6)
    np.testing.assert_allclose(jac["logit_class"], w["weights"], atol=1e-6)
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
    jac = {"probability": 2 * weights + rng.normal(size=(10, 784)), "logit": -weights,
           "probability_class": weights + 1, "logit_class": -2 * weights}
    df = correlation_table(jac, weights, {"probability": weights * 3})
    # the paper's columns first, in today's order; the class-conditional ones appended
    assert list(df.columns) == ["digit", "mlp_probability", "mlp_logit", "logreg_probability",
                                "mlp_probability_class", "mlp_logit_class"]
    expected = [np.corrcoef(jac["probability"][c], weights[c])[0, 1] for c in range(10)]
    np.testing.assert_allclose(df["mlp_probability"], expected, rtol=1e-12)
    np.testing.assert_allclose(df.iloc[:, 2:], [[-1, 1, 1, -1]] * 10)
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


def _seed_files(tmp_path, seeds, accuracies):
    """Per-seed npz files of the three kinds mnist_seeds reads: seed s has weights W_s, and its
    MLP Jacobians are W_s (probability), W_s + (-1)^s N (logit: seed-specific noise that
    cancels in the seed average), 2 W_s + 1 (probability_class), -W_s (logit_class)."""
    rng = np.random.default_rng(11)
    noise = rng.normal(size=(10, 784))
    files = {"mlp": [], "logreg": [], "weights": []}
    for i, (seed, acc) in enumerate(zip(seeds, accuracies, strict=True)):
        w = rng.normal(size=(10, 784))
        arrays = {
            "mlp": {"probability": w, "logit": w + (-1) ** i * noise,
                    "probability_class": 2 * w + 1, "logit_class": -w,
                    "n": np.int64(7), "accuracy": np.float64(acc)},
            "logreg": {"probability": 3 * w, "logit": w, "n": np.int64(7),
                       "accuracy": np.float64(acc - 0.1)},
            "weights": {"weights": w, "bias": np.zeros(10)},
        }
        for kind, arr in arrays.items():
            path = tmp_path / f"{kind}_seed{seed}.npz"
            np.savez(path, **arr)
            files[kind].append(str(path))
    return files, noise


def test_mnist_seeds_table_has_per_seed_values_summaries_and_seed_averages(tmp_path):
    seeds = [0, 1, 2]
    files, noise = _seed_files(tmp_path, seeds, [0.9, 0.8, 0.7])
    outputs = {"csv": tmp_path / "mnist_seeds.csv", "md": tmp_path / "mnist_seeds.md"}
    metrics = stages.mnist_seeds(files, outputs, {"cfg": {"seeds": seeds}})
    df = pd.read_csv(outputs["csv"], dtype={"seed": str})
    assert list(df.columns) == ["quantity", "variant", "digit", "seed", "value", "n", "mean",
                                "sd", "min", "max", "ci_low", "ci_high"]

    def row(quantity, variant, seed, digit=None):
        sel = (df["quantity"] == quantity) & (df["variant"] == variant) & (df["seed"] == seed)
        sel &= df["digit"].isna() if digit is None else df["digit"] == digit
        assert sel.sum() == 1, (quantity, variant, seed, digit)
        return df[sel].iloc[0]

    assert [row("test_accuracy", "mlp", str(s))["value"] for s in seeds] == [0.9, 0.8, 0.7]
    acc = row("test_accuracy", "mlp", "all")
    assert (acc["n"], acc["mean"], acc["sd"], acc["min"], acc["max"]) == (3, 0.8, 0.1, 0.7, 0.9)
    assert np.isnan(acc["ci_low"]) and np.isnan(acc["ci_high"])  # fewer than 5 seeds
    assert row("test_accuracy", "logreg", "all")["mean"] == 0.7
    # r of each variant with its own seed's weights: 1, 1, -1 by construction
    for variant, r in (("mlp_probability", 1), ("mlp_probability_class", 1),
                       ("mlp_logit_class", -1), ("logreg_probability", 1)):
        for seed in ["0", "1", "2", "all", "averaged"]:
            value = row("mean_r", variant, seed)["value" if seed != "all" else "mean"]
            assert value == pytest.approx(r, abs=1e-4), (variant, seed)
    # the logit variant: noisy per seed, but the noise cancels in the seed average (odd K: the
    # average is mean(W) + N / 3, computed here by hand)
    w = [np.load(f)["weights"] for f in files["weights"]]
    mean_w = np.mean(w, axis=0)
    per_seed = [np.mean([np.corrcoef(w[i][c] + (-1) ** i * noise[c], w[i][c])[0, 1]
                         for c in range(10)]) for i in range(3)]
    for seed, r in zip(seeds, per_seed, strict=True):
        assert row("mean_r", "mlp_logit", str(seed))["value"] == pytest.approx(r, abs=1e-4)
    assert row("mean_r", "mlp_logit", "all")["mean"] == pytest.approx(np.mean(per_seed), abs=1e-4)
    r_avg = [np.corrcoef(mean_w[c] + noise[c] / 3, mean_w[c])[0, 1] for c in range(10)]
    for c in range(10):
        assert row("r", "mlp_logit", "averaged", c)["value"] == pytest.approx(r_avg[c], abs=1e-4)
    assert row("mean_r", "mlp_logit", "averaged")["value"] == pytest.approx(np.mean(r_avg),
                                                                            abs=1e-4)
    assert np.mean(r_avg) > max(per_seed)  # averaging removed the seed-specific part
    assert metrics["seeds_mean_r_mlp_logit"] == pytest.approx(np.mean(per_seed))
    assert metrics["seed_averaged_mean_r_mlp_logit"] == pytest.approx(np.mean(r_avg))
    md = outputs["md"].read_text()
    assert "seed 2" in md and "seed-averaged" in md and "min–max" in md
    # 5 or more seeds: a 95 % interval around the mean
    seeds = [3, 4, 5, 6, 7]
    files, _ = _seed_files(tmp_path, seeds, [0.91, 0.92, 0.93, 0.94, 0.95])
    stages.mnist_seeds(files, outputs, {"cfg": {"seeds": seeds}})
    df = pd.read_csv(outputs["csv"], dtype={"seed": str})
    acc = row("test_accuracy", "mlp", "all")
    assert acc["n"] == 5 and acc["ci_low"] < 0.93 < acc["ci_high"]


def test_variants_figure_renders_from_per_seed_files(tmp_path):
    seeds = [0, 1]
    files, _ = _seed_files(tmp_path, seeds, [0.9, 0.8])
    inputs = {"mlp": files["mlp"][0], "mlp_seeds": files["mlp"],
              "weights_seeds": files["weights"]}
    png, pdf = tmp_path / "v.png", tmp_path / "v.pdf"
    style = {**FIGURE, "variants": {"height_in": 6}}
    stages.mnist_jacobian_variants_figure(inputs, {"png": png, "pdf": pdf},
                                          {"cfg": {"seeds": seeds, "figure": style}})
    assert png.read_bytes()[:4] == b"\x89PNG" and pdf.read_bytes()[:4] == b"%PDF"
    with pytest.raises(ConfigError, match="figure.variants"):
        stages.mnist_jacobian_variants_figure(inputs, {"png": png, "pdf": pdf},
                                              {"cfg": {"seeds": seeds, "figure": FIGURE}})
    np.savez(tmp_path / "old.npz", probability=np.zeros((10, 784)), n=np.int64(7))
    with pytest.raises(ConfigError, match="logit"):
        stages.mnist_jacobian_variants_figure({**inputs, "mlp": tmp_path / "old.npz"},
                                              {"png": png, "pdf": pdf},
                                              {"cfg": {"seeds": seeds, "figure": style}})


def test_variants_figure_puts_r_with_the_weights_under_each_variant():
    rng = np.random.default_rng(2)
    weights = rng.normal(size=(10, 784))
    variants = [("same", weights), ("opposite", -weights), ("scaled", 5 * weights)]
    fig = variants_figure(variants, ("weights", weights), FIGURE)
    labels = [ax.get_xlabel() for ax in fig.axes if ax.get_xlabel()]
    assert labels == ["r = 1.00"] * 10 + ["r = -1.00"] * 10 + ["r = 1.00"] * 10
    import matplotlib.pyplot as plt  # after the figure code chose the Agg backend

    plt.close(fig)
