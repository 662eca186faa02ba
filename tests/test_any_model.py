"""The any_model section: a linear regression's gradient is its coefficient vector (by finite
differences), the first-order term explains all of a linear model, a tree's estimate depends
on the step, and a class-model image of a linear model is its closed form w_c / 2λ."""

from pathlib import Path

import numpy as np
import pytest

from inputgrad.sections.any_model import compute

FD = {"step": 1e-3, "relative": True, "max_rows": 4096}


def test_linear_regression_gradient_is_its_coefficients_and_explains_all_of_f():
    from sklearn.linear_model import LinearRegression

    from inputgrad.core.numerical import score_function

    x_tr, x_te, y_tr, _, names = compute.diabetes_split(0.2, seed=3)
    assert len(names) == 10 and len(x_tr) + len(x_te) == 442
    model = LinearRegression().fit(x_tr, y_tr)
    f = score_function(model)
    grads = compute.fd_gradients(f, x_te, x_tr.std(axis=0), FD)
    np.testing.assert_allclose(grads, np.broadcast_to(model.coef_, grads.shape), rtol=1e-8)
    share = compute.first_order_share(f(x_te)[:, 0], grads, x_te, x_tr.mean(axis=0))
    assert share == pytest.approx(1.0, abs=1e-12)
    assert compute.agreement(grads.mean(0), model.coef_) == {
        "sign_agreement": 1.0,
        "spearman": pytest.approx(1.0),
    }


def test_the_split_is_seeded():
    a, b = compute.diabetes_split(0.2, 0), compute.diabetes_split(0.2, 0)
    c = compute.diabetes_split(0.2, 1)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_a_tree_ensembles_estimate_is_zero_at_small_steps_and_not_at_large_ones():
    from sklearn.ensemble import GradientBoostingRegressor

    x_tr, x_te, y_tr, _, _ = compute.diabetes_split(0.2, seed=0)
    tree = GradientBoostingRegressor(n_estimators=20, max_depth=2, random_state=0).fit(x_tr, y_tr)
    f = compute.score_function_of(tree)
    coef = np.linalg.lstsq(np.c_[x_tr, np.ones(len(x_tr))], y_tr, rcond=None)[0][:-1]
    rows = compute.tree_steps(f, x_te, x_tr.std(axis=0), [1e-6, 1.0], FD, coef, x_tr.mean(axis=0))
    assert rows[0]["zero_share"] > 0.95 and rows[1]["zero_share"] < rows[0]["zero_share"]


@pytest.mark.parametrize("clip", [False, True])
def test_class_image_of_a_linear_model_is_the_closed_form(clip):
    """S_c = w_c·x + b_c: gradient ascent on S_c − λ‖x‖² from 0 converges to w_c / 2λ
    (clipped to [0, 1] pixel by pixel with clip), whatever the bias."""
    import keras

    from inputgrad.core.models import model_fn

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(3)])
    w = np.random.default_rng(0).normal(scale=0.02, size=(16, 3)).astype(np.float32)
    model.layers[0].set_weights([w, np.array([5.0, -1.0, 0.0], np.float32)])
    cfg = {
        "steps": 400,
        "learning_rate": 1.0,
        "l2": 0.01,
        "clip": clip,
        "jitter": 0,
        "blur_every": 0,
        "blur_sigma": 0.5,
    }
    img = compute.class_images(model_fn(model), [0, 1, 2], 16, cfg)
    expected = compute.linear_optimum(w.T, 0.01, clip)
    np.testing.assert_allclose(img, expected, atol=1e-3 * np.abs(expected).max())
    if clip:
        assert img.min() >= 0 and img.max() <= 1 and (expected == 1).any()


def test_smoke_workflow_builds_the_section_and_its_claims(smoke_run):
    """The whole smoke run: every seed's regression and class-image tables have their rows,
    the exact check holds on every seed, and the report judges the section's claims."""
    import json

    import pandas as pd

    results = smoke_run["work"] / "results"
    for seed in (0, 1, 2):
        models = pd.read_csv(results / f"tables/seed{seed}/any_model_regression.csv")
        assert list(models["model"]) == list(compute.MODELS)
        summary = json.loads((results / f"tables/seed{seed}/any_model_regression.json").read_text())
        assert summary["models"]["linear_regression"]["max_abs_gradient_minus_coef"] < 1e-6
        images = pd.read_csv(results / f"tables/seed{seed}/class_images.csv")
        assert len(images) == 20 and images["p_class"].between(0, 1).all()
    assert (results / "figures/class_images_figure.png").stat().st_size > 0
    seeds = (results / "tables/any_model_seeds.md").read_text()
    assert "gradient_boosting" in seeds and "r_mean_jacobian" in seeds
    report = (results / "paper_report.md").read_text()
    assert (
        "any_model_linear_gradient_is_coefficients" in report or "parameters themselves" in report
    )


def test_the_saved_mlp_predicts_as_the_regression_function():
    """The .keras file of the MLP regressor gives f(x) = mean + sd * net(x / scale) in the
    target's units, within float32 rounding."""
    import numpy as np

    from inputgrad.sections.any_model import compute

    x_tr, x_te, y_tr, _, _ = compute.diabetes_split(0.25, 0)
    cfg = {"hidden": [8], "activation": "tanh", "learning_rate": 1e-3, "epochs": 2,
           "batch_size": 32}
    net, f = compute.fit_keras_mlp(cfg, x_tr, y_tr, 0)
    saved = compute.saved_mlp(net, x_tr, y_tr)
    want = np.asarray(f(x_te.astype(np.float32)))
    got = saved.predict(x_te.astype(np.float32), verbose=0)
    assert np.max(np.abs(got - want)) <= 1e-4 * np.max(np.abs(want))


def test_the_logged_scikit_learn_models_carry_their_pins(smoke_run):
    """Each regression model logged by the smoke run names scikit-learn and skops at the
    installed versions in its requirements (given, not inferred by MLflow's subprocess that
    loads the model: about 4.5 s per model, under the store's lock)."""
    from importlib.metadata import version

    import mlflow
    from mlflow.tracking import MlflowClient

    from inputgrad.infra.tracking import using_uri

    uri = f"sqlite:///{smoke_run['work'] / 'results/mlflow/mlflow.db'}"
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("inputgrad")
    models = client.search_logged_models([experiment.experiment_id],
                                         "name = 'diabetes-gradient_boosting'")
    assert len(models) == 3  # one per seed
    pins = {f"scikit-learn=={version('scikit-learn')}", f"skops=={version('skops')}"}
    with using_uri(uri):
        for model in models:
            path = mlflow.artifacts.download_artifacts(
                artifact_uri=f"{model.artifact_location}/requirements.txt")
            lines = {x.strip() for x in Path(path).read_text().splitlines() if x.strip()}
            assert lines == pins | {f"mlflow=={version('mlflow')}"}, lines
