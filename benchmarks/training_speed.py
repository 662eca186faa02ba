"""Training speed-ups that keep the numbers: the real models on the real data, side by side.

    python benchmarks/training_speed.py [--data results/data] [--seed 0]
        [--part steps validation threads reference] [--models mnist_mlp imdb_cnn]
        [--epochs 2] [--steps 1 8 32 64] [--reference DIR]

Each part prints a table; `identical` is np.array_equal over every trained weight against the
part's baseline (same seed), `max_abs_diff` the largest weight difference when not.

steps       Keras `steps_per_execution` k: each setting trains the model `--epochs` epochs from
            the same seed (no validation) through the project's compile_model/ProgressLog,
            `--rounds` times interleaved; train_s / cpu_s are the best wall / process-CPU
            seconds of an epoch after the first (the first one traces), ratio = train_s(k=1) /
            train_s(k), cpu_ratio likewise. Baseline: the first k = 1 run (today).
validation  the per-epoch test-set evaluation (`validate: true`, curves only): at the training
            batch size (Keras' default, today), at batch 1024 (the final evaluation's batch
            size) and none. val_s: seconds per epoch spent validating. Also: whether the last
            epoch's validation at batch 1024 equals the final `evaluate` bit for bit.
threads     two training processes at once (Snakemake runs 2 jobs on 2 cores), each with 2
            (TensorFlow's default here) or 1 intra-op thread(s): wall seconds of each process
            and weights against the 2-thread run. Run with `--epochs 1` for the CNN.
reference   the full training path (`core.train.train_stage`, the configured hyperparameters,
            all epochs), once with steps_per_execution 1 (as before the speed-ups) and once as
            configured, each against the model files a run of the code before the speed-ups
            wrote on this machine (`--reference DIR`, holding <model>/seed<seed>/): weights,
            metrics.json and history.csv compared; wall and process-CPU seconds of the stage.
pipeline    the input pipeline `fit` hands Keras: Keras's own array pipeline as `fit(x, y)`
            builds it (tf.data autotuning on) against the same pipeline with autotuning off
            (core.train.array_input, today). Each trains the configured epochs from the same seed
            (`--rounds` times, interleaved); fit_s: wall seconds of `fit`, cpu_s its process
            CPU; stall_s = fit_s(tuned) - fit_s(untuned). Set the rule's threads
            (TF_NUM_INTRAOP_THREADS=2 for imdb_cnn, 1 for the others) to match the workflow.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("mnist_mlp", "mnist_logreg", "imdb_cnn", "imdb_bow_mlp")
EVAL_BATCH = 1024  # core.train's final evaluation batch size


def load(name: str, cfg: dict, data_dir: Path) -> dict:
    """The arrays the model's training rule trains on (same loaders as the rules)."""
    if name.startswith("mnist"):
        from inputgrad.sections.mnist.compute import load_data

        return load_data(data_dir / "mnist.npz")
    if name == "imdb_cnn":
        from inputgrad.sections.imdb_cnn.compute import load_data

        return load_data(data_dir / "imdb_train.npz", data_dir / "imdb_test.npz",
                         cfg["model"]["maxlen"], cfg["data"]["imdb"]["start_char"])
    from inputgrad.data.arrays import load_reviews
    from inputgrad.sections.imdb_bow.compute import reviews_bow

    vocab, imdb = cfg["model"]["vocab_size"], cfg["data"]["imdb"]
    data = {}
    for split in ("train", "test"):
        data[f"x_{split}"], data[f"y_{split}"] = reviews_bow(
            load_reviews(data_dir / f"imdb_{split}.npz"), vocab, imdb)
    return data


def clock():
    """A callback timing each epoch: wall seconds split into training and validation, and the
    process's CPU seconds of training (less sensitive to other load on a shared machine)."""
    import keras

    class Clock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.train, self.val, self.cpu = [], [], []

        def on_epoch_begin(self, epoch, logs=None):
            self.start, self.cpu_start, self.val_s, self.val_cpu = now(), cpu(), 0.0, 0.0

        def on_test_begin(self, logs=None):
            self.val_start, self.val_cpu_start = now(), cpu()

        def on_test_end(self, logs=None):
            self.val_s += now() - self.val_start
            self.val_cpu += cpu() - self.val_cpu_start

        def on_epoch_end(self, epoch, logs=None):
            self.train.append(now() - self.start - self.val_s)
            self.cpu.append(cpu() - self.cpu_start - self.val_cpu)
            self.val.append(self.val_s)

    now, cpu = time.perf_counter, time.process_time
    return Clock()


def steady(seconds: list[float]) -> float:
    """Best epoch after the first (which traces the step function): other load on the machine
    only ever adds time."""
    return min(seconds[1:]) if len(seconds) > 1 else seconds[0]


def compare(a: list, b: list) -> tuple[bool, float]:
    import numpy as np

    if len(a) != len(b):
        return False, float("inf")
    pairs = list(zip(a, b, strict=True))
    diff = max(float(np.max(np.abs(np.asarray(x, np.float64) - y))) for x, y in pairs)
    return all(np.array_equal(x, y) for x, y in pairs), diff


def train(name, cfg, data, seed, epochs, steps=None, validate=False, val_batch=None,
          progress=True):
    """Train a fresh model from `seed` the way core.train.fit does (compile_model, ProgressLog,
    shuffle) with `steps` per execution (default: as configured); returns (model, history,
    clock). progress=False leaves ProgressLog out."""
    from inputgrad.core.models import build
    from inputgrad.core.seeding import seed_everything
    from inputgrad.core.train import ProgressLog, compile_model, execution_steps

    train_cfg = dict(cfg["train"], epochs=epochs)
    steps = steps or execution_steps(train_cfg, len(data["x_train"]))
    seed_everything(seed)
    model = compile_model(build(cfg["model"]), train_cfg, steps)
    timer = clock()
    validation = (data["x_test"], data["y_test"]) if validate else None
    history = model.fit(data["x_train"], data["y_train"], batch_size=train_cfg["batch_size"],
                        epochs=epochs, validation_data=validation, validation_batch_size=val_batch,
                        shuffle=True, verbose=0,
                        callbacks=[ProgressLog(), timer] if progress else [timer])
    return model, history.history, timer


def part_steps(args, name, cfg, data) -> list[dict]:
    """Every k trained `--rounds` times, interleaved (so load changes hit all alike); the
    fastest steady epoch per k counts."""
    runs, base = {k: [] for k in args.steps}, None
    for _ in range(args.rounds):
        for k in args.steps:
            model, _, timer = train(name, cfg, data, args.seed, args.epochs, steps=k)
            weights = model.get_weights()
            base = base or weights
            runs[k].append((steady(timer.train), steady(timer.cpu), *compare(base, weights)))
            print(name, k, runs[k][-1], flush=True)
    rows = []
    for k, results in runs.items():
        wall, cpu_s, same, diff = zip(*results, strict=True)
        rows.append({"model": name, "steps_per_execution": k, "train_s": min(wall),
                     "cpu_s": min(cpu_s), "identical": all(same), "max_abs_diff": max(diff)})
    for row in rows:
        row["ratio"] = rows[0]["train_s"] / row["train_s"]
        row["cpu_ratio"] = rows[0]["cpu_s"] / row["cpu_s"]
    return rows


def part_validation(args, name, cfg, data) -> list[dict]:
    rows, base = [], None
    variants = [("training batch (today)", True, None), (f"batch {EVAL_BATCH}", True, EVAL_BATCH),
                ("none", False, None)]
    for label, validate, val_batch in variants:
        model, history, timer = train(name, cfg, data, args.seed, args.epochs,
                                      validate=validate, val_batch=val_batch)
        weights = model.get_weights()
        base = base or (weights, history)
        same, diff = compare(base[0], weights)
        row = {"model": name, "validation": label, "train_s": steady(timer.train),
               "val_s": steady(timer.val), "identical": same, "max_abs_diff": diff}
        if validate and val_batch:
            row["val_curve_max_diff"] = max(
                abs(a - b) for key in ("val_loss", "val_accuracy")
                for a, b in zip(base[1][key], history[key], strict=True))
            final = model.evaluate(data["x_test"], data["y_test"], batch_size=EVAL_BATCH,
                                   verbose=0, return_dict=True)
            row["last_val_equals_final_evaluate"] = all(
                history[f"val_{k}"][-1] == v for k, v in final.items())
        rows.append(row)
        print(rows[-1], flush=True)
    return rows


def part_progress(args, name, cfg, data) -> list[dict]:
    """ProgressLog's cost: with and without it, at k = 1 and at the configured k."""
    import pandas as pd

    from inputgrad.core.train import execution_steps

    configured = execution_steps(cfg["train"], len(data["x_train"]))
    rows, base = [], None
    for _ in range(args.rounds):
        for steps in sorted({1, configured}):
            for progress in (True, False):
                model, _, timer = train(name, cfg, data, args.seed, args.epochs, steps=steps,
                                        progress=progress)
                base = base or model.get_weights()
                rows.append({"model": name, "steps_per_execution": steps,
                             "progress_log": progress, "train_s": steady(timer.train),
                             "cpu_s": steady(timer.cpu),
                             "identical": compare(base, model.get_weights())[0]})
                print(rows[-1], flush=True)
    keys = ["model", "steps_per_execution", "progress_log"]
    return (pd.DataFrame(rows).groupby(keys, as_index=False)
            .agg(train_s=("train_s", "min"), cpu_s=("cpu_s", "min"),
                 identical=("identical", "all")).to_dict("records"))


def worker(args) -> None:
    """One training process of the threads part: set the threads first, then train."""
    import numpy as np
    import tensorflow as tf

    from inputgrad.infra.config import compose

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    cfg = compose(ROOT / "config/hydra", args.worker)
    data = load(args.worker, cfg, Path(args.data))
    start = time.perf_counter()
    model, _, timer = train(args.worker, cfg, data, args.seed, args.epochs,
                            validate=cfg["train"].get("validate", True))
    wall = time.perf_counter() - start
    np.savez(args.out, *model.get_weights())
    Path(args.out).with_suffix(".json").write_text(json.dumps(
        {"wall_s": wall, "train_s": steady(timer.train), "val_s": steady(timer.val)}))


def part_threads(args, name) -> list[dict]:
    import numpy as np

    rows, base = [], None
    with tempfile.TemporaryDirectory() as tmp:
        for threads in (2, 1):
            outs = [Path(tmp) / f"t{threads}_{i}.npz" for i in range(2)]
            procs = [subprocess.Popen(
                [sys.executable, __file__, "--worker", name, "--threads", str(threads),
                 "--out", str(out), "--epochs", str(args.epochs), "--seed", str(args.seed),
                 "--data", args.data]) for out in outs]
            if any(p.wait() for p in procs):
                raise SystemExit(f"threads part: a {name} worker failed")
            for i, out in enumerate(outs):
                with np.load(out) as z:
                    weights = [z[f"arr_{j}"] for j in range(len(z.files))]
                base = base or weights
                same, diff = compare(base, weights)
                rows.append({"model": name, "intra_op_threads": threads, "process": i,
                             **json.loads(out.with_suffix(".json").read_text()),
                             "identical": same, "max_abs_diff": diff})
                print(rows[-1], flush=True)
    return rows


def part_reference(args, name, cfg, data) -> list[dict]:
    """train_stage with steps_per_execution 1 (today's path) and as configured, each compared
    with the reference files; wall and process-CPU seconds of the whole stage."""
    rows = []
    for steps in (1, cfg["train"].get("steps_per_execution", 1)):
        setting = {**cfg, "train": {**cfg["train"], "steps_per_execution": steps}}
        rows.append({"model": name, "steps_per_execution": steps,
                     **train_and_compare(setting, data, args.seed,
                                         Path(args.reference) / name / f"seed{args.seed}")})
        print(rows[-1], flush=True)
    return rows


def train_and_compare(cfg, data, seed, ref: Path) -> dict:
    import keras

    from inputgrad.core.train import train_stage

    with tempfile.TemporaryDirectory() as tmp:
        outputs = {"model": f"{tmp}/model.keras", "metrics": f"{tmp}/metrics.json",
                   "history": f"{tmp}/history.csv"}
        start, cpu_start = time.perf_counter(), time.process_time()
        metrics = train_stage(data, outputs, {"cfg": cfg, "seed": seed})
        wall, cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
        new = keras.models.load_model(outputs["model"], compile=False).get_weights()
        old = keras.models.load_model(ref / "model.keras", compile=False).get_weights()
        same, diff = compare(old, new)
        return {"train_stage_s": wall, "cpu_s": cpu_s, "weights_identical": same,
                "max_abs_diff": diff,
                **{f"{key}_identical": Path(outputs[key]).read_bytes()
                   == (ref / Path(outputs[key]).name).read_bytes()
                   for key in ("metrics", "history")},
                "test_accuracy": metrics["test_accuracy"]}


def part_pipeline(args, name, cfg, data) -> list[dict]:
    """fit as configured, through Keras's tuned pipeline and through core.train.array_input."""
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    import inputgrad.core.train as core_train

    untuned = core_train.array_input

    def tuned(x, y, batch_size, shuffle):
        return ArrayDataAdapter(x, y, batch_size=batch_size, shuffle=shuffle)

    runs = {"keras (autotuned)": [], "untuned (today)": []}
    for _ in range(args.rounds):
        for label, pipeline in (("keras (autotuned)", tuned), ("untuned (today)", untuned)):
            core_train.array_input = pipeline
            try:
                runs[label].append(fit_once(cfg, data, args.seed))
            finally:
                core_train.array_input = untuned
    base = runs["keras (autotuned)"][0]
    rows = []
    for label, results in runs.items():
        best = min(results, key=lambda r: r["fit_s"])
        same, diff = compare(base["weights"], best["weights"])
        rows.append({"model": name, "pipeline": label, "fit_s": best["fit_s"],
                     "cpu_s": best["cpu_s"], "weights_identical": same, "max_abs_diff": diff,
                     "history_identical": best["history"] == base["history"]})
    rows[-1]["stall_s"] = rows[0]["fit_s"] - rows[1]["fit_s"]
    print(rows, flush=True)
    return rows


def fit_once(cfg, data, seed) -> dict:
    from inputgrad.core.models import build
    from inputgrad.core.seeding import seed_everything
    from inputgrad.core.train import fit

    seed_everything(seed)
    model = build(cfg["model"])
    start, cpu_start = time.perf_counter(), time.process_time()
    result = fit(model, data, cfg["train"])
    return {"fit_s": time.perf_counter() - start, "cpu_s": time.process_time() - cpu_start,
            "weights": model.get_weights(), "history": result["history"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "results/data"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--part", nargs="+", default=["steps", "validation"],
                        choices=["steps", "validation", "progress", "threads", "reference",
                                 "pipeline"])
    parser.add_argument("--models", nargs="+", default=["mnist_mlp", "imdb_cnn"], choices=MODELS)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--steps", type=int, nargs="+", default=[1, 8, 32, 64])
    parser.add_argument("--rounds", type=int, default=2, help="steps part: repeats per k")
    parser.add_argument("--reference", default=None,
                        help="results/models folder of a run by the code before the speed-ups")
    parser.add_argument("--worker", choices=MODELS, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    if "reference" in args.part and not args.reference:
        parser.error("--part reference needs --reference DIR")

    import pandas as pd

    from inputgrad.infra.config import compose

    tables = {part: [] for part in args.part}
    for name in args.models:
        cfg = compose(ROOT / "config/hydra", name)
        data = load(name, cfg, Path(args.data)) if set(args.part) - {"threads"} else None
        for part in args.part:
            if part == "threads":
                tables[part] += part_threads(args, name)
            else:
                tables[part] += globals()[f"part_{part}"](args, name, cfg, data)
    for part, rows in tables.items():
        epochs = "configured" if part in ("reference", "pipeline") else args.epochs
        print(f"\n## {part} (seed {args.seed}, {epochs} epochs; {os.cpu_count()} CPUs)\n")
        print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".4g"))


if __name__ == "__main__":
    main()
