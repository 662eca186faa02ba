"""The maths of the any_model section: the paper's "any predictive model" claim on a regression
(scikit-learn's bundled diabetes data) and DeepDream's MNIST form, class-model images.

Regression: four models (linear regression, a Keras MLP regressor, an RBF kernel ridge and a
gradient-boosted tree ensemble) on one seeded train/test split per seed. Each model's mean test
gradient ḡ (the tape for Keras, central differences `core.numerical` for the others, linear
regression too) is compared with the linear coefficients; the share of the variance of f that
the first-order term ∇f(x)·(x − x̄) explains says how much of the model a gradient describes.

Class images (Simonyan et al. 2013): argmax_x S_c(x) − λ‖x‖² by gradient ascent on the input
through the gradient primitive (`core.gradients.gradient`), from a zero image, with optional
Gaussian blur and jitter (Yosinski et al. 2015) and optional clipping to [0, 1]. For a linear
score S_c = w_c·x + b_c the objective is separable and concave: x* = w_c / (2λ), clipped to
[0, 1] pixel by pixel when clipping is on (the test's closed form).

TensorFlow / Keras are imported inside the functions that need them.
"""

from __future__ import annotations

import logging

import numpy as np

from inputgrad.core.stats import pearson, spearman

log = logging.getLogger(__name__)

# the regression's models and the MLflow flavour each is saved and logged with
FLAVOR = {
    "linear_regression": "sklearn",
    "keras_mlp": "keras",
    "kernel_ridge": "sklearn",
    "gradient_boosting": "sklearn",
}
MODELS = tuple(FLAVOR)


# ----------------------------------------------------------------------------- data


def diabetes_split(test_fraction: float, seed: int):
    """(x_train, x_test, y_train, y_test, feature names) of scikit-learn's bundled diabetes
    data (442 patients, 10 features, mean-centred and scaled by sklearn), float64, split by
    a seeded permutation."""
    from sklearn.datasets import load_diabetes

    data = load_diabetes()
    x, y = np.asarray(data.data, np.float64), np.asarray(data.target, np.float64)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(round(test_fraction * len(x)))
    test, train = order[:n_test], order[n_test:]
    return x[train], x[test], y[train], y[test], list(data.feature_names)


# ----------------------------------------------------------------------------- models


def fit_sklearn(name: str, cfg: dict, x, y, seed: int):
    """A fitted scikit-learn model of the section (cfg: its hyperparameters)."""
    if name == "linear_regression":
        from sklearn.linear_model import LinearRegression

        return LinearRegression().fit(x, y)
    if name == "kernel_ridge":
        from sklearn.kernel_ridge import KernelRidge

        return KernelRidge(kernel="rbf", alpha=cfg["alpha"], gamma=cfg["gamma"]).fit(x, y)
    if name == "gradient_boosting":
        from sklearn.ensemble import GradientBoostingRegressor

        return GradientBoostingRegressor(
            n_estimators=cfg["n_estimators"],
            max_depth=cfg["max_depth"],
            learning_rate=cfg["learning_rate"],
            random_state=seed,
        ).fit(x, y)
    raise ValueError(f"unknown scikit-learn model {name!r}")


def fit_keras_mlp(cfg: dict, x, y, seed: int):
    """(model, f): a Keras MLP regressor on standardised targets; f(x) = mean + sd * net(x),
    the prediction in the target's units, as a TF function of x (for the tape)."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    mu, sd = float(y.mean()), float(y.std())
    scale = x.std(axis=0)
    net = keras.Sequential(
        [keras.Input((x.shape[1],), name="features")]
        + [layers.Dense(h, activation=cfg["activation"]) for h in cfg["hidden"]]
        + [layers.Dense(1, name="prediction")],
        name="diabetes_mlp",
    )
    net.compile(optimizer=keras.optimizers.Adam(cfg["learning_rate"]), loss="mse")
    net.fit(
        (x / scale).astype(np.float32),
        ((y - mu) / sd).astype(np.float32),
        epochs=cfg["epochs"],
        batch_size=cfg["batch_size"],
        verbose=0,
        shuffle=True,
    )
    s = np.asarray(scale, np.float32)

    def f(t):
        return mu + sd * net(t / s, training=False)

    return net, f


def saved_mlp(net, x_train, y_train):
    """The MLP regressor as one Keras model in the target's units, x -> mean + sd * net(x /
    scale) (what `fit_keras_mlp`'s f computes, with x / scale taken as x * (1 / scale): equal
    to f within float32 rounding), so the saved file predicts without the training's
    statistics."""
    import keras
    from keras import layers

    scale = np.asarray(x_train.std(axis=0), np.float32)
    mu, sd = float(y_train.mean()), float(y_train.std())
    inp = keras.Input((x_train.shape[1],), name="features")
    out = layers.Rescaling(sd, offset=mu, name="target_units")(
        net(layers.Rescaling(1.0 / scale, name="standardise")(inp)))
    return keras.Model(inp, out, name="diabetes_mlp_regressor")


def r2(y, pred) -> float:
    y, pred = np.asarray(y, np.float64), np.asarray(pred, np.float64).reshape(-1)
    return float(1.0 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2))


# ----------------------------------------------------------------------------- gradients


def fd_gradients(f, x, scale, fd: dict) -> np.ndarray:
    """(n, d) central-difference gradients of a one-output f (the registry's method)."""
    from inputgrad.core.methods import attribute

    return attribute(
        "finite_differences", f, np.asarray(x, np.float64), target=0, scale=scale, **fd
    )


def tape_gradients(f, x) -> np.ndarray:
    """(n, d) gradients of a one-output TF function by the tape (float64 result)."""
    from inputgrad.core.gradients import gradient

    grads, _ = gradient(f, np.asarray(x, np.float32), output="logit", classes=0)
    return grads.astype(np.float64)


def first_order_share(f_values, grads, x, x_bar) -> float:
    """Share of the variance of f over the rows that the first-order term t_i = ∇f(x_i)·(x_i −
    x̄) explains: 1 − Var(f − t) / Var(f). 1 for a linear model (t = f − f(x̄))."""
    f_values = np.asarray(f_values, np.float64).reshape(-1)
    t = np.sum(np.asarray(grads, np.float64) * (x - x_bar), axis=1)
    return float(1.0 - np.var(f_values - t) / np.var(f_values))


def agreement(gbar, coef) -> dict:
    """ḡ of a model against the linear coefficients: sign agreement and Spearman."""
    gbar, coef = np.asarray(gbar, np.float64), np.asarray(coef, np.float64)
    return {
        "sign_agreement": float(np.mean(np.sign(gbar) == np.sign(coef))),
        # a constant ḡ (a tree's, zero at a small step) ranks no feature: no agreement (0),
        # where Spearman's formula is undefined (NaN)
        "spearman": 0.0 if np.ptp(gbar) == 0 else spearman(gbar, coef),
    }


def tree_steps(f, x, scale, fd_steps, fd: dict, coef, x_bar) -> list[dict]:
    """The finite-difference estimate of a piecewise-constant model over steps h = step x
    scale_j (absolute, in units of each feature's training std): the share of exactly zero
    estimates, |ḡ| and the agreement with the linear coefficients per step."""
    fx = np.asarray(f(x), np.float64).reshape(-1)
    rows = []
    for step in fd_steps:
        g = fd_gradients(f, x, scale, {**fd, "step": step, "relative": False})
        gbar = g.mean(axis=0)
        rows.append(
            {
                "step": float(step),
                "zero_share": float(np.mean(g == 0.0)),
                "mean_abs_gbar": float(np.abs(gbar).mean()),
                "first_order_share": first_order_share(fx, g, x, x_bar),
                **agreement(gbar, coef),
            }
        )
    return rows


# ----------------------------------------------------------------------------- class images


def blur(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of (n, 28, 28)-shaped rows given flat (n, 784)."""
    from scipy.ndimage import gaussian_filter

    side = int(round(np.sqrt(x.shape[1])))
    imgs = x.reshape(len(x), side, side)
    return np.stack([gaussian_filter(im, sigma) for im in imgs]).reshape(x.shape)


def class_images(f, classes, d: int, cfg: dict) -> np.ndarray:
    """(len(classes), d) images: gradient ascent on S_c(x) − λ‖x‖² (S_c: the class logit) from
    x = 0, all classes in one batch of the gradient primitive per step.

    cfg: steps, learning_rate, l2 (λ), clip (keep pixels in [0, 1] after each step),
    jitter (max shift in pixels of a random roll before each gradient, 0: off), blur_sigma
    and blur_every (Gaussian blur every k steps, 0: off), seed (the jitter's draws).
    """
    from inputgrad.core.gradients import gradient

    classes = np.asarray(classes, np.int32)
    x = np.zeros((len(classes), d), np.float32)
    rng = np.random.default_rng(cfg.get("seed", 0))
    side = int(round(np.sqrt(d)))
    jitter, every = int(cfg.get("jitter", 0)), int(cfg.get("blur_every", 0))
    for step in range(cfg["steps"]):
        if jitter:
            dy, dx = rng.integers(-jitter, jitter + 1, size=2)
            shifted = np.roll(x.reshape(-1, side, side), (dy, dx), axis=(1, 2)).reshape(x.shape)
            g, _ = gradient(f, shifted, "logit", classes, batch_size=len(x))
            g = np.roll(g.reshape(-1, side, side), (-dy, -dx), axis=(1, 2)).reshape(x.shape)
        else:
            g, _ = gradient(f, x, "logit", classes, batch_size=len(x))
        x = x + cfg["learning_rate"] * (g - 2.0 * cfg["l2"] * x)
        if every and (step + 1) % every == 0:
            x = blur(x, cfg["blur_sigma"]).astype(np.float32)
        if cfg["clip"]:
            x = np.clip(x, 0.0, 1.0)
    return x


def linear_optimum(weights, l2: float, clip: bool) -> np.ndarray:
    """argmax_x w·x − λ‖x‖² (= w / 2λ), pixel by pixel clipped to [0, 1] with clip (the
    objective is separable and concave in each pixel)."""
    x = np.asarray(weights, np.float64) / (2.0 * l2)
    return np.clip(x, 0.0, 1.0) if clip else x


def image_rows(images: dict, jacobian, weights) -> list[dict]:
    """Per model and digit: Pearson r of the class image with the MLP's mean Jacobian (5.3's
    probability one) and with the logistic-regression weights."""
    rows = []
    for model, (img, prob) in images.items():
        for c in range(len(img)):
            rows.append(
                {
                    "model": model,
                    "digit": c,
                    "p_class": float(prob[c]),
                    "r_mean_jacobian": pearson(img[c], jacobian[c]),
                    "r_logreg_weights": pearson(img[c], weights[c]),
                }
            )
    return rows


# ----------------------------------------------------------------------------- one seed


def regression(cfg: dict, seed: int) -> dict:
    """One seed of the regression: {"models": per-model rows (R², agreement, first-order
    share, FD-vs-tape error for the MLP), "features": per-feature ḡ rows, "steps": the tree's
    step table, "fitted": {name: model}, "split": the prepared arrays, "seconds": per model its
    fit-and-gradient time (a metric, not a table column: tables must be equal across hosts)}."""
    import time

    x_tr, x_te, y_tr, y_te, names = diabetes_split(cfg["test_fraction"], seed)
    scale, x_bar = x_tr.std(axis=0), x_tr.mean(axis=0)
    fd = cfg["finite_differences"]
    fitted, grads, preds, seconds = {}, {}, {}, {}
    for name in MODELS:
        start = time.perf_counter()
        if name == "keras_mlp":
            net, f_tf = fit_keras_mlp(cfg["models"][name], x_tr, y_tr, seed)
            fitted[name] = net
            preds[name] = np.asarray(f_tf(x_te.astype(np.float32)), np.float64)[:, 0]
            grads[name] = tape_gradients(f_tf, x_te)
            fd_mlp = fd_gradients(
                lambda t, f=f_tf: f(np.asarray(t, np.float32)).numpy(), x_te, scale, fd
            )
        else:
            from inputgrad.core.numerical import score_function

            model = fit_sklearn(name, cfg["models"].get(name) or {}, x_tr, y_tr, seed)
            fitted[name] = model
            f = score_function(model)
            preds[name] = f(x_te)[:, 0]
            grads[name] = fd_gradients(f, x_te, scale, fd)
        seconds[name] = time.perf_counter() - start
        log.info(
            "seed %s %s: test R² %.3f (%.1f s)", seed, name, r2(y_te, preds[name]), seconds[name]
        )
    coef = fitted["linear_regression"].coef_
    model_rows, feature_rows = [], []
    for name in MODELS:
        gbar = grads[name].mean(axis=0)
        row = {
            "model": name,
            "test_r2": r2(y_te, preds[name]),
            "first_order_share": first_order_share(preds[name], grads[name], x_te, x_bar),
            **agreement(gbar, coef),
        }
        if name == "linear_regression":
            row["max_abs_gradient_minus_coef"] = float(np.abs(grads[name] - coef).max())
        if name == "keras_mlp":
            row["fd_tape_rel_error"] = float(
                np.abs(fd_mlp - grads[name]).max() / np.abs(grads[name]).max()
            )
            row["fd_tape_gbar_rel_error"] = float(
                np.abs(fd_mlp.mean(0) - gbar).max() / np.abs(gbar).max()
            )
        model_rows.append(row)
        for j, feature in enumerate(names):
            feature_rows.append(
                {"model": name, "feature": feature, "gbar": float(gbar[j]), "coef": float(coef[j])}
            )
    f_tree = score_function_of(fitted["gradient_boosting"])
    steps = tree_steps(f_tree, x_te, scale, cfg["tree_steps"], fd, coef, x_bar)
    return {
        "models": model_rows,
        "features": feature_rows,
        "steps": steps,
        "fitted": fitted,
        "split": {"x_train": x_tr, "x_test": x_te, "y_train": y_tr, "y_test": y_te},
        "seconds": seconds,
    }


def score_function_of(model):
    from inputgrad.core.numerical import score_function

    return score_function(model)
