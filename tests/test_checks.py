"""Beyond the paper: deletion test, sanity check, Spearman helper, the checks across seeds
(hand-checkable)."""

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


# the methods of config/hydra/attribution/checks.yaml, then the control
ATTRIBUTED = ["gradient", "gradient_x_input", "integrated_gradients", "smoothgrad"]
RANKINGS = [*ATTRIBUTED, "random"]

# ----------------------------------------------------------------------------- deletion

def test_deletion_on_linear_model_removes_pixels_in_known_order():
    # class 0's logit weights 0.5, 3, 1, 2 -> by |gradient|: pixels 1, 3, 2, 0
    w = np.zeros((4, 2), np.float32)
    w[:, 0] = [0.5, 3.0, 1.0, 2.0]
    f = model_fn(linear_model(w))
    x = np.ones((1, 4), np.float32)
    classes = np.array([0], np.int32)
    options = {"integrated_gradients": {"steps": 8}, "smoothgrad": {"samples": 4}}
    attrs, gap, seconds = compute.attributions(f, x, classes, ATTRIBUTED, options, "logit",
                                               batch_size=4)
    assert list(attrs) == list(seconds) == ATTRIBUTED
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
    options = {"integrated_gradients": {"steps": 4}, "smoothgrad": {"samples": 2}}
    attrs, _, _ = compute.attributions(f, x, cls, ATTRIBUTED, options, "logit", batch_size=4)
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
    from inputgrad.core.models import reinitialised

    clone = reinitialised(model, seed=0)
    assert [v.shape for v in clone.get_weights()] == [v.shape for v in model.get_weights()]
    assert not np.allclose(clone.get_weights()[0], w)
    np.testing.assert_allclose(reinitialised(model, seed=0).get_weights()[0],
                               clone.get_weights()[0])


# ----------------------------------------------------------------------------- figure

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


# ----------------------------------------------------------------------------- per-seed stages

SEEDS = (0, 1)


@pytest.fixture
def mnist_files(tmp_path):
    """Small (untrained) mnist_mlp models of seeds 0 and 1, in the per-seed layout
    models/mnist_mlp/seed<seed>/, and 30 test digits in the on-disk format."""
    import keras

    files = {}
    for seed in SEEDS:
        keras.utils.set_random_seed(seed)  # each seed its own initial weights
        folder = tmp_path / "models" / "mnist_mlp" / f"seed{seed}"
        folder.mkdir(parents=True)
        build({"name": "mnist_mlp", "hidden": (16,), "dropout": 0.0}).save(folder / "model.keras")
        files[seed] = {"model": str(folder / "model.keras"), "data": str(tmp_path / "mnist.npz")}
    rng = np.random.default_rng(0)
    x = rng.random((30, 28, 28)).astype(np.float32)
    np.savez(tmp_path / "mnist.npz", x_test=x, y_test=np.zeros(30, np.int64))
    return files


DIGITS = {"n": 12, "seed": 0, "output": "logit", "batch_size": 8}
DELETION = {"ks": [0, 5, 50], "methods": ATTRIBUTED, "random_seed": 0}
OPTIONS = {"integrated_gradients": {"steps": 4}, "smoothgrad": {"samples": 2, "noise": 0.1,
                                                                "seed": 0}}
SANITY = {"reinit_seed": 1}


def seed_outputs(root, seed):
    """The per-seed outputs of attribution_deletion and attribution_sanity under `root`."""
    folder = root / "tables" / f"seed{seed}"
    return ({"table": str(folder / "attribution_deletion.csv"),
             "summary": str(folder / "attribution_deletion.json")},
            {"summary": str(folder / "attribution_sanity.json")})


def run_seed(root, files, seed):
    """Both per-seed stages of one seed -> (deletion metrics, sanity metrics)."""
    deletion, sanity = seed_outputs(root, seed)
    return (stages.attribution_deletion(files[seed], deletion, {
                "cfg": {"digits": DIGITS, "deletion": DELETION, "method_options": OPTIONS},
                "seed": seed}),
            stages.attribution_sanity(files[seed], sanity, {
                "cfg": {"digits": DIGITS, "sanity": SANITY}, "seed": seed}))


def test_deletion_stage_writes_table_summary_and_returns_metrics(tmp_path, mnist_files):
    outputs, _ = seed_outputs(tmp_path, 0)
    metrics = stages.attribution_deletion(mnist_files[0], outputs, {
        "cfg": {"digits": DIGITS, "deletion": DELETION, "method_options": OPTIONS},
        "seed": 0})
    table = pd.read_csv(outputs["table"])
    assert table["method"].unique().tolist() == RANKINGS
    assert table["k"].tolist() == DELETION["ks"] * 5 and set(table["n"]) == {12}
    summary = json.loads(open(outputs["summary"]).read())
    assert list(summary["aoc"]) == RANKINGS
    assert summary["ig_completeness_gap"]["steps"] == 4 and summary["n"] == 12
    assert "seconds" not in json.dumps(summary)  # timings go to metrics, not result files
    assert "seed" not in summary  # the seed is the folder (seed-0 files as before the split)
    assert metrics["deletion_aoc_random"] == summary["aoc"]["random"]
    assert metrics["ig_completeness_gap_mean_abs"] == summary["ig_completeness_gap"]["mean_abs"]
    assert set(metrics) >= {f"attribution_seconds_{m}" for m in ATTRIBUTED}
    with pytest.raises(ConfigError, match="deletion.ks"):
        stages.attribution_deletion(mnist_files[0], outputs, {"cfg": {
            "digits": DIGITS, "deletion": {**DELETION, "ks": [0, 785]},
            "method_options": OPTIONS}, "seed": 0})


def test_sanity_stage_compares_with_a_reinitialised_model(tmp_path, mnist_files):
    _, outputs = seed_outputs(tmp_path, 0)
    metrics = stages.attribution_sanity(mnist_files[0], outputs,
                                        {"cfg": {"digits": DIGITS, "sanity": SANITY}, "seed": 0})
    result = json.loads(open(outputs["summary"]).read())
    assert result["reinit_seed"] == 1 and result["n"] == 12
    assert -1 <= result["spearman_abs_gradient_mean"] < 0.99  # other weights, other map
    assert metrics == {"sanity_spearman_abs_gradient": result["spearman_abs_gradient_mean"]}


def test_per_seed_stages_differ_only_by_model_and_feed_checks_seeds(tmp_path, mnist_files):
    for seed in SEEDS:
        run_seed(tmp_path, mnist_files, seed)
    (d0, s0), (d1, s1) = (seed_outputs(tmp_path, s) for s in SEEDS)
    first = [open(p, "rb").read() for p in (d0["table"], d0["summary"], s0["summary"])]
    run_seed(tmp_path / "again", mnist_files, 0)  # same seed, same bytes
    (a0, b0) = seed_outputs(tmp_path / "again", 0)
    assert [open(p, "rb").read() for p in (a0["table"], a0["summary"], b0["summary"])] == first
    summaries = [json.loads(open(d["summary"]).read()) for d in (d0, d1)]
    # same digits, grid and settings; another model gives other curves
    assert summaries[0]["n"] == summaries[1]["n"] == 12
    assert summaries[0]["ks"] == summaries[1]["ks"] == DELETION["ks"]
    assert summaries[0]["aoc"] != summaries[1]["aoc"]

    outputs = {"csv": str(tmp_path / "checks_seeds.csv"), "md": str(tmp_path / "checks_seeds.md")}
    inputs = {"deletion": [d0["summary"], d1["summary"]],
              "sanity": [s0["summary"], s1["summary"]]}
    metrics = stages.checks_seeds(inputs, outputs, {"cfg": {"seeds": list(SEEDS)}})
    table = pd.read_csv(outputs["csv"])
    per_seed = table.dropna(subset=["seed"]).set_index(["quantity", "method", "seed"])["value"]
    for seed, summary in zip(SEEDS, summaries, strict=True):
        for method, aoc in summary["aoc"].items():
            assert per_seed["deletion_aoc", method, seed] == pytest.approx(aoc, rel=1e-15)
        assert per_seed["completeness_gap_mean_abs", "integrated_gradients", seed] == \
            pytest.approx(summary["ig_completeness_gap"]["mean_abs"], rel=1e-15)
    assert metrics["checks_seeds_n"] == 2
    assert metrics["checks_seeds_aoc_mean_random"] == pytest.approx(
        (summaries[0]["aoc"]["random"] + summaries[1]["aoc"]["random"]) / 2)


# ----------------------------------------------------------------------------- across seeds

METHODS = RANKINGS


def write_summaries(root, by_seed: dict[int, tuple]) -> dict:
    """Tiny per-seed attribution_deletion / attribution_sanity JSON files, by_seed:
    {seed: (AOC per method of METHODS, mean abs IG gap, rho |g|, rho |g x x|)} -> inputs."""
    inputs = {"deletion": [], "sanity": []}
    for seed, (aoc, gap, rho, rho_x) in by_seed.items():
        folder = root / "tables" / f"seed{seed}"
        folder.mkdir(parents=True)
        (folder / "attribution_deletion.json").write_text(json.dumps({
            "n": 500, "aoc": dict(zip(METHODS, aoc, strict=True)),
            "ig_completeness_gap": {"target": "logit", "mean_abs": gap, "max_abs": 2 * gap}}))
        (folder / "attribution_sanity.json").write_text(json.dumps({
            "n": 500, "spearman_abs_gradient_mean": rho,
            "spearman_abs_gradient_x_input_mean": rho_x}))
        inputs["deletion"].append(str(folder / "attribution_deletion.json"))
        inputs["sanity"].append(str(folder / "attribution_sanity.json"))
    return inputs


# methods: gradient, gradient_x_input, integrated_gradients, smoothgrad, random
THREE_SEEDS = {0: ([0.2, 0.9, 0.8, 0.3, 0.0], 0.1, 0.0, 0.90),
               4: ([0.4, 0.7, 0.8, 0.3, 0.1], 0.3, 0.2, 0.95),
               9: ([0.3, 0.8, 0.5, 0.6, 0.2], 0.2, -0.2, 1.00)}


def run_checks_seeds(tmp_path, by_seed):
    inputs = write_summaries(tmp_path, by_seed)
    outputs = {"csv": str(tmp_path / "checks_seeds.csv"), "md": str(tmp_path / "checks_seeds.md")}
    metrics = stages.checks_seeds(inputs, outputs, {"cfg": {"seeds": list(by_seed)}})
    return pd.read_csv(outputs["csv"]), open(outputs["md"]).read(), metrics


def test_checks_seeds_three_seeds_hand_case(tmp_path):
    table, md, metrics = run_checks_seeds(tmp_path, THREE_SEEDS)
    assert list(table.columns) == ["quantity", "method", "seed", "value", "rank", "n", "mean",
                                   "sd", "min", "max", "ci_low", "ci_high"]
    # per (quantity, method): 3 seed rows then 1 summary row; 5 AOC + gap + 2 Spearman
    assert len(table) == 8 * 4
    assert table["seed"].iloc[:3].tolist() == [0, 4, 9] and pd.isna(table["seed"].iloc[3])
    summary = table[table["seed"].isna()].set_index(["quantity", "method"])
    aoc = summary.loc["deletion_aoc"]
    np.testing.assert_allclose(aoc.loc[METHODS, "mean"], [0.3, 0.8, 0.7, 0.4, 0.1])
    # sd (ddof=1): deviations (-.1, .1, 0) -> 0.1; (.1, .1, -.2) -> sqrt(0.06 / 2)
    np.testing.assert_allclose(aoc.loc[METHODS, "sd"],
                               [0.1, 0.1, math.sqrt(0.03), math.sqrt(0.03), 0.1])
    np.testing.assert_allclose(aoc.loc[METHODS, "min"], [0.2, 0.7, 0.5, 0.3, 0.0])
    np.testing.assert_allclose(aoc.loc[METHODS, "max"], [0.4, 0.9, 0.8, 0.6, 0.2])
    assert set(summary["n"]) == {3}
    assert summary["ci_low"].isna().all() and summary["ci_high"].isna().all()  # K < 5
    # ranking by mean AOC: g x input 0.8 > IG 0.7 > SmoothGrad 0.4 > gradient 0.3 > random 0.1
    assert aoc.loc[METHODS, "rank"].tolist() == [4, 1, 2, 3, 5]
    seed_ranks = table[table["quantity"] == "deletion_aoc"].dropna(subset=["seed"])
    ranks = seed_ranks.set_index(["seed", "method"])["rank"]
    assert [ranks[4, m] for m in METHODS] == [3, 2, 1, 4, 5]  # IG first in seed 4
    assert summary.loc[("completeness_gap_mean_abs", "integrated_gradients"), "mean"] == \
        pytest.approx(0.2)
    rho = summary.loc["sanity_spearman"]
    assert rho.loc["gradient", "mean"] == pytest.approx(0.0, abs=1e-12)
    assert rho.loc["gradient", "sd"] == pytest.approx(0.2)
    assert rho.loc["gradient_x_input", "mean"] == pytest.approx(0.95)
    assert rho.loc["gradient_x_input", "sd"] == pytest.approx(0.05)
    assert summary.loc["sanity_spearman", "rank"].isna().all()  # ranks are for AOC only
    # only seed 0 orders the methods like the means
    assert "checks_seeds_same_order" not in metrics and metrics["checks_seeds_n"] == 3
    assert metrics["checks_seeds_aoc_mean_gradient_x_input"] == pytest.approx(0.8)
    # readable Markdown: the ranked AOC table with per-seed values and ranks, the diagnostics
    assert md.startswith("# Attribution checks across seeds (3 seeds: 0, 4, 9)")
    rows = [line for line in md.splitlines() if line.startswith("| 1 ")]
    assert rows and "gradient x input" in rows[0] and "0.900 (1)" in rows[0]
    assert "0.800" in rows[0] and "0.700 – 0.900" in rows[0]
    assert ("Order by mean AOC: gradient x input > integrated gradients > smoothgrad > "
            "gradient > random.") in md and "same order in" not in md
    assert "| seed 4 " in md and "IG completeness gap" in md and "sanity Spearman" in md


def test_checks_seeds_interval_from_five_seeds(tmp_path):
    # AOC of every method 1..5 over the seeds: mean 3, sd sqrt(2.5),
    # 95 % t interval 3 -+ t(0.975, df 4) sd / sqrt(5), t = 2.7764451 (tables)
    five = {s: ([float(s + 1)] * 5, 0.1, 0.0, 0.9) for s in range(5)}
    table, md, _ = run_checks_seeds(tmp_path, five)
    row = table[table["seed"].isna() & (table["method"] == "gradient")].iloc[0]
    half = 2.7764451 * math.sqrt(2.5) / math.sqrt(5)
    assert row["n"] == 5 and row["mean"] == pytest.approx(3.0)
    assert row["sd"] == pytest.approx(math.sqrt(2.5))
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((3 - half, 3 + half), rel=1e-6)
    assert f"{3 - half:.3f} – {3 + half:.3f}" in md
    # equal AOCs: every method shares rank 1, in every seed as in the means
    assert set(table.loc[table["quantity"] == "deletion_aoc", "rank"]) == {1}
    assert "Order by mean AOC: gradient = gradient x input = " in md


def test_checks_seeds_one_seed(tmp_path):
    table, md, metrics = run_checks_seeds(tmp_path, {7: THREE_SEEDS[0]})
    assert len(table) == 8 * 2  # one seed row and one summary row each
    summary = table[table["seed"].isna()]
    assert set(summary["n"]) == {1}
    assert summary["sd"].isna().all() and summary["ci_low"].isna().all()
    np.testing.assert_allclose(summary["mean"], summary["min"])
    np.testing.assert_allclose(summary["mean"], summary["max"])
    assert table.dropna(subset=["seed"])["seed"].unique().tolist() == [7]
    assert md.startswith("# Attribution checks across seeds (1 seed: 7)")
    assert "Order by mean AOC: gradient x input > " in md
    assert metrics["checks_seeds_n"] == 1


def test_checks_seeds_errors_name_the_problem(tmp_path):
    inputs = write_summaries(tmp_path, THREE_SEEDS)
    outputs = {"csv": str(tmp_path / "c.csv"), "md": str(tmp_path / "c.md")}
    with pytest.raises(DataError, match="3 seeds but 2 deletion"):
        stages.checks_seeds({**inputs, "deletion": inputs["deletion"][:2]}, outputs,
                            {"cfg": {"seeds": [0, 4, 9]}})
    broken = tmp_path / "tables" / "seed4" / "attribution_sanity.json"
    broken.write_text(json.dumps({"n": 500}))
    with pytest.raises(DataError, match="seed4/attribution_sanity.json: no "
                                        "'spearman_abs_gradient_mean'"):
        stages.checks_seeds(inputs, outputs, {"cfg": {"seeds": [0, 4, 9]}})
    with pytest.raises(DataError, match="AOC methods"):
        tables.seed_values({0: {"aoc": {"gradient": 0.1}, "ig_completeness_gap": {}},
                            1: {"aoc": {"random": 0.1}, "ig_completeness_gap": {}}}, {0: {}, 1: {}})
