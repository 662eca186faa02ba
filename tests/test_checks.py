"""Beyond the paper: deletion test, Spearman helper, seed-variability summary (hand-checkable)."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from inputgrad.core.models import build, model_fn
from inputgrad.core.stats import rankdata, softmax, spearman, spearman_rows
from inputgrad.infra.errors import ConfigError, DataError
from inputgrad.sections.checks import compute, stages, tables


def linear_model(weights):
    """logits = x @ W, W (d, 2), no bias: class 0's logit moves by w_j per unit of pixel j."""
    import keras

    x_in = keras.Input((len(weights),))
    model = keras.Model(x_in, keras.layers.Dense(2, use_bias=False)(x_in))
    model.set_weights([np.asarray(weights, np.float32)])
    return model


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


# ----------------------------------------------------------------------------- ranks

def test_spearman_hand_case():
    # ranks [1,2,3,4] vs [1,3,2,4]: sum d^2 = 2, rho = 1 - 6*2 / (4*15) = 0.8
    assert spearman([10, 20, 30, 40], [1, 3, 2, 4]) == pytest.approx(0.8)
    assert spearman([1, 2, 3], [30, 20, 10]) == pytest.approx(-1.0)
    assert math.isnan(spearman([1, 2, 3], [5, 5, 5]))


def test_rankdata_averages_ties():
    np.testing.assert_allclose(rankdata([10, 20, 20, 30]), [1, 2.5, 2.5, 4])
    np.testing.assert_allclose(rankdata([3, 1, 2]), [3, 1, 2])
    # with ties: Pearson of the average ranks [1, 2.5, 2.5, 4] and [1, 2, 3, 4] = sqrt(0.9)
    assert spearman([10, 20, 20, 30], [1, 2, 3, 4]) == pytest.approx(math.sqrt(0.9))
    np.testing.assert_allclose(spearman_rows([[1, 2, 3], [1, 2, 3]], [[1, 2, 3], [3, 2, 1]]),
                               [1.0, -1.0])


def test_area_over_curve_hand_case():
    # drop below p(0): [0, .5, .5] over k = 0, 10, 20 -> (2.5 + 5) / 20 = 0.375
    assert compute.area_over_curve([0, 10, 20], [1.0, 0.5, 0.5]) == pytest.approx(0.375)
    assert compute.area_over_curve([20, 0, 10], [0.5, 1.0, 0.5]) == pytest.approx(0.375)
    assert compute.area_over_curve([0, 10], [0.7, 0.7]) == 0.0


# ----------------------------------------------------------------------------- deletion

def test_deletion_on_linear_model_removes_pixels_in_known_order():
    # class 0's logit weights 0.5, 3, 1, 2 -> by |gradient|: pixels 1, 3, 2, 0
    w = np.zeros((4, 2), np.float32)
    w[:, 0] = [0.5, 3.0, 1.0, 2.0]
    f = model_fn(linear_model(w))
    x = np.ones((1, 4), np.float32)
    classes = np.array([0], np.int32)
    cfg = {"ig_steps": 8, "smoothgrad_noise": 0.1, "smoothgrad_samples": 4, "smoothgrad_seed": 0}
    attrs, gap, seconds = compute.attributions(f, x, classes, cfg, "logit", batch_size=4)
    assert list(attrs) == list(seconds) == list(compute.ATTRIBUTED)
    np.testing.assert_allclose(attrs["gradient"], w[:, 0][None], rtol=1e-6)
    # linear model: IG = (x - 0) * w exactly, completeness gap 0; SmoothGrad = the gradient
    np.testing.assert_allclose(attrs["integrated_gradients"], w[:, 0][None], rtol=1e-5)
    np.testing.assert_allclose(gap, 0.0, atol=1e-5)
    np.testing.assert_allclose(attrs["smoothgrad"], w[:, 0][None], rtol=1e-5)

    orders = compute.deletion_orders(attrs, 1, 4, random_seed=0)
    for method in ("gradient", "gradient_x_input", "integrated_gradients", "smoothgrad"):
        assert orders[method][0].tolist() == [1, 3, 2, 0], method
    assert sorted(orders["random"][0].tolist()) == [0, 1, 2, 3]

    curves = compute.deletion_curves(lambda xb: softmax(f(xb).numpy()), x, classes,
                                     {"gradient": orders["gradient"]}, [0, 1, 2, 4])
    table = tables.deletion_table(curves, [0, 1, 2, 4], len(x))
    # p(class 0) = sigmoid(sum of the weights of the pixels still on)
    expected = [sigmoid(6.5), sigmoid(3.5), sigmoid(1.5), sigmoid(0.0)]
    np.testing.assert_allclose(table["mean_probability"], expected, rtol=1e-5)
    assert table["k"].tolist() == [0, 1, 2, 4] and set(table["n"]) == {1}
    assert list(table.columns) == ["method", "k", "mean_probability", "n"]


def test_gradient_x_input_ranks_absent_pixels_last():
    # pixel 0 has the largest weight but is off (x = 0): |g| ranks it first, g*x last,
    # and deleting it changes nothing (the |g| curve stays flat for k = 1)
    w = np.zeros((3, 2), np.float32)
    w[:, 0] = [5.0, 2.0, 1.0]
    f = model_fn(linear_model(w))
    x = np.array([[0.0, 1.0, 1.0]], np.float32)
    cls = np.array([0], np.int32)
    cfg = {"ig_steps": 4, "smoothgrad_noise": 0.1, "smoothgrad_samples": 2, "smoothgrad_seed": 0}
    attrs, _, _ = compute.attributions(f, x, cls, cfg, "logit", batch_size=4)
    orders = compute.deletion_orders(attrs, 1, 3, random_seed=0)
    assert orders["gradient"][0].tolist() == [0, 1, 2]
    assert orders["gradient_x_input"][0].tolist() == [1, 2, 0]
    curves = compute.deletion_curves(lambda xb: softmax(f(xb).numpy()), x, cls,
                                     {m: orders[m] for m in ("gradient", "gradient_x_input")},
                                     [0, 1])
    table = tables.deletion_table(curves, [0, 1], len(x))
    p = table.set_index(["method", "k"])["mean_probability"]
    assert p["gradient", 1] == pytest.approx(sigmoid(3.0), rel=1e-5)
    assert p["gradient_x_input", 1] == pytest.approx(sigmoid(1.0), rel=1e-5)
    aoc = compute.aoc_by_method(table)
    assert aoc["gradient_x_input"] > aoc["gradient"] == pytest.approx(0.0, abs=1e-6)


def test_delete_top_and_select_digits():
    x = np.arange(1, 7, dtype=np.float32).reshape(2, 3)
    order = np.array([[2, 0, 1], [1, 2, 0]])
    np.testing.assert_array_equal(compute.delete_top(x, order, 2), [[0, 2, 0], [4, 0, 0]])
    np.testing.assert_array_equal(compute.delete_top(x, order, 0), x)
    a = compute.select_digits(100, 10, seed=3)
    np.testing.assert_array_equal(a, compute.select_digits(100, 10, seed=3))
    assert len(set(a.tolist())) == 10 and list(a) == sorted(a)
    assert len(compute.select_digits(5, 10, seed=0)) == 5


def test_reinitialised_model_changes_weights_not_shapes():
    w = np.ones((3, 2), np.float32)
    model = linear_model(w)
    clone = compute.reinitialised(model, seed=0)
    assert [v.shape for v in clone.get_weights()] == [v.shape for v in model.get_weights()]
    assert not np.allclose(clone.get_weights()[0], w)
    np.testing.assert_allclose(compute.reinitialised(model, seed=0).get_weights()[0],
                               clone.get_weights()[0])


# ----------------------------------------------------------------------------- seed variability

def gbar_frame(values):
    """Word 0 is reserved (not eligible) with a huge ḡ that must be ignored."""
    values = [100.0, *values]
    ids = range(len(values))
    return pd.DataFrame({"word_id": ids, "word": [f"w{i}" for i in ids],
                         "eligible": [False] + [True] * (len(values) - 1),
                         "gbar_test_probability": values})


def test_seed_variability_two_seeds_hand_case():
    frames = {0: gbar_frame([5, 4, 3, -1, -2, -3]), 1: gbar_frame([4, 5, -1, 3, -3, -2])}
    table = tables.seed_variability_table(frames, {0: 0.8, 1: 0.9}, "gbar_test_probability",
                                          top_k=2)
    assert len(table) == 1
    row = table.iloc[0]
    assert (row["seed_a"], row["seed_b"]) == (0, 1)
    # ranks 6 5 4 3 2 1 vs 5 6 3 4 1 2: sum d^2 = 6, rho = 1 - 36 / 210
    assert row["spearman_gbar"] == pytest.approx(1 - 36 / 210)
    assert row["top_positive_overlap"] == 1.0  # {w1, w2} both times
    assert row["top_negative_overlap"] == 1.0  # {w5, w6} both times
    assert row["n_words"] == 6 and row["n_seeds"] == 2
    assert row["accuracy_mean"] == pytest.approx(0.85)
    assert row["accuracy_sd"] == pytest.approx(math.sqrt(0.005))


def test_seed_variability_three_seeds_gives_every_pair():
    frames = {0: gbar_frame([5, 4, 3, -1, -2, -3]), 1: gbar_frame([4, 5, -1, 3, -3, -2]),
              2: gbar_frame([5, -1, 4, 3, -2, -3])}
    table = tables.seed_variability_table(frames, {0: 0.8, 1: 0.9, 2: 1.0},
                                          "gbar_test_probability", 2)
    assert list(zip(table["seed_a"], table["seed_b"], strict=True)) == [(0, 1), (0, 2), (1, 2)]
    pair02 = table.iloc[1]
    assert pair02["top_positive_overlap"] == 0.5  # {w1, w2} vs {w1, w3}
    assert pair02["top_negative_overlap"] == 1.0
    np.testing.assert_allclose(table["accuracy_sd"], 0.1)


def test_seed_variability_one_seed_gives_one_row():
    table = tables.seed_variability_table({7: gbar_frame([1, -1, 2])}, {7: 0.88},
                                    "gbar_test_probability", top_k=20)
    assert len(table) == 1
    row = table.iloc[0]
    assert row["seed_a"] == 7 and pd.isna(row["seed_b"])
    assert row["accuracy_mean"] == pytest.approx(0.88) and pd.isna(row["accuracy_sd"])
    assert pd.isna(row["spearman_gbar"]) and row["n_seeds"] == 1


def test_seed_variability_errors_name_the_problem():
    with pytest.raises(ConfigError, match="nope"):
        tables.seed_variability_table({0: gbar_frame([1, 2])}, {0: 0.5}, "nope", 2)
    with pytest.raises(DataError, match="differ"):
        tables.seed_variability_table({0: gbar_frame([1, 2])}, {1: 0.5},
                                      "gbar_test_probability", 2)


def test_deletion_figure_from_table_leaves_global_style_alone(tmp_path):
    import matplotlib

    from inputgrad.infra.config import compose
    from workflow_utils import ROOT

    style = {**compose(ROOT / "config/hydra", "checks")["figure"], "font_size": 17}
    before = matplotlib.rcParams["font.size"]
    table = pd.DataFrame({"method": ["gradient"] * 2 + ["random"] * 2, "k": [0, 10] * 2,
                          "mean_probability": [0.9, 0.5, 0.9, 0.85], "n": 3})
    csv = tmp_path / "t.csv"
    table.to_csv(csv, index=False)
    outputs = {"png": tmp_path / "f.png", "pdf": tmp_path / "f.pdf"}
    stages.attribution_deletion_figure({"table": str(csv)}, outputs, {"cfg": {"figure": style}})
    assert outputs["png"].stat().st_size > 1000 and outputs["pdf"].exists()
    assert matplotlib.rcParams["font.size"] == before  # rc_context, not a global update


# ----------------------------------------------------------------------------- stages

@pytest.fixture
def mnist_files(tmp_path):
    """A small (untrained) mnist_mlp saved as .keras and 30 test digits in the on-disk format."""
    model = build({"name": "mnist_mlp", "hidden": (16,), "dropout": 0.0})
    model.save(tmp_path / "model.keras")
    rng = np.random.default_rng(0)
    x = rng.random((30, 28, 28)).astype(np.float32)
    np.savez(tmp_path / "mnist.npz", x_test=x, y_test=np.zeros(30, np.int64))
    return {"model": str(tmp_path / "model.keras"), "data": str(tmp_path / "mnist.npz"),
            "run_id": str(tmp_path / "run_id.txt")}


DIGITS = {"n": 12, "seed": 0, "output": "logit", "batch_size": 8}
DELETION = {"ks": [0, 5, 50], "ig_steps": 4, "smoothgrad_noise": 0.1, "smoothgrad_samples": 2,
            "smoothgrad_seed": 0, "random_seed": 0}


def test_deletion_stage_writes_table_summary_and_returns_metrics(tmp_path, mnist_files):
    outputs = {"table": str(tmp_path / "d.csv"), "summary": str(tmp_path / "d.json")}
    metrics = stages.attribution_deletion(mnist_files, outputs,
                                          {"cfg": {"digits": DIGITS, "deletion": DELETION}})
    table = pd.read_csv(outputs["table"])
    assert table["method"].unique().tolist() == list(compute.RANKINGS)
    assert table["k"].tolist() == DELETION["ks"] * 5 and set(table["n"]) == {12}
    summary = json.loads(open(outputs["summary"]).read())
    assert list(summary["aoc"]) == list(compute.RANKINGS)
    assert summary["ig_completeness_gap"]["steps"] == 4 and summary["n"] == 12
    assert "seconds" not in json.dumps(summary)  # timings go to metrics, not result files
    assert metrics["deletion_aoc_random"] == summary["aoc"]["random"]
    assert metrics["ig_completeness_gap_mean_abs"] == summary["ig_completeness_gap"]["mean_abs"]
    assert set(metrics) >= {f"attribution_seconds_{m}" for m in compute.ATTRIBUTED}
    with pytest.raises(ConfigError, match="deletion.ks"):
        stages.attribution_deletion(mnist_files, outputs, {"cfg": {
            "digits": DIGITS, "deletion": {**DELETION, "ks": [0, 785]}}})


def test_sanity_stage_compares_with_a_reinitialised_model(tmp_path, mnist_files):
    outputs = {"summary": str(tmp_path / "s.json")}
    metrics = stages.attribution_sanity(mnist_files, outputs,
                                        {"cfg": {"digits": DIGITS, "sanity": {"reinit_seed": 1}}})
    result = json.loads(open(outputs["summary"]).read())
    assert result["reinit_seed"] == 1 and result["n"] == 12
    assert -1 <= result["spearman_abs_gradient_mean"] < 0.99  # other weights, other map
    assert metrics == {"sanity_spearman_abs_gradient": result["spearman_abs_gradient_mean"]}


def test_seed_variability_stage_reads_every_seed(tmp_path):
    inputs = {"gbar": [], "metrics": [], "run_id": str(tmp_path / "run_id.txt")}
    for seed, (values, acc) in enumerate([([5, 4, 3, -1, -2, -3], 0.8),
                                          ([4, 5, -1, 3, -3, -2], 0.9)]):
        gbar_frame(values).to_csv(tmp_path / f"g{seed}.csv", index=False)
        (tmp_path / f"m{seed}.json").write_text(json.dumps({"test_accuracy": acc}))
        inputs["gbar"].append(str(tmp_path / f"g{seed}.csv"))
        inputs["metrics"].append(str(tmp_path / f"m{seed}.json"))
    params = {"cfg": {"seeds": [0, 1], "seed_variability": {
        "top_k": 2, "column": "gbar_test_probability"}}}
    outputs = {"table": str(tmp_path / "sv.csv")}
    metrics = stages.seed_variability(inputs, outputs, params)
    table = pd.read_csv(outputs["table"])
    assert table["spearman_gbar"].iloc[0] == pytest.approx(1 - 36 / 210)
    assert metrics["seed_variability_spearman_gbar_mean"] == pytest.approx(1 - 36 / 210)
    assert metrics["seed_variability_accuracy_sd"] == pytest.approx(math.sqrt(0.005))
    (tmp_path / "m1.json").write_text("{}")
    with pytest.raises(DataError, match="test_accuracy"):
        stages.seed_variability(inputs, outputs, params)
