"""Turn the raw downloads into arrays: IMDB reviews as Keras-style word ids, MNIST as floats.

IMDB follows `keras.datasets.imdb`: words are ranked by the Keras word index, id = rank +
index_from, ids >= num_words become oov_char; the start marker is added only when model inputs
are built (`inputgrad.data.pad_reviews`), so stored ids line up 1:1 with the review's tokens.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tarfile
from pathlib import Path

import numpy as np

from ..infra.errors import DataError
from ..infra.io import save_npz, write_json

log = logging.getLogger(__name__)

# keras.preprocessing.text.text_to_word_sequence defaults (Keras 2), which built the word index.
KERAS_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
_TRANSLATE = str.maketrans({c: " " for c in KERAS_FILTERS})
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_MEMBER = re.compile(r"^aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")
SPLITS = ("train", "test")
# The published corpora, checked when config download.canonical_counts is true.
IMDB_PER_LABEL = 12_500  # reviews per label and split (aclImdb v1)
MNIST_COUNTS = {"train": 60_000, "test": 10_000}


def tokenize(text: str) -> list[str]:
    """Lowercase, drop HTML line breaks and Keras' default punctuation, split on spaces."""
    return _BREAK.sub(" ", text).lower().translate(_TRANSLATE).split()


def word_ids(tokens: list[str], word_index: dict[str, int], num_words: int,
             oov_char: int = 2, index_from: int = 3) -> list[int]:
    ids = []
    for tok in tokens:
        rank = word_index.get(tok)
        wid = rank + index_from if rank is not None else oov_char
        ids.append(wid if wid < num_words else oov_char)
    return ids


def read_reviews(archive: str | os.PathLike) -> dict[str, list[dict]]:
    """Labelled reviews per split from aclImdb_v1.tar.gz, in a fixed order (pos, neg; by id)."""
    reviews: dict[str, list[dict]] = {s: [] for s in SPLITS}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                match = _MEMBER.match(member.name)
                if not match or not member.isfile():
                    continue
                split, polarity, rid, rating = match.groups()
                reviews[split].append({
                    "review_id": f"{polarity}/{rid}_{rating}",
                    "num": int(rid), "rating": int(rating),
                    "label": int(polarity == "pos"), "text": _text(tar, member, archive),
                })
    except (tarfile.TarError, EOFError, OSError) as err:
        raise DataError(f"{archive}: not a readable .tar.gz archive ({err})") from err
    for split in SPLITS:
        reviews[split].sort(key=lambda r: (-r["label"], r["num"]))
    return reviews


def _text(tar, member, archive) -> str:
    try:
        return tar.extractfile(member).read().decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"{archive}: member {member.name} is not UTF-8 text ({err})") from err


def check_reviews(reviews: dict[str, list[dict]], archive, canonical_counts: bool) -> None:
    """Both labels in every split; with canonical_counts, 12,500 per label and split."""
    for split in SPLITS:
        for label, folder in ((1, "pos"), (0, "neg")):
            n = sum(r["label"] == label for r in reviews[split])
            if n == 0:
                raise DataError(f"{archive}: no reviews under aclImdb/{split}/{folder}/ "
                                "(both labels are needed in every split)")
            if canonical_counts and n != IMDB_PER_LABEL:
                raise DataError(f"{archive}: aclImdb/{split}/{folder}/ has {n} reviews, the "
                                f"published corpus {IMDB_PER_LABEL} (config "
                                "download.canonical_counts: false accepts other corpora)")


def load_word_index(path) -> dict[str, int]:
    """The Keras word index: a non-empty JSON object word -> rank (a positive integer)."""
    try:
        index = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataError(f"{path}: not a JSON word index ({err})") from err
    if not isinstance(index, dict) or not index:
        kind = type(index).__name__ if not isinstance(index, dict) else "an empty object"
        raise DataError(f"{path}: the word index must be a non-empty JSON object "
                        f"word -> rank, got {kind}")
    for word, rank in index.items():
        if not isinstance(rank, int) or isinstance(rank, bool) or rank < 1:
            raise DataError(f"{path}: rank of word {word!r} must be a positive integer, "
                            f"got {rank!r}")
    return index


def encode_split(reviews: list[dict], word_index: dict[str, int], vocab: dict[str, int],
                 imdb_cfg: dict) -> dict[str, np.ndarray]:
    """Flat arrays for one split; `vocab` (token -> index) grows as new tokens appear."""
    ids, tok_idx, offsets = [], [], [0]
    for review in reviews:
        tokens = tokenize(review["text"])
        ids.extend(word_ids(tokens, word_index, imdb_cfg["num_words"],
                            imdb_cfg["oov_char"], imdb_cfg["index_from"]))
        tok_idx.extend(vocab.setdefault(t, len(vocab)) for t in tokens)
        offsets.append(len(ids))
    return {
        "word_ids": np.asarray(ids, dtype=np.int32),
        "token_idx": np.asarray(tok_idx, dtype=np.int32),
        "offsets": np.asarray(offsets, dtype=np.int64),
        "review_id": np.asarray([r["review_id"] for r in reviews]),
        "rating": np.asarray([r["rating"] for r in reviews], dtype=np.int8),
        "label": np.asarray([r["label"] for r in reviews], dtype=np.int8),
    }


def split_stats(arrays: dict[str, np.ndarray], oov_char: int) -> dict:
    lengths = np.diff(arrays["offsets"])
    return {
        "reviews": int(len(arrays["label"])),
        "per_label": {"pos": int(arrays["label"].sum()), "neg": int((arrays["label"] == 0).sum())},
        "tokens": int(len(arrays["word_ids"])),
        "oov_tokens": int((arrays["word_ids"] == oov_char).sum()),
        "oov_share": float((arrays["word_ids"] == oov_char).mean()),
        "length_median": float(np.median(lengths)),
        "length_max": int(lengths.max()),
    }


def prepare_imdb(archive, word_index_path, out_dir, imdb_cfg: dict,
                 canonical_counts: bool = False) -> dict:
    """Write imdb_{train,test}.npz, imdb_tokens.json and imdb.json (shapes and counts)."""
    out_dir = Path(out_dir)
    word_index = load_word_index(word_index_path)
    reviews = read_reviews(archive)
    check_reviews(reviews, archive, canonical_counts)
    vocab: dict[str, int] = {}
    stats = {"config": dict(imdb_cfg), "word_index_size": len(word_index), "splits": {}}
    outputs = {}
    for split in SPLITS:
        log.info("IMDB %s: tokenizing %d reviews", split, len(reviews[split]))
        arrays = encode_split(reviews[split], word_index, vocab, imdb_cfg)
        stats["splits"][split] = split_stats(arrays, imdb_cfg["oov_char"])
        outputs[out_dir / f"imdb_{split}.npz"] = arrays
    stats["distinct_tokens"] = len(vocab)
    for path, arrays in outputs.items():
        save_npz(path, arrays)
    write_json(out_dir / "imdb_tokens.json", list(vocab))
    write_json(out_dir / "imdb.json", stats)
    return stats


def read_mnist(raw_path) -> dict[str, np.ndarray]:
    """The four arrays of mnist.npz (uint8 images, labels), refused with the file's name if the
    archive is unreadable or an array is missing."""
    import zipfile

    try:
        with np.load(raw_path) as raw:
            missing = {"x_train", "y_train", "x_test", "y_test"} - set(raw.files)
            if missing:
                raise DataError(f"{raw_path}: missing arrays {sorted(missing)}")
            return {k: raw[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
        raise DataError(f"{raw_path}: not a readable .npz archive ({err})") from err


def check_mnist(raw: dict[str, np.ndarray], raw_path, canonical_counts: bool) -> None:
    """28 x 28 uint8 images, labels 0-9 with every digit present, one label per image."""
    for split in SPLITS:
        x, y = raw[f"x_{split}"], raw[f"y_{split}"]
        if x.ndim != 3 or x.shape[1:] != (28, 28) or x.dtype != np.uint8:
            raise DataError(f"{raw_path}: x_{split} must be (n, 28, 28) uint8 pixels, got "
                            f"{x.shape} {x.dtype}")
        if y.shape != (len(x),):
            raise DataError(f"{raw_path}: y_{split} has shape {y.shape}, expected ({len(x)},)")
        if len(y) and (y.min() < 0 or y.max() > 9 or len(np.unique(y)) < 10):
            raise DataError(f"{raw_path}: y_{split} must hold every digit 0-9 and nothing "
                            f"else, got values {sorted(np.unique(y).tolist())}")
        if canonical_counts and len(x) != MNIST_COUNTS[split]:
            raise DataError(f"{raw_path}: {len(x)} {split} digits, the published set has "
                            f"{MNIST_COUNTS[split]} (config download.canonical_counts: false "
                            "accepts other sets)")


def prepare_mnist(raw_path, out_path, canonical_counts: bool = False) -> dict:
    """Pixels as float32 in [0, 1], labels as int64; writes mnist.npz and mnist.json beside it."""
    raw = read_mnist(raw_path)
    check_mnist(raw, raw_path, canonical_counts)
    arrays = {
        "x_train": (raw["x_train"].astype(np.float32) / 255.0),
        "y_train": raw["y_train"].astype(np.int64),
        "x_test": (raw["x_test"].astype(np.float32) / 255.0),
        "y_test": raw["y_test"].astype(np.int64),
    }
    out_path = Path(out_path)
    save_npz(out_path, arrays)
    stats = {k: {"shape": list(v.shape), "dtype": str(v.dtype)} for k, v in arrays.items()}
    stats["class_counts_train"] = np.bincount(arrays["y_train"], minlength=10).tolist()
    stats["class_counts_test"] = np.bincount(arrays["y_test"], minlength=10).tolist()
    write_json(out_path.with_suffix(".json"), stats)
    return stats
