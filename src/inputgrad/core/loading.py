"""Saved Keras models, loaded one way everywhere, and fresh copies of them.

Keras is imported inside the functions, so the table and figure rules that import the modules
using these start without TensorFlow."""

from __future__ import annotations


def load_model(path):
    """The saved model for inference: compile=False, since no stage trains a loaded model
    and compiling restores an optimizer (and its warnings) for nothing."""
    import keras

    return keras.models.load_model(path, compile=False)


def reinitialised(model, seed: int):
    """Same architecture, fresh weights from its initialisers (seeded)."""
    import keras

    keras.utils.set_random_seed(seed)
    clone = keras.models.clone_model(model)
    clone.build(model.input_shape)
    return clone
