"""Explain a saved Keras model with input gradients: `inputgrad explain MODEL ...`.

Every method comes from the one registry, `core.methods`. Continuous inputs (pixels,
bag-of-words) are attributed directly. Models whose first layer after the input is an
`Embedding` (token ids are categorical, so not differentiable) are attributed with respect to
the embedding output, as in the paper's Sec. 5.1, and reduced to one number per token: the L2
norm for methods ranked by magnitude (gradient, SmoothGrad), else (products with the input)
the sum over the embedding dimensions.

Display options (`core.groups`): `group` sums the map over feature groups (k x k patches of an
image; non-overlapping windows of k words of a text), which preserves its total; `normalize`
("none", "abs", "zscore" per example) is applied last, to every map returned.

User mistakes (a file that is missing or not a model, an input of the wrong shape or dtype, a
--target out of range, a model without an Embedding layer for --text, ...) raise
`ExplainError`, whose message names the flag, file or value; the CLI prints it as one line.
Arguments are checked before the model is loaded, and the module imports Keras (TensorFlow)
only inside the functions that need a Keras model, so those checks, `--help` and scikit-learn
models (`explain_sklearn`, which reuses the input, --out and display code here) run without it.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .core import groups
from .core.methods import METHODS, attribute, completeness_gap, names, resolve_target
from .data.prepare import tokenize
from .infra.errors import InputgradError

if TYPE_CHECKING:  # Keras (TensorFlow) is imported by the functions that need a Keras model,
    import keras  # so argument checks and scikit-learn models (explain_sklearn) run without it
    import pandas as pd

WORD_INDEX = Path("data/raw/imdb_word_index.json")  # under results/ in the workflow
MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
GRADIENT_METHODS = names("gradient")  # what explain can run: the others need section data


class ExplainError(InputgradError, ValueError):
    """A bad `inputgrad explain` argument, file or value; the message names it."""


def model_file(path, suffixes) -> Path:
    """`path` as a Path if it is a file, else ExplainError saying what it is instead."""
    path = Path(path)
    if path.is_dir():
        raise ExplainError(f"model {path} is a directory, not a model file "
                           f"({', '.join(suffixes)})")
    if not path.is_file():
        raise ExplainError(f"model file {path} does not exist")
    return path


def load_model(path) -> keras.Model:
    """The Keras model saved at `path`, or ExplainError naming the file and why not."""
    path = model_file(path, MODEL_SUFFIXES)
    if path.suffix.lower() not in MODEL_SUFFIXES:
        why = "not a .keras or .h5 file; scikit-learn models: .skops, .joblib, .pkl"
    elif path.suffix.lower() == ".keras" and not zipfile.is_zipfile(path):
        why = "not a .keras zip archive"
    else:
        from .core.models import load_model as load_keras_model

        try:
            return load_keras_model(path, compile=True)
        except Exception as err:  # corrupt or foreign archive: Keras raises many kinds
            why = f"{type(err).__name__}: {_first_line(err)}"
    raise ExplainError(f"cannot load {path} as a Keras model ({why})")


NPY_MAGIC, ZIP_MAGIC = b"\x93NUMPY", b"PK\x03\x04"


def load_input(path, key: str = "x") -> np.ndarray:
    """The array in a .npy file, or the one named `key` in an .npz file (told apart by their
    first bytes, not their names). Arrays of Python objects are refused: unpickling them could
    run code."""
    path = Path(path)
    if path.is_dir():
        raise ExplainError(f"input {path} is a directory, not a .npy or .npz file")
    if not path.is_file():
        raise ExplainError(f"input file {path} does not exist")
    with open(path, "rb") as fh:
        head = fh.read(len(NPY_MAGIC))
    if not (head.startswith(NPY_MAGIC) or head.startswith(ZIP_MAGIC)):
        raise ExplainError(f"input {path} is not a .npy or .npz file (it starts with {head!r}, "
                           f"not a NumPy header)")
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            return np.asarray(data)
        with data:
            files = data.files
            if key in files:
                return data[key]
    except ValueError as err:
        if "allow_pickle" in str(err):
            raise ExplainError(f"input {path} holds an array of Python objects, which explain "
                               f"does not load (unpickling runs code); save a numeric "
                               f"array") from err
        raise ExplainError(f"cannot read input {path} as a .npy or .npz array "
                           f"({_first_line(err)})") from err
    except (OSError, EOFError, KeyError, zipfile.BadZipFile) as err:
        raise ExplainError(f"cannot read input {path} as a .npy or .npz array "
                           f"({_first_line(err)})") from err
    raise ExplainError(f"key {key!r} not in {path} (has {files}; use --key)")


def check_out(path) -> Path:
    """ExplainError unless `path` (--out) names a .npz file that can be written: not a
    directory, in an existing, writable folder."""
    path = Path(path)
    if path.is_dir():
        raise ExplainError(f"--out {path} is a directory; name a file, e.g. "
                           f"{path / 'attributions.npz'}")
    if path.suffix.lower() != ".npz":
        raise ExplainError(f"--out {path} must end in .npz (the file written is a NumPy .npz "
                           f"archive)")
    folder = path.parent
    if not folder.is_dir():
        why = "is not a folder" if folder.exists() else "does not exist"
        raise ExplainError(f"--out {path}: folder {folder} {why}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExplainError(f"--out {path}: folder {folder} is not writable")
    return path


def embedding_layer(model: keras.Model, name=None):
    """The model's Embedding layer; ExplainError (for --text) if it has none."""
    import keras

    layer = next((lay for lay in model.layers if isinstance(lay, keras.layers.Embedding)), None)
    if layer is None:
        raise ExplainError(f"--text needs a model with an Embedding layer; "
                           f"{name or model.name} has none (use --input)")
    return layer


def find_word_index(model_path) -> Path:
    """The IMDB word index for a model file: data/raw/imdb_word_index.json in the nearest
    folder above the model that has one (the workflow's results/models/<model>/seed<N>/
    model.keras finds results/data/raw/...), else results/data/raw/... under the working
    directory (the old default)."""
    for folder in Path(model_path).resolve().parents:
        if (folder / WORD_INDEX).is_file():
            return folder / WORD_INDEX
    if (Path("results") / WORD_INDEX).is_file():
        return Path("results") / WORD_INDEX
    raise ExplainError(f"no word index found for {model_path} (no {WORD_INDEX} in the folders "
                       f"above it); give one with --word-index FILE")


def read_word_index(path) -> dict:
    """A Keras word index: a JSON object word -> rank (int)."""
    path = Path(path)
    if path.is_dir():
        raise ExplainError(f"word index {path} (--word-index) is a directory, not a JSON file")
    if not path.is_file():
        raise ExplainError(f"word index {path} (--word-index) does not exist")
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ExplainError(f"word index {path} (--word-index) is not readable JSON "
                           f"({_first_line(err)})") from err
    if not (isinstance(index, dict) and all(type(v) is int for v in index.values())):
        raise ExplainError(f"word index {path} (--word-index) is not a JSON object mapping "
                           f"words to integer ranks")
    if not index:
        raise ExplainError(f"word index {path} (--word-index) has no words")
    return index


def check_input(model: keras.Model, x: np.ndarray, name: str = "x") -> None:
    """ExplainError unless x is a batch the model takes: numbers of shape (n, *input_shape);
    integer token ids in [0, input_dim) for a model that starts with an Embedding layer."""
    from .core.models import split_embedding

    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise ExplainError(f"input {name} has dtype {x.dtype}; the model expects numbers")
    expected = tuple(model.input_shape[1:])
    if x.ndim != len(expected) + 1 or any(e is not None and e != s
                                          for e, s in zip(expected, x.shape[1:], strict=True)):
        dims = ", ".join("?" if e is None else str(e) for e in expected)
        raise ExplainError(f"input {name} has shape {x.shape}; the model expects (n, {dims})")
    if len(x) == 0:
        raise ExplainError(f"input {name} has no rows (shape {x.shape})")
    if split_embedding(model) is not None:
        vocab = embedding_layer(model).input_dim
        if x.dtype.kind not in "iu":
            raise ExplainError(f"input {name} has dtype {x.dtype}; the model takes integer "
                               f"token ids")
        low, high = int(x.min()), int(x.max())
        if low < 0 or high >= vocab:
            raise ExplainError(f"input {name} has token ids in [{low}, {high}]; the model's "
                               f"Embedding takes ids in [0, {vocab})")
    elif not np.isfinite(x).all():
        raise ExplainError(f"input {name} has NaN or infinite values")


def check_text(text: str) -> None:
    """ExplainError if `text` is not valid UTF-8 (the command line hands undecodable bytes over
    as lone surrogates) or has no tokens (empty, or only punctuation and spaces)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        char = ord(text[err.start])
        what = (f"byte 0x{char - 0xDC00:02x}" if 0xDC80 <= char <= 0xDCFF  # an undecodable byte
                else f"character U+{char:04X}")
        shown = "".join(f"\\x{ord(c) - 0xDC00:02x}" if 0xDC80 <= ord(c) <= 0xDCFF else c
                        for c in text)
        raise ExplainError(f"--text is not valid UTF-8: {what} at position {err.start} of "
                           f"'{shown}'") from None
    if not tokenize(text):
        raise ExplainError("--text has no words")


def check_target(model: keras.Model, target) -> None:
    """ExplainError unless target is "predicted", "all" or class indices of the model."""
    classes = model.output_shape[-1]
    if isinstance(target, str):
        if target not in ("predicted", "all"):
            raise ExplainError(f"--target must be predicted, all or a class index, "
                               f"got {target!r}")
        return
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        values = [int(target)]  # a Python int of any size (24 digits too)
    else:
        t = np.asarray(target)
        if t.dtype.kind not in "iu":
            raise ExplainError(f"--target must be predicted, all or a class index, "
                               f"got {target!r}")
        values = t.ravel().tolist()
    bad = next((v for v in values if v < 0 or v >= classes), None)
    if bad is not None:
        if classes == 1:
            raise ExplainError(f"--target {bad} is out of range: the model has a single output "
                               f"(binary), so only 0 is allowed")
        raise ExplainError(f"--target {bad} is out of range: the model has {classes} classes, "
                           f"so use 0 to {classes - 1}")


def _first_line(err: BaseException, limit: int = 160) -> str:
    text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
    text = (text.strip().splitlines() or [type(err).__name__])[0].strip()
    return text if len(text) <= limit else text[:limit - 3] + "..."


def check_display(normalize_how: str, group) -> None:
    """ExplainError unless --normalize is known and --group is a whole number >= 1 (or None)."""
    if normalize_how not in groups.NORMALIZE:
        raise ExplainError(f"--normalize must be one of {', '.join(groups.NORMALIZE)}, "
                           f"got {normalize_how!r}")
    if group is not None and (isinstance(group, bool) or not isinstance(group, (int, np.integer))
                              or group < 1):
        raise ExplainError(f"--group must be a whole number >= 1, got {group!r}")


def image_groups(shape: tuple, k: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Labels of k x k patches for inputs of `shape` (one example: (h, w), (h, w, c) or a
    square number of pixels) and the patch grid; ExplainError for other inputs."""
    if len(shape) >= 2:
        h, w = shape[0], shape[1]
    else:
        side = int(round(np.sqrt(shape[0])))
        if side * side != shape[0]:
            raise ExplainError(f"--group needs image inputs ((n, h, w) or a square number of "
                               f"pixels) or token ids; got {shape[0]} features per example")
        h = w = side
    labels = groups.patch_groups(h, w, k)
    if len(shape) > 2:  # channels share their pixel's patch
        labels = np.repeat(labels, int(np.prod(shape[2:])))
    return labels, groups.patch_grid(h, w, k)


def token_positions(x: np.ndarray, start_char: int = 1) -> np.ndarray:
    """Position of each word column among the row's words (0, 1, ...), -1 for padding (id 0)
    and the start marker."""
    words = (x != 0) & (x != start_char)
    return np.where(words, np.cumsum(words, axis=1) - 1, -1)


def display(result: dict, x: np.ndarray, embedded: bool, group, normalize_how: str) -> dict:
    """Add `grouped` (group sums of the map, and `groups`, the labels) when `group` is set,
    then normalise every map (`attributions`, `per_token`, `grouped`)."""
    if group is not None:
        if embedded:
            labels = groups.window_groups(token_positions(np.asarray(x)), group)
            result["grouped"] = groups.group_sums(result["per_token"], labels,
                                                  max(int(labels.max()) + 1, 1))
        else:
            labels, grid = image_groups(np.asarray(x).shape[1:], group)
            result["grouped"] = groups.group_sums(result["attributions"], labels).reshape(
                (len(x),) + grid)
            labels = labels.reshape(np.asarray(x).shape[1:])
        result["groups"] = labels
    for key in ("attributions", "per_token", "grouped"):
        if key in result:
            result[key] = groups.normalize(result[key], normalize_how)
    return result


def explain_array(model: keras.Model, x: np.ndarray, method: str = "gradient",
                  output: str = "logit", target="predicted", batch_size: int = 256,
                  normalize: str = "none", group: int | None = None, **options) -> dict:
    """Attributions for a batch of model inputs; token-id inputs are reduced per token.

    options: the method's own (IG: steps, baseline; SmoothGrad: samples, noise, seed).
    Path methods (IG) also return their completeness gap per example (of the raw map).
    group / normalize: see `display`. A bad x, target, group or normalize raises
    ExplainError."""
    from .core.gradients import transform
    from .core.models import model_fn, split_embedding

    check_input(model, x)
    check_target(model, target)
    check_display(normalize, group)
    check_options(method, options)
    m = check_method(method)
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
    if m.path:
        result["completeness_gap"] = completeness_gap(f, inputs, att, classes, output,
                                                      options.get("baseline"), batch_size)
    if parts is not None:  # the method's own reduction over the embedding axis
        result["per_token"] = (np.linalg.norm(att, axis=-1) if m.reduce == "norm"
                               else att.sum(axis=-1))
    result["predictions"] = transform(model_fn(model)(np.asarray(x)), output).numpy()
    return display(result, x, parts is not None, group, normalize)


def check_options(method: str, options: dict) -> None:
    """ExplainError unless the method's options are usable: --steps (path methods) and
    --samples (noise methods) whole numbers >= 1, --noise a finite number >= 0."""
    m = check_method(method)
    whole = [("steps", "--steps")] if m.path else []
    whole += [("samples", "--samples")] if m.noise else []
    for key, flag in whole:
        value = options.get(key)
        whole_number = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
        if value is not None and not (whole_number and value >= 1):
            raise ExplainError(f"{flag} must be a whole number >= 1, got {value!r}")
    noise = options.get("noise") if m.noise else None
    if noise is not None and (isinstance(noise, bool) or not isinstance(noise, (int, float))
                              or not np.isfinite(noise) or noise < 0):
        raise ExplainError(f"--noise must be a finite number >= 0, got {noise!r}")


def check_method(method: str):
    """The registry's method; explain takes the gradient methods (the others need a
    section's data: token features, weights)."""
    if method not in METHODS:
        raise ExplainError(f"--method {method!r} is not a method; known: {', '.join(METHODS)}")
    m = METHODS[method]
    if m.needs != "gradient":
        raise ExplainError(f"--method {method} needs {m.needs!r}, not a gradient; explain "
                           f"takes {', '.join(GRADIENT_METHODS)}")
    return m


def encode_text(text: str, word_index: dict, num_words: int, maxlen: int,
                start_char: int = 1, oov_char: int = 2, index_from: int = 3):
    """Keras IMDB encoding of one text: (ids (1, maxlen), tokens shown at each column)."""
    from .data.arrays import Reviews, pad_reviews
    from .data.prepare import word_ids

    tokens = tokenize(text)
    ids = np.asarray(word_ids(tokens, word_index, num_words, oov_char, index_from), np.int32)
    reviews = Reviews(ids, np.arange(len(ids)), np.array([0, len(ids)]), np.array(["text"]),
                      np.array([0]), np.array([0]))
    x, position = pad_reviews(reviews, maxlen, start_char)
    shown = [(tokens[p] if ids[p] != oov_char else f"[{tokens[p]}]") if p >= 0 else ""
             for p in position[0]]
    return x, shown, position[0]


def explain_text(model: keras.Model, text: str, word_index_path, method: str = "gradient",
                 output: str = "probability", normalize: str = "none",
                 group: int | None = None, **options) -> pd.DataFrame:
    """One row per word of `text` (per window of `group` words if set: the words joined, the
    position of the first, the sum of their scores): its attribution score, in text order,
    normalised over the rows by `normalize`."""
    import pandas as pd

    embedding = embedding_layer(model)
    check_text(text)
    check_display(normalize, group)
    word_index = read_word_index(word_index_path)
    x, shown, position = encode_text(text, word_index, embedding.input_dim, model.input_shape[1])
    result = explain_array(model, x, method, output, "predicted", **options)
    keep = position >= 0
    table = pd.DataFrame({"position": position[keep], "word": np.asarray(shown)[keep],
                          "score": result["per_token"][0][keep]})
    if group is not None:
        table = (table.groupby(table["position"] // group, sort=True)
                 .agg(position=("position", "first"), word=("word", " ".join),
                      score=("score", "sum")).reset_index(drop=True))
    table["score"] = groups.normalize(table["score"].to_numpy()[None], normalize)[0]
    table.attrs["prediction"] = float(result["predictions"].ravel()[0])
    return table
