"""Per-token scores of any registry method for a binary text model (one logit): the thin
wrapper that turns `core.methods.attribute` into one score per token column.

- needs="gradient": on the embedding output if the model starts with an Embedding (the chain
  rule through the id lookup, `core.models.split_embedding`), else on the input vector;
  reduced per token over the embedding axis by the method's `reduce` (L2 norm or sum).
  Path methods start from the all-padding review (embedding(0) at every column) and report
  their completeness gap; noise methods run review by review, so sigma is set by that
  review's value range (the definition of Smilkov et al.), whatever else is in the sample.
- needs="predict": on the token ids (or feature vectors) themselves, a removed token set to
  `fill`; the imdb_cnn shape takes the fast exact occlusion (`core.cnn_fast`).
- needs="weights": x_j w_j of `weights`; needs="nothing": the random floor.
The single output explains class 1; a signed score is turned towards each review's class y
by `direction` = +1 (y = 1) or -1 (y = 0), so positive = evidence for y.
"""

from __future__ import annotations

import numpy as np

from .methods import attribute, completeness_gap, lookup


def direction_of(classes) -> np.ndarray:
    """+1 for class 1, -1 for class 0: turns the single output's signed scores towards y."""
    return np.where(np.asarray(classes) == 1, 1.0, -1.0)


def token_scores(method: str, model, x, features, classes, options: dict | None = None,
                 output: str = "probability", batch_size: int = 256, fill: int = 0,
                 weights=None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """((n, columns) scores of `method` towards each row's class, NaN off `features`; the
    method's per-row diagnostics: IG's completeness gap and delta, LIME's R²)."""
    from .models import model_fn

    m, options = lookup(method), dict(options or {})
    direction = direction_of(classes)
    features = np.asarray(features, bool)
    info: dict[str, np.ndarray] = {}
    if m.needs == "gradient":
        scores, info = _gradient_scores(m, model, x, direction, output, batch_size, options)
    elif m.needs == "predict":
        scores = attribute(method, model_fn(model), x, target=0, batch_size=batch_size,
                           features=features, fill=fill, direction=direction, model=model,
                           diagnostics=info, **options)
    elif m.needs == "weights":
        scores = attribute(method, None, x, target=0, weights=weights, **options)
    else:
        scores = attribute(method, None, x, target=0, **options)
    if m.signed and m.needs in ("gradient", "weights"):  # of the single output: turn to y
        scores = direction[:, None] * scores
    return np.where(features, scores, np.nan), info


def _gradient_scores(m, model, x, direction, output, batch_size, options):
    """The method's attributions of the single output, reduced per token (float64)."""
    from .models import model_fn, split_embedding

    parts = split_embedding(model)
    if parts is None:
        f, inputs, baseline = model_fn(model), np.asarray(x, np.float32), None
    else:
        embed, f = parts
        inputs = embed(np.asarray(x, np.int32))
        baseline = embed(np.zeros((1, inputs.shape[1]), np.int32))
    kw = {"target": 0, "output": output, "batch_size": batch_size, **options}
    if m.path:
        kw = {"baseline": baseline, "internal_batch_size": batch_size, **kw}
    if m.noise:  # review by review: sigma from that review's own range
        att = np.concatenate([attribute(m.name, f, inputs[i:i + 1], **kw)
                              for i in range(len(inputs))])
    else:
        att = attribute(m.name, f, inputs, **kw)
    info = _path_info(f, inputs, att, direction, output, kw.get("baseline"), batch_size) \
        if m.path else {}
    return _per_token(att, m.reduce, parts is not None), info


def _per_token(att, reduce: str, embedded: bool) -> np.ndarray:
    """One float64 score per token: over the embedding axis if any, else the value itself."""
    if reduce == "norm":
        return np.linalg.norm(att.astype(np.float64), axis=-1) if embedded \
            else np.abs(att).astype(np.float64)
    return att.sum(axis=-1, dtype=np.float64) if embedded else att.astype(np.float64)


def _path_info(f, inputs, att, direction, output, baseline, batch_size) -> dict:
    """Completeness of a path method over all columns (the start marker too), towards y."""
    gap = completeness_gap(f, inputs, att, 0, output, baseline, batch_size)
    total = att.reshape(len(inputs), -1).sum(axis=1, dtype=np.float64)
    return {"completeness_gap": direction * gap, "completeness_delta": direction * (total - gap)}
