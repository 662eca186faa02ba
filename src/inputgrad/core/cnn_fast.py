"""Exact fast paths for a word CNN of the `imdb_cnn` shape: Embedding -> (Dropout) -> Conv1D
(valid, stride 1) -> GlobalMaxPooling1D -> any tail. Selected by the model's structure
(`conv_maxpool`); any other model keeps the general paths (the gradient primitive, the naive
occlusion). See docs/imdb_cnn.md ("Fast exact paths").

Per-word logit-gradient norms (`logit_gradient_norms`). The max pool passes gradient only to
the position(s) that hold each filter's maximum. TensorFlow's gradient of `reduce_max` splits
it equally among tied positions (indicator / count); we do the same, so ties are not a change
of semantics: every position t with z[t, f] == max_t z[t, f] gets (1 / count) * dlogit/dm[f].
Instead of the dense elementwise passes over the (b, windows, filters) activations and the
dense Conv1D input-gradient, the selected positions' contributions g * W[k, :, f] are
scatter-added (`unsorted_segment_sum`) onto the K words of their window: about
filters x K x dim numbers per review instead of windows x filters x K x dim. Same function,
same gradient; only the summation order of the float32 sums differs (last digits).
For a Conv1D with a ReLU inside, a filter whose maximum is 0 passes no gradient (ReLU's
gradient is 0 there), as in TensorFlow.
Padding. Reviews are pre-padded with id 0, and every window inside the padding is the same
window. The norms go through in batches sorted by their leading padding; in a batch whose rows
all start with p > K padding columns, the p - K windows before the last all-padding window are
not computed: they tie with it, so they add p - K to its ties wherever it holds a filter's
maximum, and its share of the gradient goes to their words as well. Same function, same
gradient, ties included; float32 sums in another order (last digits).

LIME (`shared_prefix_logits`): the rows of one review's neighbourhood share its padding and
start mark; the windows inside those shared columns are computed once per batch.

Occlusion (`occlusion_logits`). Replacing word j changes only the K windows that contain it.
The max pool of the occluded review is max(the maximum over the untouched windows, from
prefix and suffix running maxima of the clean activations; the K recomputed windows), then the
tail gives the logit. The recomputed windows go through the model's own Conv1D layer on a
(2K - 1)-word slice, so they are the same numbers up to float32 summation order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import keras
import numpy as np
import tensorflow as tf
from keras import layers

VARIANT = "conv_maxpool"  # the name the stages record for this path


@dataclass(frozen=True)
class ConvMaxPool:
    embedding: layers.Embedding
    conv: layers.Conv1D
    tail: tuple  # the layers after the max pool, called in order in inference mode
    relu_in_conv: bool

    @property
    def kernel_size(self) -> int:
        return int(self.conv.kernel_size[0])


def _layer_chain(model: keras.Model) -> list | None:
    """The model's layers in call order, nested Sequential heads flattened; None if the model
    is not a plain chain (Input -> layer -> layer ...)."""
    chain = [lay for lay in model.layers if not isinstance(lay, layers.InputLayer)]
    if not isinstance(model, keras.Sequential) and len(chain) > 2:
        return None  # a functional graph with more than embedding -> head: not known to be a chain
    flat = []
    for lay in chain:
        if isinstance(lay, keras.Sequential):
            flat += [inner for inner in lay.layers if not isinstance(inner, layers.InputLayer)]
        elif isinstance(lay, keras.Model):
            return None
        else:
            flat.append(lay)
    return flat


def _plain_conv(conv) -> str | None:
    """'linear' or 'relu' if the Conv1D is the one the fast paths assume, else None."""
    cfg = conv.get_config()
    plain = (cfg["padding"] == "valid" and tuple(cfg["strides"]) == (1,)
             and tuple(cfg["dilation_rate"]) == (1,) and cfg.get("groups", 1) == 1
             and cfg["data_format"] == "channels_last" and cfg["use_bias"])
    activation = cfg["activation"]
    return activation if plain and activation in ("linear", "relu") else None


@lru_cache(maxsize=16)
def conv_maxpool(model: keras.Model) -> ConvMaxPool | None:
    """The model's parts if it is Embedding -> Dropout* -> Conv1D -> GlobalMaxPooling1D -> tail
    with a single output, else None (then the general paths apply)."""
    chain = _layer_chain(model)
    if not chain or not isinstance(chain[0], layers.Embedding) or chain[0].mask_zero:
        return None
    rest = chain[1:]
    while rest and isinstance(rest[0], layers.Dropout):  # identity in inference mode
        rest = rest[1:]
    if len(rest) < 2 or not isinstance(rest[0], layers.Conv1D):
        return None
    pool = rest[1]
    if (not isinstance(pool, layers.GlobalMaxPooling1D) or pool.keepdims
            or pool.data_format != "channels_last" or model.output_shape[-1] != 1):
        return None
    activation = _plain_conv(rest[0])
    if activation is None:
        return None
    return ConvMaxPool(chain[0], rest[0], tuple(rest[2:]), activation == "relu")


def _tail(parts: ConvMaxPool, m):
    for lay in parts.tail:
        m = lay(m, training=False)
    return m


@lru_cache(maxsize=16)
def _norms_fn(parts: ConvMaxPool):
    kernel = tf.transpose(parts.conv.kernel, (2, 0, 1))  # (filters, K, dim)
    k = parts.kernel_size

    @tf.function(reduce_retracing=True)
    def fn(ids):
        e = parts.embedding(ids)
        z = parts.conv(e)  # (b, windows, filters)
        m = tf.reduce_max(z, axis=1)  # = GlobalMaxPooling1D
        with tf.GradientTape() as tape:
            tape.watch(m)
            logit = _tail(parts, m)[:, 0]
        g = tape.gradient(logit, m)  # (b, filters)
        selected = tf.equal(z, m[:, None, :])
        if parts.relu_in_conv:  # relu'(0) = 0: a filter at 0 passes nothing
            selected = tf.logical_and(selected, (m > 0)[:, None, :])
        hit = tf.where(selected)  # (N, 3): review, window, filter; ties included
        b, t, f = hit[:, 0], hit[:, 1], hit[:, 2]
        n, length = tf.shape(ids, out_type=tf.int64)[0], tf.shape(ids, out_type=tf.int64)[1]
        filters = tf.shape(g, out_type=tf.int64)[1]
        pair = b * filters + f
        count = tf.math.unsorted_segment_sum(tf.ones_like(pair, g.dtype), pair, n * filters)
        # as TensorFlow's reduce_max gradient: (indicator / count) * upstream gradient
        weight = (1.0 / tf.gather(count, pair)) * tf.gather(tf.reshape(g, [-1]), pair)
        contrib = weight[:, None, None] * tf.gather(kernel, f)  # (N, K, dim)
        word = (b * length + t)[:, None] + tf.range(k, dtype=tf.int64)[None, :]  # (N, K)
        grads = tf.math.unsorted_segment_sum(tf.reshape(contrib, [-1, tf.shape(kernel)[2]]),
                                             tf.reshape(word, [-1]), n * length)
        norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=-1))
        return tf.reshape(norms, tf.shape(ids)), logit

    return fn


@lru_cache(maxsize=16)
def _padded_norms_fn(parts: ConvMaxPool):
    """`_norms_fn` for a batch whose first s + K columns are padding (id 0) in every row, given
    from column s on: the s windows before it equal its first window (all padding), so they
    are not computed; they count in the max pool's ties (s more wherever that window holds
    the maximum) and take its share of the gradient, scattered onto the first s + K - 1
    words."""
    kernel = tf.transpose(parts.conv.kernel, (2, 0, 1))  # (filters, K, dim)
    k = parts.kernel_size

    @tf.function(reduce_retracing=True)
    def fn(rest, s):
        z = parts.conv(parts.embedding(rest))  # (b, windows from window s on, filters)
        m = tf.reduce_max(z, axis=1)
        with tf.GradientTape() as tape:
            tape.watch(m)
            logit = _tail(parts, m)[:, 0]
        g = tape.gradient(logit, m)  # (b, filters)
        selected = tf.equal(z, m[:, None, :])
        if parts.relu_in_conv:
            selected = tf.logical_and(selected, (m > 0)[:, None, :])
        hit = tf.where(selected)
        b, t, f = hit[:, 0], hit[:, 1], hit[:, 2]
        n, length = tf.shape(rest, out_type=tf.int64)[0], tf.shape(rest, out_type=tf.int64)[1]
        filters = tf.shape(g, out_type=tf.int64)[1]
        pair = b * filters + f
        count = tf.math.unsorted_segment_sum(tf.ones_like(pair, g.dtype), pair, n * filters)
        padding = tf.cast(selected[:, 0, :], g.dtype)  # the padding window holds the max
        count = count + tf.cast(s, g.dtype) * tf.reshape(padding, [-1])
        share = tf.reshape(g, [-1]) / tf.maximum(count, 1.0)
        contrib = tf.gather(share, pair)[:, None, None] * tf.gather(kernel, f)  # (N, K, dim)
        word = (b * length + t)[:, None] + tf.range(k, dtype=tf.int64)[None, :]
        grads = tf.math.unsorted_segment_sum(tf.reshape(contrib, [-1, tf.shape(kernel)[2]]),
                                             tf.reshape(word, [-1]), n * length)
        grads = tf.pad(tf.reshape(grads, [n, length, -1]), [[0, 0], [s, 0], [0, 0]])
        # the s skipped windows: window u (u < s) puts share * W[j] on word u + j
        per_window = tf.einsum("bf,fkd->bkd", tf.reshape(share, [n, filters]) * padding, kernel)
        words = tf.range(length + tf.cast(s, tf.int64))[None, :]
        offsets = tf.range(k, dtype=tf.int64)[:, None]
        covers = tf.cast((words >= offsets) & (words < offsets + tf.cast(s, tf.int64)),
                         g.dtype)  # (K, maxlen): window u = word - j is one of the s skipped
        grads = grads + tf.einsum("kw,bkd->bwd", covers, per_window)
        return tf.sqrt(tf.reduce_sum(tf.square(grads), axis=-1)), logit

    return fn


def logit_gradient_norms(parts: ConvMaxPool, ids, batch_size: int = 128
                         ) -> tuple[np.ndarray, np.ndarray]:
    """(norms (n, maxlen) float32 of d logit / d embedding per word, logits (n,) float32).
    Reviews go through in batches of similar padding (sorted by their leading padding
    columns); a batch whose rows all start with more than K padding columns skips the windows
    inside them (`_padded_norms_fn`), the others take `_norms_fn`."""
    ids = np.asarray(ids, np.int32)
    k = parts.kernel_size
    words = ids != 0
    lead = np.where(words.any(axis=1), words.argmax(axis=1), ids.shape[1])
    order = np.argsort(-lead, kind="stable")
    norms = np.empty(ids.shape, np.float32)
    logits = np.empty(len(ids), np.float32)
    for start in range(0, len(ids), batch_size):
        rows = order[start:start + batch_size]
        skip = int(lead[rows].min()) - k  # windows before column `skip` are all padding
        if 0 < skip and skip + k < ids.shape[1]:
            batch_norms, batch_logits = _padded_norms_fn(parts)(
                tf.constant(ids[rows, skip:]), tf.constant(skip, tf.int64))
        else:
            batch_norms, batch_logits = _norms_fn(parts)(tf.constant(ids[rows]))
        norms[rows], logits[rows] = batch_norms.numpy(), batch_logits.numpy()
    return norms, logits


@lru_cache(maxsize=16)
def _conv_fn(parts: ConvMaxPool):
    @tf.function(reduce_retracing=True)
    def fn(ids):
        return parts.conv(parts.embedding(ids))

    return fn


@lru_cache(maxsize=16)
def _tail_fn(parts: ConvMaxPool):
    @tf.function(reduce_retracing=True)
    def fn(m):
        return _tail(parts, m)[:, 0]

    return fn


def occlusion_logits(parts: ConvMaxPool, ids, words, fill: int, batch_size: int = 256
                     ) -> np.ndarray:
    """(n, maxlen) logits of each review with word j replaced by the id `fill`, for every
    column where `words` is True (NaN elsewhere). `batch_size` reviews at a time."""
    ids = np.asarray(ids, np.int32)
    words = np.asarray(words, bool)
    out = np.full(ids.shape, np.nan, np.float32)
    for start in range(0, len(ids), batch_size):
        rows = slice(start, min(start + batch_size, len(ids)))
        review, col = np.nonzero(words[rows])
        if len(review):
            out[rows][review, col] = _occluded_chunk(parts, ids[rows], review, col, fill,
                                                     batch_size)
    return out


def _occluded_chunk(parts, ids, review, col, fill, batch_size) -> np.ndarray:
    k = parts.kernel_size
    z = _conv_fn(parts)(tf.constant(ids)).numpy()  # (r, windows, filters)
    windows = z.shape[1]
    prefix = np.maximum.accumulate(z, axis=1)
    suffix = np.maximum.accumulate(z[:, ::-1], axis=1)[:, ::-1]
    # untouched windows: t < j - K + 1 or t > j
    before, after = col - k, col + 1
    low = np.full((len(col), z.shape[2]), -np.inf, z.dtype)
    keep = before >= 0
    low[keep] = prefix[review[keep], before[keep]]
    high = np.full_like(low, -np.inf)
    keep = after < windows
    high[keep] = suffix[review[keep], after[keep]]
    # the K windows holding word j: words j - K + 1 ... j + K - 1, word j set to `fill`
    offsets = np.arange(-(k - 1), k)
    pos = col[:, None] + offsets[None, :]
    inside = (pos >= 0) & (pos < ids.shape[1])
    piece = np.where(inside, ids[review[:, None], np.clip(pos, 0, ids.shape[1] - 1)], 0)
    piece[:, k - 1] = fill
    start = col - (k - 1)  # window index of the slice's first window
    valid = ((start[:, None] + np.arange(k)[None, :] >= 0)
             & (start[:, None] + np.arange(k)[None, :] < windows))
    conv, tail = _conv_fn(parts), _tail_fn(parts)
    logits = np.empty(len(col), np.float32)
    for s in range(0, len(col), batch_size):
        part = slice(s, min(s + batch_size, len(col)))
        changed = conv(tf.constant(piece[part].astype(np.int32))).numpy()  # (p, K, filters)
        changed = np.where(valid[part][:, :, None], changed, -np.inf).max(axis=1)
        m = np.maximum(np.maximum(low[part], high[part]), changed)
        logits[part] = tail(tf.constant(m)).numpy()
    return logits


@lru_cache(maxsize=16)
def _prefix_fn(parts: ConvMaxPool):
    @tf.function(reduce_retracing=True)
    def fn(head, rest):
        m_head = tf.reduce_max(parts.conv(parts.embedding(head)), axis=1)  # (1, filters)
        m_rest = tf.reduce_max(parts.conv(parts.embedding(rest)), axis=1)  # (b, filters)
        return _tail(parts, tf.maximum(m_head, m_rest))

    return fn


def shared_prefix_logits(parts: ConvMaxPool, ids) -> np.ndarray:
    """(b, 1) logits of token-id rows, computing the windows inside the columns that every
    row shares at its start once (LIME's neighbourhood of one review: its padding and start
    mark). Windows 0 ... p - K lie inside a shared prefix of p columns; their maximum is the
    same for every row and enters the max pool beside the rest's. Same function: the max
    pool over all windows, each window the model's own Conv1D on the same K words (float32
    sums in the layer's order)."""
    ids = np.asarray(ids, np.int32)
    k, length = parts.kernel_size, ids.shape[1]
    differs = np.flatnonzero((ids != ids[:1]).any(axis=0))
    shared = int(differs[0]) if len(differs) else length
    if shared < k or shared >= length:  # no window to share, or no row differs
        return _plain_logits(parts, ids)
    fn = _prefix_fn(parts)
    return fn(tf.constant(ids[:1, :shared]), tf.constant(ids[:, shared - k + 1:])).numpy()


def _plain_logits(parts: ConvMaxPool, ids) -> np.ndarray:
    m = tf.reduce_max(_conv_fn(parts)(tf.constant(ids)), axis=1)
    return _tail_fn(parts)(m).numpy()[:, None]
