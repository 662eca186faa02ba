"""Explain a saved Keras model with input gradients: `inputgrad explain MODEL ...`.

Continuous inputs (pixels, bag-of-words) are attributed directly. Models whose first layer
after the input is an `Embedding` (token ids are categorical, so not differentiable) are
attributed with respect to the embedding output, as in the paper's Sec. 5.1, and reduced to
one number per token: the L2 norm of the gradient, or for products with the input the sum over
the embedding dimensions.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from . import gradients as G

METHODS = ("gradient", "gradient_x_input", "integrated_gradients", "smoothgrad")


def split_embedding(model: keras.Model):
    """(embed, head) callables if the model starts with an Embedding layer, else None."""
    embedding = next((l for l in model.layers if isinstance(l, keras.layers.Embedding)), None)
    if embedding is None:
        return None
    head = next((l for l in model.layers if isinstance(l, keras.Model)), None)
    if head is None:
        rest = [l for l in model.layers[model.layers.index(embedding) + 1:]]
        head = keras.Sequential(rest)
    return (lambda ids: embedding(ids)), (lambda e: head(e, training=False))


def attribute(f, x, method: str, output: str, classes, steps: int = 32, samples: int = 16,
              noise: float = 0.1, seed: int = 0, batch_size: int = 256) -> dict:
    if method not in METHODS:
        raise ValueError(f"--method: {method!r} is not one of {', '.join(METHODS)}")
    if method == "gradient":
        grads, outs = G.gradient(f, x, output, classes, batch_size)
        return {"attributions": grads, "outputs": outs}
    if method == "gradient_x_input":
        return {"attributions": G.gradient_x_input(f, x, output, classes, batch_size)}
    if method == "integrated_gradients":
        att, gap = G.integrated_gradients(f, x, None, steps, output, classes, batch_size)
        return {"attributions": att, "completeness_gap": gap}
    return {"attributions": G.smoothgrad(f, x, noise, samples, seed, output, classes, batch_size)}


def explain_array(model: keras.Model, x: np.ndarray, method: str = "gradient",
                  output: str = "logit", classes="predicted", **kw) -> dict:
    """Attributions for a batch of model inputs; token-id inputs are reduced per token."""
    parts = split_embedding(model)
    if parts is None:
        f = lambda z: model(z, training=False)  # noqa: E731
        result = attribute(f, np.asarray(x, np.float32), method, output, classes, **kw)
    else:
        embed, head = parts
        emb = embed(np.asarray(x, np.int32)).numpy()
        result = attribute(head, emb, method, output, classes, **kw)
        att = result["attributions"]
        result["per_token"] = (np.linalg.norm(att, axis=-1) if method in ("gradient", "smoothgrad")
                               else att.sum(axis=-1))
    result["predictions"] = G._transform(model(np.asarray(x), training=False), output).numpy()
    return result


def encode_text(text: str, word_index: dict, num_words: int, maxlen: int,
                start_char: int = 1, oov_char: int = 2, index_from: int = 3):
    """Keras IMDB encoding of one text: (ids (1, maxlen), tokens shown at each column)."""
    from .data import Reviews, pad_reviews
    from .prepare import tokenize, word_ids

    tokens = tokenize(text)
    ids = np.asarray(word_ids(tokens, word_index, num_words, oov_char, index_from), np.int32)
    reviews = Reviews(ids, np.arange(len(ids)), np.array([0, len(ids)]), np.array(["text"]),
                      np.array([0]), np.array([0]))
    x, position = pad_reviews(reviews, maxlen, start_char)
    shown = [(tokens[p] if ids[p] != oov_char else f"[{tokens[p]}]") if p >= 0 else ""
             for p in position[0]]
    return x, shown, position[0]


def explain_text(model: keras.Model, text: str, word_index_path, method: str = "gradient",
                 output: str = "probability", **kw) -> pd.DataFrame:
    """One row per word of `text`: its attribution score, in text order."""
    embedding = next(l for l in model.layers if isinstance(l, keras.layers.Embedding))
    word_index = json.loads(Path(word_index_path).read_text())
    x, shown, position = encode_text(text, word_index, embedding.input_dim, model.input_shape[1])
    result = explain_array(model, x, method, output, "predicted", **kw)
    keep = position >= 0
    table = pd.DataFrame({"position": position[keep], "word": np.asarray(shown)[keep],
                          "score": result["per_token"][0][keep]})
    table.attrs["prediction"] = float(result["predictions"].ravel()[0])
    return table
