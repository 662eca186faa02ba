"""Decoy MNIST (Ross et al. 2017): the generator, the known-answer scores (a model that reads
only the patch), the right-reasons penalty against finite differences, and the stages on
tiny synthetic data."""

import json

import numpy as np
import pandas as pd
import pytest

from inputgrad.data.decoy import CORNERS, corner_mask, decoy_test, decoy_train, patch_grey
from inputgrad.sections.decoy_mnist import compute, stages

DECOY = {"patch": 4, "grey_step": 25, "train_seed": 0, "test_seed": 1}


def digits(n, seed=0):
    """n fake 28 x 28 digits: a bright centre blob (zero border, as MNIST), labels 0-9."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 28, 28), np.float32)
    x[:, 8:20, 8:20] = rng.random((n, 12, 12))
    return x, np.arange(n) % 10


# ----------------------------------------------------------------------------- generator

def test_patch_grey_is_rosss_rule():
    assert patch_grey([0, 1, 9]).tolist() == pytest.approx([1.0, 230 / 255, 30 / 255])


def test_decoy_train_masks_shapes_and_label_rule():
    x0, y = digits(200)
    x, mask, corner = decoy_train(x0, y, seed=3)
    assert x.shape == mask.shape == (200, 28, 28) and x.dtype == np.float32
    assert corner.shape == (200,) and set(corner) == {0, 1, 2, 3}  # every corner is drawn
    assert (mask.reshape(200, -1).sum(axis=1) == 16).all()
    for i in range(200):
        assert (mask[i] == corner_mask(corner[i])).all()
        assert np.allclose(x[i][mask[i]], (255 - 25 * y[i]) / 255)  # the label's grey
        assert (x[i][~mask[i]] == x0[i][~mask[i]]).all()  # nothing else changes
    top_left = corner_mask(CORNERS.index("top_left"))
    assert top_left[:4, :4].all() and top_left.sum() == 16
    assert corner_mask(3)[24:, 24:].all()
    again, _, _ = decoy_train(x0, y, seed=3)
    assert (again == x).all()  # seeded
    flat, flat_mask, _ = decoy_train(x0.reshape(200, -1), y, seed=3)
    assert flat.shape == flat_mask.shape == (200, 784) and (flat == x.reshape(200, -1)).all()


def test_decoy_test_versions():
    x0, y = digits(300)
    versions = decoy_test(x0, y, seed=5)
    assert set(versions) == {"same", "random", "none"}
    same, mask = versions["same"]
    random, random_mask = versions["random"]
    none, none_mask = versions["none"]
    assert (mask == random_mask).all() and not none_mask.any() and (none == x0).all()
    assert np.allclose(same[mask].reshape(300, 16), patch_grey(y)[:, None])
    greys = random[mask].reshape(300, 16)
    assert (greys == greys[:, :1]).all()  # one grey per patch
    digit = np.rint((255 - greys[:, 0] * 255) / 25).astype(int)  # back to the digit
    assert set(digit) == set(range(10))
    assert 0.03 < np.mean(digit == y) < 0.2  # a random digit's grey: the label's 1 time in 10
    assert (random[~mask] == x0[~mask]).all()


# ----------------------------------------------------------------------------- scores

def patch_model(corner=0, seed=0):
    """10 logits reading only the patch of `corner`: W (784, 10) zero off the patch."""
    import keras

    rng = np.random.default_rng(seed)
    w = np.zeros((784, 10), np.float32)
    on = corner_mask(corner).ravel()
    w[on] = rng.normal(size=(16, 10)) + 0.5
    x_in = keras.Input((784,))
    model = keras.Model(x_in, keras.layers.Dense(10)(x_in))
    model.set_weights([w, np.zeros(10, np.float32)])
    return model


def test_patch_model_gradient_mass_is_one():
    from inputgrad.core.methods import attribute
    from inputgrad.core.models import model_fn

    x0, y = digits(40)
    x, mask, _ = decoy_train(x0.reshape(40, -1), y, seed=0)
    f = model_fn(patch_model(corner=0))
    on = corner_mask(0).ravel()
    top_left = on[None] & np.ones((40, 1), bool)
    grads = attribute("gradient", f, x, output="logit")
    mass = compute.relevance_mass(grads, top_left)
    assert (mass == 1.0).all()  # no gradient off the patch: exactly 1
    assert (compute.pointing_game(grads, top_left) == 1.0).all()
    # on the drawn corners: 1 where the patch is top-left, 0 elsewhere
    other = compute.relevance_mass(grads, mask)
    assert set(np.unique(other)) <= {0.0, 1.0}
    assert ((other == 1.0) == mask.reshape(40, -1)[:, on].all(axis=1)).all()
    window = compute.detect_window(np.abs(grads).mean(axis=0), 4)
    assert (window["row"], window["col"], window["corner"], window["found"]) == \
        (0, 0, "top_left", 1.0)
    assert window["share"] == pytest.approx(1.0)
    assert window["share_over_uniform"] == pytest.approx(784 / 16)


def test_relevance_mass_and_pointing_by_hand():
    attr = np.array([[1.0, -3.0, 0.0, 4.0], [0.0, 0.0, 0.0, 0.0], [2.0, 2.0, -1.0, 1.0]])
    mask = np.array([[True, True, False, False]] * 3)
    mass = compute.relevance_mass(attr, mask)
    assert mass[0] == pytest.approx(4 / 8) and np.isnan(mass[1]) and mass[2] == pytest.approx(4 / 6)
    assert compute.pointing_game(attr, mask).tolist() == [0.0, 1.0, 1.0]  # ties: the first
    uniform = compute.relevance_mass(np.ones((1, 784)), corner_mask(2).reshape(1, -1))
    assert uniform[0] == pytest.approx(16 / 784)


def test_window_sums_match_brute_force():
    rng = np.random.default_rng(1)
    image = rng.random(784)
    sums = compute.window_sums(image, 4)
    square = image.reshape(28, 28)
    assert sums.shape == (25, 25)
    for r, c in [(0, 0), (3, 7), (24, 24), (24, 0)]:
        assert sums[r, c] == pytest.approx(square[r:r + 4, c:c + 4].sum())
    square = np.zeros((28, 28))
    square[10:14, 5:9] = 1.0
    window = compute.detect_window(square.ravel(), 4)
    assert (window["row"], window["col"], window["found"], window["corner"]) == (10, 5, 0.0, "")


# ----------------------------------------------------------------------------- the penalty

def float64_mlp():
    """A small mnist_mlp (registry builder) in float64, dropout 0: 6 inputs, 3 classes."""
    import keras

    from inputgrad.core.models import build

    old, policy = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    try:
        keras.utils.set_random_seed(0)
        model = build({"name": "mnist_mlp", "inputs": 6, "hidden": [8, 8], "dropout": 0.0,
                       "classes": 3})
    finally:
        keras.config.set_floatx(old)
        keras.config.set_dtype_policy(policy)
    assert all(w.dtype == "float64" for w in model.weights)
    return model


def test_input_gradient_against_finite_differences():
    import tensorflow as tf

    from inputgrad.core.gradients import finite_difference, input_gradient

    model = float64_mlp()
    x = np.random.default_rng(2).normal(size=(4, 6))
    grads, logits = input_gradient(lambda v: model(v, training=False), tf.constant(x))
    fd = finite_difference(lambda v: model(v, training=False), x, "log_probability", eps=1e-6)
    assert np.allclose(grads.numpy(), fd.sum(axis=1), atol=1e-8)  # d/dx sum_k log p_k
    assert np.allclose(logits.numpy(), model(x).numpy())


def test_penalty_and_its_weight_gradient_against_finite_differences():
    """The penalty term itself, and its derivative with respect to a weight (the double
    backward of training), against central differences in float64."""
    import tensorflow as tf

    from inputgrad.core.gradients import finite_difference
    from inputgrad.core.train import right_reasons_loss, right_reasons_penalty

    model = float64_mlp()
    rng = np.random.default_rng(3)
    x = tf.constant(rng.normal(size=(5, 6)))
    y = tf.constant(rng.integers(0, 3, 5))
    mask = tf.constant(rng.random((5, 6)) < 0.5)
    f = lambda v: model(v, training=False)  # noqa: E731

    penalty, _ = right_reasons_penalty(f, x, mask)
    fd = finite_difference(f, x.numpy(), "log_probability", eps=1e-6).sum(axis=1)
    assert np.allclose(penalty.numpy(), ((mask.numpy() * fd) ** 2).sum(axis=1), atol=1e-8)

    lam = 7.0
    with tf.GradientTape() as tape:
        total, ce, pen = right_reasons_loss(model, x, y, mask, lam, training=False)
    kernel = model.trainable_variables[0]
    analytic = tape.gradient(total, kernel).numpy()
    assert float(total) == pytest.approx(float(ce) + lam * float(pen))
    base = kernel.numpy().copy()
    eps = 1e-6
    for idx in [(0, 0), (2, 3), (5, 1)]:
        values = []
        for sign in (1, -1):
            w = base.copy()
            w[idx] += sign * eps
            kernel.assign(w)
            values.append(float(right_reasons_loss(model, x, y, mask, lam, training=False)[0]))
        kernel.assign(base)
        assert analytic[idx] == pytest.approx((values[0] - values[1]) / (2 * eps), rel=1e-6,
                                              abs=1e-9)
    assert np.abs(analytic).max() > 0


# ----------------------------------------------------------------------------- stages

TINY = {"name": "mnist_mlp", "inputs": 784, "hidden": [32], "dropout": 0.0, "classes": 10}
TRAIN = {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 32, "epochs": 20,
         "validate": True}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """Synthetic MNIST arrays, the decoy and the repaired model trained on them, a clean
    control, and the scores of one seed."""
    from inputgrad.core.train import train_stage
    from inputgrad.infra.io import save_npz

    out = tmp_path_factory.mktemp("decoy")
    xtr, ytr = digits(600, seed=1)
    xte, yte = digits(200, seed=2)
    data = out / "mnist.npz"
    save_npz(data, {"x_train": xtr, "y_train": ytr, "x_test": xte, "y_test": yte})
    files = {}
    repaired = {**TRAIN, "right_reasons": {"lambda": 100.0}}
    for name, train in (("decoy", TRAIN), ("repaired", repaired)):
        outs = {k: str(out / name / f"{k}.{e}") for k, e in
                (("model", "keras"), ("metrics", "json"), ("history", "csv"), ("config", "yaml"))}
        metrics = stages.train_decoy_mnist(
            {"data": str(data)}, outs,
            {"cfg": {"model": TINY, "train": train, "data": {"decoy_mnist": DECOY}}, "seed": 0})
        files[name] = outs["model"]
        files[name + "_metrics"] = metrics
        files[name + "_history"] = outs["history"]
    clean = {k: str(out / "control" / f"{k}.{e}") for k, e in
             (("model", "keras"), ("metrics", "json"), ("history", "csv"))}
    flat = {"x_train": xtr.reshape(600, -1), "y_train": ytr, "x_test": xte.reshape(200, -1),
            "y_test": yte}
    train_stage(flat, clean, {"cfg": {"model": TINY, "train": TRAIN}, "seed": 0})
    attribution = {"digits": {"n": 30, "seed": 0, "output": "logit", "batch_size": 32},
                   "methods": "all", "versions": ["same", "random"],
                   "method_options": {"integrated_gradients": {"steps": 4},
                                      "smoothgrad": {"samples": 2}, "vargrad": {"samples": 2},
                                      "smoothgrad_sq": {"samples": 2}}}
    scores = {k: str(out / f"scores.{e}") for k, e in
              (("table", "csv"), ("summary", "json"), ("maps", "npz"))}
    stages.decoy_mnist_scores(
        {"decoy": files["decoy"], "repaired": files["repaired"], "control": clean["model"],
         "data": str(data)}, scores,
        {"cfg": {"data": {"decoy_mnist": DECOY}, "attribution": attribution}, "seed": 0})
    return {"out": out, **files, **scores}


def test_training_uses_the_patch_and_the_repair_penalises_it(tiny_run):
    history = pd.read_csv(tiny_run["repaired_history"])
    assert {"loss", "crossentropy", "penalty", "accuracy", "val_accuracy"} <= set(history)
    assert history["penalty"].iloc[-1] < history["penalty"].iloc[0]
    summary = json.loads(open(tiny_run["summary"]).read())
    acc = summary["accuracy"]
    # synthetic blobs carry no label; the patch does: the decoy model reads it
    assert acc["decoy"]["same"] > 0.5 and acc["decoy"]["none"] < 0.3
    # the repaired model may not read the patch, and nothing else predicts the label
    assert acc["repaired"]["same"] < acc["decoy"]["same"] - 0.2
    mass = summary["relevance_mass"]
    assert mass["decoy"]["same"]["gradient"] > 5 * summary["uniform_mass"]
    assert mass["repaired"]["same"]["gradient"] < mass["decoy"]["same"]["gradient"]


def test_scores_table_shape(tiny_run):
    table = pd.read_csv(tiny_run["table"], keep_default_na=False, na_values=[""])
    summary = json.loads(open(tiny_run["summary"]).read())
    methods = summary["methods"]
    assert methods[0] == "gradient" and "random" in methods and "occlusion" not in methods
    acc = table[table["quantity"] == "accuracy"]
    assert len(acc) == 9  # 3 models x 3 versions
    scored = table[table["quantity"] == "relevance_mass"]
    assert len(scored) == 3 * 2 * len(methods) and (scored["n"] <= 30).all()
    # n: digits with some attribution (an all-zero map has no mass; a dead tiny model's)
    decoy_gradient = (scored["model"] == "decoy") & (scored["method"] == "gradient")
    assert (scored[decoy_gradient]["n"] == 30).all()
    ci = scored.dropna(subset=["ci_low"])
    assert len(ci) and ((ci["ci_low"] <= ci["value"]) & (ci["value"] <= ci["ci_high"])).all()
    rnd = scored[scored["method"] == "random"]["value"]
    assert np.allclose(rnd, 16 / 784, atol=0.01)  # the floor: uniform
    found = table[table["quantity"] == "detection_found"]
    assert set(found["value"]) <= {0.0, 1.0} and found["window"].str.contains(",").all()
    maps = np.load(tiny_run["maps"])
    assert maps["decoy/same/gradient"].shape == (784,)


def test_seeds_table_and_figure(tiny_run, tmp_path):
    import shutil

    second = tmp_path / "scores1.csv"
    shutil.copy(tiny_run["table"], second)
    out = {"csv": str(tmp_path / "seeds.csv"), "md": str(tmp_path / "seeds.md")}
    stages.decoy_mnist_seeds({"tables": [tiny_run["table"], str(second)],
                              "summaries": [tiny_run["summary"]] * 2}, out,
                             {"cfg": {"seeds": [0, 1]}})
    table = pd.read_csv(out["csv"], keep_default_na=False, na_values=[""])
    summaries = table[table["seed"].isna()]
    per_seed = table[table["seed"].notna()]
    assert len(per_seed) == 2 * len(summaries)
    row = summaries[(summaries["quantity"] == "accuracy") & (summaries["model"] == "decoy")
                    & (summaries["version"] == "same")].iloc[0]
    assert row["n"] == 2 and row["sd"] == 0.0
    md = open(out["md"]).read()
    assert "2 seeds: 0, 1" in md and "found decoy" in md
    style = {"version": "same", "models": ["decoy", "control", "repaired"], "cmap": "magma",
             "width_in": 12, "height_in": 5.6, "dpi": 50, "font_size": 9, "line_width": 1.5}
    fig = {"png": str(tmp_path / "f.png"), "pdf": str(tmp_path / "f.pdf")}
    stages.decoy_mnist_figure({"maps": tiny_run["maps"], "summary": tiny_run["summary"]}, fig,
                              {"cfg": {"figure": style}})
    assert (tmp_path / "f.png").stat().st_size > 1000
    with pytest.raises(Exception, match="figure.version"):
        stages.decoy_mnist_figure({"maps": tiny_run["maps"], "summary": tiny_run["summary"]},
                                  fig, {"cfg": {"figure": {**style, "version": "none"}}})


def test_right_reasons_training_is_seeded():
    """Same seed, same weights; another seed, other batches and weights."""
    from inputgrad.core.models import build
    from inputgrad.core.seeding import seed_everything
    from inputgrad.core.train import fit_right_reasons

    x0, y = digits(120, seed=4)
    x, mask, _ = decoy_train(x0.reshape(120, -1), y, seed=0)
    data = {"x_train": x, "y_train": y, "mask_train": mask, "x_test": x, "y_test": y}
    cfg = {**TRAIN, "epochs": 1, "validate": False, "right_reasons": {"lambda": 10.0}}

    def weights(seed):
        seed_everything(seed)
        model = build({**TINY, "hidden": [8]})
        fit_right_reasons(model, data, cfg, seed)
        return [w.copy() for w in model.get_weights()]

    a, b, c = weights(0), weights(0), weights(1)
    assert all((u == v).all() for u, v in zip(a, b, strict=True))
    assert not all(np.array_equal(u, v) for u, v in zip(a, c, strict=True))
