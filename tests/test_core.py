"""`core.methods` and `core.stats` on cases computable by hand.

The linear model f(x) = x·W (a Keras Dense layer without bias) has the gradient W[:, c] for
every input, so every method has a closed form: gradient = w, gradient x input = x * w,
Integrated Gradients from baseline b = (x - b) * w, SmoothGrad = w. Weights and inputs are
small dyadic numbers, so float32 sums are exact and most checks can be exact equalities.
"""

import keras
import numpy as np
import pytest

from inputgrad.core import methods
from inputgrad.core.models import model_fn
from inputgrad.core.stats import (
    pearson,
    pearson_rows,
    probability_scale,
    rankdata,
    sigmoid,
    softmax,
    spearman,
    spearman_rows,
)

W = np.array([[0.5, -1.0, 2.0],
              [-0.25, 1.5, 0.0],
              [1.0, 0.75, -0.5],
              [2.0, -0.5, 0.25]], np.float32)  # 4 inputs, 3 classes
X = np.array([[1.0, 2.0, -0.5, 0.25],
              [0.0, -1.5, 3.0, 1.0],
              [2.0, 0.5, 0.5, -2.0],
              [-1.0, 1.0, 0.0, 0.5],
              [0.25, 0.25, 1.0, 1.0]], np.float32)


def linear(weights):
    x_in = keras.Input((weights.shape[0],))
    dense = keras.layers.Dense(weights.shape[1], use_bias=False)
    model = keras.Model(x_in, dense(x_in))
    dense.set_weights([weights])
    return model_fn(model)


@pytest.fixture(scope="module")
def f():
    return linear(W)


def test_registry():
    assert set(methods.METHODS) == {
        "gradient", "gradient_x_input", "integrated_gradients", "smoothgrad", "vargrad",
        "smoothgrad_sq", "occlusion", "lime", "gbar", "logistic_regression", "random",
        "finite_differences"}
    assert methods.METHODS["gradient"].absolute and methods.METHODS["smoothgrad"].absolute
    assert not methods.METHODS["gradient_x_input"].absolute
    assert methods.METHODS["integrated_gradients"].path
    with pytest.raises(ValueError, match="unknown attribution method 'shap'"):
        methods.attribute("shap", None, X)


@pytest.mark.parametrize("target", [0, 2])
def test_gradient_and_gradient_x_input_of_a_linear_model(f, target):
    w = W[:, target]
    grads = methods.attribute("gradient", f, X, target=target)
    np.testing.assert_array_equal(grads, np.broadcast_to(w, X.shape))
    np.testing.assert_array_equal(methods.attribute("gradient_x_input", f, X, target=target),
                                  X * w)


def test_predicted_target_is_the_argmax_of_the_clean_logits(f):
    predicted = np.argmax(X @ W, axis=1)
    assert len(set(predicted)) > 1  # the check means something: rows differ in class
    np.testing.assert_array_equal(methods.resolve_target(f, X, "predicted"), predicted)
    np.testing.assert_array_equal(methods.attribute("gradient", f, X), W[:, predicted].T)


@pytest.mark.parametrize("steps", [32, 7])
def test_integrated_gradients_of_a_linear_model_is_exact(f, steps):
    ig = methods.attribute("integrated_gradients", f, X, target=1, steps=steps)
    np.testing.assert_array_equal(ig, X * W[:, 1])
    gap = methods.completeness_gap(f, X, ig, target=1)
    np.testing.assert_allclose(gap, 0.0, atol=1e-5)


def test_integrated_gradients_from_a_baseline(f):
    ig = methods.attribute("integrated_gradients", f, X, target=0, baseline=0.5)
    np.testing.assert_array_equal(ig, (X - 0.5) * W[:, 0])
    gap = methods.completeness_gap(f, X, ig, target=0, baseline=0.5)
    np.testing.assert_allclose(gap, 0.0, atol=1e-5)


def test_integrated_gradients_independent_of_internal_batch_size(f):
    runs = [methods.attribute("integrated_gradients", f, X, steps=8, internal_batch_size=rows)
            for rows in (1, 7, 1000)]
    for ig in runs[1:]:
        np.testing.assert_array_equal(ig, runs[0])


def test_smoothgrad_of_a_linear_model_is_the_weight(f):
    sg = methods.attribute("smoothgrad", f, X, target=2, samples=8, noise=0.3, seed=1)
    np.testing.assert_array_equal(sg, np.broadcast_to(W[:, 2], X.shape))


def test_probability_gradient_of_a_binary_linear_model_is_p_one_minus_p_times_w():
    w = W[:, :1]
    grads = methods.attribute("gradient", linear(w), X, output="probability")
    expected = probability_scale(X @ w) * w[:, 0]  # chain rule through sigmoid, by hand
    np.testing.assert_allclose(grads, expected, rtol=1e-5)


def test_pearson_and_spearman_hand_values():
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    # deviations (-1.5, -.5, .5, 1.5) and (-1.5, .5, -.5, 1.5): 4 / sqrt(5 * 5)
    assert pearson([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    assert spearman([1, 2, 3, 4], [10, 30, 20, 40]) == pytest.approx(0.8)
    assert spearman([1, 2, 3], [1, 8, 27]) == pytest.approx(1.0)  # monotone, not linear
    # ties: ranks (1, 2.5, 2.5, 4) vs (1, 2, 3, 4): 4.5 / sqrt(4.5 * 5)
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(4.5 / np.sqrt(22.5))


def test_correlations_of_constant_input_are_nan():
    assert np.isnan(pearson([1, 1, 1], [1, 2, 3]))
    assert np.isnan(spearman([1, 2, 3], [5, 5, 5]))
    rows = pearson_rows([[1, 2, 3], [4, 4, 4]], [[2, 4, 6], [1, 2, 3]])
    assert rows[0] == pytest.approx(1.0) and np.isnan(rows[1])
    rows = spearman_rows([[1, 2, 3], [7, 7, 7]], [[3, 2, 1], [1, 2, 3]])
    assert rows[0] == pytest.approx(-1.0) and np.isnan(rows[1])
    with pytest.raises(ValueError, match="different sizes"):
        pearson([1, 2], [1, 2, 3])


def test_rankdata_average_ties():
    np.testing.assert_array_equal(rankdata([3, 1, 2]), [3, 1, 2])
    np.testing.assert_array_equal(rankdata([10, 20, 20, 30]), [1, 2.5, 2.5, 4])
    np.testing.assert_array_equal(rankdata([5, 5, 5]), [2, 2, 2])
    np.testing.assert_array_equal(rankdata([2, 1, 2, 1]), [3.5, 1.5, 3.5, 1.5])


def test_sigmoid_softmax_probability_scale():
    assert sigmoid(0.0) == 0.5 and sigmoid(-1000.0) == 0.0 and sigmoid(1000.0) == 1.0
    p = softmax([[0.0, np.log(3.0)], [1000.0, 1000.0]])
    np.testing.assert_allclose(p, [[0.25, 0.75], [0.5, 0.5]])
    assert probability_scale(0.0) == 0.25
