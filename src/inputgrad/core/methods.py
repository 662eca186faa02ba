"""The attribution-method registry: one verb, `attribute(method, f, x, ...)`, for every method.

Every method is a few lines on top of the one gradient primitive (`core.gradients`), with the
same arguments (Captum's lesson): `f` maps an input tensor to logits (n, k); `target` is
"predicted" (resolved once, on the clean input), an int, or a per-example array; `output` is
"logit" or "probability"; `batch_size` bounds the rows of one compiled gradient call.
Method options (IG's `steps`, SmoothGrad's `samples`, ...) are keyword arguments.

- gradient: d target / d x (the paper's saliency).
- gradient_x_input: gradient times the input (first-order Taylor contribution from 0).
- integrated_gradients: path integral of the gradient from a baseline (midpoint Riemann sum);
  all path points of a chunk of examples go through one compiled call (`internal_batch_size`
  rows at most, like Captum's), so m steps cost about m single gradient passes.
- smoothgrad: `noise_tunnel` around any method (like Captum's NoiseTunnel): the method's mean
  over Gaussian-perturbed copies of x.
`completeness_gap` is the diagnostic of any path method: sum(attribution) - (f(x) - f(baseline)).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .gradients import gradient, predicted_classes, transform


@dataclass(frozen=True)
class Method:
    name: str
    fn: Callable
    absolute: bool  # ranked by |attribution| (unsigned saliency) rather than the signed value
    path: bool  # a path method: attributions sum to f(x) - f(baseline)


METHODS: dict[str, Method] = {}


def register(name: str, absolute: bool = False, path: bool = False):
    def deco(fn):
        METHODS[name] = Method(name, fn, absolute, path)
        return fn

    return deco


def resolve_target(f, x, target, batch_size: int = 256):
    """"predicted" -> per-example classes of the clean input; anything else unchanged."""
    if isinstance(target, str):
        if target == "predicted":
            return predicted_classes(f, x, batch_size)
        if target == "all":
            return target
        raise ValueError(f"target must be 'predicted', 'all', an int or an array, got {target!r}")
    return target


def attribute(method: str, f, x, target="predicted", output: str = "logit",
              batch_size: int = 256, **options) -> np.ndarray:
    """Attributions of `method` for the rows of x, same shape as x."""
    if method not in METHODS:
        raise ValueError(f"unknown attribution method {method!r}; known: {', '.join(METHODS)}")
    x = np.asarray(x, dtype=np.float32)
    classes = resolve_target(f, x, target, batch_size)
    return METHODS[method].fn(f, x, classes, output, batch_size, **options)


@register("gradient", absolute=True)
def saliency(f, x, classes, output, batch_size):
    grads, _ = gradient(f, x, output, classes, batch_size)
    return grads


@register("gradient_x_input")
def gradient_x_input(f, x, classes, output, batch_size):
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
    rng = np.random.default_rng(seed)
    sigma = noise * float(x.max() - x.min() or 1.0)
    noisy = x[None] + rng.normal(0.0, sigma, size=(samples,) + x.shape).astype(np.float32)
    cls = classes if isinstance(classes, str) else np.broadcast_to(np.asarray(classes), (len(x),))
    stacked = METHODS[method].fn(f, noisy.reshape((-1,) + x.shape[1:]), _tile(cls, samples),
                                 output, batch_size, **method_options)
    parts = stacked.reshape((samples,) + x.shape)
    total = np.zeros_like(x)
    for part in parts:  # sample by sample, in draw order (float32 sums reproducible)
        total += part
    return total / samples


def _tile(classes, times: int):
    return classes if isinstance(classes, str) else np.tile(classes, times)


@register("smoothgrad", absolute=True)
def smoothgrad(f, x, classes, output, batch_size, samples: int = 16, noise: float = 0.1,
               seed: int = 0):
    """SmoothGrad (Smilkov et al. 2017): the noise tunnel around the plain gradient."""
    return noise_tunnel(f, x, classes, output, batch_size, "gradient", samples, noise, seed)
