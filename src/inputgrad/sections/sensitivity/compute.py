"""The maths of the sensitivity section: first-order (Taylor) validity of the input gradient,
and gradient-guided perturbations (FGSM / PGD on MNIST pixels, word flips on the bag of words,
HotFlip-style word substitutions on the CNN's embeddings). Arrays in, arrays out.

Every gradient comes from `core.gradients`. The models return logits (n, k); k = 1 is a binary
model (probability sigmoid(z)), k > 1 a softmax classifier. Probabilities are computed here, in
float64, from the float32 logits: a confident MNIST MLP has logit margins above 20, where
softmax in float32 rounds the predicted class's probability to exactly 1. So the probability
of the predicted class c is handled through its complement q = 1 - p_c = sum of the other
classes' probabilities (no cancellation), and its gradient through the exact chain rule from
the logit Jacobian.

TensorFlow is imported inside the functions that run a model, so the table and figure rules
(which import this module for its constants) start without it.
"""

from __future__ import annotations

import logging

import numpy as np

from ...core.stats import sigmoid, softmax
from ...data.arrays import Reviews
from ...data.samples import sample_rows  # noqa: F401 (the stages call compute.sample_rows)

log = logging.getLogger(__name__)

OUTPUTS = ("logit", "probability")  # the predicted class's logit and probability
DIRECTIONS = ("random", "gradient")  # random unit directions; the target's own gradient
ATTACKS = ("fgsm", "random_sign", "pgd")
STRATEGIES = ("gradient", "random")  # word flips / substitutions: first-order greedy or random


# ----------------------------------------------------------------------------- inputs

def review_subset(reviews: Reviews, rows: np.ndarray) -> Reviews:
    """The reviews `rows` of a split, in the same flat layout."""
    parts = [reviews.word_ids[reviews.offsets[i]:reviews.offsets[i + 1]] for i in rows]
    tokens = [reviews.token_idx[reviews.offsets[i]:reviews.offsets[i + 1]] for i in rows]
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in parts])]).astype(np.int64)
    return Reviews(word_ids=np.concatenate(parts or [np.zeros(0, np.int32)]),
                   token_idx=np.concatenate(tokens or [np.zeros(0, np.int32)]),
                   offsets=offsets, review_id=reviews.review_id[rows],
                   rating=reviews.rating[rows], label=reviews.label[rows])


def logits(f, x, batch_size: int) -> np.ndarray:
    """f(x) batch by batch, float32 (n, k)."""
    import tensorflow as tf

    from ...core.methods import forward

    x = np.asarray(x)
    dtype = tf.float32 if x.dtype.kind == "f" else None
    return forward(lambda xb: f(tf.convert_to_tensor(xb, dtype=dtype)), x, batch_size)


# ----------------------------------------------------------------------------- Taylor

def predicted_side(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cls, sign) per example: the output column of the predicted class and the sign that makes
    sign * z[cls] the predicted class's logit (binary model: column 0, sign -1 when the
    predicted class is the negative one, z <= 0; softmax: the argmax, sign +1)."""
    z = np.asarray(z)
    if z.shape[1] == 1:
        return np.zeros(len(z), np.int64), np.where(z[:, 0] > 0, 1.0, -1.0)
    return z.argmax(axis=1), np.ones(len(z))


def class_scores(z: np.ndarray, cls: np.ndarray, sign: np.ndarray) -> dict[str, np.ndarray]:
    """Float64 per example: "logit", the predicted class's logit, and "complement", 1 - its
    probability, as the sum of the other classes' probabilities (accurate when p_c ~ 1)."""
    z = np.asarray(z, np.float64)
    rows = np.arange(len(z))
    logit = sign * z[rows, cls]
    if z.shape[1] == 1:
        return {"logit": logit, "complement": sigmoid(-logit)}
    p = softmax(z)
    p[rows, cls] = 0.0
    return {"logit": logit, "complement": p.sum(axis=1)}


def target_weights(z: np.ndarray, cls: np.ndarray, sign: np.ndarray) -> dict[str, np.ndarray]:
    """{output: w (n, k)} with d target / dx = sum_k w_k dz_k/dx (exact chain rule, float64).
    Logit: sign at the predicted column. Probability of class c: p_c (q e_c - p_(others)),
    q = 1 - p_c = sum of the others (binary: sign * p (1 - p))."""
    z = np.asarray(z, np.float64)
    rows = np.arange(len(z))
    onehot = np.zeros_like(z)
    onehot[rows, cls] = 1.0
    scores = class_scores(z, cls, sign)
    if z.shape[1] == 1:
        prob = (sign * sigmoid(scores["logit"]) * scores["complement"])[:, None]
    else:
        p = softmax(z)
        pc = p[rows, cls][:, None]
        prob = pc * (scores["complement"][:, None] * onehot - p * (1.0 - onehot))
    return {"logit": sign[:, None] * onehot, "probability": prob}


def unit_rows(v: np.ndarray) -> np.ndarray:
    """Each row of v (n, ...) scaled to unit L2 norm (zero rows stay zero), float32."""
    flat = np.asarray(v, np.float64).reshape(len(v), -1)
    norm = np.linalg.norm(flat, axis=1, keepdims=True)
    return np.divide(flat, norm, out=np.zeros_like(flat), where=norm > 0).astype(
        np.float32).reshape(np.shape(v))


def random_directions(n: int, shape: tuple, count: int, seed: int) -> np.ndarray:
    """(n, count, *shape) Gaussian directions scaled to unit L2 norm, seeded."""
    rng = np.random.default_rng(seed)
    draws = rng.standard_normal((n * count, *shape), dtype=np.float32)
    return unit_rows(draws).reshape((n, count, *shape))


def perturbed_logits(f, x: np.ndarray, directions: np.ndarray, eps, batch_size: int,
                     ) -> np.ndarray:
    """(len(eps), n, m, k): the logits at x_i + eps * u_ij for the m directions of each x_i."""
    n, m = directions.shape[:2]
    out = []
    for e in eps:
        moved = (x[:, None] + np.float32(e) * directions).reshape((n * m, *x.shape[1:]))
        out.append(logits(f, moved, batch_size).reshape(n, m, -1))
    return np.stack(out)


def actual_changes(moved: np.ndarray, cls: np.ndarray, sign: np.ndarray,
                   base: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """{output: change (E, n, m)} of the predicted class's logit and probability, from the
    logits at the moved inputs (E, n, m, k) and the clean `class_scores` (the probability's
    change as minus the change of its complement)."""
    e, n, m, k = moved.shape
    after = class_scores(moved.reshape(-1, k), np.tile(np.repeat(cls, m), e),
                         np.tile(np.repeat(sign, m), e))
    after = {key: v.reshape(e, n, m) for key, v in after.items()}
    return {"logit": after["logit"] - base["logit"][None, :, None],
            "probability": base["complement"][None, :, None] - after["complement"]}


def taylor_changes(f, x: np.ndarray, eps, random_count: int, seed: int,
                   batch_size: int) -> dict:
    """Actual and first-order predicted changes of the predicted class's logit and probability
    along random unit directions and along each target's own normalised gradient.

    Returns {"changes": {(output, direction): (actual, predicted)} with arrays (E, n, m) in
    float64 (m = random_count for "random", 1 for "gradient"), "input_norm" (n,),
    "gradient_norm": {output: (n,)}}. Predicted = eps * grad . u, the gradient from one logit
    Jacobian (core.gradients). Actual change of the probability = -(change of 1 - p_c).
    """
    from ...core.gradients import gradient

    x = np.asarray(x, np.float32)
    eps = np.asarray(eps, np.float64)
    jac, z = gradient(f, x, "logit", "all", batch_size)
    cls, sign = predicted_side(z)
    base = class_scores(z, cls, sign)
    weights = target_weights(z, cls, sign)
    grads = {o: np.einsum("nk,nk...->n...", weights[o], jac.astype(np.float64)) for o in OUTPUTS}
    sets = {"random": random_directions(len(x), x.shape[1:], random_count, seed)}
    sets.update({f"gradient_{o}": unit_rows(grads[o])[:, None] for o in OUTPUTS})
    # binary model: the probability gradient is the logit one times p (1 - p) > 0, same direction
    same = z.shape[1] == 1
    moved = {k: perturbed_logits(f, x, u, eps, batch_size)
             for k, u in sets.items() if not (same and k == "gradient_probability")}
    if same:
        moved["gradient_probability"] = moved["gradient_logit"]
    changes = {}
    for key, u in sets.items():
        actual = actual_changes(moved[key], cls, sign, base)
        direction = "random" if key == "random" else "gradient"
        for o in OUTPUTS if key == "random" else (key.removeprefix("gradient_"),):
            slope = np.einsum("nd,nmd->nm", grads[o].reshape(len(x), -1),
                              u.reshape(len(x), u.shape[1], -1).astype(np.float64))
            changes[(o, direction)] = (actual[o], eps[:, None, None] * slope[None])
    return {"changes": changes, "input_norm": np.linalg.norm(x.reshape(len(x), -1), axis=1),
            "gradient_norm": {o: np.linalg.norm(grads[o].reshape(len(x), -1), axis=1)
                              for o in OUTPUTS}}


def relative_error(actual: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """|actual - predicted| / |actual|; NaN where the actual change is exactly 0."""
    actual = np.asarray(actual, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(actual != 0, np.abs(actual - predicted) / np.abs(actual), np.nan)


def error_quartiles(errors: np.ndarray) -> dict[str, np.ndarray]:
    """Per eps (first axis): n (defined errors), q25, median, q75 over all other axes."""
    flat = errors.reshape(len(errors), -1)
    n = (~np.isnan(flat)).sum(axis=1)
    with np.errstate(all="ignore"):
        q = np.full((3, len(flat)), np.nan)
        has = n > 0
        q[:, has] = np.nanpercentile(flat[has], [25, 50, 75], axis=1)
    return {"n": n, "q25": q[0], "median": q[1], "q75": q[2]}


def eps_at_threshold(eps, medians, threshold: float) -> tuple[float, str]:
    """(eps, status): where the median error first rises through `threshold` on the grid,
    interpolated linearly in log eps and log error between the two grid points around it.
    Status "crossed"; "never" (below the threshold on the whole grid; eps NaN); "below_grid"
    (already at or above it at the smallest eps; eps NaN)."""
    eps = np.asarray(eps, np.float64)
    m = np.asarray(medians, np.float64)
    ok = ~np.isnan(m)
    eps, m = eps[ok], m[ok]
    above = np.flatnonzero(m >= threshold)
    if not len(above):
        return float("nan"), "never"
    j = int(above[0])
    if j == 0:
        return float("nan"), "below_grid"
    lo, hi = m[j - 1], m[j]
    if lo > 0:
        t = (np.log(threshold) - np.log(lo)) / (np.log(hi) - np.log(lo))
    else:  # exact at the grid point below: interpolate the error itself
        t = threshold / hi
    return float(np.exp(np.log(eps[j - 1]) + t * (np.log(eps[j]) - np.log(eps[j - 1])))), \
        "crossed"


# ----------------------------------------------------------------------------- MNIST attacks

def loss_gradient(f, x: np.ndarray, labels: np.ndarray, batch_size: int) -> np.ndarray:
    """d cross-entropy(label) / dx per example: the primitive's saturation-safe "cross_entropy"
    output (`core.gradients.differentiable`), exact when p_label rounds to 1 in float32."""
    from ...core.gradients import gradient

    grads, _ = gradient(f, x, "cross_entropy", np.asarray(labels, np.int32), batch_size)
    return grads


def sign_step(x: np.ndarray, signs: np.ndarray, eps: float, bounds=(0.0, 1.0)) -> np.ndarray:
    """x + eps * signs, clipped to `bounds` (pixel range)."""
    return np.clip(x + np.float32(eps) * signs, *bounds).astype(np.float32)


def fgsm(f, x: np.ndarray, labels: np.ndarray, eps: float, batch_size: int,
         bounds=(0.0, 1.0)) -> np.ndarray:
    """Fast gradient sign method (Goodfellow et al. 2015): x + eps sign(d loss / dx), clipped."""
    return sign_step(x, np.sign(loss_gradient(f, x, labels, batch_size)), eps, bounds)


def pgd(f, x: np.ndarray, labels: np.ndarray, eps: float, steps: int, step_size: float,
        batch_size: int, bounds=(0.0, 1.0)) -> np.ndarray:
    """Projected gradient descent on the loss (Madry et al. 2018; Captum's PGD without random
    start): `steps` FGSM steps of `step_size`, each projected to the L-inf ball of radius eps
    around x and to `bounds`."""
    low, high = x - np.float32(eps), x + np.float32(eps)
    adv = x
    for _ in range(steps):
        adv = fgsm(f, adv, labels, step_size, batch_size, bounds=(-np.inf, np.inf))
        adv = np.clip(np.clip(adv, low, high), *bounds).astype(np.float32)
    return adv


def accuracy(f, x: np.ndarray, labels: np.ndarray, batch_size: int) -> float:
    return float((logits(f, x, batch_size).argmax(axis=1) == labels).mean())


def robustness_curves(f, x: np.ndarray, labels: np.ndarray, cfg: dict,
                      batch_size: int) -> dict[str, np.ndarray]:
    """{attack: accuracy per eps of cfg["eps"]}: FGSM, random signs of the same size (one
    seeded sign pattern per digit, scaled like FGSM's) and PGD (cfg["pgd"]: steps, step size
    relative_step * eps), all clipped to [0, 1]."""
    rng = np.random.default_rng(cfg["random_seed"])
    signs = rng.choice(np.array([-1.0, 1.0], np.float32), size=x.shape)
    grad_signs = np.sign(loss_gradient(f, x, labels, batch_size))
    steps, relative = cfg["pgd"]["steps"], cfg["pgd"]["relative_step"]
    curves = {a: np.empty(len(cfg["eps"])) for a in ATTACKS}
    for j, eps in enumerate(cfg["eps"]):
        curves["fgsm"][j] = accuracy(f, sign_step(x, grad_signs, eps), labels, batch_size)
        curves["random_sign"][j] = accuracy(f, sign_step(x, signs, eps), labels, batch_size)
        adv = pgd(f, x, labels, eps, steps, relative * eps, batch_size) if eps > 0 else x
        curves["pgd"][j] = accuracy(f, adv, labels, batch_size)
    return curves


# ----------------------------------------------------------------------------- word flips

def _search(x0: np.ndarray, side: np.ndarray, budget: int, evaluate, choose):
    """The shared loop of the word searches: after each change, `evaluate(rows, x)` gives the
    logits (and what `choose` needs) of the still unchanged rows; `choose(rows, x, state, step)`
    edits them in place. Returns need (n,): the number of changes after which the predicted
    class changed, budget + 1 if it did not within the budget."""
    need = np.full(len(x0), budget + 1)
    active = np.arange(len(x0))
    x = x0.copy()
    for step in range(budget + 1):
        z, state = evaluate(active, x)
        changed = (z > 0) != (side[active] > 0)
        need[active[changed]] = step
        active = active[~changed]
        state = state[~changed] if state is not None else None
        if step == budget or not len(active):
            break
        choose(active, x, state, step)
    return need


def word_flips(f, x: np.ndarray, eligible: np.ndarray, budget: int, strategy: str,
               batch_size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Fewest word flips (x_j: 0 <-> 1) that change a binary bag-of-words model's prediction.

    "gradient": each flip is the eligible, not yet flipped word whose first-order effect on the
    predicted class's logit, sign * dz/dx_j * (1 - 2 x_j), is most negative; the gradient is
    recomputed after every flip. "random": seeded random order of the eligible words.
    Returns (need (n,), the flipped word ids (n, budget), -1 after the last)."""
    from ...core.gradients import gradient

    x = np.asarray(x, np.float32)
    side = predicted_side(logits(f, x, batch_size))[1]
    chosen = np.full((len(x), budget), -1)
    flipped = np.zeros(x.shape, bool)
    words = np.flatnonzero(eligible)
    rng = np.random.default_rng(seed)
    order = np.stack([rng.permutation(words)[:budget] for _ in range(len(x))]) \
        if strategy == "random" else None

    def evaluate(rows, xs):
        if strategy == "random":
            return logits(f, xs[rows], batch_size)[:, 0], None
        grads, z = gradient(f, xs[rows], "logit", 0, batch_size)
        return z[:, 0], grads

    def choose(rows, xs, grads, step):
        if strategy == "random":
            j = order[rows, step]
        else:
            effect = side[rows, None] * grads * (1.0 - 2.0 * xs[rows])
            effect[~eligible[None] | flipped[rows]] = np.inf
            j = effect.argmin(axis=1)
        xs[rows, j] = 1.0 - xs[rows, j]
        flipped[rows, j] = True
        chosen[rows, step] = j

    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    return _search(x, side, budget, evaluate, choose), chosen


# ----------------------------------------------------------------------------- substitutions

def best_substitutions(grads: np.ndarray, ids: np.ndarray, embeddings: np.ndarray,
                       free: np.ndarray, eligible: np.ndarray, chunk: int = 8,
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """HotFlip's first-order choice per review: (column, word id, predicted change) minimising
    grad_i . (E_w - E_(ids_i)) over the free columns i and the eligible words w other than the
    current one (grads: (n, L, D) of the predicted class's logit w.r.t. the embedding output).
    The scores are one matrix product of the per-position gradients with the embedding matrix
    (n, L, V), `chunk` reviews at a time (TensorFlow's matmul: ~6x numpy's here)."""
    import tensorflow as tf

    emb = tf.constant(embeddings, tf.float32)
    vocab = embeddings.shape[0]
    cols, words, best = np.empty(len(ids), np.int64), np.empty(len(ids), np.int64), np.empty(
        len(ids))
    for s in range(0, len(ids), chunk):
        g = tf.constant(grads[s:s + chunk], tf.float32)
        cur = tf.constant(ids[s:s + chunk], tf.int32)
        scores = tf.einsum("bld,vd->blv", g, emb) - tf.reduce_sum(
            g * tf.gather(emb, cur), axis=-1, keepdims=True)
        allowed = (free[s:s + chunk, :, None] & eligible[None, None, :]
                   & (np.arange(vocab)[None, None, :] != ids[s:s + chunk, :, None]))
        scores = tf.where(allowed, scores, np.inf).numpy().reshape(len(g), -1)
        flat = scores.argmin(axis=1)
        cols[s:s + chunk], words[s:s + chunk] = np.divmod(flat, vocab)
        best[s:s + chunk] = scores[np.arange(len(g)), flat]
    return cols, words, best


def embedding_matrix(model) -> np.ndarray:
    """The (vocabulary, dim) weights of the model's Embedding layer."""
    from keras import layers

    return next(lay for lay in model.layers
                if isinstance(lay, layers.Embedding)).embeddings.numpy()


def word_substitutions(model, ids: np.ndarray, editable: np.ndarray, eligible: np.ndarray,
                       budget: int, strategy: str, batch_size: int, seed: int = 0,
                       ) -> tuple[np.ndarray, list[list[tuple[int, int, int]]]]:
    """Fewest word substitutions that change the prediction of an embedding model (the CNN).

    "gradient" (HotFlip-style, Ebrahimi et al. 2018): at each step the (column, word) pair with
    the most negative first-order effect grad_e_i . (E_w - e_i) on the predicted class's logit,
    gradients w.r.t. the embedding output (core.models.split_embedding) recomputed after every
    substitution; each column is changed at most once. "random": a seeded random editable column
    and eligible word. Returns (need (n,) as in word_flips, per review the substitutions
    [(column, old id, new id)])."""
    from ...core.gradients import gradient
    from ...core.models import split_embedding

    embed, head = split_embedding(model)
    embeddings = embedding_matrix(model)
    ids = np.array(ids, copy=True)
    side = predicted_side(logits(head, embed(ids), batch_size))[1]
    free = np.array(editable, bool, copy=True)
    subs: list[list[tuple[int, int, int]]] = [[] for _ in range(len(ids))]
    rng = np.random.default_rng(seed)
    words = np.flatnonzero(eligible)

    def evaluate(rows, xs):
        e = embed(xs[rows])
        if strategy == "random":
            return logits(head, e, batch_size)[:, 0], None
        grads, z = gradient(head, e, "logit", 0, batch_size)
        return z[:, 0], side[rows, None, None] * grads

    def choose(rows, xs, grads, step):
        keep = free[rows].any(axis=1)  # reviews with a column left to change
        rows = rows[keep]
        if strategy == "random":
            cols = np.array([rng.choice(np.flatnonzero(free[row])) for row in rows], np.int64)
            new = np.array([rng.choice(words[words != xs[row, col]])
                            for row, col in zip(rows, cols, strict=True)], np.int64)
        else:
            cols, new, _ = best_substitutions(grads[keep], xs[rows], embeddings, free[rows],
                                              eligible)
        for row, col, word in zip(rows, cols, new, strict=True):
            subs[row].append((int(col), int(xs[row, col]), int(word)))
            xs[row, col] = word
            free[row, col] = False

    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    return _search(ids, side, budget, evaluate, choose), subs


def substitution_probabilities(model, ids: np.ndarray, subs, rows: np.ndarray,
                               batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """P(positive) of the reviews `rows` before and after their substitutions."""
    from ...core.models import split_embedding

    if not len(rows):
        return np.zeros(0), np.zeros(0)
    embed, head = split_embedding(model)
    before = np.array(ids[rows], copy=True)
    after = before.copy()
    for r, row in enumerate(rows):
        for col, _, new in subs[row]:
            after[r, col] = new
    return (sigmoid(logits(head, embed(before), batch_size)[:, 0]),
            sigmoid(logits(head, embed(after), batch_size)[:, 0]))


def pick_examples(need: np.ndarray, labels: np.ndarray, budget: int, count: int) -> np.ndarray:
    """Up to `count` examples changed within the budget, in sample order, alternating between
    the labels (positive first) while both have some left."""
    changed = need <= budget
    by_label = [list(np.flatnonzero(changed & (labels == lab))) for lab in (1, 0)]
    picked = []
    while len(picked) < count and any(by_label):
        for group in by_label:
            if group and len(picked) < count:
                picked.append(group.pop(0))
    return np.array(picked, np.int64)


def success_within(need: np.ndarray, ks) -> np.ndarray:
    """Share of examples whose prediction changed within k changes, for each k."""
    need = np.asarray(need)
    return np.array([float((need <= k).mean()) if len(need) else float("nan") for k in ks])


def median_need(need: np.ndarray, budget: int) -> float:
    """Median number of changes; NaN when at least half the examples did not change within
    the budget (the median is then only known to exceed it)."""
    need = np.asarray(need, np.float64)
    if not len(need):
        return float("nan")
    med = float(np.median(np.where(need > budget, np.inf, need)))
    return med if np.isfinite(med) else float("nan")
