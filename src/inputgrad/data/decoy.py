"""Decoy MNIST (Ross, Hughes & Doshi-Velez 2017, *Right for the Right Reasons*): a planted
shortcut with a known answer.

Every digit gets a `size` x `size` patch in one of the four image corners, drawn per digit
from a seeded generator. In training (and the `same` test version) the patch's grey level
encodes the label: (255 - step * y) / 255, so 1.0 for a 0 and 30/255 for a 9 (Ross et al.:
255 - 25 y). The `random` test version draws the grey of a digit 0-9 uniformly at random
(as their generator does: it equals the label's grey one time in ten), and `none` has no
patch. The generator returns the mask of the patch pixels with the images, so every
evaluation knows where the planted feature is.
"""

from __future__ import annotations

import numpy as np

CORNERS = ("top_left", "top_right", "bottom_left", "bottom_right")
VERSIONS = ("same", "random", "none")  # the test versions


def patch_grey(labels, step: int = 25) -> np.ndarray:
    """The patch's grey level in [0, 1] for digit labels: (255 - step * y) / 255."""
    return ((255.0 - step * np.asarray(labels, np.float64)) / 255.0).astype(np.float32)


def corner_mask(corner: int, size: int = 4, side: int = 28) -> np.ndarray:
    """(side, side) bool: the size x size patch in corner `corner` (index into CORNERS)."""
    mask = np.zeros((side, side), bool)
    rows = slice(0, size) if corner in (0, 1) else slice(side - size, side)
    cols = slice(0, size) if corner in (0, 2) else slice(side - size, side)
    mask[rows, cols] = True
    return mask


def corner_windows(size: int = 4, side: int = 28) -> dict[tuple[int, int], str]:
    """{(row, col) of a window's top-left pixel: corner name} of the four corner patches."""
    far = side - size
    return {(0, 0): CORNERS[0], (0, far): CORNERS[1], (far, 0): CORNERS[2],
            (far, far): CORNERS[3]}


def plant(images, greys, seed: int, size: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Put a patch of grey `greys[i]` in a seeded random corner of each image.

    images: (n, side, side) or (n, side * side) in [0, 1]; returns (x, mask, corner): x like
    images (float32, a copy), mask bool of the same shape (True on the patch), corner (n,)
    the index into CORNERS."""
    images = np.asarray(images, np.float32)
    n = len(images)
    side = int(round(np.sqrt(images[0].size)))
    x = images.reshape(n, side, side).copy()
    corner = np.random.default_rng(seed).integers(0, len(CORNERS), size=n)
    masks = np.stack([corner_mask(c, size, side) for c in range(len(CORNERS))])[corner]
    grey = np.broadcast_to(np.asarray(greys, np.float32), (n,))
    x = np.where(masks, grey[:, None, None], x)
    return x.reshape(images.shape), masks.reshape(images.shape), corner


def decoy_train(images, labels, seed: int, size: int = 4, step: int = 25):
    """The decoyed training digits: (x, mask, corner), grey = the label's."""
    return plant(images, patch_grey(labels, step), seed, size)


def decoy_test(images, labels, seed: int, size: int = 4, step: int = 25
               ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The three test versions {version: (x, mask)}: `same` (the training rule), `random`
    (the grey of a uniformly drawn digit, seeded), `none` (the clean digits; an all-False
    mask). `same` and `random` put each digit's patch in the same corner."""
    labels = np.asarray(labels)
    random_digits = np.random.default_rng([seed, 1]).integers(0, 10, size=len(labels))
    same, mask, _ = plant(images, patch_grey(labels, step), seed, size)
    random, _, _ = plant(images, patch_grey(random_digits, step), seed, size)
    clean = np.asarray(images, np.float32).copy()
    return {"same": (same, mask), "random": (random, mask),
            "none": (clean, np.zeros_like(mask))}
