"""MLflow through `infra.tracking`, on a real SQLite store in tmp_path: the training declaration
(a run created after the outputs exist) and a later stage (artifacts into existing runs)."""

import json
import math
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from inputgrad.infra import paths
from inputgrad.infra.tracking import (
    Tracker,
    flatten,
    mlflow_experiment,
    read_id,
    record,
    resolve_uri,
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
            "history": str(folder / "history.csv"), "run_id": str(folder / "run_id.txt")}


def training_track(store, name="toy-seed0"):
    """What common.smk's track_training() declares for a training rule."""
    tags = {"model": "toy", "seed": name.rsplit("seed", 1)[-1]}
    return {"tracking": store["tracking"], "run": {"name": name, "tags": tags},
            "artifacts": {"model": "model", "metrics": "training", "history": "training"}}


def train(store, folder: Path, name="toy-seed0") -> str:
    outputs = training_outputs(folder)
    params = {"cfg": {"train": {"epochs": 2, "hidden": [4, 4]}}, "seed": 0}
    record(training_track(store, name), {"experiment": store["id_file"]}, outputs, params,
           {"test_accuracy": 0.75, "train_seconds": 1.5})
    return read_id(outputs["run_id"])


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


def test_record_training_creates_a_finished_run_after_the_outputs(store, tmp_path):
    before = time.time() * 1000
    run_id = train(store, tmp_path / "models" / "toy" / "seed0")
    client = store["client"]
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "toy-seed0"
    assert run.info.start_time >= before  # the run begins after the stage wrote its outputs
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


def test_record_training_marks_the_run_failed_when_logging_breaks(store, tmp_path):
    outputs = training_outputs(tmp_path / "seed0")
    Path(outputs["model"]).unlink()  # an artifact that cannot be logged
    with pytest.raises(OSError):
        record(training_track(store), {"experiment": store["id_file"]}, outputs,
               {"cfg": {}, "seed": 0}, {})
    [run] = store["client"].search_runs([store["exp"]])
    assert run.info.status == "FAILED"
    assert not Path(outputs["run_id"]).exists()  # no handle for later rules


def test_record_later_stage_logs_into_every_declared_run(store, tmp_path):
    ids = [train(store, tmp_path / f"seed{seed}", f"toy-seed{seed}") for seed in (0, 1)]
    id_files = [str(tmp_path / f"seed{seed}" / "run_id.txt") for seed in (0, 1)]
    tables = tmp_path / "tables"
    tables.mkdir()
    for name in ("t.csv", "t.md", "extra.json"):
        (tables / name).write_text("a\n1\n")
    track = {"tracking": store["tracking"], "artifacts": "tables", "runs": "run_ids",
             "configs": ["cfg"], "rule": "x"}  # infra.stage adds the rule's name
    outputs = {"csv": str(tables / "t.csv"), "md": str(tables / "t.md"),
               "more": [str(tables / "extra.json")]}  # list-valued entries too
    cfg = {"top_k": 5, "nested": {"a": [1, 2]}}
    record(track, {"run_ids": id_files, "data": "unused.npz"}, outputs, {"cfg": cfg, "seed": 0},
           {"ok": 0.5, "undefined": math.nan, "overflow": math.inf})
    client = store["client"]
    for run_id in ids:
        run = client.get_run(run_id)
        assert run.info.status == "FINISHED"
        assert run.data.metrics["ok"] == 0.5
        assert not {"undefined", "overflow"} & set(run.data.metrics)  # non-finite: skipped
        assert {a.path for a in client.list_artifacts(run_id, "tables")} == {
            "tables/t.csv", "tables/t.md", "tables/extra.json"}
        local = client.download_artifacts(run_id, "config/x.json", str(tmp_path / run_id))
        assert json.loads(Path(local).read_text()) == cfg


def test_record_later_stage_single_id_file_default_key(store, tmp_path):
    run_id = train(store, tmp_path / "seed0")
    figure = tmp_path / "figure.png"
    figure.write_bytes(b"png")
    track = {"tracking": store["tracking"], "artifacts": "figures", "runs": "run_id",
             "configs": []}
    record(track, {"run_id": str(tmp_path / "seed0" / "run_id.txt")}, {"png": str(figure)},
           {}, {})
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
