"""Command line: `inputgrad <command>` (also `python -m inputgrad`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .core.gradients import OUTPUTS
from .core.methods import METHODS


def cmd_smoke_data(args) -> int:
    from .data.smoke import make_mirror

    out = make_mirror(args.out_dir, seed=args.seed)
    print(f"synthetic mirror written to {out}; use INPUTGRAD_DATA_MIRROR={out}")
    return 0


def _classes(value: str):
    return value if value in ("predicted", "all") else int(value)


def options(args) -> dict:
    """The chosen method's own options from the flags (other methods take none of them)."""
    return {"integrated_gradients": {"steps": args.steps},
            "smoothgrad": {"samples": args.samples, "noise": args.noise}}.get(args.method, {})


def cmd_explain(args) -> int:
    import keras
    import numpy as np

    from .explain import explain_array, explain_text

    if not Path(args.model).is_file():
        raise SystemExit(f"explain: model file {args.model} does not exist")
    model = keras.models.load_model(args.model)
    kw = options(args)
    if args.text is not None:
        table = explain_text(model, args.text, args.word_index, args.method, args.output, **kw)
        print(f"prediction ({args.output}): {table.attrs['prediction']:.4f}")
        print(table.sort_values("score", key=abs, ascending=False).head(args.top)
              .to_string(index=False))
        return 0
    if not Path(args.input).is_file():
        raise SystemExit(f"explain: input file {args.input} does not exist")
    x = np.load(args.input)
    if hasattr(x, "files"):
        if args.key not in x.files:
            raise SystemExit(f"explain: key {args.key!r} not in {args.input} (has {x.files})")
        x = x[args.key]
    result = explain_array(model, x, args.method, args.output, _classes(args.target), **kw)
    np.savez(args.out, **result)
    print(f"{args.method} attributions {result['attributions'].shape} -> {args.out}")
    if "completeness_gap" in result:
        print(f"IG completeness gap: max |gap| = {np.abs(result['completeness_gap']).max():.3g}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inputgrad", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    smoke = sub.add_parser("smoke-data", help="write tiny synthetic datasets + SHA256SUMS")
    smoke.add_argument("out_dir")
    smoke.add_argument("--seed", type=int, default=0)
    smoke.set_defaults(func=cmd_smoke_data)
    ex = sub.add_parser("explain", help="attribute a saved Keras model's predictions")
    ex.add_argument("model", help="a .keras file, e.g. results/models/imdb_cnn/seed0/model.keras")
    src = ex.add_mutually_exclusive_group(required=True)
    src.add_argument("--input", help=".npy or .npz of model inputs")
    src.add_argument("--text", help="a review to explain (models with an Embedding layer)")
    ex.add_argument("--key", default="x", help="array name inside an .npz input")
    ex.add_argument("--word-index", default="results/data/raw/imdb_word_index.json")
    ex.add_argument("--method", default="gradient", choices=list(METHODS))
    ex.add_argument("--output", default="probability", choices=list(OUTPUTS))
    ex.add_argument("--target", default="predicted", help="predicted, all, or a class index")
    ex.add_argument("--steps", type=int, default=32, help="Integrated Gradients steps")
    ex.add_argument("--samples", type=int, default=16, help="SmoothGrad samples")
    ex.add_argument("--noise", type=float, default=0.1, help="SmoothGrad noise level")
    ex.add_argument("--top", type=int, default=15, help="words shown for --text")
    ex.add_argument("--out", default="attributions.npz")
    ex.set_defaults(func=cmd_explain)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
