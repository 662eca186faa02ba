"""Stage 1 rules: download (or copy from the mirror) and verify the raw files; prepare arrays."""

from __future__ import annotations

from pathlib import Path

from .download import fetch, resolve_mirror
from .prepare import prepare_imdb as _prepare_imdb
from .prepare import prepare_mnist as _prepare_mnist


def download(inputs, outputs, params):
    """Rule download: one raw file, by its canonical name, checksum verified."""
    out = outputs["raw"]
    cfg = params["cfg"]
    fetch(Path(out).name, out, mirror=resolve_mirror(cfg["mirror"]), retries=cfg["retries"],
          timeout=cfg["timeout_s"])


def prepare_mnist(inputs, outputs, params):
    """Rule prepare_mnist: pixels as float32 in [0, 1], labels as int64, plus counts."""
    _prepare_mnist(inputs["raw"], outputs["data"], params["cfg"]["canonical_counts"])


def prepare_imdb(inputs, outputs, params):
    """Rule prepare_imdb: reviews from the archive to Keras-style word ids, plus counts."""
    cfg = params["cfg"]
    _prepare_imdb(inputs["archive"], inputs["word_index"], Path(outputs["stats"]).parent,
                  cfg["imdb"], cfg["canonical_counts"])
