"""The maths of Decoy MNIST: data, accuracies, relevance mass, pointing game and the
detection window. Every attribution goes through `core.methods.attribute`.

`core.methods` (TensorFlow) is imported inside the functions that need it, so the figure and
seeds rules, which import this module too, start without TensorFlow.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from inputgrad.core.stats import seed_summary
from inputgrad.data.decoy import corner_windows, decoy_test, decoy_train
from inputgrad.data.samples import sample_rows
from inputgrad.infra.errors import ConfigError, DataError

log = logging.getLogger(__name__)

PROVIDES = ("gradient", "nothing")  # a differentiable 10-class model; random as the floor
MODELS = ("decoy", "repaired", "control")  # the section's three models, in table order


def flat_mnist(raw: dict, path="MNIST arrays") -> dict[str, np.ndarray]:
    """The prepared MNIST arrays with the pixels flattened (n, 784) and integer labels."""
    missing = {"x_train", "y_train", "x_test", "y_test"} - set(raw)
    if missing:
        raise DataError(f"{path}: missing arrays {sorted(missing)}")
    out = {}
    for split in ("train", "test"):
        x = np.asarray(raw[f"x_{split}"], np.float32)
        out[f"x_{split}"] = x.reshape(len(x), -1)
        out[f"y_{split}"] = np.asarray(raw[f"y_{split}"], np.int64)
    return out


def training_data(mnist: dict, decoy: dict) -> dict[str, np.ndarray]:
    """The decoyed training digits with their patch masks; the test set (the validation data
    of training) is the `same` version: the rule the model was trained on."""
    x, mask, _ = decoy_train(mnist["x_train"], mnist["y_train"], decoy["train_seed"],
                             decoy["patch"], decoy["grey_step"])
    versions = test_versions(mnist, decoy)
    return {"x_train": x, "y_train": mnist["y_train"], "mask_train": mask,
            "x_test": versions["same"][0], "y_test": mnist["y_test"]}


def test_versions(mnist: dict, decoy: dict) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{version: (x, mask)} of the test digits (`data.decoy.decoy_test`)."""
    return decoy_test(mnist["x_test"], mnist["y_test"], decoy["test_seed"], decoy["patch"],
                      decoy["grey_step"])


def accuracy(f, x, y, batch_size: int = 1024) -> float:
    """Share of rows whose argmax logit is the label."""
    from inputgrad.core.methods import forward

    return float((forward(f, x, batch_size).argmax(axis=1) == np.asarray(y)).mean())


def method_options(methods, config: dict, batch_size: int) -> dict[str, dict]:
    """{method: options} of the configured methods ("all" or names, `core.methods.select`
    with PROVIDES), from the one methods config; path methods batch all their path points."""
    from inputgrad.core.methods import configured

    try:
        return configured(methods, PROVIDES, config, batch_size)
    except ValueError as err:
        raise ConfigError(f"attribution.methods: {err}") from None


def relevance_mass(attr, mask) -> np.ndarray:
    """Per row: sum of |attribution| on the mask / sum of |attribution| (NaN for an all-zero
    row). A method spreading |attribution| evenly has 16/784 for a 4 x 4 patch."""
    a = np.abs(np.asarray(attr, np.float64)).reshape(len(attr), -1)
    m = np.asarray(mask, bool).reshape(len(attr), -1)
    total = a.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (a * m).sum(axis=1) / total, np.nan)


def pointing_game(attr, mask) -> np.ndarray:
    """Per row: 1.0 if the pixel of largest |attribution| (first of ties) is on the mask."""
    a = np.abs(np.asarray(attr, np.float64)).reshape(len(attr), -1)
    m = np.asarray(mask, bool).reshape(len(attr), -1)
    return m[np.arange(len(a)), a.argmax(axis=1)].astype(np.float64)


def window_sums(image, size: int) -> np.ndarray:
    """(side - size + 1)^2 sums of every size x size window of a square map (row, col of the
    top-left pixel), from a summed-area table in float64."""
    img = np.asarray(image, np.float64)
    side = int(round(np.sqrt(img.size)))
    table = np.zeros((side + 1, side + 1))
    table[1:, 1:] = img.reshape(side, side).cumsum(0).cumsum(1)
    return (table[size:, size:] - table[:-size, size:] - table[size:, :-size]
            + table[:-size, :-size])


def detect_window(mean_map, size: int) -> dict:
    """The highest-mass size x size window of a mean |attribution| map (first of ties): its
    top-left (row, col), its share of the map's total, that share over the uniform share,
    and the corner patch it is, if any (`found` 1.0, else 0.0)."""
    sums = window_sums(mean_map, size)
    row, col = np.unravel_index(int(np.argmax(sums)), sums.shape)
    total = float(np.sum(np.abs(mean_map)))
    side = int(round(np.sqrt(np.size(mean_map))))
    share = float(sums[row, col] / total) if total > 0 else float("nan")
    corner = corner_windows(size, side).get((int(row), int(col)))
    return {"row": int(row), "col": int(col), "share": share,
            "share_over_uniform": share / (size * size / side ** 2),
            "corner": corner or "", "found": float(corner is not None)}


def interval(values) -> dict:
    """Mean over the examples with a 95 % Student-t interval (`core.stats.seed_summary`,
    NaN rows left out): n, mean, ci_low, ci_high."""
    s = seed_summary(values)
    return {k: s[k] for k in ("n", "mean", "ci_low", "ci_high")}


def score_model(f, x, mask, methods: dict[str, dict], output: str, batch_size: int,
                size: int) -> dict[str, dict]:
    """{method: {mass, pointing (per digit), mean_map (784,), window (detect_window),
    seconds}} for one model on digits x with patch masks, explaining the predicted class."""
    from inputgrad.core.gradients import predicted_classes
    from inputgrad.core.methods import attribute

    classes = predicted_classes(f, x, batch_size)
    out = {}
    for method, kw in methods.items():
        start = time.perf_counter()
        a = np.abs(attribute(method, f, x, target=classes, output=output,
                             batch_size=batch_size, **kw).astype(np.float64))
        mean_map = a.reshape(len(x), -1).mean(axis=0)
        out[method] = {"mass": relevance_mass(a, mask), "pointing": pointing_game(a, mask),
                       "mean_map": mean_map, "window": detect_window(mean_map, size),
                       "seconds": time.perf_counter() - start}
    log.info("attributions of %d digits: %s", len(x),
             ", ".join(f"{m} {r['seconds']:.2f} s" for m, r in out.items()))
    return out


def scored_digits(n_total: int, digits: dict) -> np.ndarray:
    """The seeded subset of test digits every model's attributions are computed on."""
    return sample_rows(n_total, digits["n"], digits["seed"])
