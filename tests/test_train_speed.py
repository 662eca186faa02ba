"""The training speed-ups change no number: Keras `steps_per_execution` (k training steps per
call into TensorFlow) trains to bit-identical weights, and the progress log still reports every
10 % of an epoch. The same on the real models and data: benchmarks/training_speed.py."""

import logging

import numpy as np
import pytest

from inputgrad.core.models import build
from inputgrad.core.seeding import seed_everything
from inputgrad.core.train import execution_steps, fit

# 13 batches of 16: k = 4 leaves a short last execution, k = 32 covers the epoch in one call
DATA = {"mnist_mlp": {"name": "mnist_mlp", "hidden": [16], "dropout": 0.2},
        "imdb_cnn": {"name": "imdb_cnn", "num_words": 50, "maxlen": 20, "embedding_dim": 8,
                     "filters": 4, "kernel_size": 3, "hidden": 4, "dropout": 0.2}}


def toy_data(model):
    rng = np.random.default_rng(0)
    if model == "mnist_mlp":
        x = rng.random((208 + 32, 784), np.float32)
        y = rng.integers(0, 10, 208 + 32)
    else:
        x = rng.integers(0, 50, (208 + 32, 20)).astype(np.int32)
        y = rng.integers(0, 2, 208 + 32).astype(np.float32)
    return {"x_train": x[:208], "y_train": y[:208], "x_test": x[208:], "y_test": y[208:]}


def trained(model, steps, validate=False):
    seed_everything(5)
    net = build(DATA[model])
    cfg = {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 16, "epochs": 2,
           "validate": validate, "steps_per_execution": steps}
    result = fit(net, toy_data(model), cfg)
    return net.get_weights(), result


@pytest.mark.parametrize("model", ["mnist_mlp", "imdb_cnn"])
def test_steps_per_execution_gives_bit_identical_weights_and_metrics(model, monkeypatch):
    import inputgrad.core.train as train

    # no cap: 13 steps an epoch would allow only 1 per execution
    monkeypatch.setattr(train, "execution_steps", lambda cfg, n: cfg["steps_per_execution"])
    base, base_result = trained(model, 1, validate=True)
    for k in (4, 32):
        weights, result = trained(model, k, validate=True)
        assert all(np.array_equal(a, b) for a, b in zip(base, weights, strict=True)), k
        assert result["history"] == base_result["history"]
        for key, value in base_result["metrics"].items():
            if key != "train_seconds":
                assert result["metrics"][key] == value


def test_validation_changes_no_weight():
    with_validation, _ = trained("mnist_mlp", 1, validate=True)
    without, _ = trained("mnist_mlp", 1, validate=False)
    assert all(np.array_equal(a, b) for a, b in zip(with_validation, without, strict=True))


def test_execution_steps_keep_a_progress_line_every_tenth_of_an_epoch():
    cfg = {"batch_size": 128, "steps_per_execution": 32}
    assert execution_steps(cfg, 60000) == 32          # 469 steps: 32 is under a tenth
    assert execution_steps(cfg, 60000 // 4) == 11     # 118 steps: at most 11 per call
    assert execution_steps(cfg, 100) == 1             # one step an epoch
    assert execution_steps({"batch_size": 128}, 60000) == 1  # default: one step per call


def test_progress_log_reports_every_tenth_with_several_steps_per_call(caplog):
    seed_everything(0)
    net = build(DATA["mnist_mlp"])
    cfg = {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 2, "epochs": 1,
           "validate": False, "steps_per_execution": 10}  # 104 steps, 10 per call
    with caplog.at_level(logging.INFO, logger="inputgrad.core.train"):
        fit(net, toy_data("mnist_mlp"), cfg)
    shares = [r.getMessage().split("%")[0].split(":")[-1].strip() for r in caplog.records
              if "% of" in r.getMessage()]
    assert len(shares) == 10 and shares[-1] == "100", shares


@pytest.mark.parametrize("validate", [True, False])
def test_test_metrics_are_an_evaluation_of_the_final_weights(validate):
    """With validation on the test set the test metrics are fit's last validation, which is an
    evaluation of the final weights at the training batch size; without it, evaluate runs."""
    _, result = trained("imdb_cnn", 1, validate=validate)
    seed_everything(5)  # the same training again, then a plain evaluation of its weights
    net = build(DATA["imdb_cnn"])
    data = toy_data("imdb_cnn")
    calls = []
    evaluate = net.evaluate
    net.evaluate = lambda *a, **k: calls.append(k.get("batch_size")) or evaluate(*a, **k)
    fit(net, data, {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 16, "epochs": 2,
                    "validate": validate, "steps_per_execution": 1})
    del net.evaluate
    # one pass over the test set per epoch when validating (fit's own), one after fit otherwise
    assert len(calls) == (2 if validate else 1), calls
    evaluated = net.evaluate(data["x_test"], data["y_test"], batch_size=16 if validate else 1024,
                             verbose=0, return_dict=True)
    assert {k: v for k, v in result["metrics"].items() if k != "train_seconds"} == {
        f"test_{k}": float(v) for k, v in evaluated.items()}


@pytest.mark.parametrize("model", ["mnist_mlp", "imdb_cnn"])
def test_untuned_input_pipeline_gives_the_weights_of_plain_fit(model):
    """`fit` hands Keras its own array pipeline with tf.data autotuning off (no stall when an
    iterator is deleted); weights and history (whose last val_* values are the test metrics)
    equal Keras's `fit(x, y)`."""
    from inputgrad.core.train import compile_model

    data = toy_data(model)
    ours, result = trained(model, 1, validate=True)  # 2 epochs of batch 16, seed 5
    seed_everything(5)
    net = compile_model(build(DATA[model]), {"optimizer": "adam", "learning_rate": 0.01})
    plain = net.fit(data["x_train"], data["y_train"], batch_size=16, epochs=2,
                    validation_data=(data["x_test"], data["y_test"]), shuffle=True, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(ours, net.get_weights(), strict=True))
    assert result["history"] == {k: [float(x) for x in v] for k, v in plain.history.items()}


def test_the_input_pipeline_runs_without_autotuning():
    from inputgrad.core.train import array_input

    data = toy_data("mnist_mlp")
    for shuffle in (True, False):
        dataset = array_input(data["x_train"], data["y_train"], 16, shuffle).get_tf_dataset()
        assert dataset.options().autotune.enabled is False
