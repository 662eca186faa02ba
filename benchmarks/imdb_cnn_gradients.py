"""Forward pass vs per-word gradient pass of the paper-5.1 IMDB CNN, side by side in one process.

    python benchmarks/imdb_cnn_gradients.py [--model results/models/imdb_cnn/seed0/model.keras]
        [--test results/data/imdb_test.npz] [--reviews 25000] [--batch-size 128] [--repeat 3]

Forward: the compiled model on the word ids, batch by batch (what predicting the test set
costs). Gradient pass: `sections.imdb_cnn.compute.word_gradient_norms` (embedding lookup +
the shared gradient primitive + reduction to per-word norms), for the paper's target
(probability) alone and for both targets, and, for comparison, the probability pass with the
full gradients copied out of the graph and reduced in NumPy (as before
`gradient_batches(..., reduce=...)`). Each is run once to compile, then all are timed in turn
for `--repeat` rounds; process CPU time is shown beside wall-clock time because the machine
may be shared.
Target: gradient pass <= 3 x forward pass.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def timed(fn) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def interleaved(fns: dict, repeat: int) -> dict[str, list[tuple[float, float]]]:
    """Warm every function up, then time them in turn, `repeat` rounds: on a shared machine
    the load then hits all of them alike, and per-round ratios compare like with like."""
    for fn in fns.values():
        fn()
    times = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            times[name].append(timed(fn))
    return times


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="results/models/imdb_cnn/seed0/model.keras")
    parser.add_argument("--test", default="results/data/imdb_test.npz")
    parser.add_argument("--reviews", type=int, default=25000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--chunk-size", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    import keras
    import numpy as np
    import tensorflow as tf

    from inputgrad.core.gradients import gradient_batches
    from inputgrad.core.models import split_embedding
    from inputgrad.data.arrays import load_reviews
    from inputgrad.sections.imdb_cnn.compute import model_inputs, word_gradient_norms

    model = keras.models.load_model(args.model)
    maxlen = model.input_shape[1]
    ids, _ = model_inputs(load_reviews(args.test), maxlen, start_char=1)
    ids = ids[:args.reviews]
    embed, f = split_embedding(model)
    bs = args.batch_size

    @tf.function(reduce_retracing=True)
    def forward_batch(x):
        return model(x, training=False)

    def forward():
        out = [forward_batch(tf.constant(ids[s:s + bs])).numpy() for s in range(0, len(ids), bs)]
        return np.concatenate(out)

    def grads(targets):
        return lambda: word_gradient_norms(model, ids, targets, bs, args.chunk_size)

    def unreduced():  # before `reduce`: full (b, maxlen, dim) gradients to NumPy, norm there
        for start in range(0, len(ids), args.chunk_size):
            x = embed(ids[start:start + args.chunk_size])
            for _, g, _ in gradient_batches(f, x, "probability", classes=0, batch_size=bs):
                np.sqrt(np.einsum("bld,bld->bl", g, g))

    times = interleaved({"forward": forward, "probability": grads(("probability",)),
                         "both": grads(("probability", "logit")), "unreduced": unreduced},
                        args.repeat)

    def ratio(name, k):  # median over rounds of (gradient pass / forward pass)
        pairs = zip(times[name], times["forward"], strict=True)
        return float(np.median([t[k] / fw[k] for t, fw in pairs]))

    def best(name, k):
        return min(t[k] for t in times[name])

    print(f"IMDB CNN, {len(ids)} test reviews x {maxlen} words, batch {bs}, {args.repeat} "
          f"interleaved rounds; wall-clock s (process CPU s), best round; ratio = median of "
          f"per-round ratios")
    print(f"forward pass (compiled model on ids):      {best('forward', 0):7.2f} "
          f"({best('forward', 1):7.2f})")
    for name, label in (("probability", "gradient pass, probability (paper):"),
                        ("both", "gradient pass, probability + logit:"),
                        ("unreduced", "probability, norms outside the graph:")):
        print(f"{label:43s}{best(name, 0):7.2f} ({best(name, 1):7.2f})  ratio "
              f"{ratio(name, 0):4.2f} wall, {ratio(name, 1):4.2f} CPU")
    print("target: gradient pass (one target) <= 3 x forward pass")


if __name__ == "__main__":
    main()
