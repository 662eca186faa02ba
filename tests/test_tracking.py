"""MLflow through `infra.tracking`, on a real SQLite store in tmp_path, as the tracking jobs log
the records compute jobs wrote (`infra.records`): a model's run made from its training record
(rule track_model), later stages' records into it, and the evaluation run (track_evaluation)."""

import json
import math
import time
from pathlib import Path

import pytest
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from inputgrad.infra import paths
from inputgrad.infra.records import write_record
from inputgrad.infra.tracking import (
    Tracker,
    flatten,
    mlflow_experiment,
    read_id,
    resolve_uri,
    track_evaluation,
    track_model,
    using_uri,
)


@pytest.fixture
def store(tmp_path):
    """An explicit SQLite URI (resolve_uri(None) would be relative to the CWD), an experiment
    with its artifacts in tmp_path, and its id file as the training rules see it."""
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    exp = Tracker(uri).ensure_experiment("demo", tmp_path / "artifacts")
    id_file = tmp_path / "experiment_id.txt"
    id_file.write_text(exp + "\n")
    return {"uri": uri, "tracking": {"uri": uri, "experiment": "demo"}, "exp": exp,
            "id_file": str(id_file), "client": MlflowClient(uri)}


def training_outputs(folder: Path) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.keras").write_bytes(b"weights")
    (folder / "metrics.json").write_text(json.dumps({"test_accuracy": 0.75}))
    (folder / "history.csv").write_text("epoch,loss,accuracy\n1,0.9,0.5\n2,0.5,0.7\n")
    return {"model": str(folder / "model.keras"), "metrics": str(folder / "metrics.json"),
            "history": str(folder / "history.csv")}


def training_track(store=None, name="toy-seed0"):
    """What common.smk's training_declaration() declares for a model and seed."""
    tags = {"model": "toy", "seed": name.rsplit("seed", 1)[-1]}
    return {"run": {"name": name, "tags": tags},
            "artifacts": {"model": "model", "metrics": "training", "history": "training"}}


def write(path: Path, rule: str, inputs: dict, outputs: dict, params: dict, metrics: dict,
          seconds: float = 2.0) -> str:
    """A record, as infra.stage writes it after the job's `run` (which took `seconds`)."""
    now = time.time()
    write_record(path, rule, inputs, outputs, params, metrics, now - seconds, now)
    return str(path)


def log_runs(store, declared, inputs, outputs, params, metrics, records=None) -> str:
    """What rule track_model does for one seed: the training job's record (written beside its
    outputs) into a new run, then each stage record of `records` ({file: declaration}) into
    it. Returns the run id (the job's output)."""
    folder = Path(outputs["model"]).parent
    training = write(folder / "record.json", "train_toy", inputs, outputs, params, metrics)
    seed = declared["run"]["tags"]["seed"]
    out = folder / f"run_seed{seed}.txt"
    track_model({"experiment": store["id_file"]}, {f"seed{seed}": str(out)},
                {"tracking": store["tracking"], "model": declared["run"]["tags"]["model"],
                 "seeds": {seed: {"training_record": training, "training": declared,
                                  "records": records or {}}}})
    return read_id(out)


def train(store, folder: Path, name="toy-seed0", records=None) -> str:
    outputs = training_outputs(folder)
    params = {"cfg": {"train": {"epochs": 2, "hidden": [4, 4]}}, "seed": 0}
    return log_runs(store, training_track(store, name), {}, outputs, params,
                    {"test_accuracy": 0.75, "train_seconds": 1.5}, records)


def evaluate(store, tmp_path, records: dict, runs=()) -> str:
    """What rule track_evaluation does: the evaluation run of `records` ({file:
    declaration}), linked to the model runs whose id files are `runs`."""
    out = tmp_path / "evaluation.txt"
    track_evaluation({"experiment": store["id_file"], "runs": list(runs)},
                     {"run_id": str(out)},
                     {"tracking": store["tracking"], "records": records,
                      "tags": {"profile": "smoke"}})
    return read_id(out)


def test_resolve_uri(tmp_path, monkeypatch):
    assert resolve_uri("sqlite:////elsewhere/m.db") == "sqlite:////elsewhere/m.db"
    monkeypatch.chdir(tmp_path)  # the default store is under the project (working) directory
    assert resolve_uri(None) == f"sqlite:///{tmp_path.resolve()}/{paths.DEFAULT_STORE}"


def test_flatten():
    flat = flatten({"a": {"b": 1, "c": [1, 2]}, "d": "x"})
    assert flat == {"a.b": "1", "a.c": "[1, 2]", "d": "x"}


def test_mlflow_experiment_is_created_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # artifacts default to results/mlflow/artifacts of the project
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    params = {"tracking": {"uri": uri, "experiment": "demo"}}
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    mlflow_experiment({}, {"experiment": str(first)}, params)
    mlflow_experiment({}, {"experiment": str(second)}, params)
    assert read_id(first) == read_id(second)
    exp = MlflowClient(uri).get_experiment(read_id(first))
    assert exp.name == "demo"
    assert exp.artifact_location == (tmp_path / paths.ARTIFACTS).resolve().as_uri()


def test_a_training_record_becomes_a_finished_run_timed_as_the_training(store, tmp_path):
    run_id = train(store, tmp_path / "models" / "toy" / "seed0")
    client = store["client"]
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "toy-seed0"
    record = json.loads((tmp_path / "models/toy/seed0/record.json").read_text())
    # the run's Duration is the training job's (2 s here), not the logging's
    assert (run.info.start_time, run.info.end_time) == (record["started_ms"],
                                                        record["ended_ms"])
    assert run.data.tags["model"] == "toy"
    assert run.data.params == {"train.epochs": "2", "train.hidden": "[4, 4]",
                               "seed": "0"}
    # per-epoch metrics from the history CSV (step = epoch - 1), then the stage's metrics
    assert [(m.step, m.value) for m in client.get_metric_history(run_id, "loss")] == [
        (0, 0.9), (1, 0.5)]
    assert [m.value for m in client.get_metric_history(run_id, "accuracy")] == [0.5, 0.7]
    assert run.data.metrics["test_accuracy"] == 0.75
    assert run.data.metrics["train_seconds"] == 1.5
    assert {a.path for a in client.list_artifacts(run_id)} == {"model", "training",
                                                               "config.json"}
    assert {a.path for a in client.list_artifacts(run_id, "training")} == {
        "training/metrics.json", "training/history.csv"}
    assert len(client.search_runs([store["exp"]])) == 1


def test_a_run_is_marked_failed_when_logging_breaks(store, tmp_path):
    first = train(store, tmp_path / "a")
    outputs = training_outputs(tmp_path / "seed0")
    Path(outputs["model"]).unlink()  # an artifact that cannot be logged
    with pytest.raises(OSError):
        log_runs(store, training_track(store), {}, outputs, {"cfg": {}, "seed": 0}, {})
    runs = {r.info.run_id: r for r in store["client"].search_runs([store["exp"]])}
    assert len(runs) == 2 and runs.pop(first).info.status == "FINISHED"  # not superseded
    assert [r.info.status for r in runs.values()] == ["FAILED"]
    assert not (tmp_path / "seed0" / "run_seed0.txt").exists()  # no run id written


def test_a_later_stage_record_goes_into_its_models_run_of_each_seed(store, tmp_path):
    tables = tmp_path / "tables"
    tables.mkdir()
    for name in ("t.csv", "t.md", "extra.json"):
        (tables / name).write_text("a\n1\n")
    outputs = {"csv": str(tables / "t.csv"), "md": str(tables / "t.md"),
               "more": [str(tables / "extra.json")]}  # list-valued entries too
    cfg = {"top_k": 5, "nested": {"a": [1, 2]}}
    declared = {"artifacts": "tables", "configs": ["cfg"], "models": ["toy"], "across": False}
    ids = []
    for seed in (0, 1):
        rec = write(tmp_path / f"x_seed{seed}.json", "x", {"data": "unused.npz"}, outputs,
                    {"cfg": cfg, "seed": seed},
                    {"ok": 0.5, "undefined": math.nan, "overflow": math.inf})
        ids.append(train(store, tmp_path / f"seed{seed}", f"toy-seed{seed}", {rec: declared}))
    client = store["client"]
    for run_id in ids:
        run = client.get_run(run_id)
        assert run.info.status == "FINISHED"
        assert run.data.metrics["x/ok"] == 0.5  # <rule>/<metric>
        assert not {"x/undefined", "x/overflow"} & set(run.data.metrics)  # non-finite: skipped
        assert {a.path for a in client.list_artifacts(run_id, "tables")} == {
            "tables/t.csv", "tables/t.md", "tables/extra.json"}
        local = client.download_artifacts(run_id, "config/x.json", str(tmp_path / run_id))
        assert json.loads(Path(local).read_text()) == cfg


def test_a_figure_record_goes_into_its_models_run(store, tmp_path):
    figure = tmp_path / "figure.png"
    figure.write_bytes(b"png")
    rec = write(tmp_path / "fig.json", "fig", {}, {"png": str(figure)}, {}, {})
    run_id = train(store, tmp_path / "seed0", records={rec: {"artifacts": "figures",
                                                             "models": ["toy"]}})
    paths_logged = {a.path for a in store["client"].list_artifacts(run_id, "figures")}
    assert paths_logged == {"figures/figure.png"}


def test_a_rerun_supersedes_the_runs_of_the_same_model_and_seed(store, tmp_path):
    client = store["client"]
    stale = client.create_run(store["exp"], run_name="toy-seed0",
                              tags={"model": "toy", "seed": "0"})
    first = train(store, tmp_path / "a")
    second = train(store, tmp_path / "b")
    active = client.search_runs([store["exp"]])
    assert [r.info.run_id for r in active] == [second]  # one run per model and seed
    assert active[0].info.status == "FINISHED"
    for old in (stale.info.run_id, first):
        run = client.get_run(old)
        assert run.info.lifecycle_stage == "deleted" and run.info.status != "RUNNING"
    assert active[0].data.tags["supersedes"] == first
    assert client.get_run(first).data.tags["supersedes"] == stale.info.run_id
    # an older store's run (model and seed tags only, no profile) is superseded alike, and
    # each deleted run says by which
    assert client.get_run(first).data.tags["superseded_by"] == second
    assert client.get_run(stale.info.run_id).data.tags["superseded_by"] == first


def test_check_location_names_the_bad_tracking_uri(tmp_path):
    from inputgrad.infra.errors import ConfigError
    from inputgrad.infra.tracking import check_location

    check_location(f"sqlite:///{tmp_path}/new/deeper/mlflow.db")  # creatable: fine
    assert not (tmp_path / "new").exists()  # and nothing was created by the check
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="tracking.uri.*is a file, not a folder"):
        check_location(f"sqlite:///{blocker}/sub/mlflow.db")
    with pytest.raises(ConfigError, match="no MLflow tracking server answers"):
        check_location("http://127.0.0.1:9", timeout=2)


# ------------------------------------------------------------------ MLflow Models, registry

def test_the_experiment_is_tagged_as_model_training(store, tmp_path):
    from inputgrad.infra.tracking import EXPERIMENT_KIND

    assert EXPERIMENT_KIND == {"mlflow.experimentKind": "custom_model_development"}
    client = store["client"]
    assert client.get_experiment(store["exp"]).tags["mlflow.experimentKind"] == (
        "custom_model_development")
    # an experiment created before the tag existed gets it when the workflow finds it
    old = client.create_experiment("untagged", artifact_location=(tmp_path / "a").as_uri())
    assert "mlflow.experimentKind" not in client.get_experiment(old).tags
    assert Tracker(store["uri"]).ensure_experiment("untagged") == old
    assert client.get_experiment(old).tags["mlflow.experimentKind"] == "custom_model_development"


def test_a_tracking_server_takes_no_file_lock(tmp_path, monkeypatch):
    from inputgrad.infra.tracking import is_server

    monkeypatch.chdir(tmp_path)
    assert is_server("http://127.0.0.1:5000") and is_server("HTTPS://mlflow.example.org")
    assert not is_server(None) and not is_server(f"sqlite:///{tmp_path}/m.db")
    tracker = Tracker("http://127.0.0.1:9")  # no request is made until a call
    assert tracker.lock_path is None
    with tracker._locked():
        pass
    assert not list(tmp_path.rglob("*.lock")) and not (tmp_path / "results").exists()
    assert Tracker(f"sqlite:///{tmp_path}/m.db").lock_path == tmp_path / "m.db.lock"


def write_reviews(path: Path, ids: list[list[int]], labels: list[int]) -> None:
    """A prepared IMDB split (data.arrays.Reviews layout) with the given word ids."""
    import numpy as np

    flat = np.concatenate([np.asarray(i, np.int32) for i in ids])
    np.savez(path, word_ids=flat, token_idx=np.arange(len(flat), dtype=np.int32),
             offsets=np.concatenate([[0], np.cumsum([len(i) for i in ids])]).astype(np.int64),
             review_id=np.array([f"r{k}" for k in range(len(ids))]),
             rating=np.full(len(ids), 7), label=np.asarray(labels, np.int64))


def test_input_example_is_spread_over_the_test_split():
    """The rows a training stage saves as its model's MLflow input example: evenly spread, so
    both labels of the label-sorted IMDB test split appear."""
    import numpy as np

    from inputgrad.core.train import input_example

    x = np.arange(9 * 4, dtype=np.float32).reshape(9, 4)
    np.testing.assert_array_equal(input_example(x, rows=3), x[[0, 4, 8]])
    assert input_example(x[:2], rows=5).shape == (2, 4)


def keras_training(tmp_path: Path, kind: str, folder: str = "seed0") -> dict:
    """A real (untrained) registry model saved as the training rules save it, its prepared
    data in the real format, and the rule's inputs, outputs and model declaration."""
    import numpy as np

    from inputgrad.core.models import build

    rng = np.random.default_rng(1)
    out = training_outputs(tmp_path / folder)
    if kind == "mnist_logreg":
        model = build({"name": "mnist_logreg"})
        np.savez(tmp_path / "mnist.npz", x_test=rng.random((20, 28, 28), dtype=np.float32),
                 y_test=np.arange(20) % 10)
        inputs = {"data": str(tmp_path / "mnist.npz")}
        example = rng.random((5, 784), dtype=np.float32)
    else:
        model = build({"name": "imdb_cnn", "num_words": 60, "maxlen": 12, "embedding_dim": 4,
                       "filters": 5, "hidden": 6})
        ids = [rng.integers(3, 60, size=n).tolist() for n in (3, 20, 7, 9, 15, 4)]
        write_reviews(tmp_path / "test.npz", ids, [1, 1, 1, 0, 0, 0])
        inputs = {"test": str(tmp_path / "test.npz")}
        example = np.stack([np.pad(np.asarray(v[:12]), (12 - len(v[:12]), 0)) for v in ids[:5]])
    model.save(out["model"])
    out["example"] = str(tmp_path / folder / "input_example.npy")
    np.save(out["example"], example)
    declared = {"output": "model", "name": "model", "example": "example",
                "registered_name": None, "alias": "seed0"}
    return {"model": model, "inputs": inputs, "outputs": out, "declared": declared}


def record_keras(store, job, name="toy-seed0", registered_name=None) -> str:
    track = {**training_track(store, name),
             "model": {**job["declared"], "registered_name": registered_name,
                       "alias": "seed" + name.rsplit("seed", 1)[-1]}}
    return log_runs(store, track, job["inputs"], job["outputs"],
                    {"cfg": {"train": {"epochs": 1}}, "seed": 0}, {"test_accuracy": 0.5})


@pytest.mark.parametrize("kind", ["mnist_logreg", "imdb_cnn"])
def test_the_trained_model_is_an_mlflow_model_pyfunc_reproduces(store, tmp_path, kind):
    import mlflow
    import numpy as np
    from mlflow.models import Model

    job = keras_training(tmp_path, kind)
    run_id = record_keras(store, job)
    client = store["client"]
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    [output] = run.outputs.model_outputs  # the MLflow Model is linked to its run
    logged = client.get_logged_model(output.model_id)
    assert logged.name == "model" and logged.experiment_id == store["exp"]
    # MLflow resolves `models:/<id>` with its global tracking URI, whatever the client's
    # (ModelsArtifactRepository._get_model_uri_infos): listing "model" needs using_uri too
    with using_uri(store["uri"]):
        listed = {a.path for a in client.list_artifacts(run_id, "model")}
        # the MLflow Model's files, and the plain .keras file, still the artifact model/model.keras
        assert {"model/MLmodel", "model/model.keras", "model/input_example.json"} <= listed
        local = mlflow.artifacts.download_artifacts(f"runs:/{run_id}/model",
                                                    dst_path=str(tmp_path / "dl"))
        pyfunc = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
    meta = Model.load(local)
    assert "keras" in meta.flavors and "python_function" in meta.flavors
    example = meta.load_input_example(local)
    want = np.float32 if kind == "mnist_logreg" else np.int32
    assert example.shape == (5, *job["model"].input_shape[1:]) and example.dtype == want
    [inp], [out] = meta.signature.inputs.inputs, meta.signature.outputs.inputs
    assert inp.shape == (-1, *job["model"].input_shape[1:]) and inp.type == np.dtype(want)
    assert out.shape == (-1, job["model"].output_shape[-1]) and out.type == np.dtype("float32")
    keras_out = job["model"].predict(example, verbose=0)
    diff = float(np.max(np.abs(np.asarray(pyfunc.predict(example)) - keras_out)))
    print(f"{kind}: pyfunc vs keras max abs difference {diff}")
    assert diff <= 1e-6


def test_register_models_versions_aliases_and_reruns(store, tmp_path):
    import mlflow
    import numpy as np

    client = store["client"]
    name = "inputgrad-mnist_logreg"
    job = keras_training(tmp_path, "mnist_logreg", "a")
    first = record_keras(store, job, "toy-seed0", registered_name=name)
    seed1 = record_keras(store, keras_training(tmp_path, "mnist_logreg", "b"), "toy-seed1",
                         registered_name=name)
    versions = {v.version: v for v in client.search_model_versions(f"name = '{name}'")}
    assert sorted(int(v) for v in versions) == [1, 2]
    assert client.get_model_version_by_alias(name, "seed0").run_id == first
    assert client.get_model_version_by_alias(name, "seed1").run_id == seed1
    assert client.get_model_version_by_alias(name, "seed0").tags == {"model": "toy",
                                                                      "seed": "0"}
    with using_uri(store["uri"]):
        registered = mlflow.pyfunc.load_model(f"models:/{name}@seed0")
    x = np.random.default_rng(2).random((3, 784), dtype=np.float32)
    np.testing.assert_allclose(registered.predict(x), job["model"].predict(x, verbose=0),
                               atol=1e-6)

    # a rerun of seed 0: the old run, its logged model and its registry version go; the alias
    # moves to the new version; seed 1 is untouched
    old_model = client.get_run(first).outputs.model_outputs[0].model_id
    rerun = record_keras(store, keras_training(tmp_path, "mnist_logreg", "c"), "toy-seed0",
                         registered_name=name)
    live = client.search_model_versions(f"name = '{name}'")
    assert sorted(v.run_id for v in live) == sorted([seed1, rerun])
    assert client.get_model_version_by_alias(name, "seed0").run_id == rerun
    assert client.get_model_version_by_alias(name, "seed1").run_id == seed1
    assert client.get_run(first).info.lifecycle_stage == "deleted"
    with pytest.raises(MlflowException, match="not found"):  # deleted (until `mlflow gc`)
        client.get_logged_model(old_model)
    assert old_model not in {m.model_id for m in client.search_logged_models([store["exp"]])}
    assert {r.info.run_id for r in client.search_runs([store["exp"]])} == {seed1, rerun}


def test_training_run_logs_its_datasets_with_the_raw_sha256(store, tmp_path):
    """MLflow's Dataset column: the train and test split of the raw file, source = its
    canonical URL, context training / testing, digest = the start of its verified sha256 (MLflow
    caps digests at 36 characters), the full hash in the profile."""
    import hashlib

    raw = tmp_path / "mnist.npz"
    raw.write_bytes(b"raw bytes of a dataset")
    full = hashlib.sha256(raw.read_bytes()).hexdigest()
    url = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
    track = {**training_track(store), "datasets": [
        {"name": f"mnist-{split}", "context": context, "input": "raw", "file": "mnist.npz",
         "url": url} for split, context in (("train", "training"), ("test", "testing"))]}
    outputs = training_outputs(tmp_path / "seed0")
    run_id = log_runs(store, track, {"raw": str(raw)}, outputs,
                      {"cfg": {"train": {"epochs": 2}}, "seed": 0}, {"test_accuracy": 0.75})
    run = MlflowClient(store["tracking"]["uri"]).get_run(run_id)
    logged = {d.dataset.name: d for d in run.inputs.dataset_inputs}
    assert set(logged) == {"mnist-train", "mnist-test"}
    for name, context in (("mnist-train", "training"), ("mnist-test", "testing")):
        dataset = logged[name].dataset
        assert dataset.digest == full[:36] and json.loads(dataset.profile)["sha256"] == full
        assert json.loads(dataset.source) == {"url": url} and dataset.source_type == "http"
        assert {t.key: t.value for t in logged[name].tags}["mlflow.data.context"] == context


def test_a_section_model_logs_the_prepared_files_it_read_as_its_datasets(store, tmp_path):
    """A model trained on data a rule made (planted IMDB): its datasets carry their own name,
    the sha256 of each prepared file as digest, and that file and rule as source."""
    import hashlib

    files = {"train": tmp_path / "imdb_train.npz", "consistent": tmp_path / "consistent.npz"}
    for name, path in files.items():
        path.write_bytes(f"prepared {name} arrays".encode())
    track = {**training_track(store), "datasets": [
        {"name": f"planted-aclimdb-{split}", "context": context, "input": inp,
         "made_by": "planted_imdb"}
        for split, context, inp in (("train", "training", "train"),
                                    ("test", "testing", "consistent"))]}
    outputs = training_outputs(tmp_path / "seed0")
    inputs = {k: str(v) for k, v in files.items()}
    run_id = log_runs(store, track, inputs, outputs, {"cfg": {"train": {"epochs": 2}}, "seed": 0},
                      {"test_accuracy": 0.75})
    run = MlflowClient(store["tracking"]["uri"]).get_run(run_id)
    logged = {d.dataset.name: d.dataset for d in run.inputs.dataset_inputs}
    assert set(logged) == {"planted-aclimdb-train", "planted-aclimdb-test"}
    for name, key in (("planted-aclimdb-train", "train"), ("planted-aclimdb-test", "consistent")):
        full = hashlib.sha256(files[key].read_bytes()).hexdigest()
        assert logged[name].digest == full[:36] and logged[name].source_type == "local"
        assert json.loads(logged[name].source) == {"path": str(files[key]),
                                                   "made_by": "planted_imdb"}
    assert logged["planted-aclimdb-train"].digest != logged["planted-aclimdb-test"].digest


@pytest.mark.parametrize("uri", ["file:///tmp/mlruns", "mlruns", "/abs/mlruns"])
def test_filesystem_store_is_refused_in_one_line(uri):
    """MLflow 3 refuses filesystem stores only once a run starts: the dry run says so first."""
    from inputgrad.infra.errors import ConfigError
    from inputgrad.infra.tracking import check_location

    with pytest.raises(ConfigError, match="filesystem store, which MLflow 3 no longer accepts"):
        check_location(uri)


def test_each_model_run_holds_its_own_metrics_only(store, tmp_path):
    """A stage over two models of one seed: each model's numbers go into its own run under
    <rule>/<name> (the model cut out of the name, so seeds and models compare in the UI);
    numbers about both go to the workflow run's one evaluation run; a stage across seeds
    logs only there. The evaluation run links every model run, and a rerun supersedes it."""
    from inputgrad.infra.tracking import EVALUATION_TAGS, split_metrics

    assert split_metrics({"acc_mnist_mlp_fgsm": 1.0, "acc_mnist_logreg_fgsm": 2.0, "n": 3.0},
                         ["mnist_mlp", "mnist_logreg"]) == (
        {"mnist_mlp": {"acc_fgsm": 1.0}, "mnist_logreg": {"acc_fgsm": 2.0}}, {"n": 3.0})
    table = tmp_path / "t.csv"
    table.write_text("a\n1\n")
    both = ["mnist_mlp", "mnist_logreg"]
    fgsm = write(tmp_path / "fgsm.json", "fgsm_robustness", {}, {"csv": str(table)}, {},
                 {"accuracy_mnist_mlp": 0.4, "accuracy_mnist_logreg": 0.2, "seconds": 9.0})
    declared = {"artifacts": "tables", "models": both}
    ids = {}
    for model in both:
        track = training_track(store, f"{model}-seed0")
        track["run"]["tags"]["model"] = model  # two models: neither supersedes the other
        outputs = training_outputs(tmp_path / "models" / model / "seed0")
        ids[model] = log_runs(store, track, {}, outputs, {"cfg": {"train": {"epochs": 2}},
                                                          "seed": 0},
                              {"test_accuracy": 0.5}, {fgsm: declared})
    client = store["client"]
    for model, run_id in ids.items():
        mine = {k for k in client.get_run(run_id).data.metrics if "/" in k}
        assert mine == {"fgsm_robustness/accuracy"}, (model, mine)
    seeds = write(tmp_path / "seeds.json", "sensitivity_seeds", {}, {"csv": str(table)}, {},
                  {"mean_mnist_mlp": 0.5})
    id_files = [str(tmp_path / "models" / m / "seed0" / "run_seed0.txt") for m in both]
    records = {fgsm: declared, seeds: {"artifacts": "tables", "across": True}}
    first = evaluate(store, tmp_path, records, id_files)
    query = " and ".join(f"tags.{k} = '{v}'" for k, v in EVALUATION_TAGS.items())
    [evaluation] = client.search_runs([store["exp"]], query)
    assert evaluation.info.run_id == first
    assert evaluation.data.metrics == {"fgsm_robustness/seconds": 9.0,
                                       "sensitivity_seeds/mean_mnist_mlp": 0.5}
    assert evaluation.info.status == "FINISHED" and evaluation.data.tags["git_commit"]
    assert evaluation.data.tags["profile"] == "smoke"
    assert {client.get_run(r).data.tags["evaluation_run"] for r in ids.values()} == {first}
    assert not any(k.startswith("sensitivity_seeds/")
                   for r in ids.values() for k in client.get_run(r).data.metrics)
    second = evaluate(store, tmp_path, records, id_files)  # the next workflow run's
    [evaluation] = client.search_runs([store["exp"]], query)  # still one evaluation run
    assert evaluation.info.run_id == second != first
    assert client.get_run(first).data.tags["superseded_by"] == second


def test_a_copied_project_stops_until_its_store_is_relocated(tmp_path, monkeypatch):
    """The SQLite store keeps absolute artifact locations: in a copy of the project, the dry
    run's check stops in one line; `relocate-store` points it at the copy, whose runs then
    write their artifacts into the copy."""
    import shutil

    from inputgrad.infra.errors import ConfigError
    from inputgrad.infra.tracking import check_portable, relocate_store

    first = tmp_path / "project"
    first.mkdir()
    monkeypatch.chdir(first)
    tracker = Tracker(None)
    exp = tracker.ensure_experiment("inputgrad", paths.ARTIFACTS)
    run = tracker.create_run(exp, "toy-seed0")
    tracker.finish(run)
    check_portable(None)  # in its own folder: fine
    copy = tmp_path / "copy"
    shutil.copytree(first, copy)
    monkeypatch.chdir(copy)
    with pytest.raises(ConfigError, match="outside this project.*relocate-store"):
        check_portable(None)
    assert relocate_store() >= 2  # the experiment and its run
    check_portable(None)
    note = copy / "note.txt"
    note.write_text("x")
    moved = Tracker(None)
    moved.log_artifact(run, note, "tables")
    assert (copy / paths.ARTIFACTS / run / "artifacts/tables/note.txt").exists()
    assert not (first / paths.ARTIFACTS / run / "artifacts/tables").exists()


def stage_models(tmp_path: Path, seed: int = 0) -> tuple[dict, dict]:
    """A linear regression (skops) and a Keras regressor (.keras) fitted on seeded random
    data, with the split they were fitted on: what any_model_regression writes."""
    import keras
    import numpy as np
    import skops.io as sio
    from sklearn.linear_model import LinearRegression

    from inputgrad.infra.io import save_npz

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(40, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=40)
    split = {"x_train": x[:30], "x_test": x[30:], "y_train": y[:30], "y_test": y[30:]}
    outputs = {"split": str(tmp_path / "split.npz"), "lin": str(tmp_path / "lin.skops"),
               "net": str(tmp_path / "net.keras")}
    save_npz(outputs["split"], split)
    sio.dump(LinearRegression().fit(split["x_train"], split["y_train"]), outputs["lin"])
    keras.utils.set_random_seed(seed)
    net = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    net.save(outputs["net"])
    metrics = {f"seed{seed}_lin_test_r2": 0.9, f"seed{seed}_net_test_r2": 0.1, "other": 1.0}
    return outputs, metrics


def stage_models_track(store, seed: int = 0) -> dict:
    return {"artifacts": "any_model", "configs": [], "models": [], "stage_models": [
                {"output": out, "flavor": flavor, "name": f"toy-{out}", "split": "split",
                 "dataset": "toy",
                 "source": "toy data", "params": {"alpha": 0.5, "seed": seed},
                 "metrics": f"seed{seed}_{out}_",
                 "tags": {"model": f"toy-{out}", "seed": str(seed)}}
                for out, flavor in (("lin", "sklearn"), ("net", "keras"))]}


def test_a_stage_logs_its_models_with_flavour_params_metrics_and_datasets(
        store, tmp_path, monkeypatch):
    import mlflow
    import numpy as np

    outputs, metrics = stage_models(tmp_path)
    rec = write(tmp_path / "reg.json", "reg", {}, outputs, {}, metrics)
    for _ in range(2):  # a rerun replaces the models, it does not add a second copy
        evaluate(store, tmp_path, {rec: stage_models_track(store)})
    client = store["client"]
    found = client.search_logged_models([store["exp"]])
    assert sorted(m.name for m in found) == ["toy-lin", "toy-net"]
    split = dict(np.load(outputs["split"]))
    for logged in found:
        assert logged.params == {"alpha": "0.5", "seed": "0"}
        assert logged.tags["seed"] == "0"
        [metric] = logged.metrics  # its own only, on its test split
        assert (metric.key, metric.value) == (f"reg/seed0_{logged.name[4:]}_test_r2",
                                              {"toy-lin": 0.9, "toy-net": 0.1}[logged.name])
        assert metric.dataset_name == "toy-test"
        run = client.get_run(logged.source_run_id)
        assert run.data.tags["kind"] == "evaluation" and run.info.status == "FINISHED"
        with using_uri(store["uri"]):
            pyfunc = mlflow.pyfunc.load_model(logged.model_uri)
            flavors = mlflow.models.get_model_info(logged.model_uri).flavors
        assert {"toy-lin": "sklearn", "toy-net": "keras"}[logged.name] in flavors
        x = split["x_test"].astype(np.float32 if logged.name == "toy-net" else np.float64)
        got = np.asarray(pyfunc.predict(x)).reshape(-1)
        if logged.name == "toy-lin":
            import skops.io as sio

            want = sio.load(outputs["lin"], trusted=sio.get_untrusted_types(
                file=outputs["lin"])).predict(x)
        else:
            import keras

            want = keras.models.load_model(outputs["net"]).predict(x, verbose=0).reshape(-1)
        assert np.max(np.abs(got - want)) <= 1e-6
    # the datasets are the prepared arrays: their digest changes with the arrays
    run = client.get_run(found[0].source_run_id)
    digests = {d.dataset.name: d.dataset.digest for d in run.inputs.dataset_inputs}
    other, _ = stage_models(tmp_path / "other", seed=1)
    assert digests["toy-train"] == mlflow.data.from_numpy(
        split["x_train"], targets=split["y_train"]).digest
    moved = dict(np.load(other["split"]))
    assert digests["toy-train"] != mlflow.data.from_numpy(
        moved["x_train"], targets=moved["y_train"]).digest


def test_an_older_stores_runs_are_superseded_with_a_tag(store, tmp_path):
    """A store written before tracking left the DAG: a model run its training job made itself
    (tags model and seed) and the evaluation run mlflow_experiment made. The runs of the new
    scheme supersede both: each old run says by which, and is deleted (restorable until
    `mlflow gc`), never removed without that tag."""
    client = store["client"]
    old_model = client.create_run(store["exp"], run_name="toy-seed0",
                                  tags={"model": "toy", "seed": "0"}).info.run_id
    old_evaluation = client.create_run(store["exp"], run_name="evaluation",
                                       tags={"kind": "evaluation"}).info.run_id
    for old in (old_model, old_evaluation):
        client.set_terminated(old)
    new = train(store, tmp_path / "models" / "toy" / "seed0")
    evaluation = evaluate(store, tmp_path, {}, [str(tmp_path / "models/toy/seed0/run_seed0.txt")])
    for old, by in ((old_model, new), (old_evaluation, evaluation)):
        run = client.get_run(old)
        assert run.info.lifecycle_stage == "deleted" and run.data.tags["superseded_by"] == by
    assert sorted(r.info.run_id for r in client.search_runs([store["exp"]])) == sorted(
        [new, evaluation])
    assert json.loads(Path(client.download_artifacts(evaluation, "runs.json", str(tmp_path)))
                      .read_text()) == {"toy-seed0": new}
