"""Model registry: name -> builder. Every model returns logits; sigmoid/softmax live outside.

`model_cfg` is the resolved `model:` section of an experiment's Hydra config; its `name`
selects the builder, the other keys are the builder's arguments.
"""

from __future__ import annotations

from functools import lru_cache

import keras
from keras import layers

MODELS = {}


def register(name):
    def deco(fn):
        MODELS[name] = fn
        return fn
    return deco


def build(model_cfg: dict) -> keras.Model:
    cfg = dict(model_cfg)
    name = cfg.pop("name")
    if name not in MODELS:
        raise KeyError(f"model.name: unknown model {name!r}; known: {', '.join(sorted(MODELS))}")
    return MODELS[name](**cfg)


@register("mnist_mlp")
def mnist_mlp(inputs: int = 784, hidden: tuple = (512, 512), dropout: float = 0.2,
              classes: int = 10) -> keras.Model:
    """The Keras `mnist_mlp` example: Dense-ReLU-Dropout blocks, then a linear output."""
    x_in = keras.Input((inputs,), name="pixels")
    x = x_in
    for units in hidden:
        x = layers.Dense(units, activation="relu")(x)
        x = layers.Dropout(dropout)(x)
    return keras.Model(x_in, layers.Dense(classes, name="logits")(x), name="mnist_mlp")


@register("mnist_logreg")
def mnist_logreg(inputs: int = 784, classes: int = 10) -> keras.Model:
    """Multinomial logistic regression: one dense layer on the pixels (softmax outside)."""
    x_in = keras.Input((inputs,), name="pixels")
    return keras.Model(x_in, layers.Dense(classes, name="logits")(x_in), name="mnist_logreg")


@register("imdb_cnn")
def imdb_cnn(num_words: int = 5000, maxlen: int = 400, embedding_dim: int = 50,
             filters: int = 250, kernel_size: int = 3, hidden: int = 250,
             dropout: float = 0.2) -> keras.Model:
    """The Keras `imdb_cnn` example. The layers after the embedding form the sub-model
    `head`, so gradients can be taken with respect to the embedding output.

    The example's Conv1D(ReLU) -> GlobalMaxPooling1D is built as Conv1D -> GlobalMaxPooling1D
    -> ReLU: ReLU is monotone, so max_t relu(z_t) = relu(max_t z_t) and the function (and its
    outputs, bit for bit; tested) is the same, while the gradient pass no longer runs ReLU's
    gradient over every (position, filter) pair."""
    ids = keras.Input((maxlen,), dtype="int32", name="word_ids")
    emb = layers.Embedding(num_words, embedding_dim, name="embedding")(ids)
    head = keras.Sequential([
        keras.Input((maxlen, embedding_dim)),
        layers.Dropout(dropout),
        layers.Conv1D(filters, kernel_size, padding="valid", strides=1),
        layers.GlobalMaxPooling1D(),
        layers.Activation("relu"),
        layers.Dense(hidden),
        layers.Dropout(dropout),
        layers.Activation("relu"),
        layers.Dense(1, name="logit"),
    ], name="head")
    return keras.Model(ids, head(emb), name="imdb_cnn")


@register("imdb_bow_mlp")
def imdb_bow_mlp(vocab_size: int = 5000, hidden: tuple = (64, 64),
                 dropout: float = 0.5) -> keras.Model:
    """Fully connected network on the binary bag-of-words vector; no hidden layer =
    logistic regression."""
    x_in = keras.Input((vocab_size,), name="bag_of_words")
    x = x_in
    for units in hidden:
        x = layers.Dense(units, activation="relu")(x)
        x = layers.Dropout(dropout)(x)
    return keras.Model(x_in, layers.Dense(1, name="logit")(x), name="imdb_bow_mlp")


@lru_cache(maxsize=16)
def load_model(path, compile: bool = False) -> keras.Model:  # noqa: A002 (Keras' name)
    """The Keras model saved at `path`. compile=False (the default): without its optimizer,
    loss and metrics, which no attribution, table or figure needs; compile=True restores them
    as Keras does by default."""
    return keras.models.load_model(path, compile=compile)


def model_fn(model: keras.Model):
    """The model as a function of its input, in inference mode (dropout off). Cached per model,
    so the gradient primitive (whose compile cache is keyed by this function) traces once."""

    def f(x):
        return model(x, training=False)

    return f


@lru_cache(maxsize=16)
def split_embedding(model: keras.Model):
    """(embed, head) if the model starts with an Embedding layer, else None.

    Token ids are categorical, so gradients are taken with respect to the embedding output
    (paper 5.1): embed(ids) -> (n, maxlen, dim) array, head(e) -> logits, inference mode. The
    head is the nested sub-model of `imdb_cnn` (or the layers after the embedding). Cached per
    model: one compiled gradient per model, however often it is called.
    """
    embedding = next((lay for lay in model.layers if isinstance(lay, layers.Embedding)), None)
    if embedding is None:
        return None
    head = next((lay for lay in model.layers if isinstance(lay, keras.Model)), None)
    if head is None:
        head = keras.Sequential(model.layers[model.layers.index(embedding) + 1:])

    def embed(ids):
        return embedding(ids).numpy()

    def f(e):
        return head(e, training=False)

    return embed, f


def reinitialised(model, seed: int):
    """Same architecture, fresh weights from its initialisers (seeded)."""
    import keras

    keras.utils.set_random_seed(seed)
    clone = keras.models.clone_model(model)
    clone.build(model.input_shape)
    return clone
