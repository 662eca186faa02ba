"""Cost of the paper-5.3 mean Jacobian on the real MNIST test set, against a forward pass and
against a naive per-class loop, measured side by side in one process.

    python benchmarks/mnist_jacobian.py [MODEL] [--data results/data/mnist.npz]
                                        [--repeats 5] [--batch-size N] [--output probability]

MODEL defaults to results/models/mnist_mlp/seed0/model.keras. All passes go through the same
batches of compiled (tf.function) calls on the 10,000 flattened test digits:
  forward      the model's class probabilities, returned to NumPy;
  jacobian     what the rule runs (`compute.mean_jacobians`, per target): the primitive's
               vectorised all-classes Jacobian (`gradients.mean_gradient(..., classes="all")`,
               one batch_jacobian per batch) taken with respect to the first layer's
               pre-activation z = x W + b, then mapped back to the pixels by W.T (exact chain
               rule; the mean commutes with the constant W.T);
  direct       the same primitive straight on the pixels (`mean_gradient(f, x, classes="all")`);
  class_loop   10 separate `gradients.mean_gradient(f, x, classes=c)` calls, one per class, on
               the pixels: the same 10 x 784 result from 10 gradient passes.
Prints best-of-N seconds (passes interleaved, so load changes hit all alike) and the ratios.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?",
                        default=str(ROOT / "results/models/mnist_mlp/seed0/model.keras"))
    parser.add_argument("--data", default=str(ROOT / "results/data/mnist.npz"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=None,
                        help="default: attribution.batch_size of the mnist_mlp experiment")
    parser.add_argument("--output", default="probability", choices=["probability", "logit"])
    args = parser.parse_args()

    import keras
    import numpy as np
    import tensorflow as tf

    from inputgrad.core import gradients
    from inputgrad.core.models import model_fn
    from inputgrad.infra.config import compose
    from inputgrad.sections.mnist.compute import load_data, mean_jacobians

    if not Path(args.model).exists():
        raise SystemExit(f"model file {args.model} not found (train it: snakemake mnist)")
    hyper = compose(ROOT / "config/hydra", "mnist_mlp")
    batch = args.batch_size or hyper["attribution"]["batch_size"]
    model = keras.models.load_model(args.model, compile=False)
    x = load_data(args.data)["x_test"]
    f = model_fn(model)
    k = int(model.output_shape[-1])

    @tf.function(reduce_retracing=True)
    def forward_fn(xb):
        logits = f(xb)
        return tf.nn.softmax(logits) if args.output == "probability" else logits

    def forward():
        return np.concatenate([forward_fn(tf.convert_to_tensor(x[i:i + batch])).numpy()
                               for i in range(0, len(x), batch)])

    def jacobian():
        return mean_jacobians(model, x, [args.output], batch_size=batch)[args.output]

    def direct():
        return gradients.mean_gradient(f, x, args.output, classes="all", batch_size=batch)

    def class_loop():
        return np.stack([gradients.mean_gradient(f, x, args.output, classes=c, batch_size=batch)
                         for c in range(k)])

    passes = {"forward": forward, "jacobian": jacobian, "direct": direct, "class_loop": class_loop}
    results = {name: fn() for name, fn in passes.items()}  # trace/compile before timing
    scale = np.abs(results["direct"]).max()
    gaps = {name: np.abs(results[name] - results["direct"]).max() / scale
            for name in ("jacobian", "class_loop")}
    timings = {name: [] for name in passes}
    for _ in range(args.repeats):
        for name, fn in passes.items():
            start = time.perf_counter()
            fn()
            timings[name].append(time.perf_counter() - start)
    best = {name: min(v) for name, v in timings.items()}

    print(f"model: {args.model}; x: {x.shape} float32; target: {args.output}; batch {batch}; "
          f"best of {args.repeats}; {os.cpu_count()} CPUs; TF {tf.__version__}")
    print("max relative difference to direct: "
          + ", ".join(f"{name} {gap:.1e}" for name, gap in gaps.items()))
    for name, sec in best.items():
        print(f"  {name:<11} {sec:8.3f} s  ({sec / best['forward']:5.1f}x forward)")
    print(f"jacobian / forward    = {best['jacobian'] / best['forward']:.1f}x  (target <= 8)")
    print(f"class_loop / jacobian = {best['class_loop'] / best['jacobian']:.1f}x  (target >= 3)")
    print(f"direct / forward      = {best['direct'] / best['forward']:.1f}x; "
          f"class_loop / direct = {best['class_loop'] / best['direct']:.1f}x")


if __name__ == "__main__":
    main()
