"""Explain a saved scikit-learn model: `inputgrad explain model.skops|.joblib|.pkl --input X`.

The model is scored by the method `--output` names: `probability` (and `log_probability`,
`cross_entropy`) by `predict_proba`, `logit` by `decision_function` (a binary classifier's one
column is the logit of its second class, as a Keras binary model's single output), and
`prediction` by `predict` (regressors). Without `--output`, the first of these the model has.
Its gradient is the model-agnostic numerical one, the registry's `finite_differences`
(`core.numerical.central_differences`; options in config/hydra/attribution/methods.yaml, the
step relative to each value): any model with one of these methods can be explained, trees
included (their derivative is zero almost everywhere, and a finite difference only sees the
jumps the perturbation crosses).

Loading: `.skops` files through `skops.io.load`, which builds only types it trusts (types
outside its default list must be named with `--trust`: it refuses them otherwise); `.joblib`,
`.pkl` and `.pickle` through `joblib.load`, which is pickle: loading such a file runs whatever
code it holds, so load only files you trust. This module needs neither TensorFlow nor Keras.
"""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import numpy as np

from .core.methods import attribute, default_options, options_of
from .core.numerical import score_function
from .explain import ExplainError, _first_line, check_display, display, model_file

SUFFIXES = (".skops", ".joblib", ".pkl", ".pickle")
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")
SCORING = {  # --output -> the estimator method that scores it
    "probability": "predict_proba",
    "log_probability": "predict_proba",
    "cross_entropy": "predict_proba",
    "logit": "decision_function",
    "prediction": "predict",
}
DEFAULT_OUTPUT = {"predict_proba": "probability", "decision_function": "logit",
                  "predict": "prediction"}  # in this order of preference
METHOD = "finite_differences"  # the one method for models without autodiff


def is_sklearn_file(path) -> bool:
    """True for a file explain loads as a scikit-learn model (by its suffix)."""
    return Path(path).suffix.lower() in SUFFIXES


def load_estimator(path, trust=()):
    """The fitted model saved at `path` (.skops through skops.io with its trusted types plus
    `trust`; .joblib/.pkl/.pickle through joblib, i.e. pickle, which runs code), or
    ExplainError naming the file and why not."""
    path = model_file(path, SUFFIXES)
    if path.suffix.lower() == ".skops":
        model = _load_skops(path, trust)
    else:
        import joblib

        try:
            with warnings.catch_warnings():  # a version mismatch warns: keep one line
                warnings.simplefilter("ignore")
                model = joblib.load(path)
        except Exception as err:  # not a pickle, truncated, a class that no longer exists...
            raise ExplainError(f"cannot load {path} with joblib (pickle) "
                               f"({type(err).__name__}: {_first_line(err)})") from None
    check_estimator(model, path)
    return model


def _load_skops(path: Path, trust):
    import skops.io as sio

    if not zipfile.is_zipfile(path):
        raise ExplainError(f"cannot load {path} as a skops model (not a .skops zip archive)")
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as err:  # a zip that is not a skops dump
        raise ExplainError(f"cannot load {path} as a skops model "
                           f"({type(err).__name__}: {_first_line(err)})") from None
    refused = sorted(set(untrusted) - set(trust))
    if refused:
        raise ExplainError(f"model {path} holds types skops does not trust by default: "
                           f"{', '.join(refused)}; if you trust the file's source, add "
                           f"--trust {','.join(refused)}")
    try:
        return sio.load(path, trusted=sorted(untrusted))
    except Exception as err:
        raise ExplainError(f"cannot load {path} as a skops model "
                           f"({type(err).__name__}: {_first_line(err)})") from None


def check_estimator(model, path) -> None:
    """ExplainError unless `model` can be scored (predict_proba, decision_function or
    predict) and, if it is a scikit-learn estimator, is fitted."""
    kind = type(model).__name__
    if not any(hasattr(model, name) for name in DEFAULT_OUTPUT):
        raise ExplainError(f"model {path} holds a {kind}, which has no predict_proba, "
                           f"decision_function or predict: not a predictive model")
    from sklearn.base import BaseEstimator
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if isinstance(model, BaseEstimator):
        try:
            check_is_fitted(model)
        except NotFittedError:
            raise ExplainError(f"model {path} holds a {kind} that is not fitted") from None


def resolve_output(model, output, path) -> str:
    """--output for this model: the one given if the model has its scoring method, else the
    first of probability, logit, prediction it has; ExplainError naming what it has."""
    has = [name for name in DEFAULT_OUTPUT if hasattr(model, name)]
    if output is None:
        return DEFAULT_OUTPUT[has[0]]
    if output not in SCORING:
        raise ExplainError(f"--output must be one of {', '.join(SCORING)}, got {output!r}")
    if output == "prediction" and _is_classifier(model):
        raise ExplainError(f"--output prediction of a classifier ({path}) is its class label, "
                           f"not a score; use {DEFAULT_OUTPUT[has[0]]}")
    if not hasattr(model, SCORING[output]):
        usable = ", ".join(DEFAULT_OUTPUT[name] for name in has
                           if not (name == "predict" and _is_classifier(model)))
        raise ExplainError(f"--output {output} needs {SCORING[output]}, which the "
                           f"{type(model).__name__} in {path} does not have; use --output "
                           f"{usable}")
    return output


def _is_classifier(model) -> bool:
    from sklearn.base import is_classifier

    return bool(is_classifier(model)) or hasattr(model, "predict_proba")


def score_fn(model, output: str):
    """f(x) -> (n, k) float64 scores of `output` (see the module docstring)."""
    method = score_function(model, SCORING[output])

    def f(x):
        with warnings.catch_warnings():  # "X does not have valid feature names": arrays given
            warnings.simplefilter("ignore", UserWarning)
            scores = method(x)
        if output in ("log_probability", "cross_entropy"):
            scores = np.log(np.maximum(scores, np.finfo(np.float64).tiny))
            scores = scores if output == "log_probability" else -scores
        return scores

    return f


def check_input(model, x: np.ndarray, name: str = "x") -> None:
    """ExplainError unless x is a finite numeric (n, d) batch with the model's feature count
    (n_features_in_ where the model records it)."""
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise ExplainError(f"input {name} has dtype {x.dtype}; the model expects numbers")
    d = getattr(model, "n_features_in_", None)
    if x.ndim != 2 or (d is not None and x.shape[1] != d):
        expects = f"(n, {d})" if d is not None else "(n, features)"
        raise ExplainError(f"input {name} has shape {x.shape}; the model expects {expects}")
    if len(x) == 0:
        raise ExplainError(f"input {name} has no rows (shape {x.shape})")
    if not np.isfinite(x).all():
        raise ExplainError(f"input {name} has NaN or infinite values")


def check_target(target, classes: int) -> None:
    """ExplainError unless target is "predicted", "all" or a column of the scores."""
    if isinstance(target, str):
        if target not in ("predicted", "all"):
            raise ExplainError(f"--target must be predicted, all or a class index, "
                               f"got {target!r}")
        return
    if not isinstance(target, (int, np.integer)) or isinstance(target, bool):
        raise ExplainError(f"--target must be predicted, all or a class index, got {target!r}")
    if not 0 <= target < classes:
        if classes == 1:
            raise ExplainError(f"--target {target} is out of range: the model has a single "
                               f"output, so only 0 is allowed")
        raise ExplainError(f"--target {target} is out of range: the model has {classes} "
                           f"outputs, so use 0 to {classes - 1}")


def explain_estimator(model, x: np.ndarray, output: str | None = None, target="predicted",
                      step: float | None = None, batch_rows: int | None = None,
                      normalize: str = "none", group: int | None = None,
                      name: str = "x", path="model") -> dict:
    """Numerical input gradients of a scikit-learn model at the rows of x (the registry's
    `finite_differences` with its configured options; `step`, `batch_rows` override its step
    and rows per call).

    Returns {"attributions": (n, d) d score_target / d x (target "all": (n, k, d)),
    "predictions": (n, k) the scores, "target": the explained column per row, "output": the
    output explained}, grouped and normalised as `explain.display`. A bad x, output, target,
    group or normalize raises ExplainError."""
    check_input(model, x, name)
    check_display(normalize, group)
    output = resolve_output(model, output, path)
    f = score_fn(model, output)
    x = np.asarray(x, np.float64)
    try:
        scores = f(x)
    except ValueError as err:  # a feature count the model does not record, a bad dtype, ...
        raise ExplainError(f"input {name} does not fit the model ({_first_line(err)})") from None
    classes = scores.shape[1]
    check_target(target, classes)
    if step is not None and not (np.isfinite(step) and step > 0):
        raise ExplainError(f"--step must be a finite number > 0, got {step!r}")
    kw = {**options_of(METHOD, default_options()),
          **{k: v for k, v in {"step": step, "max_rows": batch_rows}.items() if v is not None}}
    if target == "all":
        cls = np.full(len(x), -1)
    else:  # the predicted class: the largest score (0 for a single score, as Keras binary)
        cls = np.argmax(scores, axis=1) if target == "predicted" else np.full(len(x), target)
    att = attribute(METHOD, f, x, target="all" if target == "all" else cls, output="logit",
                    **kw)  # f returns the scores of `output` already: no transform
    result = {"attributions": att, "predictions": scores, "target": cls,
              "output": np.array(output)}
    return display(result, x, False, group, normalize)
