import json

import keras
import numpy as np
import pytest

from inputgrad.cli import main
from inputgrad.core.models import build, split_embedding
from inputgrad.explain import encode_text, explain_array


@pytest.fixture
def cnn(tmp_path):
    keras.utils.set_random_seed(0)
    model = build({"name": "imdb_cnn", "num_words": 20, "maxlen": 12, "embedding_dim": 4,
                   "filters": 3, "hidden": 5})
    path = tmp_path / "cnn.keras"
    model.save(path)
    return model, path


def test_encode_text_marks_oov_and_padding():
    index = {"great": 1, "movie": 2}
    x, shown, position = encode_text("Great movie, zzz!", index, num_words=10, maxlen=6)
    assert x.tolist() == [[0, 0, 1, 4, 5, 2]]
    assert shown == ["", "", "", "great", "movie", "[zzz]"]
    assert position.tolist() == [-1, -1, -1, 0, 1, 2]


def test_embedding_model_per_token_scores(cnn):
    model, _ = cnn
    ids = np.random.default_rng(0).integers(3, 20, size=(3, 12))
    res = explain_array(model, ids, "gradient", "probability")
    assert res["attributions"].shape == (3, 12, 4) and res["per_token"].shape == (3, 12)
    np.testing.assert_allclose(res["per_token"], np.linalg.norm(res["attributions"], axis=-1))
    ig = explain_array(model, ids, "integrated_gradients", "logit", steps=64)
    assert np.abs(ig["completeness_gap"]).max() < 0.05
    assert split_embedding(model) is split_embedding(model)  # one split, one trace per model
    sg = explain_array(model, ids, "smoothgrad", "probability", samples=4, noise=0.05)
    assert sg["attributions"].shape == (3, 12, 4)
    np.testing.assert_allclose(sg["per_token"], np.linalg.norm(sg["attributions"], axis=-1))


def test_cli_text_and_array(cnn, tmp_path, capsys):
    _, path = cnn
    index = tmp_path / "index.json"
    index.write_text(json.dumps({"great": 1, "movie": 2, "bad": 3}))
    assert main(["explain", str(path), "--text", "great movie, not bad",
                 "--word-index", str(index)]) == 0
    out = capsys.readouterr().out
    assert "prediction (probability)" in out and "[not]" in out
    pixels = tmp_path / "x.npy"
    np.save(pixels, np.random.default_rng(1).random((4, 784), np.float32))
    logreg = build({"name": "mnist_logreg"})
    logreg.save(tmp_path / "lr.keras")
    out_file = tmp_path / "att.npz"
    assert main(["explain", str(tmp_path / "lr.keras"), "--input", str(pixels),
                 "--output", "logit", "--target", "3", "--out", str(out_file)]) == 0
    weights = logreg.get_layer("logits").kernel.numpy()[:, 3]
    with np.load(out_file) as res:  # a linear model's logit gradient is its weight column
        np.testing.assert_allclose(res["attributions"][0], weights, rtol=1e-6)
    assert main(["explain", str(tmp_path / "lr.keras"), "--input", str(pixels),
                 "--method", "integrated_gradients", "--steps", "8", "--output", "logit",
                 "--out", str(out_file)]) == 0
    assert "IG completeness gap" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="does not exist"):
        main(["explain", str(tmp_path / "nope.keras"), "--input", str(pixels)])
