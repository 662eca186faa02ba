"""Frozen copy of the per-word scorers of sections/text_faithfulness/compute.py before the
single method registry (commit 8a662d3), for tests/test_methods.py: the registry's calls must
give bit-identical scores. Not used by the package; do not edit."""
# ruff: noqa
from __future__ import annotations

import logging
import time

import numpy as np

from inputgrad.core.stats import seed_summary, sigmoid, spearman
from inputgrad.infra.errors import ConfigError

log = logging.getLogger(__name__)

TEXT_METHODS = ("gradient_norm", "gradient_x_input", "integrated_gradients", "smoothgrad",
                "occlusion", "lime", "random")
BOW_METHODS = ("gradient", "gradient_x_input", "gbar", "logistic_regression", "occlusion",
               "random")
PAD_ID = 0  # keras pad_sequences' padding id
REMOVALS = ("oov", "padding")  # CNN: a removed word becomes the OOV id, or the padding id
BOW_REMOVAL = "absent"  # bag of words: a removed word's column is set to 0
METRICS = ("comprehensiveness_aopc", "sufficiency_aopc")


# ----------------------------------------------------------------------------- targets

def logits_of(f, x, batch_size: int = 256) -> np.ndarray:
    """The single output (logit) of a binary model for the rows of x, batch by batch."""
    x = np.asarray(x)
    parts = [np.asarray(f(x[s:s + batch_size]))[:, 0] for s in range(0, len(x), batch_size)]
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def direction_of(classes) -> np.ndarray:
    """+1 for class 1, -1 for class 0: turns the single output's signed scores towards y."""
    return np.where(np.asarray(classes) == 1, 1.0, -1.0)


def predicted_classes(logits) -> np.ndarray:
    """Class 1 iff logit > 0 (as the imdb sections count accuracy)."""
    return (np.asarray(logits) > 0).astype(np.int8)


def class_probability(f, x, direction, batch_size: int = 256) -> np.ndarray:
    """p(y|x) = sigmoid(direction * logit) per row, float64 (direction: scalar or per row)."""
    return sigmoid(np.asarray(direction, np.float64) * logits_of(f, x, batch_size))


# ----------------------------------------------------------------------------- CNN methods

def word_scores(method: str, model, ids, words, classes=None, output: str = "probability",
                batch_size: int = 256, oov_char: int = 2, **options) -> np.ndarray:
    """(n, maxlen) per-word scores of `method` for the CNN on token ids (NaN off the words).

    classes: per review, the class (0/1) whose probability is explained; None = the class the
    model predicts. output: the registry's target of the gradient methods ("probability", the
    paper's, or "logit"). options: the method's own (integrated_gradients: steps; smoothgrad:
    samples, noise, seed; lime: samples, kernel_width, seed; random: seed).
    Unsigned methods (gradient_norm, smoothgrad) rank by size; the others are signed towards
    the explained class."""
    return word_scores_info(method, model, ids, words, classes, output, batch_size, oov_char,
                            **options)[0]


def word_scores_info(method: str, model, ids, words, classes=None, output: str = "probability",
                     batch_size: int = 256, oov_char: int = 2,
                     **options) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """`word_scores` and the method's per-review diagnostics (integrated_gradients:
    completeness gap and p(y|x) - p(y|baseline); lime: R² of the local fit)."""
    from inputgrad.core.models import model_fn

    if method not in CNN_SCORERS:
        raise ConfigError(f"unknown text method {method!r}; known: {', '.join(TEXT_METHODS)}")
    if model.output_shape[-1] != 1:
        raise ConfigError(f"text methods explain a binary model with one output (a logit); "
                          f"{model.name} has {model.output_shape[-1]}")
    ids = np.asarray(ids, np.int32)
    words = np.asarray(words, bool)
    if classes is None:
        classes = predicted_classes(logits_of(model_fn(model), ids, batch_size))
    scores, info = CNN_SCORERS[method](model, ids, words, direction_of(classes),
                                       output=output, batch_size=batch_size,
                                       oov_char=oov_char, **options)
    return np.where(words, scores, np.nan), info


def _registry(method: str, model, ids, output: str, batch_size: int, **options):
    """The registry's attribution of the single output on the embedding output (n, L, dim)."""
    from inputgrad.core.methods import attribute
    from inputgrad.core.models import split_embedding

    embed, f = split_embedding(model)
    return attribute(method, f, embed(ids), target=0, output=output, batch_size=batch_size,
                     **options)


def _gradient_norm(model, ids, words, direction, output, batch_size, **_):
    grads = _registry("gradient", model, ids, output, batch_size)
    return np.linalg.norm(grads.astype(np.float64), axis=-1), {}


def _gradient_x_input(model, ids, words, direction, output, batch_size, **_):
    att = _registry("gradient_x_input", model, ids, output, batch_size)
    return direction[:, None] * att.sum(axis=-1, dtype=np.float64), {}


def _integrated_gradients(model, ids, words, direction, output, batch_size, steps: int = 32,
                          **_):
    """IG from the all-padding review; the gap is that of all columns (the start marker too)."""
    from inputgrad.core.methods import attribute, completeness_gap
    from inputgrad.core.models import split_embedding

    embed, f = split_embedding(model)
    x = embed(ids)
    baseline = embed(np.zeros((1, ids.shape[1]), np.int32))
    att = attribute("integrated_gradients", f, x, target=0, output=output,
                    batch_size=batch_size, steps=steps, baseline=baseline,
                    internal_batch_size=batch_size)
    gap = completeness_gap(f, x, att, 0, output, baseline, batch_size)
    total = att.reshape(len(x), -1).sum(axis=1, dtype=np.float64)
    return (direction[:, None] * att.sum(axis=-1, dtype=np.float64),
            {"completeness_gap": direction * gap, "completeness_delta": direction * (total - gap)})


def _smoothgrad(model, ids, words, direction, output, batch_size, samples: int = 16,
                noise: float = 0.1, seed: int = 0, **_):
    """Review by review, so sigma = noise x the value range of that review's embedding (the
    definition of Smilkov et al.), whatever else is in the sample."""
    scores = np.empty(ids.shape, np.float64)
    for i in range(len(ids)):
        grads = _registry("smoothgrad", model, ids[i:i + 1], output, batch_size,
                          samples=samples, noise=noise, seed=seed)
        scores[i] = np.linalg.norm(grads[0].astype(np.float64), axis=-1)
    return scores, {}


def _occlusion(model, ids, words, direction, batch_size, oov_char, **_):
    """p(y|x) - p(y|x with word j replaced by the OOV id), every word of every review. A CNN
    of the imdb_cnn shape recomputes only the windows a word touches (`core.cnn_fast`)."""
    from inputgrad.core import cnn_fast
    from inputgrad.core.models import model_fn

    f = model_fn(model)
    p0 = class_probability(f, ids, direction, batch_size)
    parts = cnn_fast.conv_maxpool(model)
    if parts is not None:
        logits = cnn_fast.occlusion_logits(parts, ids, words, oov_char, batch_size)
        return p0[:, None] - sigmoid(direction[:, None] * logits.astype(np.float64)), {}
    return naive_occlusion(f, p0, ids, words, direction, batch_size, oov_char), {}


def naive_occlusion(f, p0, ids, words, direction, batch_size, oov_char) -> np.ndarray:
    """Occlusion for any model: one forward pass of every review with each word replaced."""
    scores = np.full(ids.shape, np.nan)
    for i in range(len(ids)):
        cols = np.flatnonzero(words[i])
        rows = np.repeat(ids[i:i + 1], len(cols), axis=0)
        rows[np.arange(len(cols)), cols] = oov_char
        scores[i, cols] = p0[i] - class_probability(f, rows, direction[i], batch_size)
    return scores


def _lime(model, ids, words, direction, batch_size, oov_char, samples: int = 500,
          kernel_width: float = 25.0, seed: int = 0, **_):
    from inputgrad.core.models import model_fn

    f = model_fn(model)

    def perturbed(i, cols, masks):
        rows = np.repeat(ids[i:i + 1], len(masks), axis=0)
        rows[:, cols] = np.where(masks == 1, ids[i, cols], oov_char)
        return class_probability(f, rows, direction[i], batch_size)

    return lime_scores(words, perturbed, samples, kernel_width, seed)


def lime_scores(words, perturbed, samples: int = 500, kernel_width: float = 25.0,
                seed: int = 0) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """LIME per review: the lime package's `LimeTextExplainer` (bow=False: one feature per word
    position, the unit every other method scores; feature_selection="none": every word gets a
    weight) with its own kernel, sampler and Ridge fit, on the words as binary masks.

    Only the text round trip is left out: `lime_masks` draws exactly the masks its sampler
    draws (same random stream) and `perturbed(i, cols, masks) -> p(y|...)` evaluates them on
    token ids directly, so no tokenizer has to map perturbed strings back to ids (tested
    equal to `explain_instance` on a string). A fresh explainer seeded with `seed` per review:
    a review's weights do not depend on the other reviews in the sample.
    The Ridge fit runs on one BLAS thread: its small solves on two threads next to
    TensorFlow's pool cost 20-50x more (spin-waiting), and nothing else runs meanwhile.
    Returns ((n, d) weights for y, NaN off the words; {"lime_r2": R² of each local fit})."""
    from lime.lime_text import LimeTextExplainer
    from scipy import sparse
    from sklearn.metrics.pairwise import pairwise_distances
    from threadpoolctl import threadpool_limits

    words = np.asarray(words, bool)
    scores = np.full(words.shape, np.nan)
    r2 = np.full(len(words), np.nan)
    for i in range(len(words)):
        cols = np.flatnonzero(words[i])
        if len(cols) == 0:
            continue
        explainer = LimeTextExplainer(kernel_width=kernel_width, bow=False,
                                      feature_selection="none", random_state=seed)
        masks = lime_masks(explainer.random_state, len(cols), samples)
        p = perturbed(i, cols, masks)
        labels = np.column_stack([1.0 - p, p])  # column 1: the explained class y
        distances = pairwise_distances(sparse.csr_matrix(masks), sparse.csr_matrix(masks[:1]),
                                       metric="cosine").ravel() * 100
        with threadpool_limits(1, user_api="blas"):  # see the docstring
            _, weights, r2[i], _ = explainer.base.explain_instance_with_data(
                masks, labels, distances, 1, len(cols), feature_selection="none")
        for j, w in weights:
            scores[i, cols[j]] = w
    return scores, {"lime_r2": r2}


def lime_masks(random_state, d: int, samples: int) -> np.ndarray:
    """LimeTextExplainer's neighbourhood of a d-word text: row 0 all ones, then per sample a
    uniform number 1..d of words removed (0), chosen without replacement; the same calls on
    the same RandomState as its sampler, so the same draws."""
    sizes = random_state.randint(1, d + 1, samples - 1)
    masks = np.ones((samples, d))
    for row, size in enumerate(sizes, start=1):
        masks[row, random_state.choice(d, size, replace=False)] = 0
    return masks


def _random(model, ids, words, direction, seed: int = 0, **_):
    return np.random.default_rng(seed).random(ids.shape), {}


CNN_SCORERS = {"gradient_norm": _gradient_norm, "gradient_x_input": _gradient_x_input,
               "integrated_gradients": _integrated_gradients, "smoothgrad": _smoothgrad,
               "occlusion": _occlusion, "lime": _lime, "random": _random}


def all_word_scores(model, ids, words, methods, options: dict, classes=None,
                    output: str = "probability", batch_size: int = 256, oov_char: int = 2):
    """({method: (n, maxlen) scores}, {method: diagnostics}, {method: seconds})."""
    scores, info, seconds = {}, {}, {}
    for method in methods:
        start = time.perf_counter()
        scores[method], info[method] = word_scores_info(
            method, model, ids, words, classes, output, batch_size, oov_char,
            **options.get(method, {}))
        seconds[method] = time.perf_counter() - start
    log.info("word scores of %d reviews: %s", len(ids),
             ", ".join(f"{m} {s:.2f} s" for m, s in seconds.items()))
    return scores, info, seconds


# ----------------------------------------------------------------------------- bag of words

def fit_logistic_regression(x, y, c: float, max_iter: int, seed: int) -> np.ndarray:
    """Coefficients (V,) of an L2 logistic regression of the labels on the binary features
    (sparse lbfgs; `seed` is sklearn's random_state)."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    fit = LogisticRegression(C=c, max_iter=max_iter, random_state=seed)
    fit.fit(sparse.csr_matrix(x), np.asarray(y).astype(int))
    return fit.coef_[0].astype(np.float64)


def bow_scores(method: str, f, x, direction, gbar=None, coef=None, output: str = "probability",
               batch_size: int = 256, seed: int = 0) -> np.ndarray:
    """(n, V) scores of the present words (NaN where x = 0) towards each review's y."""
    from inputgrad.core.methods import attribute

    x = np.asarray(x, np.float32)
    d = np.asarray(direction, np.float64)[:, None]
    if method in ("gradient", "gradient_x_input"):
        att = attribute(method, f, x, target=0, output=output, batch_size=batch_size)
        scores = np.abs(att) if method == "gradient" else d * att
    elif method == "gbar":
        scores = d * x * np.asarray(gbar, np.float64)
    elif method == "logistic_regression":
        scores = d * x * np.asarray(coef, np.float64)
    elif method == "occlusion":
        scores = _bow_occlusion(f, x, d[:, 0], batch_size)
    elif method == "random":
        scores = np.random.default_rng(seed).random(x.shape)
    else:
        raise ConfigError(f"unknown bag-of-words method {method!r}; known: "
                          f"{', '.join(BOW_METHODS)}")
    return np.where(x > 0, scores, np.nan)


def _bow_occlusion(f, x, direction, batch_size: int) -> np.ndarray:
    p0 = class_probability(f, x, direction, batch_size)
    scores = np.full(x.shape, np.nan)
    for i in range(len(x)):
        cols = np.flatnonzero(x[i] > 0)
        rows = np.repeat(x[i:i + 1], len(cols), axis=0)
        rows[np.arange(len(cols)), cols] = 0.0
        scores[i, cols] = p0[i] - class_probability(f, rows, direction[i], batch_size)
    return scores


