import hashlib
import http.server
import logging
import threading
from pathlib import Path

import pytest

from inputgrad.data.download import (
    ChecksumMismatch,
    MirrorFileMissing,
    NetworkError,
    Source,
    fetch,
    read_sha256sums,
    resolve_mirror,
    verify,
)
from inputgrad.infra.errors import DataError, InputgradError

PAYLOAD = b"inputgrad test payload\n" * 1000


def source(url="http://127.0.0.1:9/none", payload=PAYLOAD, name="data.bin"):
    return {name: Source(name, url, hashlib.sha256(payload).hexdigest(), len(payload))}


def leftovers(folder: Path):
    return sorted(p.name for p in folder.iterdir())


def test_verify_good_bad_truncated(tmp_path):
    src = source()["data.bin"]
    good = tmp_path / "good"
    good.write_bytes(PAYLOAD)
    assert verify(good, src) == "canonical"
    bad = tmp_path / "bad"
    bad.write_bytes(PAYLOAD[:-1] + b"X")
    with pytest.raises(ChecksumMismatch, match="data.bin"):
        verify(bad, src)
    short = tmp_path / "short"
    short.write_bytes(PAYLOAD[:100])
    with pytest.raises(ChecksumMismatch) as err:
        verify(short, src)
    msg = str(err.value)
    assert src.sha256 in msg and hashlib.sha256(PAYLOAD[:100]).hexdigest() in msg


def test_download_errors_are_named_data_errors():
    # the shared stage path turns these into one line in the rule's log (infra.stage)
    for error in (ChecksumMismatch, MirrorFileMissing, NetworkError):
        assert issubclass(error, DataError) and issubclass(error, InputgradError)


def test_mirror_canonical_copy(tmp_path):
    mirror, out = tmp_path / "mirror", tmp_path / "out"
    mirror.mkdir()
    (mirror / "data.bin").write_bytes(PAYLOAD)
    assert fetch("data.bin", out / "data.bin", mirror=mirror, sources=source()) == "canonical"
    assert (out / "data.bin").read_bytes() == PAYLOAD
    assert leftovers(out) == ["data.bin"]


def test_mirror_sha256sums_entry_accepted_and_logged(tmp_path, caplog):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    other = b"same content, other packing"
    (mirror / "data.bin").write_bytes(other)
    (mirror / "SHA256SUMS").write_text(f"{hashlib.sha256(other).hexdigest()}  data.bin\n")
    with caplog.at_level(logging.WARNING):
        verdict = fetch("data.bin", tmp_path / "out" / "data.bin", mirror=mirror, sources=source())
    assert verdict == "mirror-listed"
    assert "NOT the canonical bytes" in caplog.text


def test_mirror_checksum_mismatch_leaves_nothing(tmp_path):
    mirror, out = tmp_path / "mirror", tmp_path / "out"
    mirror.mkdir()
    (mirror / "data.bin").write_bytes(PAYLOAD[:-1] + b"Y")
    (mirror / "SHA256SUMS").write_text(f"{'0' * 64}  data.bin\n")
    with pytest.raises(ChecksumMismatch) as err:
        fetch("data.bin", out / "data.bin", mirror=mirror, sources=source())
    assert "data.bin" in str(err.value) and "0" * 64 in str(err.value)
    assert leftovers(out) == []


def test_mirror_missing_file_names_file_and_mirror(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(MirrorFileMissing, match=r"data\.bin is absent from the data mirror"):
        fetch("data.bin", out / "data.bin", mirror=tmp_path, sources=source())
    assert leftovers(out) == []


def test_no_network_error_says_how_to_use_a_mirror(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(NetworkError) as err:
        fetch("data.bin", out / "data.bin", retries=1, timeout=2, sources=source())
    assert "data.bin" in str(err.value) and "INPUTGRAD_DATA_MIRROR" in str(err.value)
    assert leftovers(out) == []


class FlakyHandler(http.server.BaseHTTPRequestHandler):
    failures_left = 1

    def do_GET(self):
        if FlakyHandler.failures_left > 0:
            FlakyHandler.failures_left -= 1
            self.send_error(503)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        self.wfile.write(PAYLOAD)

    def log_message(self, *args):
        pass


def test_download_retries_transient_error_and_logs_progress(tmp_path, caplog, monkeypatch):
    monkeypatch.setattr("inputgrad.data.download.time.sleep", lambda s: None)
    server = http.server.HTTPServer(("127.0.0.1", 0), FlakyHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/data.bin"
        with caplog.at_level(logging.INFO):
            verdict = fetch("data.bin", tmp_path / "data.bin", retries=3, sources=source(url))
    finally:
        server.shutdown()
    assert verdict == "canonical"
    assert (tmp_path / "data.bin").read_bytes() == PAYLOAD
    assert "attempt 1/3 failed" in caplog.text and "100.0%" in caplog.text


def test_read_sha256sums_and_mirror_resolution(tmp_path, monkeypatch):
    (tmp_path / "SHA256SUMS").write_text("ab12  a.txt\nCD34 *b.bin\n")
    assert read_sha256sums(tmp_path / "SHA256SUMS") == {"a.txt": "ab12", "b.bin": "cd34"}
    monkeypatch.delenv("INPUTGRAD_DATA_MIRROR", raising=False)
    assert resolve_mirror(None) is None
    assert resolve_mirror(str(tmp_path)) == tmp_path.resolve()
    monkeypatch.setenv("INPUTGRAD_DATA_MIRROR", str(tmp_path / "env"))
    assert resolve_mirror(str(tmp_path)) == (tmp_path / "env").resolve()


def test_canonical_sources_match_published_checksums():
    from inputgrad.data.download import SOURCES

    assert SOURCES["mnist.npz"].sha256.startswith("731c5ac6")
    assert SOURCES["aclImdb_v1.tar.gz"].sha256.startswith("c40f74a1")
    assert SOURCES["imdb_word_index.json"].url.endswith("tf-keras-datasets/imdb_word_index.json")
