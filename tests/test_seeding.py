import numpy as np

from inputgrad.models import build
from inputgrad.seeding import seed_everything
from inputgrad.train import fit

CFG = {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 16, "epochs": 2, "validate": False}


def train_once(seed):
    seed_everything(seed)
    rng = np.random.default_rng(0)
    data = {"x_train": rng.random((64, 784), np.float32), "y_train": rng.integers(0, 10, 64),
            "x_test": rng.random((16, 784), np.float32), "y_test": rng.integers(0, 10, 16)}
    model = build({"name": "mnist_mlp", "hidden": [16]})
    fit(model, data, CFG)
    return model.predict(data["x_test"], verbose=0)


def test_same_seed_same_numbers_different_seed_differs():
    a, b, c = train_once(3), train_once(3), train_once(4)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
