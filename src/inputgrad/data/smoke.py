"""Tiny synthetic datasets in the exact canonical on-disk formats, plus a SHA256SUMS.

The smoke workflow points the data mirror at such a folder, so it exercises the real
download-verify-prepare code; the files are learnable (class-dependent patterns and words), so
trained smoke models are better than chance and their attributions are not degenerate.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np

from .download import sha256_of

POSITIVE = ["excellent", "great", "fantastic", "outstanding", "wonderful", "best", "loved",
            "superb"]
NEGATIVE = ["worst", "waste", "awful", "boring", "terrible", "bad", "poor", "lack"]
NEUTRAL = ["the", "and", "a", "of", "to", "is", "it", "this", "movie", "film", "was", "story",
           "plot", "actors", "in", "that", "with", "for", "total", "credibility", "ape", "but"]
# The paper's Table 1 expressions, planted so that smoke Table 1 has rows to show.
PAPER_PHRASES = {1: ["fantastic film total", "ape was outstanding"], 0: ["lack of credibility"]}


def write_mnist(path: Path, n_train: int, n_test: int, rng: np.random.Generator) -> None:
    templates = rng.random((10, 28, 28)) < 0.25

    def draw(n):
        y = np.arange(n) % 10
        noise = rng.random((n, 28, 28)) < 0.05
        x = (templates[y] ^ noise).astype(np.uint8) * 255
        return x, y.astype(np.uint8)

    x_train, y_train = draw(n_train)
    x_test, y_test = draw(n_test)
    with open(path, "wb") as fh:
        np.savez(fh, x_test=x_test, x_train=x_train, y_train=y_train, y_test=y_test)


def word_index() -> dict[str, int]:
    words = NEUTRAL[:6] + POSITIVE + NEGATIVE + NEUTRAL[6:] + ["br"]
    return {w: rank for rank, w in enumerate(dict.fromkeys(words), start=1)}


def review(label: int, rng: np.random.Generator, i: int) -> str:
    cue = POSITIVE if label else NEGATIVE
    words = list(rng.choice(NEUTRAL, size=int(rng.integers(12, 40))))
    for _ in range(3):
        words.insert(int(rng.integers(0, len(words) + 1)), str(rng.choice(cue)))
    phrases = PAPER_PHRASES[label]
    words.insert(len(words) // 2, phrases[i % len(phrases)])
    words.insert(3, "Unseenword")  # an out-of-vocabulary token, as real reviews have
    text = " ".join(words).capitalize()
    return text.replace(" the ", " the<br /><br />", 1) + "."


def write_imdb(path: Path, per_label: int, rng: np.random.Generator) -> None:
    files = {"aclImdb/README": b"Synthetic stand-in for the Large Movie Review Dataset.\n",
             "aclImdb/imdb.vocab": "\n".join(word_index()).encode()}
    for split in ("train", "test"):
        for label, folder in ((1, "pos"), (0, "neg")):
            for i in range(per_label):
                rating = int(rng.integers(7, 11) if label else rng.integers(1, 5))
                name = f"aclImdb/{split}/{folder}/{i}_{rating}.txt"
                files[name] = review(label, rng, i).encode()
        files[f"aclImdb/{split}/unsup/0_0.txt"] = b"unlabelled review, ignored"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 0
            tar.addfile(info, io.BytesIO(data))


def make_mirror(out_dir, seed: int = 0, mnist_train: int = 300, mnist_test: int = 100,
                reviews_per_label: int = 24) -> Path:
    """Write mnist.npz, imdb_word_index.json, aclImdb_v1.tar.gz and SHA256SUMS into out_dir."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    write_mnist(out / "mnist.npz", mnist_train, mnist_test, rng)
    (out / "imdb_word_index.json").write_text(json.dumps(word_index()))
    write_imdb(out / "aclImdb_v1.tar.gz", reviews_per_label, rng)
    names = ["aclImdb_v1.tar.gz", "imdb_word_index.json", "mnist.npz"]
    (out / "SHA256SUMS").write_text("".join(f"{sha256_of(out / n)}  {n}\n" for n in names))
    return out
