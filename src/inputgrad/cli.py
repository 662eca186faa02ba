"""Command line: `inputgrad <command>` (also `python -m inputgrad`)."""

from __future__ import annotations

import argparse
import sys

# Only light imports here: `inputgrad --help` and argument errors must not load TensorFlow
# (5 s and its log lines). Each command imports what it needs when it runs.


def cmd_smoke_data(args) -> int:
    from .data.smoke import make_mirror

    out = make_mirror(args.out_dir, seed=args.seed)
    print(f"synthetic mirror written to {out}; use INPUTGRAD_DATA_MIRROR={out}")
    return 0


def cmd_relocate_store(args) -> int:
    from .infra.tracking import relocate_store

    rows = relocate_store()
    print(f"results/mlflow/mlflow.db: {rows} artifact locations now point into this project")
    return 0


def parse_target(value: str):
    """--target: "predicted", "all" or a class index (its range is checked against the model)."""
    from . import explain  # TensorFlow-free: it imports Keras only to load a Keras model

    if value in ("predicted", "all"):
        return value
    try:
        return int(value)
    except ValueError:
        pass
    raise explain.ExplainError(f"--target must be predicted, all or a class index, got {value!r}")


def options(args) -> dict:
    """The chosen method's options: those of config/hydra/attribution/methods.yaml (the
    workflow's), overridden by the flags given (--steps: path methods; --samples, --noise:
    noise methods)."""
    from .core.methods import default_options, lookup, options_of

    m = lookup(args.method)
    kw = options_of(args.method, default_options())
    flags = {"steps": args.steps if m.path else None,
             "samples": args.samples if m.noise else None,
             "noise": args.noise if m.noise else None}
    return {**kw, **{k: v for k, v in flags.items() if v is not None}}


def cmd_explain(args) -> int:
    from . import explain_sklearn

    target = parse_target(args.target)  # every argument before the slow model load
    if explain_sklearn.is_sklearn_file(args.model):
        return explain_estimator(args, target)
    return explain_keras(args, target)


def explain_keras(args, target) -> int:
    import numpy as np

    from . import explain
    from .infra.io import save_npz

    args.method = args.method or "gradient"
    args.output = args.output or "probability"
    if args.method == "finite_differences":
        raise explain.ExplainError(f"--method finite_differences is for models without "
                                   f"gradients (scikit-learn); {args.model} is a Keras model: "
                                   f"use --method gradient")
    if args.output == "prediction":
        raise explain.ExplainError(f"--output prediction is for models scored by predict "
                                   f"(scikit-learn regressors); {args.model} is a Keras model, "
                                   f"which returns logits: use logit or probability")
    kw = options(args)
    explain.check_options(args.method, kw)
    if args.text is not None:
        explain.check_text(args.text)
    else:
        explain.check_out(args.out)
    if args.top < 1:
        raise explain.ExplainError(f"--top must be a whole number >= 1, got {args.top}")
    model = explain.load_model(args.model)
    if args.text is not None:
        explain.embedding_layer(model, args.model)
        word_index = args.word_index or explain.find_word_index(args.model)
        table = explain.explain_text(model, args.text, word_index, args.method, args.output,
                                     args.normalize, args.group, **kw)
        print(f"prediction ({args.output}): {table.attrs['prediction']:.4f}")
        print(table.sort_values("score", key=abs, ascending=False).head(args.top)
              .to_string(index=False))
        return 0
    x = explain.load_input(args.input, args.key)
    explain.check_input(model, x, args.input)
    explain.check_target(model, target)
    result = explain.explain_array(model, x, args.method, args.output, target,
                                   normalize=args.normalize, group=args.group, **kw)
    save_npz(args.out, result)  # atomically: an interrupted run leaves no half-written file
    print(f"{args.method} attributions {result['attributions'].shape} -> {args.out}")
    if "grouped" in result:
        print(f"group sums {result['grouped'].shape} (--group {args.group}), labels in 'groups'")
    if "completeness_gap" in result:
        print(f"IG completeness gap: max |gap| = {np.abs(result['completeness_gap']).max():.3g}")
    return 0


def explain_estimator(args, target) -> int:
    """`inputgrad explain` of a scikit-learn model (explain_sklearn): no TensorFlow."""
    import numpy as np

    from . import explain, explain_sklearn
    from .infra.io import save_npz

    if args.text is not None:
        raise explain.ExplainError(f"--text needs a Keras model with an Embedding layer; "
                                   f"{args.model} is a scikit-learn model (use --input)")
    method = args.method or explain_sklearn.METHOD
    if method != explain_sklearn.METHOD:
        raise explain.ExplainError(f"--method {method} needs a Keras model (automatic "
                                   f"differentiation); a scikit-learn model is explained by "
                                   f"--method {explain_sklearn.METHOD}, its numerical gradient")
    step = args.step  # None: methods.yaml's
    if step is not None and not (np.isfinite(step) and step > 0):
        raise explain.ExplainError(f"--step must be a finite number > 0, got {step!r}")
    explain.check_out(args.out)
    trust = [t.strip() for item in args.trust or () for t in item.split(",") if t.strip()]
    model = explain_sklearn.load_estimator(args.model, trust)
    x = explain.load_input(args.input, args.key)
    result = explain_sklearn.explain_estimator(model, x, args.output, target, step=step,
                                               normalize=args.normalize, group=args.group,
                                               name=args.input, path=args.model)
    save_npz(args.out, result)  # atomically: an interrupted run leaves no half-written file
    output = str(result["output"])
    print(f"{method} attributions {result['attributions'].shape} of {output} "
          f"({explain_sklearn.SCORING[output]} of {type(model).__name__}) -> {args.out}")
    if "grouped" in result:
        print(f"group sums {result['grouped'].shape} (--group {args.group}), labels in 'groups'")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .core.groups import NORMALIZE
    from .core.methods import names  # the registry loads without TensorFlow
    from .core.outputs import OUTPUTS

    parser = argparse.ArgumentParser(prog="inputgrad", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    smoke = sub.add_parser("smoke-data", help="write tiny synthetic datasets + SHA256SUMS")
    smoke.add_argument("out_dir")
    smoke.add_argument("--seed", type=int, default=0)
    smoke.set_defaults(func=cmd_smoke_data)
    move = sub.add_parser("relocate-store", help="point a copied project's MLflow store at "
                          "its own results/mlflow/artifacts (run in the project folder)")
    move.set_defaults(func=cmd_relocate_store)
    ex = sub.add_parser(
        "explain", help="attribute a saved Keras or scikit-learn model's predictions",
        description="Input-gradient attributions of a saved model: a Keras model (.keras, .h5) "
        "by automatic differentiation, a scikit-learn model (.skops, .joblib, .pkl) by central "
        "finite differences of predict_proba, decision_function or predict.",
        epilog="Security: .joblib and .pkl files are Python pickles, and loading a pickle runs "
        "whatever code it holds: explain only pickles you made or trust. Prefer skops "
        "(skops.io.dump(model, 'model.skops')): skops.io.load builds only types it trusts, and "
        "explain names any other type and loads it only when you pass it with --trust.")
    ex.add_argument("model", help="a .keras file, e.g. results/models/imdb_cnn/seed0/model.keras, "
                    "or a scikit-learn model saved with skops (.skops) or joblib (.joblib, .pkl, "
                    ".pickle; pickles run code when loaded, see below)")
    src = ex.add_mutually_exclusive_group(required=True)
    src.add_argument("--input", help=".npy or .npz of model inputs")
    src.add_argument("--text", help="a review to explain (models with an Embedding layer)")
    ex.add_argument("--key", default="x", help="array name inside an .npz input")
    ex.add_argument("--word-index", default=None,
                    help="IMDB word index for --text (default: data/raw/imdb_word_index.json "
                         "in the nearest folder above the model that has one)")
    ex.add_argument("--method", default=None, choices=[*names("gradient"), "finite_differences"],
                    help="a gradient method of the registry (core/methods.py); default: "
                         "gradient for a Keras model, finite_differences (the only one) for a "
                         "scikit-learn model")
    ex.add_argument("--output", default=None, choices=[*OUTPUTS, "prediction"],
                    help="what is differentiated; default: probability for a Keras model; for "
                         "a scikit-learn model the first it has of probability (predict_proba), "
                         "logit (decision_function), prediction (predict, regressors)")
    ex.add_argument("--target", default="predicted", help="predicted, all, or a class index")
    ex.add_argument("--steps", type=int, default=None,
                    help="Integrated Gradients steps (default: attribution/methods.yaml)")
    ex.add_argument("--samples", type=int, default=None,
                    help="noise samples of SmoothGrad and kin (default: methods.yaml)")
    ex.add_argument("--noise", type=float, default=None,
                    help="noise level of SmoothGrad and kin (default: methods.yaml)")
    ex.add_argument("--step", type=float, default=None,
                    help="finite-difference step of scikit-learn models, relative: h = step * "
                         "max(|x|, 1) per value (default: attribution/methods.yaml)")
    ex.add_argument("--trust", action="append", default=None, metavar="TYPE[,TYPE]",
                    help="types a .skops file may build beyond skops' trusted ones (explain "
                         "names them when it refuses a file); only for files you trust")
    ex.add_argument("--normalize", default="none", choices=list(NORMALIZE),
                    help="per example: none, abs (absolute value) or zscore, applied last")
    ex.add_argument("--group", type=int, default=None, metavar="K",
                    help="sum the map over K x K pixel patches (images) or windows of K words "
                         "(token ids, --text); the sums keep the total")
    ex.add_argument("--top", type=int, default=15, help="words shown for --text")
    ex.add_argument("--out", default="attributions.npz",
                    help="the .npz file written for --input (its folder must exist)")
    ex.add_argument("--debug", action="store_true",
                    help="show the full traceback of an error instead of one line")
    ex.set_defaults(func=cmd_explain)
    return parser


def main(argv=None) -> int:
    """Run one command; a user-facing error (InputgradError) is one line on stderr, exit 2
    (with --debug: raised, traceback and all)."""
    from .infra.errors import InputgradError

    for stream in (sys.stdout, sys.stderr):  # a path of undecodable bytes prints, escaped
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except InputgradError as err:
        if getattr(args, "debug", False):
            raise
        print(f"{args.command}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
