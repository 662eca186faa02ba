"""Sensitivity section: first-order validity, FGSM / PGD, word flips and substitutions, the
cross-seed table and the figures (real Keras models whose answers are known by hand)."""

import json

import numpy as np
import pandas as pd
import pytest

from inputgrad.core.gradients import gradient
from inputgrad.core.models import build, model_fn
from inputgrad.core.stats import softmax
from inputgrad.sections.sensitivity import compute, stages, tables

EPS = [0.01, 0.1, 0.3, 1.0, 3.0]


def quadratic_model(a: np.ndarray, b: np.ndarray, c: float):
    """f(x) = x^T A x / 2 + b^T x + c (A symmetric): one logit, gradient A x + b, Hessian A."""
    import keras

    d = len(b)
    x_in = keras.Input((d,))
    ax = keras.layers.Dense(d, use_bias=False)(x_in)
    linear = keras.layers.Dense(1)(x_in)
    out = 0.5 * keras.ops.sum(x_in * ax, axis=1, keepdims=True) + linear
    model = keras.Model(x_in, out)
    model.set_weights([a.astype(np.float32), b[:, None].astype(np.float32),
                       np.array([c], np.float32)])
    return model


def logreg(weights: np.ndarray, bias: np.ndarray):
    """The project's multinomial logistic regression with given W (d, k) and b (k,)."""
    d, k = weights.shape
    model = build({"name": "mnist_logreg", "inputs": d, "classes": k})
    model.set_weights([weights.astype(np.float32), bias.astype(np.float32)])
    return model


# ----------------------------------------------------------------------------- Taylor

def test_taylor_error_of_a_quadratic_is_the_second_order_term():
    # actual - predicted = eps^2 u^T A u / 2 exactly, along every direction
    rng = np.random.default_rng(1)
    d = 5
    m = rng.normal(size=(d, d))
    a = (m + m.T) / 2
    b = rng.normal(size=d)
    f = model_fn(quadratic_model(a, b, c=20.0))  # f > 0 on the inputs: predicted side +1
    x = rng.uniform(-0.5, 0.5, size=(4, d)).astype(np.float32)
    res = compute.taylor_changes(f, x, EPS, random_count=3, seed=7, batch_size=8)

    eps = np.asarray(EPS)[:, None, None]
    units = {"random": compute.random_directions(4, (d,), 3, seed=7).astype(np.float64),
             "gradient": compute.unit_rows(x @ a + b)[:, None].astype(np.float64)}
    for direction, u in units.items():
        actual, predicted = res["changes"][("logit", direction)]
        curvature = np.einsum("nmd,de,nme->nm", u, a, u) / 2
        np.testing.assert_allclose(actual - predicted, eps ** 2 * curvature[None], atol=2e-5)
        # the relative error is that term over the actual change (eps >= 1: float noise small)
        np.testing.assert_allclose(compute.relative_error(actual, predicted)[-2:],
                                   (np.abs(eps ** 2 * curvature) / np.abs(actual))[-2:],
                                   rtol=1e-3)
    np.testing.assert_allclose(res["gradient_norm"]["logit"],
                               np.linalg.norm(x @ a + b, axis=1), rtol=1e-5)


def test_taylor_is_exact_for_logistic_regression_logits():
    rng = np.random.default_rng(0)
    model = logreg(rng.normal(size=(20, 3)), rng.normal(size=3))
    x = rng.uniform(0, 1, size=(30, 20)).astype(np.float32)
    eps = [0.01, 0.1, 1.0, 10.0]
    res = compute.taylor_changes(model_fn(model), x, eps, random_count=4, seed=0, batch_size=16)
    for direction in compute.DIRECTIONS:
        actual, predicted = res["changes"][("logit", direction)]
        assert np.abs(actual - predicted).max() < 2e-5, direction  # float32 noise of the logits
        medians = compute.error_quartiles(compute.relative_error(actual, predicted))["median"]
        assert (medians < 1e-3).all() and medians[-1] < 1e-5, direction
    table = tables.taylor_table({"mnist_logreg": res}, eps)
    summary = tables.taylor_summary(table, {"mnist_logreg": res},
                                    {"threshold": 0.1, "eps": eps, "random_directions": 4,
                                     "seed": 0})
    crossing = summary["models"]["mnist_logreg"]["eps_at_threshold"]
    assert crossing["logit"]["random"] == {"eps": None, "status": "never"}
    assert crossing["logit"]["gradient"] == {"eps": None, "status": "never"}
    # the probability is not linear: the softmax bends within the grid
    assert crossing["probability"]["gradient"]["status"] == "crossed"
    assert list(table.columns) == tables.TAYLOR_COLUMNS
    assert len(table) == 2 * 2 * len(eps)


@pytest.mark.parametrize("classes", [1, 3])
def test_probability_gradient_is_the_chain_rule_of_the_logit_jacobian(classes):
    # target_weights . Jacobian = d p_predicted / dx from core.gradients' own probability output
    import keras

    rng = np.random.default_rng(3)
    x_in = keras.Input((6,))
    model = keras.Model(x_in, keras.layers.Dense(classes)(
        keras.layers.Dense(8, activation="tanh")(x_in)))
    f = model_fn(model)
    x = rng.normal(size=(10, 6)).astype(np.float32)
    jac, z = gradient(f, x, "logit", "all")
    cls, sign = compute.predicted_side(z)
    w = compute.target_weights(z, cls, sign)
    mine = np.einsum("nk,nkd->nd", w["probability"], jac)
    direct, p = gradient(f, x, "probability", cls)
    if classes == 1:  # the predicted class's probability: p or 1 - p
        direct = sign[:, None] * direct
    np.testing.assert_allclose(mine, direct, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(np.einsum("nk,nkd->nd", w["logit"], jac),
                               sign[:, None] * jac[np.arange(10), cls], rtol=1e-6)


def test_complement_stays_accurate_when_the_probability_rounds_to_one():
    z = np.array([[40.0, 0.0, -5.0]])
    scores = compute.class_scores(z, np.array([0]), np.array([1.0]))
    assert scores["complement"][0] == pytest.approx(np.exp(-40) + np.exp(-45), rel=1e-12)
    binary = compute.class_scores(np.array([[-50.0]]), np.array([0]), np.array([-1.0]))
    assert binary["logit"][0] == 50.0
    assert binary["complement"][0] == pytest.approx(np.exp(-50), rel=1e-12)


def test_eps_at_threshold_interpolates_in_log_log():
    # log10 error from -2 to 0 over log10 eps from 0 to 2: 0.1 is reached at eps = 10
    value, status = compute.eps_at_threshold([1, 100], [0.01, 1.0], 0.1)
    assert status == "crossed" and value == pytest.approx(10.0)
    assert compute.eps_at_threshold([1, 10], [0.01, 0.05], 0.1)[1] == "never"
    assert compute.eps_at_threshold([1, 10], [0.2, 0.5], 0.1)[1] == "below_grid"
    # float-noise dip and rise: the first upward crossing counts; NaN medians are skipped
    value, status = compute.eps_at_threshold([1, 10, 100, 1000], [0.05, np.nan, 0.5, 0.02], 0.1)
    assert status == "crossed" and 1 < value < 100


# ----------------------------------------------------------------------------- MNIST attacks

def test_fgsm_on_logistic_regression_matches_the_closed_form():
    # loss = -log p_y, d loss / dx = sum_k p_k w_k - w_y: x' = clip(x - eps sign(w_y - W p))
    rng = np.random.default_rng(4)
    d, k = 12, 4
    weights, bias = rng.normal(size=(d, k)), rng.normal(size=k)
    model = logreg(weights, bias)
    x = rng.uniform(0, 1, size=(6, d)).astype(np.float32)
    labels = rng.integers(0, k, size=6)
    p = softmax(x.astype(np.float64) @ weights.astype(np.float32) + bias.astype(np.float32))
    direction = weights.T[labels] - p @ weights.T  # w_y - sum_k p_k w_k, per digit
    assert np.abs(direction).min() > 1e-3  # no pixel whose sign float noise could flip
    eps = 0.1
    expected = np.clip(x - np.float32(eps) * np.sign(direction).astype(np.float32), 0, 1)
    got = compute.fgsm(model_fn(model), x, labels, eps, batch_size=4)
    np.testing.assert_array_equal(got, expected)
    # one PGD step of size eps is FGSM; more steps stay in the eps ball and in [0, 1]
    one = compute.pgd(model_fn(model), x, labels, eps, steps=1, step_size=eps, batch_size=4)
    np.testing.assert_array_equal(one, expected)
    more = compute.pgd(model_fn(model), x, labels, eps, steps=5, step_size=0.04, batch_size=4)
    assert np.abs(more - x).max() <= eps + 1e-7 and more.min() >= 0 and more.max() <= 1


def test_robustness_curves_start_at_the_clean_accuracy():
    rng = np.random.default_rng(5)
    model = logreg(rng.normal(size=(10, 3)), np.zeros(3))
    f = model_fn(model)
    x = rng.uniform(0, 1, size=(40, 10)).astype(np.float32)
    labels = f(x).numpy().argmax(axis=1)  # all correct when clean
    cfg = {"eps": [0.0, 0.2, 1.0], "random_seed": 0, "pgd": {"steps": 3, "relative_step": 0.5}}
    curves = compute.robustness_curves(f, x, labels, cfg, batch_size=16)
    assert list(curves) == list(compute.ATTACKS)
    for attack in compute.ATTACKS:
        assert curves[attack][0] == 1.0
    assert curves["pgd"][-1] <= curves["fgsm"][-1] < curves["random_sign"][-1]
    table = tables.robustness_table({"mnist_logreg": curves}, cfg["eps"], len(x))
    summary = tables.robustness_summary(table, {**cfg, "report_eps": 0.2})
    assert summary["clean_accuracy"] == {"mnist_logreg": 1.0}
    assert set(summary["accuracy_at_report_eps"]["mnist_logreg"]) == set(compute.ATTACKS)


# ----------------------------------------------------------------------------- word searches

def linear_bow(weights):
    """z = w . x (no bias) on a binary bag of words."""
    import keras

    x_in = keras.Input((len(weights),))
    model = keras.Model(x_in, keras.layers.Dense(1, use_bias=False)(x_in))
    model.set_weights([np.asarray(weights, np.float32)[:, None]])
    return model


def test_word_flips_greedy_takes_the_largest_first_order_effect_first():
    # ids 0..3 are reserved (never flipped, though adding them would win at once)
    w = [-10, -10, -10, -10, 3, 1, -2, -0.5]
    f = model_fn(linear_bow(w))
    eligible = np.arange(8) > 3
    x = np.array([[0, 0, 0, 0, 1, 1, 0, 0],    # z = 4: remove 4 (-3), then add 6 (-2): z = -1
                  [0, 0, 0, 0, 0, 0, 1, 0]],   # z = -2: add 4 (+3): z = 1
                 np.float32)
    need, chosen = compute.word_flips(f, x, eligible, budget=5, strategy="gradient",
                                      batch_size=2)
    assert need.tolist() == [2, 1]
    assert chosen.tolist() == [[4, 6, -1, -1, -1], [4, -1, -1, -1, -1]]
    need, _ = compute.word_flips(f, x, eligible, budget=1, strategy="gradient", batch_size=2)
    assert need.tolist() == [2, 1]  # 2 = budget + 1: not changed within one flip
    need, chosen = compute.word_flips(f, x, eligible, budget=4, strategy="random",
                                      batch_size=2, seed=0)
    assert need[0] >= 2 and need[1] >= 1  # never fewer flips than the optimum
    assert set(chosen[chosen >= 0].tolist()) <= {4, 5, 6, 7}
    summary = tables.search_summary({"gradient": np.array([2, 1]), "random": np.array([5, 5])},
                                    budget=4, report=[1, 2])
    assert summary["gradient"]["median"] == 1.5
    assert summary["gradient"]["share_within"] == {"1": 0.5, "2": 1.0}
    assert summary["random"]["median"] is None and summary["random"]["quartiles"] == [None] * 3
    assert summary["random"]["share_within_budget"] == 0.0


def linear_embedding_model(embeddings: np.ndarray, head: np.ndarray):
    """ids -> Embedding (V, D) -> Flatten -> Dense(1): z = sum_i head_i . E[ids_i]."""
    import keras

    length, dim = head.shape
    ids = keras.Input((length,), dtype="int32")
    e = keras.layers.Embedding(len(embeddings), dim)(ids)
    z = keras.layers.Dense(1, use_bias=False)(keras.layers.Flatten()(e))
    model = keras.Model(ids, z)
    model.set_weights([embeddings.astype(np.float32), head.reshape(-1, 1).astype(np.float32)])
    return model


def test_hotflip_picks_the_best_substitution_of_a_linear_model():
    # linear in the embeddings: the first-order effect is the actual change, so the greedy
    # choice must be the brute-force best (column, word) over the editable columns
    rng = np.random.default_rng(6)
    vocab, length, dim = 9, 4, 3
    emb, head = rng.normal(size=(vocab, dim)), rng.normal(size=(length, dim))
    model = linear_embedding_model(emb, head)
    ids = np.array([[0, 5, 6, 7], [0, 4, 8, 5]], np.int32)
    editable = ids > 0  # column 0: padding
    eligible = np.arange(vocab) > 3
    z = (emb.astype(np.float32)[ids] * head.astype(np.float32)).sum(axis=(1, 2))
    side = np.where(z > 0, 1.0, -1.0)
    grads = side[:, None, None] * np.broadcast_to(head, (2, length, dim))
    cols, words, best = compute.best_substitutions(grads, ids, emb, editable, eligible)
    for r in range(2):
        brute = {(c, w): side[r] * head[c] @ (emb[w] - emb[ids[r, c]])
                 for c in range(length) if editable[r, c]
                 for w in range(vocab) if eligible[w] and w != ids[r, c]}
        c, w = min(brute, key=brute.get)
        assert (cols[r], words[r]) == (c, w)
        assert best[r] == pytest.approx(brute[(c, w)], rel=1e-5)
    need, subs = compute.word_substitutions(model, ids, editable, eligible, budget=3,
                                            strategy="gradient", batch_size=2)
    assert (subs[0][0][0], subs[0][0][2]) == (cols[0], words[0])
    for r in range(2):
        changed = ids[r].copy()
        for col, old, new in subs[r][:need[r]] if need[r] <= 3 else []:
            assert changed[col] == old and editable[r, col]
            changed[col] = new
        if need[r] <= 3:  # the applied substitutions really change the predicted class
            z_new = (emb[changed] * head).sum()
            assert np.sign(z_new) != side[r]
    need, subs = compute.word_substitutions(model, ids, editable, eligible, budget=2,
                                            strategy="random", batch_size=2, seed=1)
    assert all(col > 0 and 4 <= new < vocab for s in subs for col, _, new in s)
    assert compute.success_within(np.array([1, 2, 4]), [1, 2, 3]).tolist() == [1 / 3, 2 / 3,
                                                                              2 / 3]


def test_examples_alternate_between_labels():
    need = np.array([1, 9, 2, 1, 1, 3])
    labels = np.array([1, 1, 1, 0, 1, 0])
    assert compute.pick_examples(need, labels, budget=5, count=4).tolist() == [0, 3, 2, 5]
    assert compute.pick_examples(need, labels, budget=5, count=10).tolist() == [0, 3, 2, 5, 4]
    assert compute.pick_examples(need, labels, budget=0, count=3).tolist() == []


def test_excerpt_marks_the_changes():
    words = "a b c d e f g h".split()
    assert tables.excerpt(words, {1: "X", 6: "Y"}, 1) == "a ~~b~~ **X** c … f ~~g~~ **Y** h"


# ----------------------------------------------------------------------------- across seeds

def seed_files(tmp_path, seed, eps_mlp, fgsm_acc, median):
    taylor = {"models": {"mnist_mlp": {"eps_at_threshold": {
        "logit": {"random": {"eps": eps_mlp, "status": "crossed"},
                  "gradient": {"eps": None, "status": "never"}}}}}}
    robustness = {"accuracy_at_report_eps": {"mnist_mlp": {"fgsm": fgsm_acc, "pgd": 0.1}}}
    flips = {s: {"median": m, "share_within_budget": 0.5} for s, m in
             (("gradient", median), ("random", None))}
    subs = {s: {"share_within": {"1": 0.5, "5": 0.9}} for s in compute.STRATEGIES}
    paths = {}
    for name, obj in (("taylor", taylor), ("robustness", robustness), ("flips", flips),
                      ("substitutions", subs)):
        paths[name] = tmp_path / f"{name}{seed}.json"
        paths[name].write_text(json.dumps(obj))
    return paths


def test_sensitivity_seeds_summarises_every_quantity(tmp_path):
    per_seed = [seed_files(tmp_path, s, e, a, m) for s, e, a, m in
                ((0, 0.5, 0.4, 3.0), (1, 0.7, 0.2, 4.0), (2, 0.6, 0.3, 2.0))]
    inputs = {k: [str(p[k]) for p in per_seed]
              for k in ("taylor", "robustness", "flips", "substitutions")}
    outputs = {"csv": tmp_path / "seeds.csv", "md": tmp_path / "seeds.md"}
    cfg = {"seeds": [0, 1, 2], "attribution": {"taylor": {"threshold": 0.1},
                                               "fgsm": {"report_eps": 0.1},
                                               "word_flips": {"max_flips": 50}}}
    metrics = stages.sensitivity_seeds(inputs, outputs, {"cfg": cfg})
    table = pd.read_csv(outputs["csv"], keep_default_na=False, na_values=[""])
    summary = table[table["seed"].isna()].set_index(["quantity", "model", "variant"])
    eps = summary.loc[("taylor_eps_at_threshold", "mnist_mlp", "logit, random")]
    assert eps["n"] == 3 and eps["mean"] == pytest.approx(0.6) and eps["sd"] == pytest.approx(0.1)
    assert np.isnan(eps["ci_low"])  # no interval from 3 seeds
    assert summary.loc[("taylor_eps_at_threshold", "mnist_mlp", "logit, gradient")]["n"] == 0
    never = table[(table["variant"] == "logit, gradient") & table["seed"].notna()]
    assert never["note"].tolist() == ["never"] * 3
    assert summary.loc[("bow_median_flips", "imdb_bow_mlp", "gradient")]["mean"] == 3.0
    assert summary.loc[("cnn_success_within", "imdb_cnn", "gradient, k = 5")]["mean"] == 0.9
    markdown = outputs["md"].read_text()
    assert "never" in markdown and "beyond budget" in markdown and "seed 2" in markdown
    assert metrics["sensitivity_seeds_n"] == 3
    assert all(" " not in k and "," not in k and "=" not in k for k in metrics)


def test_figures_draw_from_the_tidy_tables(tmp_path):
    eps = [0.01, 0.1, 1.0]
    rows = [{"model": m, "output": o, "direction": d, "eps": e, "n": 4, "q25": e / 2,
             "median": e, "q75": 2 * e} for m in ("mnist_mlp", "imdb_cnn")
            for o in compute.OUTPUTS for d in compute.DIRECTIONS for e in eps]
    acc = [{"model": m, "attack": a, "eps": e, "accuracy": 1 - e, "n": 10}
           for m in ("mnist_mlp", "mnist_logreg") for a in compute.ATTACKS for e in (0, 0.1)]
    paths = {}
    for seed in (0, 1):
        paths[seed] = (tmp_path / f"t{seed}.csv", tmp_path / f"r{seed}.csv")
        pd.DataFrame(rows).to_csv(paths[seed][0], index=False)
        pd.DataFrame(acc).to_csv(paths[seed][1], index=False)
    figure = {"dpi": 50, "font_size": 8, "line_width": 1.5, "marker_size": 3, "alpha": 0.2,
              "style": "whitegrid", "colors": {k: "#000000" for k in
                                                ("random", "gradient", *compute.ATTACKS)},
              "taylor_validity_figure": {"width_in": 6, "height_in": 4},
              "fgsm_robustness_figure": {"width_in": 6, "height_in": 3}}
    outputs = {"png": tmp_path / "t.png", "pdf": tmp_path / "t.pdf"}
    stages.taylor_validity_figure({"tables": [str(p[0]) for p in paths.values()]}, outputs,
                                  {"cfg": {"seeds": [0, 1], "threshold": 0.1, "figure": figure}})
    assert outputs["png"].stat().st_size > 0 and outputs["pdf"].stat().st_size > 0
    outputs = {"png": tmp_path / "r.png", "pdf": tmp_path / "r.pdf"}
    stages.fgsm_robustness_figure({"tables": [str(p[1]) for p in paths.values()]}, outputs,
                                  {"cfg": {"seeds": [0, 1], "figure": figure}})
    assert outputs["png"].stat().st_size > 0
