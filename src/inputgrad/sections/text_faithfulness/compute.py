"""The maths of the text faithfulness section: per-word scores of every text method, ERASER
comprehensiveness / sufficiency, deletion and insertion curves, agreement between methods and
the model-randomisation check (arrays in, arrays out).

Words and targets. A review is a row of word columns: for the CNN, the columns of the padded
id array that hold a review token (`position >= 0`: never the padding nor the start marker);
for the bag-of-words MLP, the dictionary words present in the review (x = 1). Every score is
about y, the class the model predicts for the clean review: the model has one sigmoid output
(class 1), so a signed score is turned towards y by `direction` = +1 (y = 1) or -1 (y = 0),
and a probability is p(y|x) = sigmoid(direction * logit). Positive = evidence for y.

Methods. Both models take the methods of the one registry by name (config
`attribution.methods.cnn` / `.bow`, options in attribution/methods.yaml), scored per word by
`core.tokens.token_scores`: the gradient family on the CNN's embedding output (reduced per
word by the L2 norm for unsigned methods, in the tables `gradient_norm` for the gradient, the
paper's; by the sum otherwise; IG from the all-padding review with its completeness gap;
SmoothGrad review by review), occlusion and LIME on the ids (a removed word becomes the OOV
id; for the bag of words a removed word's column is 0), gbar (x_ij ḡ_j, the paper's global ḡ)
and logistic_regression (x_ij w_j) for the bag of words, and random.

TensorFlow, keras and lime are imported inside the functions that need them, so the
cross-seed table and figure rules start without them.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from ...core.stats import seed_summary, sigmoid, spearman
from ...data.samples import sample_rows
from ...infra.errors import ConfigError

log = logging.getLogger(__name__)

CNN_LABELS = {"gradient": "gradient_norm"}  # see `label`
# what each model gives a method (`core.methods.select`): gradients (of the embedding output
# or the vector), predictions on perturbed ids / vectors, and for the bag of words ḡ and the
# logistic regression's coefficients as weights
PROVIDES = {"imdb_cnn": ("gradient", "predict", "nothing"),
            "imdb_bow_mlp": ("gradient", "predict", "weights", "nothing")}
PAD_ID = 0  # keras pad_sequences' padding id
REMOVALS = ("oov", "padding")  # CNN: a removed word becomes the OOV id, or the padding id
BOW_REMOVAL = "absent"  # bag of words: a removed word's column is set to 0
METRICS = ("comprehensiveness_aopc", "sufficiency_aopc")


# ----------------------------------------------------------------------------- targets

def logits_of(f, x, batch_size: int = 256) -> np.ndarray:
    """The single output (logit) of a binary model for the rows of x (`core.methods`)."""
    from ...core.methods import logits_of as registry_logits

    return registry_logits(f, x, batch_size)


def direction_of(classes) -> np.ndarray:
    """+1 for class 1, -1 for class 0: turns the single output's signed scores towards y."""
    return np.where(np.asarray(classes) == 1, 1.0, -1.0)


def predicted_classes(logits) -> np.ndarray:
    """Class 1 iff logit > 0 (as the imdb sections count accuracy)."""
    return (np.asarray(logits) > 0).astype(np.int8)


def class_probability(f, x, direction, batch_size: int = 256) -> np.ndarray:
    """p(y|x) = sigmoid(direction * logit) per row, float64 (direction: scalar or per row)."""
    return sigmoid(np.asarray(direction, np.float64) * logits_of(f, x, batch_size))


# ----------------------------------------------------------------------------- scores

def label(method: str, model: str) -> str:
    """The name a method's scores carry in the tables: the CNN's per-word L2 norm of the
    gradient keeps the paper's name, gradient_norm (the claims and figures read it)."""
    return CNN_LABELS.get(method, method) if model == "imdb_cnn" else method


def methods_of(spec, model: str) -> list[str]:
    """The registry methods a model is scored with (config `methods.cnn` / `.bow`)."""
    from ...core.methods import select

    try:
        return select(spec, PROVIDES[model], token_ids=model == "imdb_cnn")
    except ValueError as err:
        raise ConfigError(f"{model}: {err}") from None


def word_scores(method: str, model, ids, words, classes=None, output: str = "probability",
                batch_size: int = 256, oov_char: int = 2, **options) -> np.ndarray:
    """(n, maxlen) per-word scores of registry `method` for the CNN on token ids (NaN off
    the words); see `word_scores_info`."""
    return word_scores_info(method, model, ids, words, classes, output, batch_size, oov_char,
                            **options)[0]


def word_scores_info(method: str, model, ids, words, classes=None, output: str = "probability",
                     batch_size: int = 256, oov_char: int = 2,
                     **options) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Scores of `method` (`core.tokens.token_scores`: a removed word becomes the OOV id) and
    its per-review diagnostics. classes: per review, the class (0/1) explained; None = the
    class the model predicts. options: the method's own (config: attribution/methods.yaml)."""
    from ...core.models import model_fn
    from ...core.tokens import token_scores

    _check_method(method)
    _check_binary(model)
    ids = np.asarray(ids, np.int32)
    if classes is None:
        classes = predicted_classes(logits_of(model_fn(model), ids, batch_size))
    return token_scores(method, model, ids, words, classes, options, output, batch_size,
                        fill=oov_char)


def _check_method(method: str) -> None:
    from ...core.methods import METHODS

    if method not in METHODS:
        raise ConfigError(f"unknown attribution method {method!r}; known: {', '.join(METHODS)}")


def _check_binary(model) -> None:
    if model.output_shape[-1] != 1:
        raise ConfigError(f"text methods explain a binary model with one output (a logit); "
                          f"{model.name} has {model.output_shape[-1]}")


def all_word_scores(model, ids, words, methods, options: dict, classes=None,
                    output: str = "probability", batch_size: int = 256, oov_char: int = 2):
    """({label: (n, maxlen) scores}, {label: diagnostics}, {label: seconds}) of the CNN.
    options: {method: its options} (the composed methods.yaml)."""
    scores, info, seconds = {}, {}, {}
    for method in methods:
        start = time.perf_counter()
        name = label(method, "imdb_cnn")
        scores[name], info[name] = word_scores_info(
            method, model, ids, words, classes, output, batch_size, oov_char,
            **(options.get(method) or {}))
        seconds[name] = time.perf_counter() - start
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


def bow_scores(method: str, model, x, classes, options: dict | None = None, weights=None,
               output: str = "probability", batch_size: int = 256) -> np.ndarray:
    """(n, V) scores of the present words (NaN where x = 0) towards each review's y, a
    removed word's column set to 0. weights: ḡ for gbar, the coefficients for
    logistic_regression (`core.tokens.token_scores`)."""
    from ...core.tokens import token_scores

    _check_method(method)
    x = np.asarray(x, np.float32)
    return token_scores(method, model, x, x > 0, classes, options, output, batch_size,
                        fill=0, weights=weights)[0]


# ----------------------------------------------------------------------------- faithfulness

def select_reviews(n_words, n: int, min_words: int, seed: int) -> np.ndarray:
    """Sorted indices of a seeded sample of min(n, eligible) reviews with >= min_words words."""
    eligible = np.flatnonzero(np.asarray(n_words) >= min_words)
    if len(eligible) == 0:
        raise ConfigError(f"sample.min_words={min_words}: no review has that many words")
    return sample_rows(eligible, n, seed)


def check_percents(percents, bins) -> None:
    """Curve points: integers 0..100 with 0 and 100; AOPC bins: some of them, 0 < k < 100."""
    p = list(percents)
    if p != sorted(set(p)) or p[0] != 0 or p[-1] != 100:
        raise ConfigError(f"percents: {p} must increase from 0 to 100 without repeats")
    missing = [b for b in bins if b not in p or not 0 < b < 100]
    if missing:
        raise ConfigError(f"aopc_percents: {missing} not strictly between 0 and 100 in "
                          f"percents {p}")


def top_counts(n_words, percent: int) -> np.ndarray:
    """Words in the top `percent` % of each review: ceil(percent * n / 100) (integer maths),
    so every review loses at least one word at any percent > 0."""
    return (np.asarray(n_words, np.int64) * int(percent) + 99) // 100


def word_ranks(scores, words) -> np.ndarray:
    """(n, d) rank of each word in its review, 0 = highest score (ties: left column first);
    columns that are not words rank after every word."""
    key = np.where(words & ~np.isnan(scores), scores, -np.inf)
    order = np.argsort(-key, axis=1, kind="stable")
    ranks = np.empty(key.shape, np.int64)
    np.put_along_axis(ranks, order, np.arange(key.shape[1])[None].repeat(len(key), 0), axis=1)
    return np.where(words, ranks, key.shape[1])


def removal_curves(f, x, words, scores, direction, percents, remove, batch_size: int = 256,
                   chunk: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """(deletion, insertion), each (n, P): p(y) with the top percents[k] % of each review's
    words removed (deletion) or with only them kept, every other word removed (insertion).

    remove(x_rows, mask) -> x_rows with the masked words removed. Percent 0 and 100 are the
    clean and the empty review (shared by every method, computed once per call)."""
    words = np.asarray(words, bool)
    direction = np.asarray(direction, np.float64)
    ranks = word_ranks(scores, words)
    n_words = words.sum(axis=1)
    inner = [p for p in percents if 0 < p < 100]
    p_clean = class_probability(f, x, direction, batch_size)
    p_empty = class_probability(f, remove(x, words), direction, batch_size)
    deletion = np.empty((len(x), len(percents)))
    insertion = np.empty((len(x), len(percents)))
    for k, p in enumerate(percents):
        if p == 0:
            deletion[:, k], insertion[:, k] = p_clean, p_empty
        elif p == 100:
            deletion[:, k], insertion[:, k] = p_empty, p_clean
    columns = [percents.index(p) for p in inner]
    for start in range(0, len(x), chunk):
        rows = slice(start, min(start + chunk, len(x)))
        batch = []
        for p in inner:
            top = words[rows] & (ranks[rows] < top_counts(n_words[rows], p)[:, None])
            batch += [remove(x[rows], top), remove(x[rows], words[rows] & ~top)]
        row_direction = np.tile(direction[rows], 2 * len(inner))  # the order of `batch`
        probs = class_probability(f, np.concatenate(batch), row_direction,
                                  batch_size).reshape(len(inner), 2, -1)
        deletion[rows, columns] = probs[:, 0].T
        insertion[rows, columns] = probs[:, 1].T
    return deletion, insertion


def aopc(p_clean, curve, percents, bins) -> np.ndarray:
    """Per review: mean over the bins of p(y|x) - the curve at the bin. On the deletion
    curve: ERASER's comprehensiveness AOPC (higher = the top words matter); on the insertion
    curve: sufficiency AOPC (lower = the top words suffice)."""
    curve = np.asarray(curve, np.float64)
    cols = [list(percents).index(b) for b in bins]
    return (np.asarray(p_clean, np.float64)[:, None] - curve[:, cols]).mean(axis=1)


def id_remover(fill: int):
    """remove() for token ids: removed words become `fill` (OOV or padding id)."""
    return lambda x, mask: np.where(mask, fill, x).astype(x.dtype)


def bow_remove(x, mask):
    """remove() for bag-of-words vectors: a removed word's column is 0."""
    return np.where(mask, 0.0, x).astype(x.dtype)


def faithfulness(f, x, words, scores: dict[str, np.ndarray], direction, percents, bins,
                 removals: dict, batch_size: int = 256) -> dict:
    """{(method, removal): {"deletion", "insertion" (n, P) curves, "comprehensiveness_aopc",
    "sufficiency_aopc" (n,)}} for every method and every remove() in `removals`."""
    out = {}
    for removal, remove in removals.items():
        for method, s in scores.items():
            dele, ins = removal_curves(f, x, words, s, direction, list(percents), remove,
                                       batch_size)
            out[(method, removal)] = {
                "deletion": dele, "insertion": ins,
                "comprehensiveness_aopc": aopc(dele[:, 0], dele, percents, bins),
                "sufficiency_aopc": aopc(dele[:, 0], ins, percents, bins)}
    return out


def review_summary(values) -> dict:
    """Mean over reviews with sd and a 95 % Student-t interval (core.stats.seed_summary, which
    summarises any sample of independent runs)."""
    s = seed_summary(values)
    return {k: s[k] for k in ("n", "mean", "sd", "ci_low", "ci_high")}


# ----------------------------------------------------------------------------- agreement

def agreement(scores: dict[str, np.ndarray], words, top_percent: int) -> dict:
    """Per pair of methods (in `scores` order) and per review: Spearman of the ranking scores,
    Spearman of their sizes |score|, and the overlap of the two top `top_percent` % word sets
    (shared words / set size). {(a, b): {"spearman", "spearman_abs", "top_overlap"}: (n,)}."""
    words = np.asarray(words, bool)
    k = top_counts(words.sum(axis=1), top_percent)
    tops = {m: word_ranks(s, words) < k[:, None] for m, s in scores.items()}
    methods = list(scores)
    out = {}
    for i, a in enumerate(methods):
        for b in methods[i + 1:]:
            out[(a, b)] = {
                "spearman": _rowwise(spearman, scores[a], scores[b], words),
                "spearman_abs": _rowwise(spearman, np.abs(scores[a]), np.abs(scores[b]), words),
                "top_overlap": (tops[a] & tops[b]).sum(axis=1) / k}
    return out


def _rowwise(fn, a, b, words) -> np.ndarray:
    return np.array([fn(a[i, w], b[i, w]) for i, w in enumerate(words)])


def sanity(trained: dict[str, np.ndarray], randomised: dict[str, np.ndarray], words) -> dict:
    """Per method, per review: Spearman of the scores (and of |scores|) of the trained and the
    re-initialised model (Adebayo et al. 2018); near 1 = the method ignores the weights."""
    words = np.asarray(words, bool)
    return {m: {"spearman": _rowwise(spearman, trained[m], randomised[m], words),
                "spearman_abs": _rowwise(spearman, np.abs(trained[m]), np.abs(randomised[m]),
                                         words)}
            for m in randomised}
