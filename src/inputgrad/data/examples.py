"""Input-example rows for the MLflow Model of a training run (`infra.tracking` logs them as
the model's input example and infers its signature from them): a few real rows of a rule input,
built with the same encodings the training stages use. The training scripts hand
`example_rows` to `infra.stage.main`, since infra imports nothing above it."""

from __future__ import annotations

import numpy as np

from .arrays import Reviews, load_reviews, pad_reviews
from .encodings import bag_of_words


def example_rows(spec: dict, inputs: dict, input_shape) -> np.ndarray:
    """A few real input rows for a model with input shape `input_shape` ((None, ...)), read
    from the rule input `spec["input"]` as `spec["encoding"]` says (see the module docstring).
    Rows are spread evenly over the file (both labels of the IMDB test split, which is sorted
    by label), and built with the functions the training stages use."""
    path, rows = inputs[spec["input"]], int(spec.get("rows", 5))
    encoding = spec["encoding"]
    if encoding == "array":
        with np.load(path) as arrays:
            x = arrays[spec.get("array", "x_test")]
            pick = np.linspace(0, len(x) - 1, min(rows, len(x))).round().astype(int)
            x = x[pick]
        return x.reshape(len(x), *input_shape[1:])
    reviews = load_reviews(path)
    pick = np.linspace(0, len(reviews) - 1, min(rows, len(reviews))).round().astype(int)
    ids = [reviews.ids(i) for i in pick]
    offsets = np.concatenate([[0], np.cumsum([len(v) for v in ids])])
    flat = np.concatenate(ids) if ids else np.zeros(0, np.int32)
    if encoding == "padded":
        subset = Reviews(flat, np.zeros_like(flat), offsets, reviews.review_id[pick],
                         reviews.rating[pick], reviews.label[pick])
        return pad_reviews(subset, int(input_shape[1]), int(spec.get("start_char", 1)))[0]
    if encoding == "bag_of_words":
        return bag_of_words(flat, offsets, int(input_shape[1]), int(spec.get("index_from", 3)))
    raise ValueError(f"unknown input-example encoding {encoding!r}")
