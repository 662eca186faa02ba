"""Bad data is refused with an error naming the file (issue rows 4, 5, 11): files that pass the
checksum through an edited SHA256SUMS but are truncated, mis-encoded or of the wrong shape."""

import io
import json
import os
import stat
import tarfile

import numpy as np
import pytest

from inputgrad.data.download import fetch
from inputgrad.data.prepare import prepare_imdb, prepare_mnist
from inputgrad.data.smoke import make_mirror, word_index, write_imdb
from inputgrad.infra.errors import DataError

IMDB = {"num_words": 100, "start_char": 1, "oov_char": 2, "index_from": 3}


@pytest.fixture
def mirror(tmp_path):
    return make_mirror(tmp_path / "mirror", mnist_train=40, mnist_test=20, reviews_per_label=3)


def archive_with(tmp_path, files: dict[str, bytes]):
    path = tmp_path / "aclImdb_v1.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def reviews(splits=("train", "test"), labels=("pos", "neg"), text=b"a great film"):
    return {f"aclImdb/{s}/{lab}/0_{8 if lab == 'pos' else 2}.txt": text
            for s in splits for lab in labels}


def write_index(tmp_path, obj):
    path = tmp_path / "imdb_word_index.json"
    path.write_text(json.dumps(obj))
    return path


def test_truncated_mnist_names_the_file(mirror, tmp_path):
    raw = tmp_path / "mnist.npz"
    raw.write_bytes((mirror / "mnist.npz").read_bytes()[:5000])
    with pytest.raises(DataError, match=f"{raw}: not a readable .npz archive"):
        prepare_mnist(raw, tmp_path / "out" / "mnist.npz")
    assert not (tmp_path / "out" / "mnist.npz").exists()


@pytest.mark.parametrize("change, message", [
    (lambda a: a.update(x_test=a["x_test"][:, :27]), r"x_test must be \(n, 28, 28\) uint8"),
    (lambda a: a.update(x_train=a["x_train"].astype(np.float32)), "x_train must be .* uint8"),
    (lambda a: a.update(y_test=a["y_test"] % 5), "y_test must hold every digit 0-9"),
    (lambda a: a.pop("y_train"), r"missing arrays \['y_train'\]"),
])
def test_mnist_shapes_and_labels_are_checked(mirror, tmp_path, change, message):
    with np.load(mirror / "mnist.npz") as f:
        arrays = {k: f[k] for k in f.files}
    change(arrays)
    raw = tmp_path / "mnist.npz"
    np.savez(raw, **arrays)
    with pytest.raises(DataError, match=message):
        prepare_mnist(raw, tmp_path / "out.npz")


def test_mnist_counts_checked_against_the_published_set_when_asked(mirror, tmp_path):
    prepare_mnist(mirror / "mnist.npz", tmp_path / "a.npz")  # synthetic: fine by default
    with pytest.raises(DataError, match="40 train digits, the published set has 60000"):
        prepare_mnist(mirror / "mnist.npz", tmp_path / "b.npz", canonical_counts=True)


def test_review_that_is_not_utf8_names_archive_and_member(tmp_path):
    files = reviews()
    files["aclImdb/test/neg/7_1.txt"] = b"bad byte \xff here"
    archive = archive_with(tmp_path, files)
    index = write_index(tmp_path, word_index())
    with pytest.raises(DataError, match=r"member aclImdb/test/neg/7_1.txt is not UTF-8"):
        prepare_imdb(archive, index, tmp_path / "out", IMDB)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("content, message", [
    (["the", "and"], "must be a non-empty JSON object word -> rank, got list"),
    ({}, "must be a non-empty JSON object word -> rank, got an empty object"),
    ({"the": "1"}, "rank of word 'the' must be a positive integer, got '1'"),
])
def test_bad_word_index_names_the_file(tmp_path, content, message):
    archive = archive_with(tmp_path, reviews())
    index = write_index(tmp_path, content)
    with pytest.raises(DataError, match=message) as err:
        prepare_imdb(archive, index, tmp_path / "out", IMDB)
    assert str(index) in str(err.value)


def test_word_index_that_is_not_json_names_the_file(tmp_path):
    index = tmp_path / "imdb_word_index.json"
    index.write_text("{not json")
    with pytest.raises(DataError, match="not a JSON word index"):
        prepare_imdb(archive_with(tmp_path, reviews()), index, tmp_path / "out", IMDB)


def test_archive_without_a_label_folder_is_refused(tmp_path):
    files = {k: v for k, v in reviews().items() if not k.startswith("aclImdb/test/neg/")}
    archive = archive_with(tmp_path, files)
    with pytest.raises(DataError, match="no reviews under aclImdb/test/neg/"):
        prepare_imdb(archive, write_index(tmp_path, word_index()), tmp_path / "out", IMDB)


def test_imdb_counts_checked_against_the_published_corpus_when_asked(tmp_path):
    archive = tmp_path / "a.tar.gz"
    write_imdb(archive, 2, np.random.default_rng(0))
    index = write_index(tmp_path, word_index())
    prepare_imdb(archive, index, tmp_path / "ok", IMDB)
    with pytest.raises(DataError, match="has 2 reviews, the published corpus 12500"):
        prepare_imdb(archive, index, tmp_path / "out", IMDB, canonical_counts=True)


def test_truncated_archive_names_the_file(tmp_path):
    archive = tmp_path / "aclImdb_v1.tar.gz"
    write_imdb(archive, 3, np.random.default_rng(0))
    archive.write_bytes(archive.read_bytes()[:200])
    with pytest.raises(DataError, match=f"{archive}: not a readable .tar.gz archive"):
        prepare_imdb(archive, write_index(tmp_path, word_index()), tmp_path / "out", IMDB)


def test_empty_review_is_kept_in_the_data(tmp_path):
    files = reviews()
    files["aclImdb/test/neg/9_1.txt"] = b""
    out = tmp_path / "out"
    stats = prepare_imdb(archive_with(tmp_path, files), write_index(tmp_path, word_index()),
                         out, IMDB)
    assert stats["splits"]["test"]["per_label"] == {"pos": 1, "neg": 2}


def test_downloaded_files_respect_the_umask(mirror, tmp_path):
    old = os.umask(0o022)
    try:
        fetch("mnist.npz", tmp_path / "raw" / "mnist.npz", mirror=mirror)
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "raw" / "mnist.npz").stat().st_mode)
    assert mode == 0o644
