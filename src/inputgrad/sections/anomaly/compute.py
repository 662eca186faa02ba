"""The maths of the anomaly section: detection scores, AUROC and FPR at 95 % TPR, the shifted
sets, and deletion curves whole groups at a time.

Detectors (raw value per input; `SIGNS` turns it into an anomaly score, higher = more
anomalous):
- msp: the maximum softmax probability (Hendrycks & Gimpel 2017); low = anomalous.
- gradnorm: GradNorm (Huang et al. 2021) with T = 1: the L1 norm of the gradient of
  KL(u || softmax(logits)) with respect to the last layer's weight matrix, which is
  ||h(x)||_1 * ||softmax(logits) - u||_1 (h = the last layer's input; `gradnorm`, tested
  against autodiff); low = anomalous, as in the paper.
- gradient_logprob: ||d log p_ŷ(x) / dx||_2, the input gradient of the predicted class's
  log-probability (the companion article: large gradients flag unfamiliar inputs).
- gradient_logit: ||d z_ŷ(x) / dx||_2, the same for the predicted class's logit.
"x" is what the model differentiates: pixels, the bag-of-words vector, or the CNN's embedding
output (token ids are categorical). Binary models (one logit z, p = sigmoid(z)) are read as
softmax over the two classes [1 - p, p] = softmax([0, z]); their logit is z itself (for either
class, ||d(±z)/dx|| = ||dz/dx||), so ||d log p_ŷ/dx|| = (1 - p_ŷ) ||dz/dx|| exactly, and their
GradNorm is taken for the model's one weight column: ||h||_1 |p - 1/2|.

Every gradient goes through `core.gradients`; TensorFlow and Keras are imported only inside the
functions that run a model, so the cross-seed table and the figure start without them.
"""

from __future__ import annotations

import math
import zlib
from functools import lru_cache

import numpy as np

from ...core.deletion import delete_top
from ...core.groups import grouped_order, patch_groups, window_groups
from ...core.stats import rankdata, sigmoid, softmax
from ...data.arrays import Reviews, pad_reviews
from ...data.encodings import bag_of_words
from ...data.samples import sample_rows
from ...infra.errors import ConfigError

# detector -> sign: anomaly score = sign * raw value (higher = more anomalous)
SIGNS = {"msp": -1.0, "gradnorm": -1.0, "gradient_logprob": 1.0, "gradient_logit": 1.0}
DETECTORS = tuple(SIGNS)
# shifted set -> (synthetic?, what it is)
SETS = {
    "gaussian_noise": (True, "generated: Gaussian pixels (MNIST pixel mean and sd), clipped "
                             "to [0, 1]"),
    "uniform_noise": (True, "generated: uniform pixels in [0, 1]"),
    "inverted": (True, "MNIST test digits, 1 - x"),
    "rotated_90": (True, "MNIST test digits rotated by 90 degrees"),
    "sklearn_digits": (False, "real: scikit-learn's 8x8 handwritten digits (UCI), bilinear "
                              "upsampling to 20x20, centred in 28x28 by centre of mass"),
    "shuffled_words": (True, "IMDB test reviews, words in random order"),
    "random_tokens": (True, "random word ids by test-set word frequency, lengths of test "
                            "reviews"),
    "random_tokens_uniform": (True, "random word ids, uniform over the dictionary, lengths of "
                                    "test reviews"),
}
MNIST_SETS = ("gaussian_noise", "uniform_noise", "inverted", "rotated_90", "sklearn_digits")
TEXT_SETS = ("shuffled_words", "random_tokens", "random_tokens_uniform")


# ----------------------------------------------------------------------------- metrics

def auroc(in_scores, shifted_scores) -> float:
    """Area under the ROC curve with the shifted inputs as the positive class: the share of
    (shifted, in-distribution) pairs where the shifted input scores higher, ties counted half
    (Mann-Whitney U / (n_in n_shifted), from average ranks)."""
    a = np.asarray(in_scores, np.float64).ravel()
    b = np.asarray(shifted_scores, np.float64).ravel()
    if not len(a) or not len(b):
        raise ValueError("AUROC needs at least one score on each side")
    ranks = rankdata(np.concatenate([a, b]))
    u = ranks[len(a):].sum() - len(b) * (len(b) + 1) / 2
    return float(u / (len(a) * len(b)))


def fpr_at_tpr(in_scores, shifted_scores, tpr: float = 0.95) -> float:
    """Share of in-distribution inputs flagged (score >= t) at the largest threshold t that
    flags at least `tpr` of the shifted inputs (shifted = positive class)."""
    a = np.asarray(in_scores, np.float64).ravel()
    b = np.sort(np.asarray(shifted_scores, np.float64).ravel())[::-1]
    if not len(a) or not len(b) or not 0 < tpr <= 1:
        raise ValueError(f"FPR at TPR needs scores on each side and 0 < tpr <= 1, got {tpr}")
    k = math.ceil(tpr * len(b) - 1e-9)  # positives that must be flagged
    return float(np.mean(a >= b[k - 1]))


# ----------------------------------------------------------------------------- samples

def rng_for(seed: int, name: str) -> np.random.Generator:
    """A generator per (seed, set name): a set's draw does not depend on which others run."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def split_sample(n_total: int, n_in: int, n_shifted: int, seed: int,
                 where: str) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint seeded samples (sorted indices): the in-distribution rows and the rows the
    transformed sets are made from."""
    if n_in + n_shifted > n_total:
        raise ConfigError(f"{where}: n_in + n_shifted = {n_in + n_shifted} exceeds the "
                          f"{n_total} test rows")
    perm = np.random.default_rng(seed).permutation(n_total)
    return np.sort(perm[:n_in]), np.sort(perm[n_in:n_in + n_shifted])


def check_sets(sets, known: tuple[str, ...], where: str) -> None:
    unknown = [s for s in sets if s not in known]
    if unknown:
        raise ConfigError(f"{where}: unknown shifted set(s) {unknown}; known: {list(known)}")


# ----------------------------------------------------------------------------- MNIST sets

def bilinear_matrix(n_out: int, n_in: int) -> np.ndarray:
    """(n_out, n_in) weights of 1-d linear interpolation with pixel centres aligned as in image
    resizing (half-pixel offsets, edges clamped); every row sums to 1."""
    centre = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
    centre = np.clip(centre, 0, n_in - 1)
    low = np.floor(centre).astype(int)
    high = np.minimum(low + 1, n_in - 1)
    frac = centre - low
    m = np.zeros((n_out, n_in))
    np.add.at(m, (np.arange(n_out), low), 1 - frac)
    np.add.at(m, (np.arange(n_out), high), frac)
    return m


def shift_zero(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """The image moved by (dy, dx) pixels, zeros shifted in (nothing wraps around)."""
    out = np.zeros_like(image)
    h, w = image.shape
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        image[max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(image.shape)
    mass = image.sum()
    return float((rows * image).sum() / mass), float((cols * image).sum() / mass)


def like_mnist(images8: np.ndarray, box: int = 20, size: int = 28) -> np.ndarray:
    """scikit-learn's 8x8 digits (values 0..16) as MNIST-like (n, size, size) float32 in
    [0, 1]: scaled by 1/16, bilinear upsampling to box x box (MNIST fits each digit into a 20x20
    box), pasted in the middle of the size x size field, then moved by whole pixels so the
    centre of mass sits at the field's centre (as MNIST does; 14, 14 for 28 x 28)."""
    a = bilinear_matrix(box, images8.shape[1])
    up = np.einsum("ij,njk,lk->nil", a, np.asarray(images8, np.float64) / 16.0, a)
    out = np.zeros((len(up), size, size))
    top = (size - box) // 2
    out[:, top:top + box, top:top + box] = up
    for i, image in enumerate(out):
        cy, cx = centre_of_mass(image)
        out[i] = shift_zero(image, round(size / 2 - cy), round(size / 2 - cx))
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def mnist_sets(x_test: np.ndarray, digits8: np.ndarray, cfg: dict) -> dict[str, np.ndarray]:
    """{"in_distribution": sampled test digits, set: shifted digits} as (n, 784) float32;
    the transformed sets come from a disjoint sample of test digits."""
    check_sets(cfg["sets"], MNIST_SETS, "anomaly.mnist.sets")
    x_test = np.asarray(x_test, np.float32).reshape(len(x_test), 28, 28)
    idx_in, idx_shift = split_sample(len(x_test), cfg["n_in"], cfg["n_shifted"], cfg["seed"],
                                     "anomaly.mnist")
    n = cfg["n_shifted"]
    source = x_test[idx_shift]
    out = {"in_distribution": x_test[idx_in]}
    for name in cfg["sets"]:
        rng = rng_for(cfg["seed"], name)
        if name == "gaussian_noise":
            g = cfg["gaussian"]
            out[name] = np.clip(rng.normal(g["mean"], g["sd"], (n, 28, 28)), 0, 1)
        elif name == "uniform_noise":
            out[name] = rng.random((n, 28, 28))
        elif name == "inverted":
            out[name] = 1.0 - source
        elif name == "rotated_90":
            out[name] = np.rot90(source, k=1, axes=(1, 2))
        else:  # sklearn_digits
            pick = np.sort(rng.choice(len(digits8), size=min(n, len(digits8)), replace=False))
            out[name] = like_mnist(digits8[pick], cfg["sklearn_box"])
    return {k: np.ascontiguousarray(v, np.float32).reshape(len(v), -1) for k, v in out.items()}


# ----------------------------------------------------------------------------- IMDB sets

def take_reviews(reviews: Reviews, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(word ids, offsets) of the reviews `idx`, in the flat layout of `Reviews`."""
    parts = [reviews.ids(int(i)) for i in idx]
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in parts])]).astype(np.int64)
    ids = np.concatenate(parts) if parts else np.zeros(0, np.int32)
    return ids.astype(np.int32), offsets


def shuffle_words(ids: np.ndarray, offsets: np.ndarray, rng) -> np.ndarray:
    """The word ids with each review's words in a random order (the bag of words unchanged)."""
    out = ids.copy()
    for start, stop in zip(offsets[:-1], offsets[1:], strict=True):
        out[start:stop] = rng.permutation(out[start:stop])
    return out


def text_sets(reviews: Reviews, cfg: dict, num_words: int,
              index_from: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"in_distribution": sampled test reviews, set: shifted reviews} as (word ids, offsets).
    Random token sequences take the lengths of the reviews they stand in for; their ids are
    drawn by the test set's word frequency (the out-of-vocabulary id at its own rate) or
    uniformly from the dictionary's words (ids index_from + 1 .. num_words - 1)."""
    check_sets(cfg["sets"], TEXT_SETS, "anomaly.imdb.sets")
    idx_in, idx_shift = split_sample(len(reviews), cfg["n_in"], cfg["n_shifted"], cfg["seed"],
                                     "anomaly.imdb")
    ids, offsets = take_reviews(reviews, idx_shift)
    out = {"in_distribution": take_reviews(reviews, idx_in)}
    counts = np.bincount(reviews.word_ids, minlength=num_words)[:num_words].astype(np.float64)
    for name in cfg["sets"]:
        rng = rng_for(cfg["seed"], name)
        if name == "shuffled_words":
            out[name] = shuffle_words(ids, offsets, rng), offsets
        elif name == "random_tokens":
            out[name] = rng.choice(num_words, size=len(ids), p=counts / counts.sum()), offsets
        else:  # random_tokens_uniform
            out[name] = rng.integers(index_from + 1, num_words, size=len(ids)), offsets
    return {k: (np.asarray(v, np.int32), o) for k, (v, o) in out.items()}


def as_reviews(ids: np.ndarray, offsets: np.ndarray) -> Reviews:
    """Flat word ids and offsets as `Reviews` (no tokens, ids or labels: not needed here)."""
    n = len(offsets) - 1
    return Reviews(ids, np.zeros(len(ids), np.int32), offsets, np.zeros(n, "<U1"),
                   np.zeros(n, np.int8), np.zeros(n, np.int8))


def text_inputs(model, ids: np.ndarray, offsets: np.ndarray, imdb: dict) -> np.ndarray:
    """Model inputs of flat reviews: padded ids (models with an Embedding layer; maxlen from
    the model) or the binary bag of words (width from the model)."""
    from ...core.models import split_embedding

    if split_embedding(model) is None:
        return bag_of_words(ids, offsets, int(model.input_shape[-1]), imdb["index_from"])
    x, _ = pad_reviews(as_reviews(ids, offsets), int(model.input_shape[1]), imdb["start_char"])
    return x


# ----------------------------------------------------------------------------- detectors

def class_probabilities(logits) -> np.ndarray:
    """(n, C) class probabilities in float64: softmax, or [1 - p, p] for one logit."""
    logits = np.asarray(logits, np.float64)
    if logits.shape[1] == 1:
        p = sigmoid(logits[:, 0])
        return np.stack([1.0 - p, p], axis=1)
    return softmax(logits)


def gradnorm(h, logits) -> np.ndarray:
    """GradNorm (T = 1) in closed form: for logits z = h W + b, d KL(u || softmax(z)) / dz =
    softmax(z) - u, so d/dW = h (softmax(z) - u)^T and its L1 norm is
    ||h||_1 ||softmax(z) - u||_1. One logit (binary): the gradient with respect to the one
    weight column, ||h||_1 |p - 1/2| (= half the two-class distance)."""
    logits = np.asarray(logits, np.float64)
    q = class_probabilities(logits)
    distance = np.abs(q - 1.0 / q.shape[1]).sum(axis=1)
    if logits.shape[1] == 1:
        distance = distance / 2
    return np.abs(np.asarray(h, np.float64)).sum(axis=1) * distance


def row_norm(grads):
    """(b, ...) gradients -> (b,) L2 norms; runs inside the compiled gradient function."""
    import tensorflow as tf

    flat = tf.reshape(grads, (tf.shape(grads)[0], -1))
    return tf.sqrt(tf.reduce_sum(tf.square(flat), axis=1))


@lru_cache(maxsize=16)
def differentiable(model):
    """(prepare, f, features): prepare(x) -> what gradients are taken with respect to (the
    embedding output for token ids, else x itself); f(that) -> logits; features: a Keras
    model from that to (h, logits), h = the input of the last Dense layer."""
    import keras

    from ...core.models import model_fn, split_embedding

    parts = split_embedding(model)
    if parts is None:
        net, prepare, f = model, np.asarray, model_fn(model)
    else:
        net = next(lay for lay in model.layers if isinstance(lay, keras.Model))
        prepare, f = parts
    last = net.layers[-1]
    if not isinstance(last, keras.layers.Dense):
        raise ConfigError(f"GradNorm needs a model ending in a Dense layer; {model.name} ends "
                          f"in {type(last).__name__}")
    return prepare, f, keras.Model(net.inputs, [last.input, net.outputs[0]])


def gradient_norms(f, x, classes, logits, batch_size: int) -> dict:
    """{"gradient_logit", "gradient_logprob"}: input-gradient L2 norms of the predicted class's
    logit and log-probability. Softmax: the primitive's saturation-safe "log_probability".
    One logit z: d log p_ŷ = sigmoid(-|z|) dz, a positive rescale of the logit's norm, with
    sigmoid(-|z|) = 1 - p_ŷ evaluated directly (float64), not as a difference."""
    from ...core.gradients import gradient_batches

    def norms(output, cls):
        return np.concatenate([g for _, g, _ in gradient_batches(
            f, x, output, cls, batch_size, reduce=row_norm)]).astype(np.float64)

    if logits.shape[1] == 1:
        logit = norms("logit", 0)
        return {"gradient_logit": logit,
                "gradient_logprob": sigmoid(-np.abs(np.asarray(logits[:, 0], np.float64))) * logit}
    return {"gradient_logit": norms("logit", classes),
            "gradient_logprob": norms("log_probability", classes)}


def detector_values(model, x, batch_size: int = 500, chunk_size: int = 1000) -> dict:
    """Raw value of every detector (DETECTORS) for the model inputs x, `chunk_size` rows at a
    time (an embedded chunk of reviews is the large array)."""
    prepare, f, features = differentiable(model)
    parts = []
    for start in range(0, len(x), chunk_size):
        xb = np.asarray(prepare(x[start:start + chunk_size]), np.float32)
        h, logits = features.predict(xb, batch_size=batch_size, verbose=0)
        q = class_probabilities(logits)
        classes = q.argmax(axis=1).astype(np.int32)
        msp = q.max(axis=1)
        parts.append({"msp": msp, "gradnorm": gradnorm(h, logits),
                      **gradient_norms(f, xb, classes, logits, batch_size)})
    return {d: np.concatenate([p[d] for p in parts]) for d in DETECTORS}


def detection(values_in: dict, values_shifted: dict, tpr: float) -> dict[str, dict]:
    """{detector: {"auroc", "fpr95"}} of the anomaly scores SIGNS[d] * value."""
    return {d: {"auroc": auroc(s * values_in[d], s * values_shifted[d]),
                "fpr95": fpr_at_tpr(s * values_in[d], s * values_shifted[d], tpr)}
            for d, s in SIGNS.items()}


# ----------------------------------------------------------------------------- grouped deletion

def grouped_methods(cfg: dict) -> dict[str, dict]:
    """{method: its options} of a grouped-deletion config: `methods` ("all" = every gradient
    method of the registry, or names), options from `method_options` (the composed
    attribution/methods.yaml; absent = each method's defaults)."""
    from ...core.methods import options_of, select

    try:
        names = select(cfg["methods"], ("gradient",))
    except ValueError as err:
        raise ConfigError(f"grouped methods: {err}") from None
    return {m: options_of(m, cfg.get("method_options")) for m in names}


def ranking_score(method: str, attributions: np.ndarray) -> np.ndarray:
    """What a method ranks features by: |value| for the registry's `absolute` methods, the
    signed value (positive evidence first) otherwise. A group's score is the sum of these."""
    from ...core.methods import METHODS

    return np.abs(attributions) if METHODS[method].absolute else attributions


def deletion_curve(predict_proba, x, classes, order: np.ndarray, ks) -> np.ndarray:
    """Mean probability of `classes` after setting the first k features of `order` to 0, per
    k. Features are x's axis 1 (a pixel, or a word's whole embedding vector)."""
    ones = np.ones(order.shape, np.float32)
    rows = np.arange(len(x))
    out = []
    for k in ks:
        if not 0 <= k <= order.shape[1]:
            raise ConfigError(f"ks: {k} deleted features outside [0, {order.shape[1]}]")
        keep = delete_top(ones, order, int(k))
        kept = x * keep.reshape(keep.shape + (1,) * (x.ndim - 2))
        out.append(float(np.mean(predict_proba(kept)[rows, classes])))
    return np.array(out)


def mnist_deletion(f, x, cfg: dict, batch_size: int) -> list[dict]:
    """Deletion curves on digits x (n, 784) for each method: pixel by pixel and k x k patch by
    patch (patches ranked by their summed score, whole patches first), same pixel counts."""
    from ...core.methods import attribute

    logits = f(x).numpy()
    classes = logits.argmax(axis=1).astype(np.int32)

    def predict(xb):
        return softmax(f(xb).numpy())

    side = math.isqrt(x.shape[1])
    if side * side != x.shape[1]:
        raise ConfigError(f"grouped.mnist: {x.shape[1]} pixels per digit is not a square image")
    groupings = [("pixel", 1, np.arange(x.shape[1]))]
    groupings += [("patch", k, patch_groups(side, side, k)) for k in cfg["patch_sizes"]]
    rows = []
    for method, options in grouped_methods(cfg).items():
        score = ranking_score(method, attribute(method, f, x, target=classes, output="logit",
                                                batch_size=batch_size, **options))
        for grouping, size, groups in groupings:
            curve = deletion_curve(predict, x, classes, grouped_order(score, groups), cfg["ks"])
            rows.append({"method": method, "grouping": grouping, "group_size": size,
                         "ks": cfg["ks"], "curve": curve, "n": len(x)})
    return rows


def text_sample(reviews: Reviews, cfg: dict) -> np.ndarray:
    """Seeded sample (sorted indices) of test reviews with at least max(ks) words."""
    lengths = np.diff(reviews.offsets)
    eligible = np.flatnonzero(lengths >= max(cfg["ks"]))
    if len(eligible) < cfg["n"]:
        raise ConfigError(f"grouped.imdb_cnn: {len(eligible)} test reviews have >= "
                          f"{max(cfg['ks'])} words (max of ks), n = {cfg['n']}")
    return sample_rows(eligible, cfg["n"], cfg["seed"])  # n <= len(eligible), checked above


def text_deletion(model, ids, position, cfg: dict, batch_size: int) -> list[dict]:
    """Deletion curves of the CNN on padded reviews: word by word and by non-overlapping
    windows of `window` words (ranked by their summed score). A word is deleted by zeroing its
    embedding vector (the baseline of gradient x input in embedding space). Per-word
    attributions of the predicted class's log-odds ±z: the L2 norm over the embedding for
    absolute methods, else the sum over it."""
    from ...core.methods import METHODS, attribute
    from ...core.models import split_embedding

    embed, f = split_embedding(model)
    e = embed(ids)
    z = f(e).numpy()[:, 0]
    classes = (z > 0).astype(np.int32)
    sign = np.where(classes == 1, 1.0, -1.0)[:, None]

    def predict(eb):
        return class_probabilities(f(eb).numpy())

    groupings = [("word", 1, window_groups(position, 1)),
                 ("window", cfg["window"], window_groups(position, cfg["window"]))]
    rows = []
    for method, options in grouped_methods(cfg).items():
        a = attribute(method, f, e, target=0, output="logit", batch_size=batch_size, **options)
        per_word = (np.linalg.norm(a, axis=-1) if METHODS[method].absolute
                    else sign * a.sum(axis=-1))
        score = ranking_score(method, per_word)
        for grouping, size, groups in groupings:
            curve = deletion_curve(predict, e, classes, grouped_order(score, groups), cfg["ks"])
            rows.append({"method": method, "grouping": grouping, "group_size": size,
                         "ks": cfg["ks"], "curve": curve, "n": len(ids)})
    return rows

