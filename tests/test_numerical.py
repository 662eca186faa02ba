"""The model-agnostic numerical gradient (core.numerical, registry name finite_differences):
closed forms (a central difference is exact on a quadratic), the tape on small Keras models,
scikit-learn estimators through `score_function`, batching and the registry's declarations."""

import numpy as np
import pytest

from inputgrad.core import gradients
from inputgrad.core.methods import attribute, lookup, select
from inputgrad.core.numerical import central_differences, score_function, steps

RNG = np.random.default_rng(0)
A = RNG.normal(size=(3, 5))  # 3 outputs of 5 features
B = RNG.normal(size=(3, 5))


def quadratic(x):
    """f_c(x) = sum_j A_cj x_j^2 + B_cj x_j: gradient 2 A_c x + B_c."""
    x = np.asarray(x, np.float64)
    return (x**2) @ A.T + x @ B.T


def test_central_differences_are_exact_on_a_quadratic_and_a_linear_model():
    x = RNG.normal(size=(7, 5)) * 3
    expected = 2 * A[None] * x[:, None, :] + B[None]  # (n, k, d)
    for relative in (True, False):
        fd = central_differences(quadratic, x, "all", step=1e-3, relative=relative)
        assert fd.shape == (7, 3, 5)
        np.testing.assert_allclose(fd, expected, rtol=1e-8, atol=1e-8)
    linear = lambda t: np.asarray(t, np.float64) @ B.T  # noqa: E731
    fd = central_differences(linear, x, "all", step=1e-2)
    np.testing.assert_allclose(fd, np.broadcast_to(B, fd.shape), rtol=1e-10, atol=1e-12)
    # one output per row, by index
    cls = np.array([0, 1, 2, 0, 1, 2, 0])
    one = central_differences(quadratic, x, cls, step=1e-3)
    np.testing.assert_allclose(one, expected[np.arange(7), cls], rtol=1e-8, atol=1e-8)


def test_the_step_is_relative_to_each_features_scale():
    x = np.array([[0.001, -50.0, 2.0]])
    np.testing.assert_array_equal(steps(x, 1e-3), [[1e-3, 5e-2, 2e-3]])
    np.testing.assert_array_equal(steps(x, 1e-3, scale=[0.01, 1.0, 4.0]), [[1e-5, 5e-2, 4e-3]])
    np.testing.assert_array_equal(
        steps(x, 1e-3, scale=[0.01, 1.0, 4.0], relative=False), [[1e-5, 1e-3, 4e-3]]
    )
    with pytest.raises(ValueError, match="scale"):
        steps(x, 1e-3, scale=[1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="2 values for 3 features"):
        steps(x, 1e-3, scale=[1.0, 1.0])


def test_a_float32_input_divides_by_the_step_it_can_represent():
    """x + h and x - h are rounded to float32; dividing by their true distance keeps a linear
    model exact (dividing by 2h would err by up to ~1e-4 relative at x ~ 100)."""
    w = np.array([[0.7, -1.3, 2.1]])
    x = (RNG.normal(size=(6, 3)) * 100).astype(np.float32)
    linear = lambda t: np.asarray(t, np.float64) @ w.T  # noqa: E731
    fd = central_differences(linear, x, 0, step=1e-5)
    np.testing.assert_allclose(fd, np.broadcast_to(w, x.shape), rtol=1e-8)
    h = steps(x, 1e-5)  # what dividing by the intended 2h would give instead
    naive = np.zeros(x.shape)
    for j in range(3):
        e = np.zeros(x.shape, np.float32)
        e[:, j] = h[:, j]
        naive[:, j] = (linear(x + e) - linear(x - e))[:, 0] / (2 * h[:, j])
    assert np.abs(naive / w - 1).max() > 1e-4


def test_results_do_not_depend_on_the_rows_per_call_and_features_mask_coordinates():
    x = RNG.normal(size=(4, 5))
    calls = []

    def counted(t):
        calls.append(len(t))
        return quadratic(t)

    big = central_differences(counted, x, "all", max_rows=4096)
    assert calls == [40]  # all 2 * 4 * 5 perturbed rows in one call
    calls.clear()
    small = central_differences(counted, x, "all", max_rows=6)
    assert max(calls) <= 6 and sum(calls) == 40
    np.testing.assert_array_equal(big, small)
    mask = np.zeros(x.shape, bool)
    mask[0, 1] = mask[2, 4] = True
    calls.clear()
    part = central_differences(counted, x, "all", features=mask)
    assert calls == [4]
    on, off = part.transpose(0, 2, 1)[mask], part.transpose(0, 2, 1)[~mask]  # (pairs, k)
    np.testing.assert_array_equal(on, big.transpose(0, 2, 1)[mask])
    assert on.shape == (2, 3) and np.isnan(off).all()


def test_token_ids_and_bad_options_are_refused():
    with pytest.raises(ValueError, match="real-valued inputs"):
        central_differences(quadratic, np.zeros((2, 5), np.int32))
    with pytest.raises(ValueError, match="step must be > 0"):
        central_differences(quadratic, np.zeros((2, 5)), step=0)


@pytest.fixture
def float64_keras():
    import keras

    old_floatx, old_policy = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    yield
    keras.config.set_floatx(old_floatx)
    keras.config.set_dtype_policy(old_policy)


def small_mlp(inputs=6, outputs=3, seed=0):
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((inputs,)),
            layers.Dense(8, activation="tanh"),
            layers.Dense(8, activation="relu"),
            layers.Dense(outputs),
        ]
    )


@pytest.mark.parametrize("output", ["logit", "probability", "log_probability"])
def test_finite_differences_match_the_tape_on_a_float64_keras_model(float64_keras, output):
    """Bound: max |FD - tape| <= 1e-6 x max |tape| in float64 (step 1e-4 relative)."""
    from inputgrad.core.models import model_fn

    model = small_mlp()
    assert model.layers[0].kernel.dtype == "float64"
    f = model_fn(model)
    x = RNG.normal(size=(9, 6)).astype(np.float32).astype(np.float64)  # the tape's input
    tape, _ = gradients.gradient(f, x, output=output, classes="all")
    fd = attribute(
        "finite_differences", lambda t: f(t).numpy(), x, target="all", output=output, step=1e-4
    )
    assert fd.dtype == np.float64 and fd.shape == tape.shape == (9, 3, 6)
    rel = np.abs(fd - tape).max() / np.abs(tape).max()
    assert rel <= 1e-6, rel


def test_finite_differences_match_the_tape_on_a_float32_keras_model():
    """The project's models are float32: bound max |FD - tape| <= 1e-2 x max |tape| with
    step 1e-2 (rounding of f: eps_32 |f| / h; truncation: h^2 f''' / 6)."""
    from inputgrad.core.models import model_fn

    model = small_mlp(seed=1)
    f = model_fn(model)
    x = RNG.normal(size=(9, 6)).astype(np.float32)
    cls = gradients.predicted_classes(f, x)
    tape, _ = gradients.gradient(f, x, output="probability", classes=cls)
    fd = attribute("finite_differences", f, x, target="predicted", output="probability", step=1e-2)
    rel = np.abs(fd - tape).max() / np.abs(tape).max()
    assert rel <= 1e-2, rel


def test_logistic_regression_logit_is_linear_so_the_estimate_is_its_weights(float64_keras):
    from sklearn.linear_model import LogisticRegression

    from inputgrad.core.models import model_fn

    x = RNG.normal(size=(60, 4))
    y = (x @ [1.0, -2.0, 0.5, 0.0] + 0.3 * RNG.normal(size=60) > 0).astype(int)
    binary = LogisticRegression().fit(x, y)
    f = score_function(binary)
    assert f.method == "decision_function" and f(x[:3]).shape == (3, 1)
    fd = attribute("finite_differences", f, x, target=0)
    np.testing.assert_allclose(fd, np.broadcast_to(binary.coef_, x.shape), rtol=1e-9)
    # probability of the predicted class: sigmoid chain rule, p (1 - p) w, up to O(h^2)
    p = binary.predict_proba(x)[:, 1]
    fdp = attribute("finite_differences", f, x, target=0, output="probability")
    np.testing.assert_allclose(fdp, (p * (1 - p))[:, None] * binary.coef_, rtol=1e-5)
    three = LogisticRegression().fit(x, np.digitize(x[:, 0], [-0.5, 0.5]))
    jac = attribute("finite_differences", score_function(three), x, target="all")
    np.testing.assert_allclose(jac, np.broadcast_to(three.coef_, jac.shape), rtol=1e-9)
    # the project's Keras logistic regression (float64 here): its logits' rows are W
    from inputgrad.core.models import build

    model = build({"name": "mnist_logreg", "inputs": 784})
    kernel = model.get_layer("logits").kernel.numpy()
    digits = RNG.random((2, 784))
    jac = attribute(
        "finite_differences", lambda t: model_fn(model)(t).numpy(), digits, target="all"
    )
    np.testing.assert_allclose(jac, np.broadcast_to(kernel.T, jac.shape), rtol=1e-8, atol=1e-12)


def test_score_function_takes_the_estimators_scoring_method():
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LinearRegression

    x = RNG.normal(size=(40, 3))
    reg = LinearRegression().fit(x, x @ [1.0, 2.0, -3.0] + 4.0)
    f = score_function(reg)
    assert f.method == "predict" and f(x).shape == (40, 1)
    fd = attribute("finite_differences", f, x)  # target "predicted": the one output
    np.testing.assert_allclose(fd, np.broadcast_to(reg.coef_, x.shape), rtol=1e-9)
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(x, x[:, 0] > 0)
    assert score_function(forest).method == "predict_proba"
    assert score_function(forest, "predict").method == "predict"
    with pytest.raises(TypeError, match="no scoring method"):
        score_function(object())
    with pytest.raises(TypeError, match="no method 'decision_function'"):
        score_function(reg, "decision_function")


def test_registry_declares_it_and_token_id_evaluations_leave_it_out():
    from inputgrad.sections.text_faithfulness import compute

    m = lookup("finite_differences")
    assert m.needs == "predict" and m.absolute and not m.token_ids and m.float64
    assert "finite_differences" not in compute.methods_of("all", "imdb_cnn")
    assert select("all", ("predict",))[-1] == "finite_differences"
    with pytest.raises(ValueError, match="real-valued"):
        select(["finite_differences"], ("predict",), token_ids=True)


def test_the_test_helper_is_the_same_central_difference():
    import tensorflow as tf

    f = lambda t: tf.square(t) @ tf.constant(A.T) + t @ tf.constant(B.T)  # noqa: E731
    x = RNG.normal(size=(3, 5))
    np.testing.assert_allclose(
        gradients.finite_difference(f, x, eps=1e-4),
        2 * A[None] * x[:, None, :] + B[None],
        rtol=1e-7,
        atol=1e-8,
    )


def test_a_bag_of_words_evaluation_can_score_it_on_the_words_as_if_continuous():
    """core.tokens' predict path (the bag-of-words faithfulness): the estimate of the single
    logit turned towards each row's class, on the present words only (NaN elsewhere), equals
    the tape's gradient there; binary features are differentiated as if continuous."""
    import keras

    from inputgrad.core.models import model_fn
    from inputgrad.core.tokens import token_scores

    keras.utils.set_random_seed(2)
    model = keras.Sequential(
        [keras.Input((12,)), keras.layers.Dense(6, activation="tanh"), keras.layers.Dense(1)]
    )
    x = (RNG.random((5, 12)) < 0.4).astype(np.float32)
    words = x == 1
    classes = np.array([1, 0, 1, 1, 0])
    scores, _ = token_scores(
        "finite_differences", model, x, words, classes, {"step": 1e-2}, output="logit"
    )
    tape, _ = gradients.gradient(model_fn(model), x, output="logit", classes=0)
    turned = np.where(classes == 1, 1.0, -1.0)[:, None] * tape
    np.testing.assert_allclose(scores[words], turned[words], rtol=1e-3, atol=1e-4)
    assert np.isnan(scores[~words]).all()
