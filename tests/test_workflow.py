import json

import numpy as np

from inputgrad.data.smoke import make_mirror
from workflow_utils import ROOT, SMOKE_CONFIG, snakemake


def test_smoke_workflow_prepares_data_and_tracking(smoke_run):
    work = smoke_run["work"]
    stats = json.loads((work / "results/data/imdb.json").read_text())
    assert stats["splits"]["test"]["per_label"] == {"pos": 24, "neg": 24}
    with np.load(work / "results/data/mnist.npz") as m:
        assert m["x_train"].dtype == np.float32 and m["x_train"].shape[1:] == (28, 28)
    assert (work / "results/mlflow/experiment_id.txt").read_text().strip()
    log = (work / "results/logs/download/aclImdb_v1.tar.gz.log").read_text()
    assert "NOT the canonical bytes" in log  # synthetic copy accepted via the mirror's SHA256SUMS


def test_corrupted_mirror_byte_stops_with_checksum_message(tmp_path):
    mirror = make_mirror(tmp_path / "mirror", mnist_train=20, mnist_test=10, reviews_per_label=2)
    raw = bytearray((mirror / "mnist.npz").read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (mirror / "mnist.npz").write_bytes(raw)
    code, out = snakemake(tmp_path / "work", "--cores", "1", "prepare_mnist", mirror=mirror,
                          check=False)
    assert code != 0
    assert "checksum mismatch for mnist.npz" in out
    results = tmp_path / "work" / "results" / "data"
    assert not (results / "mnist.npz").exists() and not (results / "raw" / "mnist.npz").exists()
    assert not any(results.glob("raw/*.part"))


def test_missing_mirror_file_is_named(tmp_path):
    mirror = make_mirror(tmp_path / "mirror", mnist_train=20, mnist_test=10, reviews_per_label=2)
    (mirror / "imdb_word_index.json").unlink()
    code, out = snakemake(tmp_path / "work", "--cores", "1", "prepare_imdb", mirror=mirror,
                          check=False)
    assert code != 0 and "imdb_word_index.json is absent from the data mirror" in out


def test_bad_config_key_stops_before_any_job(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((SMOKE_CONFIG / "config.yaml").read_text() + "\nlearning_rate: 0.1\n")
    code, out = snakemake(tmp_path / "work", "--cores", "1", "--configfile", str(bad), check=False)
    assert code != 0 and "unknown config key 'learning_rate'" in out
    assert not (tmp_path / "work" / "results").exists()


def test_lint_is_clean(tmp_path):
    code, out = snakemake(tmp_path, "--lint", check=False)
    assert code == 0, out
    assert "Lints for" not in out


def test_dag_page_rulegraph_is_current():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, str(ROOT / "docs/update_rulegraph.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
