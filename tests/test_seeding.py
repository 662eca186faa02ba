import json

import numpy as np
import pandas as pd

from inputgrad.core.models import build
from inputgrad.core.seeding import seed_everything
from inputgrad.core.train import fit, train_stage

CFG = {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 16, "epochs": 2, "validate": False}


def toy_data():
    rng = np.random.default_rng(0)
    return {"x_train": rng.random((64, 784), np.float32), "y_train": rng.integers(0, 10, 64),
            "x_test": rng.random((16, 784), np.float32), "y_test": rng.integers(0, 10, 16)}


def train_once(seed):
    seed_everything(seed)
    data = toy_data()
    model = build({"name": "mnist_mlp", "hidden": [16]})
    fit(model, data, CFG)
    return model.predict(data["x_test"], verbose=0)


def test_same_seed_same_numbers_different_seed_differs():
    a, b, c = train_once(3), train_once(3), train_once(4)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_train_stage_writes_outputs_and_keeps_the_clock_out_of_them(tmp_path):
    import keras

    outputs = {name: str(tmp_path / file) for name, file in
               [("model", "model.keras"), ("metrics", "metrics.json"), ("history", "history.csv")]}
    params = {"cfg": {"model": {"name": "mnist_logreg"}, "train": CFG}, "seed": 0}
    metrics = train_stage(toy_data(), outputs, params)
    assert "train_seconds" in metrics and "test_accuracy" in metrics
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved == {k: v for k, v in metrics.items() if k != "train_seconds"}
    history = pd.read_csv(outputs["history"])
    assert list(history["epoch"]) == [1, 2] and {"loss", "accuracy"} <= set(history.columns)
    assert keras.models.load_model(outputs["model"]).name == "mnist_logreg"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.csv", "metrics.json",
                                                          "model.keras"]
