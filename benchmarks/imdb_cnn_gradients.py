"""Forward pass vs per-word gradient pass of the paper-5.1 IMDB CNN, side by side in one process.

    python benchmarks/imdb_cnn_gradients.py [--model results/models/imdb_cnn/seed0/model.keras]
        [--test results/data/imdb_test.npz] [--reviews 25000] [--batch-size 128] [--repeat 3]

Forward: the compiled model on the word ids, batch by batch (what predicting the test set
costs). Gradient passes, both targets (probability and logit norms) each:
- "tape, two passes": the shared gradient primitive once per target (the original rule);
- "tape, one pass": one logit pass of the primitive, probability norms by the chain rule
  (`compute.tape_logit_norms`; the path of any model without the CNN's shape);
- "fast": `compute.word_gradient_norms`, which for this model takes `core.cnn_fast`
  (max-pool gradient scattered at the selected positions) plus the same chain rule.
Forward with the padding skipped too ("forward, padding once"): the same batches as the fast
pass (reviews sorted by their leading padding), each through `core.cnn_fast.shared_prefix_logits`,
the windows inside the batch's shared padding once: the fairest forward to set the fast pass
against, since the fast pass skips them as well.
Each is run once to compile, then all are timed in turn for `--repeat` rounds; process CPU
time is shown beside wall-clock time because the machine may be shared. Then the largest
difference of the fast norms from the one-pass tape's (relative to the review's largest norm,
and elementwise where the norm is above 1e-6 of it).
Target: fast, both targets <= 1.5 x forward pass.
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
    from inputgrad.sections.imdb_cnn.compute import (
        embedding_norm,
        model_inputs,
        tape_logit_norms,
        word_gradient_norms,
    )

    model = keras.models.load_model(args.model)
    maxlen = model.input_shape[1]
    ids, _ = model_inputs(load_reviews(args.test), maxlen, start_char=1)
    ids = ids[:args.reviews]
    embed, f = split_embedding(model)
    bs, chunk = args.batch_size, args.chunk_size

    @tf.function(reduce_retracing=True)
    def forward_batch(x):
        return model(x, training=False)

    def forward():
        out = [forward_batch(tf.constant(ids[s:s + bs])).numpy() for s in range(0, len(ids), bs)]
        return np.concatenate(out)

    from inputgrad.core import cnn_fast

    parts = cnn_fast.conv_maxpool(model)
    lead = np.where((ids != 0).any(axis=1), (ids != 0).argmax(axis=1), ids.shape[1])
    order = np.argsort(-lead, kind="stable")

    def forward_padding_once():
        return np.concatenate([cnn_fast.shared_prefix_logits(parts, ids[order[s:s + bs]])
                               for s in range(0, len(ids), bs)])

    def two_passes():  # the original rule: one primitive pass per target
        for start in range(0, len(ids), chunk):
            x = embed(ids[start:start + chunk])
            for output in ("probability", "logit"):
                for _ in gradient_batches(f, x, output, classes=0, batch_size=bs,
                                          reduce=embedding_norm):
                    pass

    def one_pass():
        tape_logit_norms(model, ids, bs, chunk)

    def fast():
        word_gradient_norms(model, ids, ("probability", "logit"), bs, chunk)

    times = interleaved({"forward": forward, "forward_once": forward_padding_once,
                         "two": two_passes, "one": one_pass, "fast": fast}, args.repeat)

    def ratio(name, k, base="forward"):  # median over rounds of (pass / forward pass)
        pairs = zip(times[name], times[base], strict=True)
        return float(np.median([t[k] / fw[k] for t, fw in pairs]))

    def best(name, k):
        return min(t[k] for t in times[name])

    print(f"IMDB CNN, {len(ids)} test reviews x {maxlen} words, batch {bs}, {args.repeat} "
          f"interleaved rounds; wall-clock s (process CPU s), best round; ratio = median of "
          f"per-round ratios")
    print(f"forward pass (compiled model on ids):      {best('forward', 0):7.2f} "
          f"({best('forward', 1):7.2f})")
    for name, label in (("two", "both targets, tape, two passes:"),
                        ("one", "both targets, tape, one pass + rescale:"),
                        ("fast", "both targets, fast (cnn_fast) + rescale:")):
        print(f"{label:43s}{best(name, 0):7.2f} ({best(name, 1):7.2f})  ratio "
              f"{ratio(name, 0):4.2f} wall, {ratio(name, 1):4.2f} CPU")
    print(f"{'forward, padding once (sorted batches):':43s}{best('forward_once', 0):7.2f} "
          f"({best('forward_once', 1):7.2f})  ratio {ratio('forward_once', 0):4.2f} wall")
    print(f"fast against the padding-once forward: {ratio('fast', 0, 'forward_once'):4.2f} wall, "
          f"{ratio('fast', 1, 'forward_once'):4.2f} CPU")
    print("target: fast, both targets <= 1.5 x forward pass")
    differences(model, ids, bs, chunk)


def differences(model, ids, bs, chunk) -> None:
    """How far the fast norms are from the one-pass tape's, per target."""
    import numpy as np

    from inputgrad.core.stats import probability_scale
    from inputgrad.sections.imdb_cnn.compute import tape_logit_norms, word_gradient_norms

    fast, logits = word_gradient_norms(model, ids, ("probability", "logit"), bs, chunk)
    tape, tape_logits = tape_logit_norms(model, ids, bs, chunk)
    tape = {"logit": tape, "probability": tape * probability_scale(tape_logits)[:, None]}
    print(f"logits: max |fast - tape| = {np.abs(logits - tape_logits).max():.3g}")
    for target in ("probability", "logit"):
        a, b = fast[target].astype(np.float64), tape[target].astype(np.float64)
        top = b.max(axis=1, keepdims=True)
        big = b > 1e-6 * top
        print(f"{target}: max |fast - tape| / review max = "
              f"{(np.abs(a - b) / np.where(top > 0, top, 1)).max():.3g}; elementwise relative "
              f"(norms > 1e-6 x review max) = {(np.abs(a - b)[big] / b[big]).max():.3g}; "
              f"zero in one, not the other: {((a == 0) != (b == 0)).sum()}; "
              f"bit-identical: {(a == b).mean():.4f}")


if __name__ == "__main__":
    main()
