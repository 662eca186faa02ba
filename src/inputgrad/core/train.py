"""Compile, fit, evaluate and save a registry model, logging to files and MLflow.

`train_cfg` (the `train:` section of an experiment) holds: optimizer, learning_rate,
batch_size, epochs, and optionally validate (evaluate on the test set after every epoch) and
steps_per_execution (training steps per call into TensorFlow: an execution setting, not a
hyperparameter; the weights are bit-identical for any value, see docs/determinism.md), and
right_reasons: {lambda: ...} to train with Ross et al.'s input-gradient penalty on the
pixels data["mask_train"] marks (`fit_right_reasons`; Decoy MNIST's repaired model).
"""

from __future__ import annotations

import logging
import math
import time

import keras
import numpy as np

# a private Keras module: the keras pin (pyproject.toml) holds it, and tests/test_train_speed.py
# fails if its batches ever stop matching `fit(x, y)`
from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

log = logging.getLogger(__name__)


def compile_model(model: keras.Model, train_cfg: dict, steps_per_execution: int = 1
                  ) -> keras.Model:
    binary = model.output_shape[-1] == 1
    optimizer = keras.optimizers.get({
        "class_name": train_cfg["optimizer"],
        "config": {"learning_rate": train_cfg["learning_rate"]},
    })
    if binary:
        loss = keras.losses.BinaryCrossentropy(from_logits=True)
        metric = keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)  # on logits
    else:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        metric = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    model.compile(optimizer=optimizer, loss=loss, metrics=[metric],
                  steps_per_execution=steps_per_execution)
    return model


def execution_steps(train_cfg: dict, n: int) -> int:
    """`steps_per_execution` for n training examples, at most a tenth of an epoch's steps:
    callbacks run once per execution, and ProgressLog should still log every 10 %."""
    steps = math.ceil(n / train_cfg["batch_size"])
    return max(1, min(train_cfg.get("steps_per_execution", 1), steps // 10))


class ProgressLog(keras.callbacks.Callback):
    """Log to the rule's log: a line every `every` share of an epoch and one per epoch."""

    def __init__(self, every: float = 0.1):
        super().__init__()
        self.every, self.t0 = every, time.time()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.next = epoch, self.every

    def on_train_batch_end(self, batch, logs=None):
        steps = self.params.get("steps") or 1
        # with several steps per execution, Keras counts the last call's steps in full
        done = min(batch + 1, steps) / steps
        if done >= self.next:
            log.info("epoch %d: %3.0f%% of %d steps, loss %.4f", self.epoch + 1, 100 * done,
                     steps, (logs or {}).get("loss", float("nan")))
            while self.next <= done:
                self.next += self.every

    def on_epoch_end(self, epoch, logs=None):
        shown = ", ".join(f"{k} {v:.4f}" for k, v in (logs or {}).items())
        log.info("epoch %d done after %.0f s: %s", epoch + 1, time.time() - self.t0, shown)


class UntunedArrays(ArrayDataAdapter):
    """Keras's own input pipeline for in-memory arrays (what `fit(x, y)` builds), with
    tf.data's autotuning off. Its background thread sleeps in growing intervals (up to 60 s),
    and TensorFlow waits for it to wake when an iterator is deleted: up to 16 s idle in a CNN
    training here, depending on where the deletion falls in that interval (14.4 s in a
    workflow job, 4.7 s in benchmarks/training_speed.py --part pipeline). The batches, their
    order and so the weights are the same bytes (tests/test_train_speed.py); only the
    pipeline's parallelism is fixed instead of tuned, which costs nothing here (it slices
    arrays already in memory)."""

    def get_tf_dataset(self):
        import tensorflow as tf

        options = tf.data.Options()
        options.autotune.enabled = False
        return super().get_tf_dataset().with_options(options)


def array_input(x, y, batch_size: int, shuffle: bool) -> UntunedArrays:
    """The input `fit` hands Keras for arrays x, y (see UntunedArrays)."""
    return UntunedArrays(x, y, batch_size=batch_size, shuffle=shuffle)


def fit(model: keras.Model, data: dict, train_cfg: dict, callbacks=()) -> dict:
    """Train on data["x_train"], data["y_train"]; returns the per-epoch history and the
    final test metrics (evaluated on data["x_test"], data["y_test"])."""
    compile_model(model, train_cfg, execution_steps(train_cfg, len(data["x_train"])))
    batch = train_cfg["batch_size"]
    validation = None
    if train_cfg.get("validate", True):
        validation = (array_input(data["x_test"], data["y_test"], batch, shuffle=False),)
    start = time.time()
    history = model.fit(
        array_input(data["x_train"], data["y_train"], batch, shuffle=True),
        epochs=train_cfg["epochs"], validation_data=validation, verbose=0,
        callbacks=[ProgressLog(), *callbacks],
    )
    train_seconds = time.time() - start
    metrics = test_metrics(model, data, history.history, validated=validation is not None)
    metrics["train_seconds"] = train_seconds
    log.info("test metrics: %s", metrics)
    return {"history": {k: [float(x) for x in v] for k, v in history.history.items()},
            "metrics": metrics}


def right_reasons_penalty(f, x, mask) -> tuple:
    """Ross et al.'s (2017) "right reasons" term per example, sum_d (mask_d * d/dx_d sum_k
    log p_k)^2, and the logits of the same forward pass: (penalty (n,), logits). Through the
    gradient primitive's differentiable form (`core.gradients.input_gradient`), so an
    enclosing tape takes the second derivative with respect to the weights."""
    import tensorflow as tf

    from .gradients import input_gradient

    grads, logits = input_gradient(f, x, "log_probability")
    mask = tf.cast(mask, grads.dtype)
    return tf.reduce_sum(tf.square(mask * grads), axis=list(range(1, len(x.shape)))), logits


def right_reasons_loss(model, x, y, mask, lam: float, training: bool = True) -> tuple:
    """(total, cross-entropy, penalty): mean cross-entropy + lam * mean right-reasons penalty
    over the batch (Ross et al. 2017, eq. 1, without their L2 weight term)."""
    import tensorflow as tf

    penalty, logits = right_reasons_penalty(lambda v: model(v, training=training), x, mask)
    ce = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.cast(y, tf.int32), logits=logits))
    penalty = tf.reduce_mean(penalty)
    return ce + lam * penalty, ce, penalty


def fit_right_reasons(model: keras.Model, data: dict, train_cfg: dict, seed: int) -> dict:
    """Train with the right-reasons penalty on data["mask_train"] (True = a pixel the model
    must not use): lam = train_cfg["right_reasons"]["lambda"]; the optimizer, batch size and
    epochs of train_cfg; batches a seeded permutation per epoch. Returns what `fit` returns:
    the per-epoch history (loss, crossentropy, penalty, accuracy and, with validate, the test
    set's val_loss / val_accuracy) and the test metrics."""
    import tensorflow as tf

    lam = float(train_cfg["right_reasons"]["lambda"])
    compile_model(model, train_cfg)
    optimizer = model.optimizer
    weights = model.trainable_variables

    @tf.function(reduce_retracing=True)
    def step(x, y, mask):
        with tf.GradientTape() as tape:
            total, ce, penalty = right_reasons_loss(model, x, y, mask, lam)
        optimizer.apply(tape.gradient(total, weights), weights)
        return total, ce, penalty

    x_all, y_all = data["x_train"], data["y_train"]
    mask_all = np.asarray(data["mask_train"], np.float32)
    batch, rng = train_cfg["batch_size"], np.random.default_rng(seed)
    steps = math.ceil(len(x_all) / batch)
    history: dict[str, list[float]] = {}
    start = time.time()
    for epoch in range(train_cfg["epochs"]):
        order, sums = rng.permutation(len(x_all)), np.zeros(3)
        for i in range(steps):
            rows = order[i * batch:(i + 1) * batch]
            sums += [float(v) for v in step(x_all[rows], y_all[rows], mask_all[rows])]
            if (i + 1) % max(steps // 10, 1) == 0:
                log.info("epoch %d: %3.0f%% of %d steps, loss %.4f", epoch + 1,
                         100 * (i + 1) / steps, steps, sums[0] / (i + 1))
        row = dict(zip(("loss", "crossentropy", "penalty"), sums / steps, strict=True))
        row["accuracy"] = _accuracy(model, x_all, y_all)
        if train_cfg.get("validate", True):
            test = model.evaluate(data["x_test"], data["y_test"], batch_size=1024, verbose=0,
                                  return_dict=True)
            row.update({f"val_{k}": v for k, v in test.items()})
        for k, v in row.items():
            history.setdefault(k, []).append(float(v))
        log.info("epoch %d done after %.0f s: %s", epoch + 1, time.time() - start,
                 ", ".join(f"{k} {v:.4f}" for k, v in row.items()))
    train_seconds = time.time() - start
    metrics = test_metrics(model, data, history, validated=train_cfg.get("validate", True))
    metrics["train_seconds"] = train_seconds
    log.info("test metrics: %s", metrics)
    return {"history": history, "metrics": metrics}


def _accuracy(model, x, y, batch_size: int = 4096) -> float:
    """Share of rows whose argmax logit is the label (inference mode)."""
    hits = sum(int((np.asarray(model(x[s:s + batch_size], training=False)).argmax(1)
                    == y[s:s + batch_size]).sum()) for s in range(0, len(x), batch_size))
    return hits / len(x)


def test_metrics(model: keras.Model, data: dict, history: dict, validated: bool) -> dict:
    """test_<metric> of the trained model. When the test set was the validation data, fit has
    just evaluated the final weights on it (the last val_* values): no second pass over the
    test set (the CNN's costs about 10 s)."""
    if validated:
        return {f"test_{k[4:]}": float(v[-1]) for k, v in history.items() if k.startswith("val_")}
    test = model.evaluate(data["x_test"], data["y_test"], batch_size=1024, verbose=0,
                          return_dict=True)
    return {f"test_{k}": float(v) for k, v in test.items()}


def train_stage(data: dict, outputs: dict, params: dict) -> dict:
    """The training stage of every model: seed, build, fit, evaluate, save.

    data: x_train, y_train, x_test, y_test. params: {"cfg": the experiment's resolved config
    (model, train, ...), "seed": int}. outputs: "model" (.keras), "metrics" (.json), "history"
    (.csv); "run_id" is written by the tracking path. Returns the metrics to log (the test
    metrics, plus train_seconds, which stays out of metrics.json: no clock in result files).
    """
    from ..infra.io import save_npy, write_yaml
    from .models import build
    from .seeding import seed_everything

    cfg, seed = params["cfg"], int(params["seed"])
    seed_everything(seed)
    model = build(cfg["model"])
    train_cfg = {**cfg["train"], **params.get("execution", {})}
    if train_cfg.get("right_reasons"):
        result = fit_right_reasons(model, data, train_cfg, seed)
    else:
        result = fit(model, data, train_cfg)
    save_outputs(model, result, outputs)
    if "example" in outputs:  # MLflow's input example, as the model saw its test inputs
        save_npy(outputs["example"], input_example(data["x_test"]))
    if "config" in outputs:  # the resolved config beside the model: what made it
        write_yaml(outputs["config"], {**cfg, "seed": seed})
    return result["metrics"]


def input_example(x, rows: int = 5) -> np.ndarray:
    """`rows` test inputs spread evenly over the split (the IMDB test split is sorted by
    label, so both labels appear): the logged model's input example and signature."""
    pick = np.linspace(0, len(x) - 1, min(rows, len(x))).round().astype(int)
    return np.asarray(x)[pick]


def save_outputs(model: keras.Model, result: dict, outputs: dict) -> None:
    import pandas as pd

    from ..infra.io import save_keras, write_csv, write_json

    save_keras(outputs["model"], model)
    metrics = {k: v for k, v in result["metrics"].items() if k != "train_seconds"}
    write_json(outputs["metrics"], metrics)
    history = pd.DataFrame(result["history"])
    history.insert(0, "epoch", np.arange(1, len(history) + 1))
    write_csv(outputs["history"], history)
