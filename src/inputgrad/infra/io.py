"""Atomic file writes: every output goes to a temp file beside it and is renamed into place,
so a reader (or a Snakemake rerun after a crash) never sees a half-written file."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np


def file_mode() -> int:
    """Permissions of a new file under the current umask (mkstemp's are always 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temp path in the target's folder; on success rename it to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def sha256_of(path) -> str:
    """The sha256 of a file, read in 1 MiB blocks (raw downloads are up to 84 MB)."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_text(path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path, obj) -> None:
    write_text(path, json.dumps(obj, indent=1) + "\n")


def write_yaml(path, obj) -> None:
    import yaml

    write_text(path, yaml.safe_dump(obj, sort_keys=False))


def write_csv(path, frame) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def save_npz(path, arrays: dict[str, np.ndarray], compressed: bool = False) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        (np.savez_compressed if compressed else np.savez)(fh, **arrays)


def save_npy(path, array: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.save(fh, array)


def load_npz(path) -> dict[str, np.ndarray]:
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def save_figure(fig, *paths, **savefig_kw) -> None:
    """fig.savefig to each path (format from its suffix: png, pdf, ...). PDFs get no creation
    date, so two runs of the same seed write the same bytes."""
    for path in paths:
        fmt = Path(path).suffix.lstrip(".")
        extra = {"metadata": {"CreationDate": None}} if fmt == "pdf" else {}
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, **extra, **savefig_kw)


def save_keras(path, model) -> None:
    """A Keras model as a .keras file with the same bytes for the same weights. Keras stamps
    metadata.json with the time of saving, names shared objects in config.json by their id()
    and dates the zip members; the time is fixed, the ids renumbered in the order they first
    appear, and the members dated 1980-01-01, so reruns are byte-identical like every other
    result file."""
    import io
    import zipfile

    with tempfile.TemporaryDirectory() as folder:
        saved = Path(folder) / "model.keras"
        model.save(saved)
        raw = zipfile.ZipFile(io.BytesIO(saved.read_bytes()))
    members = {}
    for info in raw.infolist():
        data = raw.read(info)
        if info.filename == "metadata.json":
            meta = json.loads(data)
            meta["date_saved"] = "1980-01-01@00:00:00"
            data = json.dumps(meta).encode()
        elif info.filename == "config.json":
            data = _renumbered(rb'"shared_object_id": (\d+)', b'"shared_object_id": %d', data)
        members[info.filename] = (data, info.compress_type)
    _write_zip(path, members)


def _write_zip(path, members: dict[str, tuple[bytes, int]]) -> None:
    """A zip of {name: (bytes, compression)}, in that order, every member dated 1980-01-01."""
    import zipfile

    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as out:
        for name, (data, compress) in members.items():
            member = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            out.writestr(member, data, compress_type=compress)


def _renumbered(pattern: bytes, template: bytes, data: bytes) -> bytes:
    """Each distinct number the pattern captures replaced by its order of first appearance."""
    import re

    ids: dict[bytes, int] = {}
    return re.sub(pattern, lambda m: template % ids.setdefault(m.group(1), len(ids)), data)


def save_skops(path, model) -> None:
    """A scikit-learn model as a skops file with the same bytes for the same model. skops
    names each array member after its object's id() and stamps it with the time of saving; the
    members are renamed in the order the schema first names them, and dated 1980-01-01, so
    reruns are byte-identical like every other result file."""
    import io
    import re
    import zipfile

    import skops.io as sio

    raw = zipfile.ZipFile(io.BytesIO(sio.dumps(model)))
    schema = raw.read("schema.json").decode()
    new = {}
    for name in re.findall(r'"([^"/]+\.npy)"', schema):
        new.setdefault(name, f"{len(new):06d}.npy")
    schema = re.sub(r'"([^"/]+\.npy)"', lambda m: f'"{new[m.group(1)]}"', schema)
    # "__id__" (which nodes are one shared object) is an id() too
    members = {"schema.json": _renumbered(rb'"__id__": (\d+)', b'"__id__": %d', schema.encode())}
    for info in raw.infolist():
        if info.filename in new:
            members[new[info.filename]] = _npy_without_padding(raw.read(info))
        elif info.filename != "schema.json":
            members[info.filename] = raw.read(info)
    _write_zip(path, {name: (members[name], zipfile.ZIP_DEFLATED) for name in sorted(members)})


def _npy_without_padding(data: bytes) -> bytes:
    """An .npy file's bytes with the padding of a structured dtype zeroed (a tree's node
    records leave 7 bytes of uninitialised memory per node)."""
    import io

    array = np.load(io.BytesIO(data), allow_pickle=False)
    if array.dtype.names is None:
        return data
    clean = np.zeros(array.shape, array.dtype)  # zeros_like leaves the padding as it was
    for field in array.dtype.names:
        clean[field] = array[field]
    buffer = io.BytesIO()
    np.save(buffer, clean, allow_pickle=False)
    return buffer.getvalue()
