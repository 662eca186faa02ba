"""Cost of every text method on the paper-5.1 IMDB CNN, and IG's batched path points.

    python benchmarks/text_methods.py [--model results/models/imdb_cnn/seed0/model.keras]
        [--test results/data/imdb_test.npz] [--reviews 20] [--steps 32] [--lime-samples 500]
        [--repeat 3]

Part 1: seconds per review of each method of `sections.text_faithfulness.compute.word_scores`
(gradient norm, gradient x input, IG, SmoothGrad, occlusion, LIME, random) on a seeded sample
of test reviews, wall clock and process CPU (the machine may be shared).
Part 2: Integrated Gradients with m path points (`core.methods`, all path points of a chunk of
reviews in one compiled call) against m single gradient passes over the same reviews.
Target: IG(m) <= 1.2 x m gradient passes.
Part 3: occlusion, the CNN's fast path (`core.cnn_fast.occlusion_logits`, only the windows a
word touches) against the naive one (one forward pass per word), and their largest difference.
Target: fast <= 0.2 x naive, scores equal within 1e-6.
Part 4: LIME with the CNN's shared-prefix forward (`core.cnn_fast.shared_prefix_logits`: the
windows inside a review's padding once per batch of its neighbourhood) against LIME with the
plain forward, and their largest difference.
Every function is run once to compile, then all are timed in turn for `--repeat` rounds; the
best round is shown, ratios are medians of per-round ratios.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# the CNN methods of config/hydra/attribution/text_faithfulness.yaml (registry names)
CNN_METHODS = ("gradient", "gradient_x_input", "integrated_gradients", "smoothgrad", "occlusion",
               "lime", "random")


def timed(fn) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def interleaved(fns: dict, repeat: int) -> dict[str, list[tuple[float, float]]]:
    """Warm every function up, then time them in turn, `repeat` rounds."""
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
    parser.add_argument("--reviews", type=int, default=20)
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--lime-samples", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    import keras
    import numpy as np

    from inputgrad.core.methods import attribute
    from inputgrad.core.models import split_embedding
    from inputgrad.data.arrays import load_reviews, pad_reviews
    from inputgrad.sections.text_faithfulness import compute

    model = keras.models.load_model(args.model, compile=False)
    ids, position = pad_reviews(load_reviews(args.test), model.input_shape[1], start_char=1)
    pick = compute.select_reviews((position >= 0).sum(axis=1), args.reviews, 10, 0)
    ids, words = ids[pick], position[pick] >= 0
    bs, n = args.batch_size, len(ids)
    options = {"integrated_gradients": {"steps": args.steps},
               "smoothgrad": {"samples": 16, "noise": 0.1, "seed": 0},
               "lime": {"samples": args.lime_samples, "kernel_width": 25, "seed": 0},
               "random": {"seed": 0}}

    def method(name):
        return lambda: compute.word_scores(name, model, ids, words, batch_size=bs,
                                           **options.get(name, {}))

    times = interleaved({compute.label(m, "imdb_cnn"): method(m) for m in CNN_METHODS},
                        args.repeat)
    print(f"IMDB CNN, {n} test reviews ({words.sum(axis=1).mean():.0f} words on average), "
          f"batch {bs}, {args.repeat} interleaved rounds; seconds per review, best round")
    print("| method | wall s / review | CPU s / review |\n|---|---|---|")
    for m, t in times.items():
        print(f"| {m} | {min(w for w, _ in t) / n:.4f} | {min(c for _, c in t) / n:.4f} |")

    embed, f = split_embedding(model)
    x = embed(ids)

    def ig():
        attribute("integrated_gradients", f, x, target=0, output="probability",
                  batch_size=bs, steps=args.steps, internal_batch_size=bs)

    def gradients():  # m single passes over the same reviews
        for _ in range(args.steps):
            attribute("gradient", f, x, target=0, output="probability", batch_size=bs)

    times = interleaved({"ig": ig, "gradients": gradients}, args.repeat)
    ratios = [[a[k] / b[k] for a, b in zip(times["ig"], times["gradients"], strict=True)]
              for k in (0, 1)]
    print(f"\nIG with m = {args.steps} path points: {min(w for w, _ in times['ig']):.2f} s "
          f"wall; {args.steps} gradient passes: {min(w for w, _ in times['gradients']):.2f} s "
          f"wall; ratio {np.median(ratios[0]):.2f} wall, {np.median(ratios[1]):.2f} CPU "
          f"(target <= 1.2)")

    occlusion(model, ids, words, bs, args.repeat)
    lime(model, ids, words, bs, args.repeat, options["lime"])


def lime(model, ids, words, bs, repeat, options) -> None:
    """Part 4: LIME, shared-prefix vs plain forward, side by side."""
    import numpy as np

    from inputgrad.core.methods import attribute
    from inputgrad.core.models import model_fn
    from inputgrad.sections.text_faithfulness import compute

    f = model_fn(model)
    direction = compute.direction_of(compute.predicted_classes(compute.logits_of(f, ids, bs)))
    out = {}

    def run(name, given):
        def call():
            out[name] = attribute("lime", f, ids, target=0, batch_size=bs, features=words,
                                  fill=2, direction=direction, model=given, **options)
        return call

    times = interleaved({"shared": run("shared", model), "plain": run("plain", None)}, repeat)
    ratios = [np.median([a[k] / b[k] for a, b in zip(times["shared"], times["plain"],
                                                       strict=True)]) for k in (0, 1)]
    diff = np.nanmax(np.abs(np.where(words, out["shared"] - out["plain"], np.nan)))
    pad = 1 - words.sum(axis=1).mean() / ids.shape[1]
    print(f"\nLIME, {len(ids)} reviews ({pad:.0%} of the columns padding): shared prefix "
          f"{min(w for w, _ in times['shared']):.2f} s wall, plain "
          f"{min(w for w, _ in times['plain']):.2f} s wall; ratio {ratios[0]:.3f} wall, "
          f"{ratios[1]:.3f} CPU; max |shared - plain| = {diff:.3g}")


def occlusion(model, ids, words, bs, repeat) -> None:
    """Part 3: fast vs naive occlusion, side by side."""
    import numpy as np

    from inputgrad.core.methods import naive_occlusion
    from inputgrad.core.models import model_fn
    from inputgrad.sections.text_faithfulness import compute

    f = model_fn(model)
    direction = compute.direction_of(compute.predicted_classes(compute.logits_of(f, ids, bs)))
    p0 = compute.class_probability(f, ids, direction, bs)
    out = {}

    def fast():
        out["fast"] = compute.word_scores("occlusion", model, ids, words, batch_size=bs)

    def naive():
        out["naive"] = naive_occlusion(f, p0, ids, words, direction, bs, 2)

    times = interleaved({"fast": fast, "naive": naive}, repeat)
    ratios = [np.median([a[k] / b[k] for a, b in zip(times["fast"], times["naive"], strict=True)])
              for k in (0, 1)]
    diff = np.nanmax(np.abs(out["fast"] - np.where(words, out["naive"], np.nan)))
    print(f"\nocclusion, {len(ids)} reviews: fast {min(w for w, _ in times['fast']):.2f} s wall, "
          f"naive {min(w for w, _ in times['naive']):.2f} s wall; ratio {ratios[0]:.3f} wall, "
          f"{ratios[1]:.3f} CPU (target <= 0.2); max |fast - naive| = {diff:.3g}")


if __name__ == "__main__":
    main()
