"""The attribution-method registry: one verb, `attribute(method, f, x, ...)`, for every method.

Same arguments for every method (Captum's lesson): `f` maps an input array to logits (n, k);
`target` is "predicted" (resolved once, on the clean input), an int, or a per-example array;
`output` is "logit" or "probability"; `batch_size` bounds the rows of one compiled call.
Method options (IG's `steps`, SmoothGrad's `samples`, ...) are keyword arguments; their
configured values live once, in config/hydra/attribution/methods.yaml (`options_of`).

Each `Method` declares what it needs of the model (`needs`), how its scores reduce to one per
token over an embedding axis (`reduce`), whether it is ranked by size (`absolute`) and whether
a positive score is evidence for the explained class (`signed`). `core.tokens` turns any of
them into per-token scores of a text model.

needs="gradient" (a differentiable f, on the gradient primitive `core.gradients`):
- gradient: d target / d x (the paper's saliency).
- gradient_x_input: gradient times the input (first-order Taylor contribution from 0).
- integrated_gradients: path integral of the gradient from a baseline (midpoint Riemann sum);
  all path points of a chunk of examples go through one compiled call (`internal_batch_size`
  rows at most, like Captum's), so m steps cost about m single gradient passes.
- smoothgrad: `noise_tunnel` around any method (like Captum's NoiseTunnel): the method's mean
  over Gaussian-perturbed copies of x.
- vargrad, smoothgrad_sq: the variance and the mean square of the gradient over the same
  noisy copies (Hooker et al. 2019).
needs="predict" (only f's outputs on perturbed copies of x; token ids or feature vectors):
- occlusion: p(y|x) - p(y|x with feature j set to `fill`), one feature at a time.
- lime: the lime package's weights of a local linear fit on feature masks (`lime_scores`).
- finite_differences: the gradient without autodiff, central differences of f's scores
  (`core.numerical`): any callable or scikit-learn estimator (`numerical.score_function`);
  real-valued inputs only (`token_ids=False`: an evaluation on token ids never selects it).
needs="weights": gbar, logistic_regression: x_j w_j for a given weight vector `weights`.
needs="nothing": random: seeded uniform scores (the floor).
`completeness_gap` is the diagnostic of any path method: sum(attribution) - (f(x) - f(baseline)).

Binary models (one logit z): the explained class is given per example by `direction` (+1:
class 1, -1: class 0); p(y|x) = sigmoid(direction * z).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .stats import sigmoid

# The gradient primitive (TensorFlow) is imported inside the functions that use it: the
# registry itself (names, options) loads without TensorFlow, e.g. for `inputgrad --help`.

NEEDS = ("gradient", "predict", "weights", "nothing")
REDUCTIONS = ("norm", "sum")


@dataclass(frozen=True)
class Method:
    name: str
    fn: Callable
    absolute: bool  # ranked by |attribution| (unsigned saliency) rather than the signed value
    path: bool  # a path method: attributions sum to f(x) - f(baseline)
    needs: str  # what it asks of the model: one of NEEDS
    reduce: str  # per token over an embedding axis: L2 "norm" (unsigned) or "sum" (signed)
    signed: bool  # positive = evidence for the explained class (else a size or a control)
    noise: bool  # averages over noisy copies: sigma is set by the value range of its input
    token_ids: bool = True  # can score integer token ids (False: needs real-valued inputs)
    float64: bool = False  # keeps float64 inputs (else floats are cast to float32)


METHODS: dict[str, Method] = {}


def register(name: str, absolute: bool = False, path: bool = False, needs: str = "gradient",
             signed: bool | None = None, noise: bool = False, token_ids: bool = True,
             float64: bool = False):
    """Register `fn(f, x, classes, output, batch_size, **options)` under `name`; an absolute
    method reduces per token by its norm and is unsigned, any other by its sum and signed."""
    assert needs in NEEDS, needs

    def deco(fn):
        METHODS[name] = Method(name, fn, absolute, path, needs, "norm" if absolute else "sum",
                               not absolute if signed is None else signed, noise, token_ids,
                               float64)
        return fn

    return deco


def lookup(name: str) -> Method:
    if name not in METHODS:
        raise ValueError(f"unknown attribution method {name!r}; known: {', '.join(METHODS)}")
    return METHODS[name]


def names(needs: str | None = None) -> list[str]:
    """The registry's method names (of those that need `needs`, if given), in order."""
    return [name for name, m in METHODS.items() if needs is None or m.needs == needs]


def select(spec, provides, token_ids: bool = False) -> list[str]:
    """The methods an evaluation scores: `spec` is "all" (every registered method whose
    `needs` is one the evaluation `provides`, in registry order: a new method joins it) or a
    list of names, each checked against the registry and `provides`. token_ids: the
    evaluation's input is integer token ids (methods that need real values are left out of
    "all" and refused in a list)."""
    def fits(m):
        return m.needs in provides and (m.token_ids or not token_ids)

    if spec == "all":
        return [name for name, m in METHODS.items() if fits(m)]
    if isinstance(spec, str):
        raise ValueError(f"methods: {spec!r} is neither 'all' nor a list of method names")
    for name in spec:
        if lookup(name).needs not in provides:
            raise ValueError(f"method {name!r} needs {lookup(name).needs!r}; this evaluation "
                             f"provides {', '.join(provides)}")
        if not fits(lookup(name)):
            raise ValueError(f"method {name!r} needs real-valued inputs; this evaluation "
                             "scores token ids")
    return list(spec)


OPTIONS_FILE = Path(__file__).resolve().parents[3] / "config/hydra/attribution/methods.yaml"


def configured(spec, provides, config: dict | None, batch_size: int) -> dict[str, dict]:
    """{method: options} of the methods a config selects ("all" or names, see `select`), from
    the one methods config; path methods batch all their path points (`internal_batch_size`).
    Raises ValueError for a name the registry or the input does not offer."""
    out = {}
    for method in select(spec, provides):
        out[method] = options_of(method, config)
        if lookup(method).path:
            out[method]["internal_batch_size"] = batch_size
    return out


def default_options() -> dict:
    """The configured options of every method (methods.yaml of this checkout; {} where the
    package runs without it: then each method's own defaults, the same values)."""
    if not OPTIONS_FILE.is_file():
        return {}
    import yaml

    return yaml.safe_load(OPTIONS_FILE.read_text()) or {}


def options_of(name: str, config: dict | None) -> dict:
    """The configured options of one method (config: the composed methods.yaml; a method
    absent from it takes its defaults)."""
    lookup(name)
    return dict((config or {}).get(name) or {})


def resolve_target(f, x, target, batch_size: int = 256):
    """"predicted" -> per-example classes of the clean input; anything else unchanged."""
    if isinstance(target, str):
        if target == "predicted":
            from .gradients import predicted_classes

            return predicted_classes(f, x, batch_size)
        if target == "all":
            return target
        raise ValueError(f"target must be 'predicted', 'all', an int or an array, got {target!r}")
    return target


def attribute(method: str, f, x, target="predicted", output: str = "logit",
              batch_size: int = 256, **options) -> np.ndarray:
    """Attributions of `method` for the rows of x, same shape as x. Token ids stay integers
    for the methods that only perturb and predict; floats become float32, except a float64 x
    of a method that keeps it (finite_differences)."""
    m = lookup(method)
    x = np.asarray(x)
    keep = m.float64 and x.dtype == np.float64
    if m.needs == "gradient" or (x.dtype.kind == "f" and not keep):
        x = x.astype(np.float32, copy=False)
    resolve = m.needs in ("gradient", "predict")
    classes = resolve_target(f, x, target, batch_size) if resolve else target
    return m.fn(f, x, classes, output, batch_size, **options)


@register("gradient", absolute=True)
def saliency(f, x, classes, output, batch_size):
    from .gradients import gradient

    grads, _ = gradient(f, x, output, classes, batch_size)
    return grads


@register("gradient_x_input")
def gradient_x_input(f, x, classes, output, batch_size):
    from .gradients import gradient

    grads, _ = gradient(f, x, output, classes, batch_size)
    return grads * x


def _baseline(x, baseline):
    if baseline is None:
        return np.zeros_like(x)
    return np.broadcast_to(np.asarray(baseline, np.float32), x.shape).astype(np.float32)


@register("integrated_gradients", path=True)
def integrated_gradients(f, x, classes, output, batch_size, steps: int = 32, baseline=None,
                         internal_batch_size: int | None = None):
    """Midpoint Riemann IG. Path points of `chunk` examples at a time are stacked alpha-major
    into one array of at most `internal_batch_size` rows (default: batch_size), then summed."""
    from .gradients import gradient

    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"integrated_gradients: steps must be a whole number >= 1, got {steps!r}")
    base = _baseline(x, baseline)
    rows = max(int(internal_batch_size or batch_size), 1)
    chunk = max(rows // steps, 1)
    alphas = ((np.arange(steps) + 0.5) / steps).astype(np.float32)
    shape = (steps, 1) + (1,) * (x.ndim - 1)
    total = np.zeros_like(x)
    cls = np.broadcast_to(np.asarray(classes), (len(x),))
    for start in range(0, len(x), chunk):
        part = slice(start, min(start + chunk, len(x)))
        xb, bb = x[part], base[part]
        path = bb[None] + alphas.reshape(shape) * (xb - bb)[None]
        grads, _ = gradient(f, path.reshape((-1,) + x.shape[1:]), output,
                            np.tile(cls[part], steps), rows)
        total[part] = grads.reshape((steps,) + xb.shape).sum(axis=0)
    return (x - base) * total / steps


def completeness_gap(f, x, attributions, target, output: str = "logit", baseline=None,
                     batch_size: int = 256) -> np.ndarray:
    """Per example: sum(attributions) - (f(x) - f(baseline)) for the target; ~0 for a path
    method with enough steps (Sundararajan et al. 2017's completeness axiom)."""
    from .gradients import transform

    x = np.asarray(x, np.float32)
    cls = np.broadcast_to(np.asarray(resolve_target(f, x, target, batch_size)), (len(x),))
    idx = np.arange(len(x)), cls.astype(int)
    fx = transform(f(x), output).numpy()[idx]
    fb = transform(f(_baseline(x, baseline)), output).numpy()[idx]
    return attributions.reshape(len(x), -1).sum(axis=1) - (fx - fb)


def noise_tunnel(f, x, classes, output, batch_size, method: str = "gradient",
                 samples: int = 16, noise: float = 0.1, seed: int = 0, **method_options):
    """Mean of `method` over `samples` Gaussian-perturbed copies of x (sigma = noise * value
    range of x), all copies through one call of the method; the target stays the clean one."""
    parts = noisy_attributions(f, x, classes, output, batch_size, method, samples, noise,
                               seed, **method_options)
    total = np.zeros_like(x)
    for part in parts:  # sample by sample, in draw order (float32 sums reproducible)
        total += part
    return total / samples


def noisy_attributions(f, x, classes, output, batch_size, method: str = "gradient",
                       samples: int = 16, noise: float = 0.1, seed: int = 0,
                       **method_options) -> np.ndarray:
    """(samples, *x.shape): `method` on each of the noisy copies of `noise_tunnel`."""
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 1:
        raise ValueError(f"noise tunnel: samples must be a whole number >= 1, got {samples!r}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise tunnel: noise must be a finite number >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    sigma = noise * float(x.max() - x.min() or 1.0)
    noisy = x[None] + rng.normal(0.0, sigma, size=(samples,) + x.shape).astype(np.float32)
    cls = classes if isinstance(classes, str) else np.broadcast_to(np.asarray(classes), (len(x),))
    stacked = METHODS[method].fn(f, noisy.reshape((-1,) + x.shape[1:]), _tile(cls, samples),
                                 output, batch_size, **method_options)
    return stacked.reshape((samples,) + x.shape)


def _tile(classes, times: int):
    return classes if isinstance(classes, str) else np.tile(classes, times)


@register("smoothgrad", absolute=True, noise=True)
def smoothgrad(f, x, classes, output, batch_size, samples: int = 16, noise: float = 0.1,
               seed: int = 0):
    """SmoothGrad (Smilkov et al. 2017): the noise tunnel around the plain gradient."""
    return noise_tunnel(f, x, classes, output, batch_size, "gradient", samples, noise, seed)


# ----------------------------------------------------------------------------- predict only

def forward(f, x, batch_size: int) -> np.ndarray:
    """f on the rows of x, `batch_size` rows per call (f(x[s:s + batch_size])), the outputs
    concatenated as one array; the one batched forward pass of the sections."""
    x = np.asarray(x)
    return np.concatenate([np.asarray(f(x[s:s + batch_size]))
                           for s in range(0, len(x), batch_size)])


def logits_of(f, x, batch_size: int = 256) -> np.ndarray:
    """The single output (logit) of a binary model for the rows of x, batch by batch."""
    if len(x) == 0:
        return np.zeros(0, np.float32)
    return forward(f, x, batch_size)[:, 0]


def class_probability(f, x, direction, batch_size: int = 256) -> np.ndarray:
    """p(y|x) = sigmoid(direction * logit) per row of a binary model, float64 (direction:
    +1 explains class 1, -1 class 0; a scalar or one per row)."""
    return sigmoid(np.asarray(direction, np.float64) * logits_of(f, x, batch_size))


def _direction(x, direction):
    """Per-row ±1 (default +1: the single output's class)."""
    return np.ones(len(x)) if direction is None else np.asarray(direction, np.float64)


def _features(x, features):
    """Which columns are features (default: every non-zero entry)."""
    return np.asarray(x != 0 if features is None else features, bool)


@register("occlusion", needs="predict")
def occlusion(f, x, classes, output, batch_size, features=None, fill=0, direction=None,
              model=None, diagnostics=None):
    """p(y|x) - p(y|x with feature j set to `fill`) for every feature of every row (NaN off
    the features). A Keras CNN of the imdb_cnn shape (`model`) on token ids recomputes only
    the windows a word touches (`core.cnn_fast`): the same numbers up to float32 sum order."""
    from . import cnn_fast

    features, direction = _features(x, features), _direction(x, direction)
    p0 = class_probability(f, x, direction, batch_size)
    parts = cnn_fast.conv_maxpool(model) if model is not None and x.dtype.kind == "i" else None
    if parts is not None:
        logits = cnn_fast.occlusion_logits(parts, x, features, fill, batch_size)
        return p0[:, None] - sigmoid(direction[:, None] * logits.astype(np.float64))
    return naive_occlusion(f, p0, x, features, direction, batch_size, fill)


def naive_occlusion(f, p0, x, features, direction, batch_size, fill) -> np.ndarray:
    """Occlusion for any model: one forward pass of every row with each feature replaced."""
    scores = np.full(x.shape, np.nan)
    for i in range(len(x)):
        cols = np.flatnonzero(features[i])
        rows = np.repeat(x[i:i + 1], len(cols), axis=0)
        rows[np.arange(len(cols)), cols] = fill
        scores[i, cols] = p0[i] - class_probability(f, rows, direction[i], batch_size)
    return scores


@register("lime", needs="predict")
def lime(f, x, classes, output, batch_size, features=None, fill=0, direction=None,
         model=None, diagnostics=None, samples: int = 500, kernel_width: float = 25.0,
         seed: int = 0):
    """LIME weights per feature (`lime_scores`), a removed feature set to `fill`; each local
    fit's R² goes to `diagnostics["lime_r2"]` if a dict is given."""
    from . import cnn_fast

    features, direction = _features(x, features), _direction(x, direction)
    # a review's neighbourhood shares its padding: the imdb_cnn shape computes those windows
    # once per batch (`cnn_fast.shared_prefix_logits`, the same function)
    parts = cnn_fast.conv_maxpool(model) if model is not None and x.dtype.kind == "i" else None
    predict = f if parts is None else (lambda rows: cnn_fast.shared_prefix_logits(parts, rows))

    def perturbed(i, cols, masks):
        rows = np.repeat(x[i:i + 1], len(masks), axis=0)
        rows[:, cols] = np.where(masks == 1, x[i, cols], fill)
        return class_probability(predict, rows, direction[i], batch_size)

    scores, info = lime_scores(features, perturbed, samples, kernel_width, seed)
    if diagnostics is not None:
        diagnostics.update(info)
    return scores


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


# ----------------------------------------------------------------------------- no model

def _weights_x_input(f, x, classes, output, batch_size, weights=None):
    """x_j w_j of a given weight vector (float64): a linear model's contributions."""
    if weights is None:
        raise ValueError("this method needs its weight vector: weights=...")
    return x * np.asarray(weights, np.float64)


register("gbar", needs="weights")(_weights_x_input)  # w = ḡ, the paper's mean gradient
register("logistic_regression", needs="weights")(_weights_x_input)  # w = its coefficients


@register("random", needs="nothing", signed=False)
def random(f, x, classes, output, batch_size, seed: int = 0):
    """Seeded uniform [0, 1) scores: the floor every method should beat."""
    return np.random.default_rng(seed).random(x.shape)


# ----------------------------------------------------------------------------- noise moments
# (registered last: "all" keeps the earlier methods' order)

@register("vargrad", absolute=True, noise=True)
def vargrad(f, x, classes, output, batch_size, samples: int = 16, noise: float = 0.1,
            seed: int = 0):
    """VarGrad (Adebayo et al. 2018; Hooker et al. 2019): the variance of the gradient over
    SmoothGrad's noisy copies (same draws), in float64 (a difference of squares in float32
    would lose it)."""
    grads = noisy_attributions(f, x, classes, output, batch_size, "gradient", samples, noise,
                               seed)
    return grads.astype(np.float64).var(axis=0).astype(np.float32)


@register("smoothgrad_sq", absolute=True, noise=True)
def smoothgrad_sq(f, x, classes, output, batch_size, samples: int = 16, noise: float = 0.1,
                  seed: int = 0):
    """SmoothGrad-squared (Hooker et al. 2019): the mean of the squared gradient over
    SmoothGrad's noisy copies (same draws), in float64."""
    grads = noisy_attributions(f, x, classes, output, batch_size, "gradient", samples, noise,
                               seed)
    return np.square(grads.astype(np.float64)).mean(axis=0).astype(np.float32)


# ----------------------------------------------------------------------------- numerical
# (registered last: "all" keeps the earlier methods' order)

@register("finite_differences", absolute=True, needs="predict", token_ids=False, float64=True)
def finite_differences(f, x, classes, output, batch_size, step: float = 1e-3, scale=None,
                       relative: bool = True, max_rows: int | None = None, features=None,
                       fill=0, direction=None, model=None, diagnostics=None):
    """The gradient by central differences of f's scores (`numerical.central_differences`):
    h = step * max(|x_j|, scale_j) (relative) or step * scale_j, scale per feature (default
    1); at most `max_rows` perturbed rows per call of f (default batch_size). Ranked like the
    gradient (by size). A float64 x stays float64. Off `features`: NaN."""
    from .numerical import central_differences

    return central_differences(f, x, classes, output, step, scale, relative,
                               max(int(max_rows or batch_size), 2), features, direction)
