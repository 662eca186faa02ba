"""The one method registry (core.methods, core.tokens): every method the text section scored
through its own registries before (tests/legacy/text_methods.py, a frozen copy) gives the
same numbers, bit for bit, on small seeded Keras models; and the registry's declarations."""

import numpy as np
import pytest

from inputgrad.core.methods import METHODS, NEEDS, attribute, lookup, options_of
from inputgrad.sections.text_faithfulness import compute

OPTIONS = {"integrated_gradients": {"steps": 5}, "smoothgrad": {"samples": 3, "noise": 0.1,
                                                                "seed": 1},
           "lime": {"samples": 40, "kernel_width": 25, "seed": 2}, "random": {"seed": 3}}
# the old registry's names and the new ones (the CNN's gradient keeps its table label)
CNN_PAIRS = [("gradient_norm", "gradient"), ("gradient_x_input", "gradient_x_input"),
             ("integrated_gradients", "integrated_gradients"), ("smoothgrad", "smoothgrad"),
             ("occlusion", "occlusion"), ("lime", "lime"), ("random", "random")]
OOV = 2


def seeded(build):
    import keras

    keras.utils.set_random_seed(0)
    return build()


@pytest.fixture(scope="module")
def cnn():
    """The imdb_cnn shape (the fast occlusion path), small."""
    from inputgrad.core.models import imdb_cnn

    return seeded(lambda: imdb_cnn(num_words=30, maxlen=12, embedding_dim=4, filters=5,
                                   kernel_size=3, hidden=6))


@pytest.fixture(scope="module")
def plain_cnn():
    """Embedding -> average pooling head: no fast path (the naive occlusion)."""
    import keras
    from keras import layers

    def build():
        ids = keras.Input((12,), dtype="int32")
        head = keras.Sequential([keras.Input((12, 4)), layers.Conv1D(3, 2), layers.Flatten(),
                                 layers.Dense(1)], name="head")
        return keras.Model(ids, head(layers.Embedding(30, 4, name="embedding")(ids)))

    return seeded(build)


def reviews():
    rng = np.random.default_rng(0)
    ids = rng.integers(3, 30, size=(5, 12)).astype(np.int32)
    words = np.ones(ids.shape, bool)
    words[:, :2] = False  # padding and the start marker
    words[0, :6] = False  # a short review
    ids[:, 1] = 1
    ids[0, :5] = 0
    return ids, words


def same(a, b):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))  # NaN == NaN, exact values


@pytest.mark.parametrize("old, new", CNN_PAIRS)
@pytest.mark.parametrize("which", ["cnn", "plain_cnn"])
def test_cnn_scores_are_bit_identical_to_the_old_registry(old, new, which, request):
    from legacy import text_methods as legacy

    model = request.getfixturevalue(which)
    ids, words = reviews()
    classes = np.array([1, 0, 1, 0, 0], np.int8)
    for output in ("probability", "logit"):
        kw = {"classes": classes, "output": output, "batch_size": 4, "oov_char": OOV}
        before, info_before = legacy.word_scores_info(old, model, ids, words, **kw,
                                                      **OPTIONS.get(old, {}))
        after, info_after = compute.word_scores_info(new, model, ids, words, **kw,
                                                     **OPTIONS.get(new, {}))
        same(before, after)
        assert info_before.keys() == info_after.keys()
        for key in info_before:
            same(info_before[key], info_after[key])


def test_all_word_scores_label_the_gradient_as_before(cnn):
    ids, words = reviews()
    scores, _, _ = compute.all_word_scores(cnn, ids, words, ["gradient", "random"], OPTIONS)
    assert list(scores) == ["gradient_norm", "random"]


@pytest.mark.parametrize("method", ["gradient", "gradient_x_input", "gbar",
                                    "logistic_regression", "occlusion", "random"])
def test_bag_of_words_scores_are_bit_identical(method):
    from inputgrad.core.models import imdb_bow_mlp, model_fn
    from legacy import text_methods as legacy

    model = seeded(lambda: imdb_bow_mlp(vocab_size=9, hidden=(5,)))
    x = (np.random.default_rng(1).random((6, 9)) < 0.5).astype(np.float32)
    gbar = np.linspace(-1, 1, 9)
    coef = np.cos(np.arange(9.0))
    f = model_fn(model)
    classes = compute.predicted_classes(compute.logits_of(f, x))
    weights = {"gbar": gbar, "logistic_regression": coef}.get(method)
    before = legacy.bow_scores(method, f, x, legacy.direction_of(classes), gbar, coef,
                               "probability", 4, OPTIONS["random"]["seed"])
    after = compute.bow_scores(method, model, x, classes, OPTIONS.get(method), weights,
                               "probability", 4)
    same(before, after)


def test_checks_attributions_are_those_of_the_old_option_mapping():
    """checks/compute.py mapped ig_steps / smoothgrad_* to the registry's options by hand."""
    from inputgrad.core.models import mnist_mlp, model_fn
    from inputgrad.sections.checks import compute as checks

    f = model_fn(seeded(lambda: mnist_mlp(inputs=6, hidden=(5,), classes=3)))
    x = np.random.default_rng(2).random((7, 6)).astype(np.float32)
    classes = np.array([0, 1, 2, 0, 1, 2, 0], np.int32)
    old = {"gradient": {}, "gradient_x_input": {},
           "integrated_gradients": {"steps": 5, "internal_batch_size": 4},
           "smoothgrad": {"samples": 3, "noise": 0.1, "seed": 1}}
    new, gap, _ = checks.attributions(f, x, classes, list(old), OPTIONS, "logit", 4)
    for method, kw in old.items():
        same(attribute(method, f, x, target=classes, batch_size=4, **kw), new[method])
    assert gap.shape == (7,)


def test_every_method_declares_its_needs_reduction_and_sign():
    for name, m in METHODS.items():
        assert m.needs in NEEDS and m.reduce in ("norm", "sum"), name
        assert not (m.absolute and m.signed), name  # a size is not evidence for a class
    assert lookup("gradient").reduce == "norm" and lookup("gradient_x_input").signed
    assert lookup("occlusion").needs == "predict" and lookup("random").needs == "nothing"
    with pytest.raises(ValueError, match="unknown attribution method"):
        lookup("saliency")
    assert options_of("smoothgrad", OPTIONS) == OPTIONS["smoothgrad"]
    assert options_of("gradient", OPTIONS) == {}


def test_methods_config_holds_the_options_every_section_reads():
    from inputgrad.infra.config import compose
    from workflow_utils import ROOT

    hydra = ROOT / "config" / "hydra"
    for experiment in ("text_faithfulness", "checks"):
        attr = compose(hydra, experiment)["attribution"]
        assert attr["method_options"]["integrated_gradients"] == {"steps": 32}
        assert attr["method_options"]["smoothgrad"] == {"samples": 16, "noise": 0.1, "seed": 0}
        assert set(attr["method_options"]) <= set(METHODS)


def test_cli_takes_the_registry_names_and_the_methods_config_defaults():
    from inputgrad.cli import build_parser, options
    from inputgrad.core.methods import default_options, names

    parser = build_parser()
    args = parser.parse_args(["explain", "m.keras", "--input", "x.npy",
                              "--method", "integrated_gradients"])
    assert options(args) == default_options()["integrated_gradients"] == {"steps": 32}
    args = parser.parse_args(["explain", "m.keras", "--input", "x.npy", "--method",
                              "smoothgrad", "--samples", "4", "--steps", "9"])
    assert options(args) == {**default_options()["smoothgrad"], "samples": 4}
    choices = next(a for a in parser._subparsers._group_actions[0].choices["explain"]._actions
                   if a.dest == "method").choices
    assert choices == [*names("gradient"), "finite_differences"]  # the last: scikit-learn


def test_all_selects_todays_methods_in_todays_order_and_lists_are_checked():
    """`methods: all` in config: today's lists first (results unchanged), new methods after."""
    from inputgrad.core.methods import select
    from inputgrad.infra.errors import ConfigError
    from inputgrad.sections.checks import compute as checks

    cnn = compute.methods_of("all", "imdb_cnn")
    assert cnn[:7] == [new for _, new in CNN_PAIRS]
    assert checks.method_options("all", OPTIONS, 4).keys() >= {
        "gradient", "gradient_x_input", "integrated_gradients", "smoothgrad"}
    assert list(checks.method_options("all", OPTIONS, 4))[:4] == [
        "gradient", "gradient_x_input", "integrated_gradients", "smoothgrad"]
    assert select(["occlusion", "gbar"], ("predict", "weights")) == ["occlusion", "gbar"]
    with pytest.raises(ConfigError, match="needs 'weights'"):
        compute.methods_of(["gbar"], "imdb_cnn")
    with pytest.raises(ConfigError, match="deletion.methods"):
        checks.method_options(["lime"], OPTIONS, 4)


def test_one_palette_for_every_figure():
    from inputgrad.core.style import METHOD_COLORS, SPARE, method_color

    assert method_color("gradient") == method_color("gradient_norm") == METHOD_COLORS["gradient"]
    assert set(METHODS) - {"vargrad", "smoothgrad_sq"} <= set(METHOD_COLORS)
    assert method_color("a_new_method") in SPARE
    assert method_color("a_new_method") == method_color("a_new_method")


def test_vargrad_and_smoothgrad_squared_are_the_moments_of_smoothgrads_draws():
    """On a linear logit every noisy gradient is w: VarGrad 0, SG² w², SmoothGrad w; on a
    quadratic logit z = sum x², g = 2 (x + e): mean 2x, variance 4 sigma², mean square
    4 x² + 4 sigma² (to sampling error), from the same draws as SmoothGrad."""
    import tensorflow as tf

    w = np.array([[0.5, -2.0, 1.0]], np.float32)
    x = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 1.0]], np.float32)
    opts = {"samples": 8, "noise": 0.1, "seed": 0}
    kw = {"target": 0, "batch_size": 8, **opts}
    linear = lambda t: tf.reduce_sum(t * w, axis=1, keepdims=True)  # noqa: E731
    np.testing.assert_allclose(attribute("vargrad", linear, x, **kw), 0.0, atol=1e-10)
    np.testing.assert_allclose(attribute("smoothgrad_sq", linear, x, **kw),
                               np.broadcast_to(w ** 2, x.shape), rtol=1e-6)
    square = lambda t: tf.reduce_sum(t * t, axis=1, keepdims=True)  # noqa: E731
    many = {**kw, "samples": 4000}
    sigma = 0.1 * float(x.max() - x.min())
    np.testing.assert_allclose(attribute("vargrad", square, x, **many), 4 * sigma ** 2,
                               rtol=0.1)
    np.testing.assert_allclose(attribute("smoothgrad_sq", square, x, **many),
                               4 * x ** 2 + 4 * sigma ** 2, rtol=0.05, atol=0.02)
    # the same draws: SG² - SmoothGrad² = VarGrad exactly in exact arithmetic
    sg, sq, var = (attribute(m, square, x, **kw).astype(np.float64)
                   for m in ("smoothgrad", "smoothgrad_sq", "vargrad"))
    np.testing.assert_allclose(sq - sg ** 2, var, atol=1e-5)
    for name in ("vargrad", "smoothgrad_sq"):
        m = lookup(name)
        assert m.absolute and m.noise and m.reduce == "norm" and m.needs == "gradient"


def test_vargrad_and_smoothgrad_squared_join_every_evaluation_that_takes_all(cnn):
    from inputgrad.sections.checks import compute as checks

    assert compute.methods_of("all", "imdb_cnn")[-2:] == ["vargrad", "smoothgrad_sq"]
    assert list(checks.method_options("all", OPTIONS, 4))[-2:] == ["vargrad", "smoothgrad_sq"]
    ids, words = reviews()
    scores, _, _ = compute.all_word_scores(cnn, ids, words, ["vargrad", "smoothgrad_sq"],
                                           {m: OPTIONS["smoothgrad"] for m in METHODS})
    for s in scores.values():
        assert (s[words] >= 0).all() and np.isnan(s[~words]).all()
