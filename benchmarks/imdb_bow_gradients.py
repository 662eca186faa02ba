"""Cost of ḡ on the real IMDB test set: a mean-gradient pass vs a forward pass, same process.

    python benchmarks/imdb_bow_gradients.py [--repeats 5] [--batch-size 500]

Uses the trained model results/models/imdb_bow_mlp/seed<first seed>/model.keras when it exists
(else a freshly built model with the configured architecture: the cost is the same) and the
25,000 test reviews as binary bag-of-words vectors. Both passes go through the same batches of
compiled (tf.function) calls; the forward pass returns the logits to NumPy, the gradient pass
is `core.gradients.mean_gradient` (probability target); also timed: the one pass of rule
imdb_bow_gbar, `sections.imdb_bow.compute.mean_gradients` (ḡ of probability and logit plus
the logits). Prints best-of-N seconds and the ratios to the forward pass.
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
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=None,
                        help="default: attribution.batch_size of the imdb_bow_mlp experiment")
    args = parser.parse_args()

    import keras
    import numpy as np
    import tensorflow as tf
    import yaml

    from inputgrad.core import gradients
    from inputgrad.core.models import build
    from inputgrad.data.arrays import load_reviews
    from inputgrad.infra.config import compose
    from inputgrad.sections.imdb_bow.compute import mean_gradients, reviews_bow

    cfg = compose(ROOT / "config" / "hydra", "imdb_bow_mlp")
    seed = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["seeds"][0]
    batch = args.batch_size or cfg["attribution"]["batch_size"]
    path = ROOT / f"results/models/imdb_bow_mlp/seed{seed}/model.keras"
    model = keras.models.load_model(path) if path.exists() else build(cfg["model"])
    vocab = int(model.input_shape[-1])
    x, _ = reviews_bow(load_reviews(ROOT / "results/data/imdb_test.npz"), vocab,
                       cfg["data"]["imdb"])

    @tf.function(reduce_retracing=True)
    def forward_fn(xb):
        return model(xb)

    def forward():
        out = [forward_fn(tf.convert_to_tensor(x[i:i + batch])).numpy()
               for i in range(0, len(x), batch)]
        return np.concatenate(out)

    passes = {
        "forward": forward,
        # the primitive: ḡ of the probability (the paper's quantity)
        "mean_gradient": lambda: gradients.mean_gradient(model, x, "probability", classes=0,
                                                         batch_size=batch),
        # what the rule runs: ḡ of probability AND logit, plus all logits, in one pass
        "section_one_pass": lambda: mean_gradients(model, x, batch),
    }
    for fn in passes.values():
        fn()  # trace/compile everything before timing
    timings = {name: [] for name in passes}
    for _ in range(args.repeats):  # interleaved, so load changes hit all passes alike
        for name, fn in passes.items():
            start = time.perf_counter()
            fn()
            timings[name].append(time.perf_counter() - start)
    best = {k: min(v) for k, v in timings.items()}
    print(f"model: {path if path.exists() else 'fresh ' + cfg['model']['name']}; "
          f"x: {x.shape} float32; batch {batch}; best of {args.repeats}")
    for name, sec in best.items():
        print(f"{name:18s} {sec:7.3f} s   ratio to forward {sec / best['forward']:.2f}")
    print(f"ratio mean_gradient/forward: {best['mean_gradient'] / best['forward']:.2f}"
          "  (target <= 3)")


if __name__ == "__main__":
    main()
