"""Explain a saved Keras model with input gradients: `inputgrad explain MODEL ...`.

Every method comes from the one registry, `core.methods`. Continuous inputs (pixels,
bag-of-words) are attributed directly. Models whose first layer after the input is an
`Embedding` (token ids are categorical, so not differentiable) are attributed with respect to
the embedding output, as in the paper's Sec. 5.1, and reduced to one number per token: the L2
norm for methods ranked by magnitude (gradient, SmoothGrad), else (products with the input)
the sum over the embedding dimensions.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from .core.gradients import transform
from .core.methods import METHODS, attribute, completeness_gap, resolve_target
from .core.models import model_fn, split_embedding
from .data.arrays import Reviews, pad_reviews
from .data.prepare import tokenize, word_ids


def explain_array(model: keras.Model, x: np.ndarray, method: str = "gradient",
                  output: str = "logit", target="predicted", batch_size: int = 256,
                  **options) -> dict:
    """Attributions for a batch of model inputs; token-id inputs are reduced per token.

    options: the method's own (IG: steps, baseline; SmoothGrad: samples, noise, seed).
    Path methods (IG) also return their completeness gap per example."""
    parts = split_embedding(model)
    if parts is None:
        f, inputs = model_fn(model), np.asarray(x, np.float32)
    else:
        embed, f = parts
        inputs = embed(np.asarray(x, np.int32))
    classes = resolve_target(f, inputs, target, batch_size)  # once, for the gap too
    att = attribute(method, f, inputs, target=classes, output=output, batch_size=batch_size,
                    **options)
    result = {"attributions": att}
    if METHODS[method].path:
        result["completeness_gap"] = completeness_gap(f, inputs, att, classes, output,
                                                      options.get("baseline"), batch_size)
    if parts is not None:
        result["per_token"] = (np.linalg.norm(att, axis=-1) if METHODS[method].absolute
                               else att.sum(axis=-1))
    result["predictions"] = transform(model_fn(model)(np.asarray(x)), output).numpy()
    return result


def encode_text(text: str, word_index: dict, num_words: int, maxlen: int,
                start_char: int = 1, oov_char: int = 2, index_from: int = 3):
    """Keras IMDB encoding of one text: (ids (1, maxlen), tokens shown at each column)."""
    tokens = tokenize(text)
    ids = np.asarray(word_ids(tokens, word_index, num_words, oov_char, index_from), np.int32)
    reviews = Reviews(ids, np.arange(len(ids)), np.array([0, len(ids)]), np.array(["text"]),
                      np.array([0]), np.array([0]))
    x, position = pad_reviews(reviews, maxlen, start_char)
    shown = [(tokens[p] if ids[p] != oov_char else f"[{tokens[p]}]") if p >= 0 else ""
             for p in position[0]]
    return x, shown, position[0]


def explain_text(model: keras.Model, text: str, word_index_path, method: str = "gradient",
                 output: str = "probability", **options) -> pd.DataFrame:
    """One row per word of `text`: its attribution score, in text order."""
    embedding = next(lay for lay in model.layers if isinstance(lay, keras.layers.Embedding))
    word_index = json.loads(Path(word_index_path).read_text())
    x, shown, position = encode_text(text, word_index, embedding.input_dim, model.input_shape[1])
    result = explain_array(model, x, method, output, "predicted", **options)
    keep = position >= 0
    table = pd.DataFrame({"position": position[keep], "word": np.asarray(shown)[keep],
                          "score": result["per_token"][0][keep]})
    table.attrs["prediction"] = float(result["predictions"].ravel()[0])
    return table
