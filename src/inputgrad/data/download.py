"""Fetch the raw datasets from their canonical URLs or a local mirror, verified by sha256.

Every path that writes goes through a temporary file in the destination folder and an
atomic rename, so an interrupted or failed fetch leaves nothing at the output path.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..infra.errors import DataError
from ..infra.io import file_mode, sha256_of

log = logging.getLogger(__name__)

MIRROR_ENV = "INPUTGRAD_DATA_MIRROR"
CHUNK = 1 << 20


@dataclass(frozen=True)
class Source:
    name: str
    url: str
    sha256: str
    size: int


# Published origins and checksums (see ../shared/data/SOURCES.md and the README).
SOURCES = {
    s.name: s
    for s in [
        Source(
            "mnist.npz",
            "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
            "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
            11_490_434,
        ),
        Source(
            "imdb_word_index.json",
            "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb_word_index.json",
            "027313fe9a320280f3bf0fac5baf58c4a683cf39a7ed9c3d3d3912bde4284cf6",
            1_641_221,
        ),
        Source(
            "aclImdb_v1.tar.gz",
            "http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
            "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
            84_125_825,
        ),
    ]
}


class ChecksumMismatch(DataError):
    pass


class MirrorFileMissing(DataError):
    pass


class NetworkError(DataError):
    pass


def read_sha256sums(path: Path) -> dict[str, str]:
    """Parse a `sha256sum` listing ("<hex>  <name>" or "<hex> *<name>") into name -> hex."""
    sums = {}
    if not path.exists():
        return sums
    for line in path.read_text().splitlines():
        parts = line.strip().split(maxsplit=1)
        if len(parts) == 2:
            sums[parts[1].lstrip("*").strip()] = parts[0].lower()
    return sums


def resolve_mirror(configured: str | os.PathLike | None) -> Path | None:
    """The mirror folder: INPUTGRAD_DATA_MIRROR wins over the config key, empty means none."""
    value = os.environ.get(MIRROR_ENV) or configured
    return Path(value).expanduser().resolve() if value else None


def verify(path: Path, source: Source, mirror_sums: dict[str, str] | None = None,
           origin: str | None = None) -> str:
    """Check `path` against the canonical sha256, or the mirror's listed one; say which matched.

    `origin` (the mirror file or URL the bytes came from) is what error messages show."""
    actual = sha256_of(path)
    if actual == source.sha256:
        return "canonical"
    listed = (mirror_sums or {}).get(source.name)
    if listed and actual == listed:
        log.warning(
            "%s: mirror copy is NOT the canonical bytes (sha256 %s, canonical %s); "
            "accepted because it matches the mirror's SHA256SUMS entry",
            source.name, actual, source.sha256,
        )
        return "mirror-listed"
    expected = source.sha256 + (f" (or mirror SHA256SUMS entry {listed})" if listed else "")
    raise ChecksumMismatch(
        f"checksum mismatch for {source.name} ({origin or path}): expected sha256 {expected}, "
        f"got {actual}"
    )


def fetch(
    name: str,
    dest: str | os.PathLike,
    mirror: str | os.PathLike | None = None,
    retries: int = 3,
    timeout: float = 60.0,
    sources: dict[str, Source] = SOURCES,
) -> str:
    """Place the verified file `name` at `dest`; returns "canonical" or "mirror-listed"."""
    if name not in sources:
        raise DataError(f"unknown dataset file {name!r}; known: {', '.join(sorted(sources))}")
    source, dest = sources[name], Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if mirror is not None:
            origin = _copy_from_mirror(source, Path(mirror), tmp)
        else:
            _download(source, tmp, retries, timeout)
            origin = source.url
        sums = read_sha256sums(Path(mirror) / "SHA256SUMS") if mirror else None
        verdict = verify(tmp, source, sums, origin)
        os.chmod(tmp, file_mode())  # readable like any file the user creates
        os.replace(tmp, dest)
        log.info("%s: verified (%s) from %s -> %s", name, verdict, origin, dest)
        return verdict
    finally:
        tmp.unlink(missing_ok=True)


def _copy_from_mirror(source: Source, mirror: Path, tmp: Path) -> str:
    path = mirror / source.name
    if not path.is_file():
        raise MirrorFileMissing(
            f"{source.name} is absent from the data mirror {mirror} "
            f"(set by ${MIRROR_ENV} or config key download.mirror)"
        )
    log.info("%s: copying from mirror %s", source.name, path)
    shutil.copyfile(path, tmp)
    return str(path)


def _download(source: Source, tmp: Path, retries: int, timeout: float) -> None:
    last = None
    for attempt in range(1, retries + 1):
        try:
            _stream(source, tmp, timeout)
            return
        except urllib.error.HTTPError as err:
            if err.code < 500 and err.code != 429:
                raise NetworkError(f"{source.name}: HTTP {err.code} from {source.url}") from err
            last = err
        except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
            last = err
        log.warning("%s: attempt %d/%d failed: %s", source.name, attempt, retries, last)
        if attempt < retries:
            time.sleep(min(2 ** attempt, 30))
    raise NetworkError(
        f"could not download {source.name} from {source.url} after {retries} attempts "
        f"({last}). No network? Put the file in a folder and point ${MIRROR_ENV} (or config "
        f"key download.mirror) at it; the checksum is still verified."
    )


def _stream(source: Source, tmp: Path, timeout: float) -> None:
    with urllib.request.urlopen(source.url, timeout=timeout) as resp, open(tmp, "wb") as out:
        total = int(resp.headers.get("Content-Length") or source.size or 0)
        done, next_report = 0, 0.0
        for block in iter(lambda: resp.read(CHUNK), b""):
            out.write(block)
            done += len(block)
            if total and done / total >= next_report:
                log.info("%s: %5.1f%% (%d / %d bytes)", source.name, 100 * done / total, done,
                         total)
                next_report += 0.1
    if source.size and done != source.size and total == source.size:
        raise ConnectionError(f"truncated download: {done} of {total} bytes")
