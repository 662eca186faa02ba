"""Text faithfulness (issue 12): every text method and the ERASER metrics on a hand-built
embedding model whose word effects are known in closed form, LIME against the lime package's
own text explainer, and the stages on tiny synthetic per-seed files."""

import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from inputgrad.core.stats import sigmoid
from inputgrad.infra.errors import ConfigError
from inputgrad.sections.text_faithfulness import compute, stages, tables

# The hand-built model: ids (n, 6) -> embedding of dimension 1 (value VALUES[id]) -> logit =
# BIAS + sum_j WEIGHTS[j] * VALUES[ids_j]. Column 0 is padding, column 1 the start marker,
# columns 2-5 the words. Id 2 is the OOV id (value 0); padding (id 0) has value -0.2.
VALUES = np.array([-0.2, 0.4, 0.0, 0.0, 3.0, -0.5, 0.3, 1.0], np.float32)
WEIGHTS = np.array([1.0, 1.0, 0.5, 1.0, 2.0, 0.25], np.float32)
BIAS = 0.0
OOV = 2
POSITIVE = [0, 1, 4, 5, 6, 7]  # logit 1.5 - 0.5 + 0.6 + 0.25 - 0.2 + 0.4 = 2.05 -> y = 1
NEGATIVE = [0, 1, 5, 5, 6, 5]  # logit -0.25 - 0.5 + 0.6 - 0.125 + 0.2 = -0.075 -> y = 0
IDS = np.array([POSITIVE, NEGATIVE], np.int32)
WORDS = np.zeros(IDS.shape, bool)
WORDS[:, 2:] = True


def sum_model():
    import keras
    from keras import layers

    ids = keras.Input((6,), dtype="int32")
    emb = layers.Embedding(len(VALUES), 1, name="embedding")(ids)
    head = keras.Sequential([keras.Input((6, 1)), layers.Flatten(), layers.Dense(1)],
                            name="head")
    model = keras.Model(ids, head(emb))
    model.get_layer("embedding").set_weights([VALUES[:, None]])
    head.layers[-1].set_weights([WEIGHTS[:, None], np.array([BIAS], np.float32)])
    return model


@pytest.fixture(scope="module")
def model():
    return sum_model()


def logit(ids) -> float:
    return float(BIAS + sum(WEIGHTS[j] * VALUES[t] for j, t in enumerate(ids)))


def p_class(ids, y: int) -> float:
    z = logit(ids)
    return 1 / (1 + math.exp(-z)) if y == 1 else 1 / (1 + math.exp(z))


def replaced(ids, cols, fill):
    out = list(ids)
    for c in cols:
        out[c] = fill
    return out


# ----------------------------------------------------------------------------- methods

def test_hand_model_logits(model):
    from inputgrad.core.models import model_fn

    np.testing.assert_allclose(compute.logits_of(model_fn(model), IDS),
                               [logit(POSITIVE), logit(NEGATIVE)], rtol=1e-6)
    assert compute.predicted_classes([2.05, -0.075]).tolist() == [1, 0]


def test_gradient_norm_is_the_position_weight_times_p_one_minus_p(model):
    # d p / d e_j = p (1 - p) a_j: the norm ranks the words by |a_j| (cols 4, 3, 2, 5)
    scores = compute.word_scores("gradient", model, IDS, WORDS)
    for i, ids in enumerate(IDS):
        p = p_class(ids, 1)
        np.testing.assert_allclose(scores[i, 2:], p * (1 - p) * WEIGHTS[2:], rtol=1e-5)
    assert np.isnan(scores[:, :2]).all()  # padding and start marker are not words
    assert np.argsort(-scores[0, 2:]).tolist() == [2, 1, 0, 3]


def test_gradient_x_input_is_signed_towards_the_predicted_class(model):
    scores = compute.word_scores("gradient_x_input", model, IDS, WORDS)
    for i, (ids, sign) in enumerate(zip(IDS, (1, -1), strict=True)):
        p = p_class(ids, 1)
        expected = sign * p * (1 - p) * WEIGHTS[2:] * VALUES[ids[2:]]
        np.testing.assert_allclose(scores[i, 2:], expected, rtol=1e-5)
    # positive review: a_j v_j = 1.5, -0.5, 0.6, 0.25 -> cols 2, 4, 5, 3
    assert np.argsort(-scores[0, 2:]).tolist() == [0, 2, 3, 1]
    # negative review, towards y = 0: -a_j v_j = 0.25, 0.5, -0.6, 0.125 -> cols 3, 2, 5, 4
    assert np.argsort(-scores[1, 2:]).tolist() == [1, 0, 3, 2]


def test_integrated_gradients_from_the_padding_baseline(model):
    # logit target: exact for a linear logit, a_j (v_j - v_pad), signed towards y; the
    # completeness gap counts the start marker's share too and is ~0
    scores, info = compute.word_scores_info("integrated_gradients", model, IDS, WORDS,
                                            output="logit", steps=8)
    for i, (ids, sign) in enumerate(zip(IDS, (1, -1), strict=True)):
        np.testing.assert_allclose(scores[i, 2:], sign * WEIGHTS[2:] * (VALUES[ids[2:]]
                                                                       - VALUES[0]), rtol=1e-5)
        delta = logit(ids) - logit([0] * 6)
        assert info["completeness_delta"][i] == pytest.approx(sign * delta, rel=1e-5)
    np.testing.assert_allclose(info["completeness_gap"], 0.0, atol=1e-5)
    # probability target: sums to p(y|x) - p(y|baseline) up to the Riemann error
    _, info = compute.word_scores_info("integrated_gradients", model, IDS, WORDS, steps=64)
    assert np.abs(info["completeness_gap"]).max() < 1e-3


def test_smoothgrad_of_a_linear_logit_keeps_the_gradient_ranking(model):
    # every noisy copy has gradient p'(1 - p') a_j: the mean keeps the ratios of the a_j
    scores = compute.word_scores("smoothgrad", model, IDS, WORDS, samples=8, noise=0.1, seed=0)
    ratio = scores[:, 2:] / WEIGHTS[2:]
    np.testing.assert_allclose(ratio, ratio[:, :1].repeat(4, axis=1), rtol=1e-5)


def test_occlusion_is_the_exact_single_word_effect(model):
    scores = compute.word_scores("occlusion", model, IDS, WORDS, oov_char=OOV)
    for i, (ids, y) in enumerate(zip(IDS, (1, 0), strict=True)):
        expected = [p_class(ids, y) - p_class(replaced(ids, [c], OOV), y) for c in range(2, 6)]
        np.testing.assert_allclose(scores[i, 2:], expected, rtol=1e-5, atol=1e-7)
    assert np.argsort(-scores[0, 2:]).tolist() == [0, 2, 3, 1]


def test_lime_ranks_the_decisive_word_first(model):
    scores, info = compute.word_scores_info("lime", model, IDS[:1], WORDS[:1], oov_char=OOV,
                                            samples=200, seed=0)
    assert int(np.nanargmax(scores[0])) == 2  # "great", a_j v_j = 1.5 of the logit 2.05
    assert np.isnan(scores[0, :2]).all()
    assert 0.5 < info["lime_r2"][0] <= 1.0


def test_lime_scores_equal_the_lime_text_explainer(model):
    """Same masks, kernel and Ridge fit as LimeTextExplainer.explain_instance on a string whose
    tokens are the word ids (bow=False, mask_string -> the OOV id)."""
    from lime.lime_text import LimeTextExplainer

    from inputgrad.core.models import model_fn

    f, ids = model_fn(model), IDS[0]

    def classifier(texts):
        rows = np.repeat(IDS[:1], len(texts), axis=0)
        for r, text in enumerate(texts):
            rows[r, 2:] = [OOV if t == "UNKWORDZ" else int(t[1:]) for t in re.findall(r"\w+",
                                                                                       text)]
        p = sigmoid(compute.logits_of(f, rows))
        return np.column_stack([1 - p, p])

    explainer = LimeTextExplainer(bow=False, feature_selection="none", random_state=3)
    exp = explainer.explain_instance(" ".join(f"w{t}" for t in ids[2:]), classifier,
                                     labels=(1,), num_features=4, num_samples=60)
    theirs = dict(exp.as_map()[1])
    ours = compute.word_scores("lime", model, IDS[:1], WORDS[:1], oov_char=OOV, samples=60,
                               seed=3)
    np.testing.assert_allclose(ours[0, 2:], [theirs[j] for j in range(4)], rtol=1e-7,
                               atol=1e-12)


def test_random_scores_are_seeded(model):
    a = compute.word_scores("random", model, IDS, WORDS, seed=5)
    np.testing.assert_array_equal(a, compute.word_scores("random", model, IDS, WORDS, seed=5))
    assert not np.array_equal(a, compute.word_scores("random", model, IDS, WORDS, seed=6))
    with pytest.raises(ConfigError, match="unknown attribution method"):
        compute.word_scores("saliency", model, IDS, WORDS)


# ----------------------------------------------------------------------------- ERASER metrics

def test_top_counts_and_ranks():
    assert compute.top_counts([4, 200, 7], 1).tolist() == [1, 2, 1]  # ceil, at least one word
    assert compute.top_counts([4, 200], 50).tolist() == [2, 100]
    assert compute.top_counts([4], 0).tolist() == [0]
    scores = np.array([[np.nan, 5.0, 1.0, 5.0, 3.0]])
    words = np.array([[False, True, True, True, True]])
    # ties: the left column first; the non-word column ranks after every word
    assert compute.word_ranks(scores, words).tolist() == [[5, 0, 3, 1, 2]]


def test_aopc_on_the_hand_model_matches_hand_values(model):
    """Positive review, occlusion order cols 2, 4, 5, 3; 4 words: 25 % = 1 word, 50 % = 2."""
    from inputgrad.core.models import model_fn

    percents, bins = [0, 25, 50, 100], [25, 50]
    scores = compute.word_scores("occlusion", model, IDS[:1], WORDS[:1], oov_char=OOV)
    for fill in (OOV, compute.PAD_ID):
        faith = compute.faithfulness(model_fn(model), IDS[:1], WORDS[:1], {"occ": scores},
                                     [1.0], percents, bins, {"r": compute.id_remover(fill)})
        r = faith[("occ", "r")]
        ids, p0 = POSITIVE, p_class(POSITIVE, 1)
        deleted = [p_class(replaced(ids, cols, fill), 1) for cols in ([2], [2, 4])]
        kept = [p_class(replaced(ids, [c for c in range(2, 6) if c not in cols], fill), 1)
                for cols in ([2], [2, 4])]
        np.testing.assert_allclose(r["deletion"][0], [p0, *deleted,
                                                      p_class(replaced(ids, range(2, 6), fill),
                                                              1)], rtol=1e-6)
        np.testing.assert_allclose(r["insertion"][0], [p_class(replaced(ids, range(2, 6), fill),
                                                               1), *kept, p0], rtol=1e-6)
        assert r["comprehensiveness_aopc"][0] == pytest.approx(np.mean([p0 - d for d in deleted]),
                                                               rel=1e-6)
        assert r["sufficiency_aopc"][0] == pytest.approx(np.mean([p0 - k for k in kept]),
                                                         rel=1e-6)


def test_aopc_is_the_mean_drop_over_the_bins():
    curve = np.array([[0.9, 0.8, 0.5, 0.1], [0.6, 0.6, 0.6, 0.6]])
    np.testing.assert_allclose(compute.aopc([0.9, 0.6], curve, [0, 10, 50, 100], [10, 50]),
                               [0.25, 0.0])
    # sufficiency: the insertion curve starts at the empty review, p(y|x) comes from outside
    np.testing.assert_allclose(compute.aopc([0.9], [[0.3, 0.7, 1.0, 0.9]], [0, 10, 50, 100],
                                            [10, 50]), [0.05])


def test_faithfulness_prefers_the_exact_ranking_to_its_reverse(model):
    from inputgrad.core.models import model_fn

    occ = compute.word_scores("occlusion", model, IDS, WORDS, oov_char=OOV)
    y = compute.predicted_classes(compute.logits_of(model_fn(model), IDS))
    faith = compute.faithfulness(model_fn(model), IDS, WORDS, {"exact": occ, "reverse": -occ},
                                 compute.direction_of(y), [0, 25, 50, 100], [25, 50],
                                 {"oov": compute.id_remover(OOV)})
    exact, reverse = faith[("exact", "oov")], faith[("reverse", "oov")]
    assert (exact["comprehensiveness_aopc"] > reverse["comprehensiveness_aopc"]).all()
    assert (exact["sufficiency_aopc"] < reverse["sufficiency_aopc"]).all()


def test_bag_of_words_scores_and_removal():
    """Logistic model p = sigmoid(w . x + b): gradient x input = p(1-p) w_j x_j; x·ḡ and the
    coefficients give the same ranking as w; occlusion drops each word exactly."""
    import keras

    from inputgrad.core.models import model_fn

    w = np.array([0.0, 2.0, -1.0, 0.5, 1.5], np.float32)
    x_in = keras.Input((5,))
    net = keras.Model(x_in, keras.layers.Dense(1)(x_in))
    net.set_weights([w[:, None], np.array([-0.3], np.float32)])
    f = model_fn(net)
    x = np.array([[0, 1, 1, 1, 0], [0, 0, 1, 1, 1]], np.float32)
    d = compute.direction_of(compute.predicted_classes(compute.logits_of(f, x)))
    assert d.tolist() == [1.0, 1.0]  # logits 1.2, 0.7
    p = sigmoid(x @ w - 0.3)
    classes = compute.predicted_classes(compute.logits_of(f, x))
    gxi = compute.bow_scores("gradient_x_input", net, x, classes)
    np.testing.assert_allclose(gxi[x > 0], (p[:, None] * (1 - p[:, None]) * w * x)[x > 0],
                               rtol=1e-5)
    assert np.isnan(gxi[x == 0]).all()
    for method in ("gbar", "logistic_regression"):
        np.testing.assert_allclose(compute.bow_scores(method, net, x, classes, weights=w)[x > 0],
                                   (w * x)[x > 0])
    occ = compute.bow_scores("occlusion", net, x, classes)
    np.testing.assert_allclose(occ[0, 1], p[0] - sigmoid(1.2 - 2.0), rtol=1e-6)
    np.testing.assert_array_equal(compute.bow_remove(x, x > 0), 0 * x)


def test_agreement_and_sanity_hand_cases():
    words = np.array([[True, True, True, True]])
    a = np.array([[4.0, 3.0, 2.0, 1.0]])
    pairs = compute.agreement({"a": a, "b": -a, "c": a[:, ::-1] * -1}, words, top_percent=50)
    assert pairs[("a", "b")]["spearman"][0] == pytest.approx(-1.0)
    assert pairs[("a", "b")]["spearman_abs"][0] == pytest.approx(1.0)
    assert pairs[("a", "b")]["top_overlap"][0] == 0.0  # {0, 1} vs {2, 3}
    # c = [-1, -2, -3, -4]: the same order as a, the reverse order of sizes
    assert pairs[("a", "c")]["spearman"][0] == pytest.approx(1.0)
    assert pairs[("a", "c")]["spearman_abs"][0] == pytest.approx(-1.0)
    assert pairs[("a", "c")]["top_overlap"][0] == 1.0
    result = compute.sanity({"a": a}, {"a": a * 2}, words)
    assert result["a"]["spearman"][0] == pytest.approx(1.0)


def test_select_reviews_and_percent_checks():
    pick = compute.select_reviews([3, 20, 15, 9, 40], n=2, min_words=10, seed=0)
    assert len(pick) == 2 and set(pick) <= {1, 2, 4} and list(pick) == sorted(pick)
    with pytest.raises(ConfigError, match="min_words"):
        compute.select_reviews([3, 4], n=2, min_words=10, seed=0)
    compute.check_percents([0, 1, 50, 100], [1, 50])
    with pytest.raises(ConfigError, match="aopc_percents"):
        compute.check_percents([0, 1, 50, 100], [5])
    with pytest.raises(ConfigError, match="percents"):
        compute.check_percents([0, 50], [50])


# ----------------------------------------------------------------------------- stages

# the methods of config/hydra/attribution/text_faithfulness.yaml (CNN: as labelled in tables)
CNN_METHODS = ["gradient", "gradient_x_input", "integrated_gradients", "smoothgrad", "occlusion",
               "lime", "random"]
CNN_LABELS = ["gradient_norm", *CNN_METHODS[1:]]
BOW_METHODS = ["gradient", "gradient_x_input", "gbar", "logistic_regression", "occlusion",
               "random"]
ATTR = {"output": "probability", "batch_size": 16,
        "sample": {"seed": 0, "min_words": 2, "cnn_reviews": 8, "bow_reviews": 8},
        "percents": [0, 25, 50, 100], "aopc_percents": [25, 50], "removals": ["oov", "padding"],
        "methods": {"cnn": CNN_METHODS, "bow": BOW_METHODS},
        "method_options": {"integrated_gradients": {"steps": 4},
                           "smoothgrad": {"samples": 2, "noise": 0.1, "seed": 0},
                           "lime": {"samples": 30, "kernel_width": 25, "seed": 0},
                           "random": {"seed": 0}},
        "agreement": {"top_percent": 50, "headline": ["lime", "gradient_norm"]},
        "sanity": {"reviews": 3, "reinit_seed": 0}, "bow_gbar": "test_probability",
        "logistic_regression": {"c": 1.0, "max_iter": 100}}
DATA = {"imdb": {"num_words": 8, "start_char": 1, "oov_char": OOV, "index_from": 3}}
STYLE = {"width_in": 9, "height_in": 5, "dpi": 40, "font_size": 7, "style": "whitegrid",
         "line_width": 1, "marker_size": 4, "alpha": 0.5}


def write_reviews(path, n: int, rng) -> None:
    """n reviews of 4 word ids in 2..7 (id 2: out of vocabulary), in the prepared layout."""
    ids = rng.integers(2, 8, size=(n, 4)).astype(np.int32)
    np.savez(path, word_ids=ids.ravel(), token_idx=np.arange(4 * n), offsets=np.arange(0, 4 * n
                                                                                         + 1, 4),
             review_id=np.arange(n), rating=np.full(n, 7), label=(ids[:, 0] > 4).astype(np.int8))


@pytest.fixture(scope="module")
def seed_files(tmp_path_factory, model):
    import keras

    base = tmp_path_factory.mktemp("text")
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        write_reviews(base / f"{split}.npz", 12, rng)
    model.save(base / "cnn.keras")
    x_in = keras.Input((8,))
    bow = keras.Model(x_in, keras.layers.Dense(1)(keras.layers.Dense(4, activation="relu")(x_in)))
    bow.save(base / "bow.keras")
    np.savez(base / "gbar.npz", gbar_test_probability=np.linspace(-1, 1, 8))
    return base


def test_stages_per_seed_across_seeds_and_figure(seed_files):
    base = seed_files
    params = {"cfg": {"attribution": ATTR, "data": DATA}}
    out = {}
    for seed in (0, 1):
        cnn = {k: base / f"cnn{seed}_{k}.csv" for k in ("csv", "curves", "agreement", "sanity")}
        metrics = stages.text_faithfulness({"model": base / "cnn.keras", "test": base /
                                            "test.npz"}, cnn, {**params, "seed": seed})
        assert metrics["text_seconds_per_review_lime"] > 0
        assert metrics["text_ig_completeness_gap_abs"] < 0.05  # 4 steps on a smooth path
        bow = {k: base / f"bow{seed}_{k}.csv" for k in ("csv", "curves", "agreement")}
        stages.bow_faithfulness({"model": base / "bow.keras", "gbar": base / "gbar.npz",
                                 "train": base / "train.npz", "test": base / "test.npz"}, bow,
                                {**params, "seed": seed})
        out[seed] = (cnn, bow)
    summary = pd.read_csv(out[0][0]["csv"])
    aopc = summary[summary["removal"] != "none"]
    assert set(aopc["method"]) == set(CNN_LABELS)
    assert set(aopc["removal"]) == {"oov", "padding"}
    assert (aopc.loc[aopc["method"] == "random", "diff_random"] == 0).all()
    assert set(summary.loc[summary["removal"] == "none", "metric"]) == {
        "completeness_gap_abs", "completeness_delta_abs", "lime_r2"}
    sanity = pd.read_csv(out[0][0]["sanity"])
    assert set(sanity["method"]) == set(CNN_LABELS) - {"random"}
    curves = pd.read_csv(out[0][0]["curves"])
    first = curves[(curves["percent"] == 0) & (curves["curve"] == "deletion")]
    assert first["mean_probability"].nunique() == 1  # p(y|x): the same clean reviews
    bow = pd.read_csv(out[0][1]["csv"])
    assert set(bow["method"]) == set(BOW_METHODS) and set(bow["removal"]) == {"absent"}

    seeds_out = {"csv": base / "seeds.csv", "md": base / "seeds.md"}
    metrics = stages.text_faithfulness_seeds(
        {"cnn": [str(out[s][0]["csv"]) for s in (0, 1)],
         "cnn_agreement": [str(out[s][0]["agreement"]) for s in (0, 1)],
         "cnn_sanity": [str(out[s][0]["sanity"]) for s in (0, 1)],
         "bow": [str(out[s][1]["csv"]) for s in (0, 1)],
         "bow_agreement": [str(out[s][1]["agreement"]) for s in (0, 1)]},
        seeds_out, {"cfg": {"seeds": [0, 1], "attribution": ATTR}})
    assert math.isfinite(metrics["text_seeds_agreement_spearman_abs_lime_gradient_norm"])
    table = pd.read_csv(seeds_out["csv"])
    comp = table[(table["quantity"] == "comprehensiveness_aopc") & table["seed"].isna()
                 & (table["model"] == "imdb_cnn") & (table["removal"] == "oov")]
    # same model and reviews in both "seeds": sd 0, the mean is the per-seed value
    assert (comp["sd"] == 0).all() and (comp["n"] == 2).all()
    per_seed = summary[(summary["metric"] == "comprehensiveness_aopc")
                       & (summary["removal"] == "oov")].set_index("method")["mean"]
    np.testing.assert_allclose(comp.set_index("method")["mean"], per_seed.loc[comp["method"]])
    assert "Headline: lime vs gradient norm" in seeds_out["md"].read_text()
    with pytest.raises(Exception, match="seeds"):
        stages.text_faithfulness_seeds({"cnn": [], "cnn_agreement": [], "cnn_sanity": [],
                                        "bow": [], "bow_agreement": []}, seeds_out,
                                       {"cfg": {"seeds": [0], "attribution": ATTR}})

    figure = {"png": base / "fig.png", "pdf": base / "fig.pdf"}
    stages.text_faithfulness_figure({"seeds": seeds_out["csv"],
                                     "cnn_curves": out[0][0]["curves"],
                                     "bow_curves": out[0][1]["curves"]}, figure,
                                    {"cfg": {"figure": STYLE,
                                             "attribution": {"removals": ["oov"]}}})
    assert figure["png"].stat().st_size > 0 and figure["pdf"].stat().st_size > 0
    json.dumps(metrics)  # metrics are plain numbers


def test_seeds_table_ranks_and_summaries():
    """Two seeds, two methods: per-seed ranks (comprehensiveness: high first; sufficiency:
    low first), summary rows with the mean over the seeds and its rank."""
    rows = []
    for seed, (a, b) in ((0, (0.5, 0.1)), (1, (0.3, 0.4))):
        for method, v in (("grad", a), ("occ", b)):
            for metric in compute.METRICS:
                rows.append({"model": "m", "seed": seed, "method": method, "removal": "oov",
                             "metric": metric, "mean": v, "ci_low": v - 0.05,
                             "ci_high": v + 0.05})
    summary = pd.DataFrame(rows)
    table = tables.seeds_table(tables.seed_values([summary], [], []))
    half = table[table["quantity"] == "comprehensiveness_aopc_half_width"]
    assert half["value"].dropna().to_numpy() == pytest.approx([0.05] * 4)
    comp = table[table["quantity"] == "comprehensiveness_aopc"]
    assert comp.loc[comp["seed"] == 0, "rank"].tolist() == [1, 2]  # grad 0.5 > occ 0.1
    assert comp.loc[comp["seed"] == 1, "rank"].tolist() == [2, 1]
    means = comp[comp["seed"].isna()].set_index("method")
    assert means.loc["grad", "mean"] == pytest.approx(0.4)
    assert means.loc["occ", "mean"] == pytest.approx(0.25)
    assert means.loc["grad", "sd"] == pytest.approx(math.sqrt(0.02))
    assert means["rank"].tolist() == [1, 2] and means["n"].tolist() == [2, 2]
    suff = table[(table["quantity"] == "sufficiency_aopc") & table["seed"].isna()]
    assert suff.set_index("method")["rank"].to_dict() == {"grad": 2, "occ": 1}
