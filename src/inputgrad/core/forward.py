"""Batched forward passes: a model function's outputs for many rows, a batch at a time, so a
large input set never goes through the model (and its activations) at once."""

from __future__ import annotations

import numpy as np


def logits(f, x, batch_size: int) -> np.ndarray:
    """f(x) batch by batch as one array (n, k); float rows go in as float32 tensors, integer
    rows (token ids) as they are. TensorFlow is imported here, not by the importing module."""
    import tensorflow as tf

    x = np.asarray(x)
    dtype = tf.float32 if x.dtype.kind == "f" else None
    return np.concatenate([f(tf.convert_to_tensor(x[s:s + batch_size], dtype=dtype)).numpy()
                           for s in range(0, len(x), batch_size)])
