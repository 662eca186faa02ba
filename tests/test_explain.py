import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from inputgrad.cli import main
from inputgrad.core import gradients
from inputgrad.core.models import build, split_embedding
from inputgrad.explain import ExplainError, encode_text, explain_array


@pytest.fixture
def cnn(tmp_path):
    keras.utils.set_random_seed(0)
    model = build({"name": "imdb_cnn", "num_words": 20, "maxlen": 12, "embedding_dim": 4,
                   "filters": 3, "hidden": 5})
    path = tmp_path / "cnn.keras"
    model.save(path)
    return model, path


def test_encode_text_marks_oov_and_padding():
    index = {"great": 1, "movie": 2}
    x, shown, position = encode_text("Great movie, zzz!", index, num_words=10, maxlen=6)
    assert x.tolist() == [[0, 0, 1, 4, 5, 2]]
    assert shown == ["", "", "", "great", "movie", "[zzz]"]
    assert position.tolist() == [-1, -1, -1, 0, 1, 2]


def test_embedding_model_per_token_scores(cnn):
    model, _ = cnn
    ids = np.random.default_rng(0).integers(3, 20, size=(3, 12))
    res = explain_array(model, ids, "gradient", "probability")
    assert res["attributions"].shape == (3, 12, 4) and res["per_token"].shape == (3, 12)
    np.testing.assert_allclose(res["per_token"], np.linalg.norm(res["attributions"], axis=-1))
    ig = explain_array(model, ids, "integrated_gradients", "logit", steps=64)
    assert np.abs(ig["completeness_gap"]).max() < 0.05
    assert split_embedding(model) is split_embedding(model)  # one split, one trace per model
    sg = explain_array(model, ids, "smoothgrad", "probability", samples=4, noise=0.05)
    assert sg["attributions"].shape == (3, 12, 4)
    np.testing.assert_allclose(sg["per_token"], np.linalg.norm(sg["attributions"], axis=-1))


def test_cli_text_and_array(cnn, tmp_path, capsys):
    _, path = cnn
    index = tmp_path / "index.json"
    index.write_text(json.dumps({"great": 1, "movie": 2, "bad": 3}))
    assert main(["explain", str(path), "--text", "great movie, not bad",
                 "--word-index", str(index)]) == 0
    out = capsys.readouterr().out
    assert "prediction (probability)" in out and "[not]" in out
    pixels = tmp_path / "x.npy"
    np.save(pixels, np.random.default_rng(1).random((4, 784), np.float32))
    logreg = build({"name": "mnist_logreg"})
    logreg.save(tmp_path / "lr.keras")
    out_file = tmp_path / "att.npz"
    assert main(["explain", str(tmp_path / "lr.keras"), "--input", str(pixels),
                 "--output", "logit", "--target", "3", "--out", str(out_file)]) == 0
    weights = logreg.get_layer("logits").kernel.numpy()[:, 3]
    with np.load(out_file) as res:  # a linear model's logit gradient is its weight column
        np.testing.assert_allclose(res["attributions"][0], weights, rtol=1e-6)
    assert main(["explain", str(tmp_path / "lr.keras"), "--input", str(pixels),
                 "--method", "integrated_gradients", "--steps", "8", "--output", "logit",
                 "--out", str(out_file)]) == 0
    assert "IG completeness gap" in capsys.readouterr().out
    assert main(["explain", str(tmp_path / "nope.keras"), "--input", str(pixels)]) == 2
    assert "does not exist" in capsys.readouterr().err


# Bad arguments: one line "explain: ..." on stderr naming the flag, file or value; exit 2.

@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    """Tiny saved models (MNIST MLP, IMDB CNN, a word index in the workflow's layout) and the
    bad files the cases below pass."""
    d = tmp_path_factory.mktemp("bad")
    keras.utils.set_random_seed(0)
    build({"name": "mnist_mlp", "inputs": 784, "hidden": [8], "dropout": 0.0, "classes": 10}) \
        .save(d / "mlp.keras")
    models = d / "results" / "models" / "imdb_cnn" / "seed0"
    models.mkdir(parents=True)
    build({"name": "imdb_cnn", "num_words": 50, "maxlen": 20, "embedding_dim": 4, "filters": 4,
           "kernel_size": 3, "hidden": 4, "dropout": 0.0}).save(models / "model.keras")
    (d / "cnn.keras").write_bytes((models / "model.keras").read_bytes())  # no index above it
    raw = d / "results" / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / "imdb_word_index.json").write_text(json.dumps({"great": 1, "movie": 2}))
    (d / "list.json").write_text("[1, 2]")
    (d / "metrics.json").write_text('{"accuracy": 0.9}')
    (d / "corrupt.keras").write_bytes(b"not a zip archive")
    np.save(d / "pixels.npy", np.zeros((2, 784), np.float32))
    np.save(d / "ids.npy", np.full((2, 20), 5, np.int32))
    np.save(d / "images.npy", np.zeros((2, 28, 28), np.float32))
    np.save(d / "long_ids.npy", np.zeros((2, 100), np.int32))
    np.save(d / "float_ids.npy", np.full((2, 20), 5.0, np.float32))
    np.save(d / "big_ids.npy", np.full((2, 20), 60, np.int64))
    np.save(d / "strings.npy", np.array([["a"] * 784, ["b"] * 784]))
    np.savez(d / "pixels.npz", y=np.zeros((2, 784), np.float32))
    (d / "text.npy").write_text("hello, I am a text file\n")
    np.save(d / "objects.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    (d / "folder.keras").mkdir()
    (d / "folder.npy").mkdir()
    return d


CNN = "results/models/imdb_cnn/seed0/model.keras"
BAD = {  # case: (arguments, exact message; {d} = the fixture's folder)
    "text_without_embedding": (
        ["mlp.keras", "--text", "great movie"],
        "explain: --text needs a model with an Embedding layer; {d}/mlp.keras has none "
        "(use --input)"),
    "target_not_a_class": (
        ["mlp.keras", "--input", "pixels.npy", "--target", "foo"],
        "explain: --target must be predicted, all or a class index, got 'foo'"),
    "target_out_of_range": (
        ["mlp.keras", "--input", "pixels.npy", "--target", "12"],
        "explain: --target 12 is out of range: the model has 10 classes, so use 0 to 9"),
    "target_negative": (
        ["mlp.keras", "--input", "pixels.npy", "--target", "-1"],
        "explain: --target -1 is out of range: the model has 10 classes, so use 0 to 9"),
    "target_binary": (
        [CNN, "--input", "ids.npy", "--target", "1"],
        "explain: --target 1 is out of range: the model has a single output (binary), "
        "so only 0 is allowed"),
    "input_shape_mlp": (
        ["mlp.keras", "--input", "images.npy"],
        "explain: input {d}/images.npy has shape (2, 28, 28); the model expects (n, 784)"),
    "input_shape_cnn": (
        [CNN, "--input", "long_ids.npy"],
        "explain: input {d}/long_ids.npy has shape (2, 100); the model expects (n, 20)"),
    "input_ids_not_integer": (
        [CNN, "--input", "float_ids.npy"],
        "explain: input {d}/float_ids.npy has dtype float32; the model takes integer token ids"),
    "input_ids_out_of_vocab": (
        [CNN, "--input", "big_ids.npy"],
        "explain: input {d}/big_ids.npy has token ids in [60, 60]; the model's Embedding "
        "takes ids in [0, 50)"),
    "input_strings": (
        ["mlp.keras", "--input", "strings.npy"],
        "explain: input {d}/strings.npy has dtype <U1; the model expects numbers"),
    "word_index_not_found": (
        ["cnn.keras", "--text", "great movie"],
        "explain: no word index found for {d}/cnn.keras (no data/raw/imdb_word_index.json in "
        "the folders above it); give one with --word-index FILE"),
    "word_index_not_an_object": (
        [CNN, "--text", "great movie", "--word-index", "list.json"],
        "explain: word index {d}/list.json (--word-index) is not a JSON object mapping words "
        "to integer ranks"),
    "model_not_keras": (
        ["metrics.json", "--input", "pixels.npy"],
        "explain: cannot load {d}/metrics.json as a Keras model (not a .keras or .h5 file; "
        "scikit-learn models: .skops, .joblib, .pkl)"),
    "model_corrupt": (
        ["corrupt.keras", "--input", "pixels.npy"],
        "explain: cannot load {d}/corrupt.keras as a Keras model (not a .keras zip archive)"),
    "model_missing": (
        ["nope.keras", "--input", "pixels.npy"],
        "explain: model file {d}/nope.keras does not exist"),
    "text_empty": (
        [CNN, "--text", ""],
        "explain: --text has no words"),
    "text_no_tokens": (
        [CNN, "--text", " ... !!"],
        "explain: --text has no words"),
    "input_missing": (
        ["mlp.keras", "--input", "nope.npy"],
        "explain: input file {d}/nope.npy does not exist"),
    # found by trying explain as a new user (issue 23): tracebacks before
    "steps_zero": (
        ["mlp.keras", "--input", "pixels.npy", "--method", "integrated_gradients", "--steps", "0"],
        "explain: --steps must be a whole number >= 1, got 0"),
    "samples_negative": (
        ["mlp.keras", "--input", "pixels.npy", "--method", "smoothgrad", "--samples", "-3"],
        "explain: --samples must be a whole number >= 1, got -3"),
    "noise_nan": (
        ["mlp.keras", "--input", "pixels.npy", "--method", "vargrad", "--noise", "nan"],
        "explain: --noise must be a finite number >= 0, got nan"),
    "top_zero": (
        [CNN, "--text", "great movie", "--top", "0"],
        "explain: --top must be a whole number >= 1, got 0"),
    "finite_differences_of_keras": (
        ["mlp.keras", "--input", "pixels.npy", "--method", "finite_differences"],
        "explain: --method finite_differences is for models without gradients (scikit-learn); "
        "{d}/mlp.keras is a Keras model: use --method gradient"),
    "prediction_of_keras": (
        ["mlp.keras", "--input", "pixels.npy", "--output", "prediction"],
        "explain: --output prediction is for models scored by predict (scikit-learn "
        "regressors); {d}/mlp.keras is a Keras model, which returns logits: use logit or "
        "probability"),
    # ... and misleading messages before
    "model_directory": (
        ["folder.keras", "--input", "pixels.npy"],
        "explain: model {d}/folder.keras is a directory, not a model file (.keras, .h5, .hdf5)"),
    "target_24_digits": (
        ["mlp.keras", "--input", "pixels.npy", "--target", "123456789012345678901234"],
        "explain: --target 123456789012345678901234 is out of range: the model has 10 classes, "
        "so use 0 to 9"),
    "input_text_named_npy": (
        ["mlp.keras", "--input", "text.npy"],
        "explain: input {d}/text.npy is not a .npy or .npz file (it starts with b'hello,', not "
        "a NumPy header)"),
    "input_object_array": (
        ["mlp.keras", "--input", "objects.npy"],
        "explain: input {d}/objects.npy holds an array of Python objects, which explain does "
        "not load (unpickling runs code); save a numeric array"),
    "input_directory": (
        ["mlp.keras", "--input", "folder.npy"],
        "explain: input {d}/folder.npy is a directory, not a .npy or .npz file"),
    "npz_without_key": (
        ["mlp.keras", "--input", "pixels.npz"],
        "explain: key 'x' not in {d}/pixels.npz (has ['y']; use --key)"),
}


def _args(d, args):
    """Paths relative to the fixture's folder (the model first, then --input/--word-index)."""
    out = [str(d / args[0])]
    for i, arg in enumerate(args[1:], 1):
        out.append(str(d / arg) if args[i - 1] in ("--input", "--word-index") else arg)
    return out


@pytest.mark.parametrize("case", list(BAD))
def test_bad_argument_is_one_line(bad, case, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # outside any results/ folder: the index is found from the model
    args, message = BAD[case]
    assert main(["explain", *_args(bad, args), "--out", str(tmp_path / "a.npz")]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [message.format(d=bad)]
    assert "Traceback" not in captured.err and captured.out == ""
    assert not (tmp_path / "a.npz").exists()


def test_debug_reraises(bad, capsys):
    with pytest.raises(ExplainError, match="--target must be"):
        main(["explain", str(bad / "mlp.keras"), "--input", str(bad / "pixels.npy"),
              "--target", "foo", "--debug"])


def test_word_index_found_from_the_model_folder(bad, capsys, monkeypatch, tmp_path):
    """results/models/<model>/seed<N>/model.keras finds results/data/raw/imdb_word_index.json
    whatever the working directory; every call reuses the model's one compiled gradient."""
    monkeypatch.chdir(tmp_path)
    assert main(["explain", str(bad / CNN), "--text", "Great movie, zzz!"]) == 0
    out = capsys.readouterr().out
    assert "great" in out and "[zzz]" in out
    model = keras.models.load_model(bad / CNN)
    ids = np.full((2, 20), 5, np.int32)
    explain_array(model, ids)  # checks the input and target, then the one split per model
    fn = gradients.make_gradient_fn(split_embedding(model)[1], "logit", all_classes=False,
                                    reduce=None)
    traced = fn.experimental_get_tracing_count()
    assert traced >= 1
    explain_array(model, ids + 1)
    explain_array(model, ids + 2, target=0)
    assert fn.experimental_get_tracing_count() == traced


@pytest.mark.parametrize(("out", "message"), [
    ("missing/a.npz", "explain: --out {t}/missing/a.npz: folder {t}/missing does not exist"),
    ("outdir", "explain: --out {t}/outdir is a directory; name a file, e.g. "
               "{t}/outdir/attributions.npz"),
    ("a.txt", "explain: --out {t}/a.txt must end in .npz (the file written is a NumPy .npz "
              "archive)"),
])
def test_bad_out_is_one_line_and_writes_nothing(bad, out, message, capsys, tmp_path):
    (tmp_path / "outdir").mkdir()
    before = sorted(tmp_path.rglob("*"))
    assert main(["explain", str(bad / "mlp.keras"), "--input", str(bad / "pixels.npy"),
                 "--out", str(tmp_path / out)]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [message.format(t=tmp_path)] and captured.out == ""
    assert sorted(tmp_path.rglob("*")) == before


def test_out_is_written_under_its_own_name(bad, capsys, tmp_path):
    """The file named by --out, atomically (no temp file left), and the name printed is it."""
    out = tmp_path / "att.npz"
    assert main(["explain", str(bad / "mlp.keras"), "--input", str(bad / "pixels.npy"),
                 "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip().endswith(f"-> {out}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["att.npz"]
    with np.load(out) as res:
        assert res["attributions"].shape == (2, 784)


def test_text_not_utf8_is_one_line(bad):
    """Bytes that are not UTF-8 on a real command line (Python hands them over as lone
    surrogates): one line naming the first bad byte, exit 2, no traceback."""
    proc = subprocess.run([sys.executable, "-m", "inputgrad", "explain", str(bad / CNN),
                           "--text", b"great \xff\xfe movie"], capture_output=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 2 and proc.stdout == b""
    lines = [line for line in proc.stderr.decode().splitlines() if line.startswith("explain:")]
    assert lines == ["explain: --text is not valid UTF-8: byte 0xff at position 6 of "
                     "'great \\xff\\xfe movie'"]
    assert b"Traceback" not in proc.stderr


def test_help_does_not_load_tensorflow():
    """`inputgrad explain --help` imports neither TensorFlow nor Keras (they take seconds and
    print log lines): -X importtime lists every module imported, and is all stderr says."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "inputgrad", "explain",
                           "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "--method" in proc.stdout and "--out" in proc.stdout
    lines = proc.stderr.splitlines()
    assert lines and all(line.startswith("import time:") for line in lines)
    modules = {line.split("|")[-1].strip() for line in lines}
    assert "inputgrad.cli" in modules and "inputgrad.core.methods" in modules
    heavy = {m for m in modules if m.split(".")[0] in ("tensorflow", "keras")}
    assert not heavy, sorted(heavy)[:5]


# scikit-learn models (explain_sklearn): saved with joblib or skops, numerical gradients


@pytest.fixture(scope="module")
def sk(tmp_path_factory):
    """A logistic regression and a linear regression on a tiny synthetic array, saved with
    joblib and skops, a gradient-boosting model (a type skops does not trust by default), and
    the bad files of the cases below."""
    import joblib
    import skops.io as sio
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.preprocessing import StandardScaler

    d = tmp_path_factory.mktemp("sk")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4))
    y = (x @ [1.0, -2.0, 0.5, 0.0] + 0.3 * rng.normal(size=60) > 0).astype(int)
    logreg = LogisticRegression().fit(x, y)
    joblib.dump(logreg, d / "logreg.joblib")
    sio.dump(logreg, d / "logreg.skops")
    joblib.dump(LinearRegression().fit(x, x @ [1.0, 2.0, 3.0, 4.0] + 5.0), d / "linreg.pkl")
    sio.dump(GradientBoostingRegressor(n_estimators=3, random_state=0).fit(x, x[:, 0]),
             d / "boost.skops")
    joblib.dump(StandardScaler().fit(x), d / "scaler.joblib")
    joblib.dump({"coef": [1, 2]}, d / "dict.pkl")
    joblib.dump(LogisticRegression(), d / "unfitted.joblib")
    (d / "text.pkl").write_text("hello, I am not a pickle\n")
    (d / "text.skops").write_text("hello, I am not a zip\n")
    np.save(d / "x.npy", x[:5])
    np.save(d / "x5.npy", rng.normal(size=(3, 5)))
    np.save(d / "x3d.npy", rng.normal(size=(3, 2, 2)))
    return d, logreg, x[:5]


@pytest.mark.parametrize("name", ["logreg.joblib", "logreg.skops"])
def test_sklearn_logit_gradient_is_coef(sk, name, capsys, tmp_path):
    """The logit of a logistic regression is linear in x: its gradient is coef_ at every row
    (central differences are exact for a linear function, up to float64 rounding)."""
    d, logreg, x = sk
    out = tmp_path / "att.npz"
    assert main(["explain", str(d / name), "--input", str(d / "x.npy"), "--output", "logit",
                 "--out", str(out)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"finite_differences attributions (5, 4) of logit (decision_function of "
        f"LogisticRegression) -> {out}"]
    with np.load(out) as res:
        np.testing.assert_allclose(res["attributions"], np.tile(logreg.coef_, (5, 1)),
                                   rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(res["predictions"][:, 0], logreg.decision_function(x))
        assert res["target"].tolist() == [0] * 5 and str(res["output"]) == "logit"


def test_sklearn_probability_gradient_is_the_chain_rule(sk, capsys, tmp_path):
    """Default output of a classifier: predict_proba; for the predicted class c of a binary
    logistic regression, d p_c / dx = p_c (1 - p_c) (+-coef_) by the chain rule. The sigmoid
    is curved, so the central difference is off by O(h^2) (h = 1e-3 max(|x|, 1), the
    configured step): 1e-5 relative bounds it here."""
    d, logreg, x = sk
    out = tmp_path / "att.npz"
    assert main(["explain", str(d / "logreg.skops"), "--input", str(d / "x.npy"),
                 "--out", str(out)]) == 0
    p = logreg.predict_proba(x)
    c = p.argmax(axis=1)
    sign = np.where(c == 1, 1.0, -1.0)[:, None]
    expected = (p[:, 0] * p[:, 1])[:, None] * sign * logreg.coef_
    with np.load(out) as res:
        assert res["target"].tolist() == c.tolist() and str(res["output"]) == "probability"
        np.testing.assert_allclose(res["attributions"], expected, rtol=1e-5, atol=1e-10)


def test_sklearn_regression_gradient_is_coef(sk, capsys, tmp_path):
    """A regressor is scored by predict: a linear regression's gradient is its coef_."""
    d, _, _ = sk
    out = tmp_path / "att.npz"
    assert main(["explain", str(d / "linreg.pkl"), "--input", str(d / "x.npy"),
                 "--out", str(out)]) == 0
    assert "of prediction (predict of LinearRegression)" in capsys.readouterr().out
    with np.load(out) as res:
        np.testing.assert_allclose(res["attributions"], np.tile([1.0, 2.0, 3.0, 4.0], (5, 1)),
                                   rtol=1e-7)


def test_sklearn_skops_trust(sk, capsys, tmp_path):
    """skops refuses a type outside its trusted list unless --trust names it."""
    d, _, _ = sk
    args = ["explain", str(d / "boost.skops"), "--input", str(d / "x.npy"), "--out",
            str(tmp_path / "att.npz")]
    assert main(args) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"explain: model {d}/boost.skops holds types skops does not trust by default: "
        f"sklearn.tree._tree.Tree; if you trust the file's source, add --trust "
        f"sklearn.tree._tree.Tree"]
    assert not (tmp_path / "att.npz").exists()
    assert main([*args, "--trust", "sklearn.tree._tree.Tree"]) == 0
    with np.load(tmp_path / "att.npz") as res:
        assert res["attributions"].shape == (5, 4) and np.isfinite(res["attributions"]).all()


SK_BAD = {  # case: (arguments, exact message; {d} = the fixture's folder)
    "not_a_pickle": (
        ["text.pkl", "--input", "x.npy"],
        "explain: cannot load {d}/text.pkl with joblib (pickle) (UnpicklingError: "),
    "not_a_skops_file": (
        ["text.skops", "--input", "x.npy"],
        "explain: cannot load {d}/text.skops as a skops model (not a .skops zip archive)"),
    "not_a_model": (
        ["dict.pkl", "--input", "x.npy"],
        "explain: model {d}/dict.pkl holds a dict, which has no predict_proba, "
        "decision_function or predict: not a predictive model"),
    "no_scoring_method": (
        ["scaler.joblib", "--input", "x.npy"],
        "explain: model {d}/scaler.joblib holds a StandardScaler, which has no predict_proba, "
        "decision_function or predict: not a predictive model"),
    "not_fitted": (
        ["unfitted.joblib", "--input", "x.npy"],
        "explain: model {d}/unfitted.joblib holds a LogisticRegression that is not fitted"),
    "wrong_feature_count": (
        ["logreg.skops", "--input", "x5.npy"],
        "explain: input {d}/x5.npy has shape (3, 5); the model expects (n, 4)"),
    "not_a_table": (
        ["logreg.joblib", "--input", "x3d.npy"],
        "explain: input {d}/x3d.npy has shape (3, 2, 2); the model expects (n, 4)"),
    "output_missing_method": (
        ["linreg.pkl", "--input", "x.npy", "--output", "probability"],
        "explain: --output probability needs predict_proba, which the LinearRegression in "
        "{d}/linreg.pkl does not have; use --output prediction"),
    "prediction_of_a_classifier": (
        ["logreg.joblib", "--input", "x.npy", "--output", "prediction"],
        "explain: --output prediction of a classifier ({d}/logreg.joblib) is its class label, "
        "not a score; use probability"),
    "target_out_of_range": (
        ["logreg.joblib", "--input", "x.npy", "--target", "2"],
        "explain: --target 2 is out of range: the model has 2 outputs, so use 0 to 1"),
    "target_24_digits": (
        ["linreg.pkl", "--input", "x.npy", "--target", "123456789012345678901234"],
        "explain: --target 123456789012345678901234 is out of range: the model has a single "
        "output, so only 0 is allowed"),
    "method_needs_autodiff": (
        ["logreg.joblib", "--input", "x.npy", "--method", "gradient"],
        "explain: --method gradient needs a Keras model (automatic differentiation); a "
        "scikit-learn model is explained by --method finite_differences, its numerical "
        "gradient"),
    "text_needs_keras": (
        ["logreg.joblib", "--text", "great movie"],
        "explain: --text needs a Keras model with an Embedding layer; {d}/logreg.joblib is a "
        "scikit-learn model (use --input)"),
    "step_zero": (
        ["logreg.joblib", "--input", "x.npy", "--step", "0"],
        "explain: --step must be a finite number > 0, got 0.0"),
    "model_directory": (
        ["folder.skops", "--input", "x.npy"],
        "explain: model {d}/folder.skops is a directory, not a model file (.skops, .joblib, "
        ".pkl, .pickle)"),
    "model_missing": (
        ["nope.joblib", "--input", "x.npy"],
        "explain: model file {d}/nope.joblib does not exist"),
}


@pytest.mark.parametrize("case", list(SK_BAD))
def test_sklearn_bad_input_is_one_line(sk, case, capsys, tmp_path):
    d, _, _ = sk
    (d / "folder.skops").mkdir(exist_ok=True)
    args, message = SK_BAD[case]
    assert main(["explain", *_args(d, args), "--out", str(tmp_path / "a.npz")]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(message.format(d=d)), lines
    assert "Traceback" not in captured.err and captured.out == ""
    assert not (tmp_path / "a.npz").exists()


def test_sklearn_from_a_fresh_shell_without_tensorflow(sk, tmp_path):
    """`python -m inputgrad explain model.skops ...` in a new process: the output line, the
    file, and neither TensorFlow nor Keras imported (-X importtime lists every module)."""
    d, logreg, _ = sk
    out = tmp_path / "att.npz"
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "inputgrad", "explain",
                           str(d / "logreg.skops"), "--input", str(d / "x.npy"), "--output",
                           "logit", "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.endswith(f"-> {out}\n")
    modules = {line.split("|")[-1].strip() for line in proc.stderr.splitlines()
               if line.startswith("import time:")}
    assert "sklearn" in modules and "skops.io" in modules
    assert not {m for m in modules if m.split(".")[0] in ("tensorflow", "keras")}
    assert all(line.startswith("import time:") for line in proc.stderr.splitlines())
    with np.load(out) as res:
        np.testing.assert_allclose(res["attributions"], np.tile(logreg.coef_, (5, 1)),
                                   rtol=1e-7, atol=1e-9)
