"""The smoke workflow against a real MLflow tracking server (PostgreSQL backend store, artifacts
served by the server), at --cores 4: every run arrives complete, no local lock or store is
used, and each trained model comes back through `mlflow.pyfunc` with the same predictions.

The server and PostgreSQL come from `servers.py` (skipped where PostgreSQL is not installed,
failed instead under INPUTGRAD_REQUIRE_SERVICES=1). One workflow run serves every test here.
"""

import json
import time

import numpy as np
import pytest
import yaml
from mlflow.tracking import MlflowClient

from inputgrad.infra.tracking import using_uri
from workflow_utils import PAPER_MODELS, SMOKE_CONFIG, TRAINED_MODELS, snakemake

EXPERIMENT = "inputgrad-server-test"  # its own experiment: other tests may share the server


@pytest.fixture(scope="module")
def server_run(mlflow_server, tmp_path_factory):
    """The whole smoke workflow, once, with `tracking.uri` the server's and model
    registration on (the only changes to the smoke config)."""
    from inputgrad.data.smoke import make_mirror

    base = tmp_path_factory.mktemp("server_smoke")
    mirror = make_mirror(base / "mirror")
    work = base / "work"
    (work / "config").mkdir(parents=True)
    cfg = yaml.safe_load((SMOKE_CONFIG / "config.yaml").read_text())
    cfg["tracking"].update(uri=mlflow_server["uri"], experiment=EXPERIMENT,
                           register_models=True)
    (work / "config" / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    start = time.monotonic()
    _, log = snakemake(work, "--cores", "4", mirror=mirror)
    seconds = time.monotonic() - start
    print(f"\nsmoke workflow against the tracking server: {seconds:.0f} s")
    client = MlflowClient(mlflow_server["uri"])
    experiment = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    print(f"runs found on the server: {len(runs)}")
    return {"work": work, "log": log, "uri": mlflow_server["uri"], "client": client,
            "experiment": experiment, "runs": runs, "seeds": cfg["seeds"],
            "seconds": seconds}


def run_of(server_run, model, seed):
    mine = [r for r in server_run["runs"] if r.data.tags.get("model") == model
            and r.data.tags.get("seed") == str(seed)]
    assert len(mine) == 1, f"{model} seed {seed}: {len(mine)} runs on the server"
    return mine[0]


def test_no_local_store_or_lock_is_used(server_run):
    mlflow_dir = server_run["work"] / "results" / "mlflow"
    assert not list(mlflow_dir.glob("*.db")) and not list(mlflow_dir.glob("*.lock"))
    assert not (mlflow_dir / "artifacts").exists()  # the server keeps the artifacts
    experiment = server_run["experiment"]
    assert experiment.artifact_location.startswith("mlflow-artifacts:")
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    exp_id = (mlflow_dir / "experiment_id.txt").read_text().strip()
    assert exp_id == experiment.experiment_id


def test_every_run_is_on_the_server_complete(server_run):
    client, seeds = server_run["client"], server_run["seeds"]
    models = [r for r in server_run["runs"] if r.data.tags.get("kind") != "evaluation"]
    assert len(models) == len(TRAINED_MODELS) * len(seeds)  # no run lost, none extra
    assert len(server_run["runs"]) == len(models) + 1  # and the one evaluation run
    for model in TRAINED_MODELS:
        for seed in seeds:
            run = run_of(server_run, model, seed)
            run_id = run.info.run_id
            assert run.info.status == "FINISHED"
            id_file = server_run["work"] / f"results/mlflow/runs/{model}/seed{seed}.txt"
            assert run_id == id_file.read_text().strip()
            assert run.data.tags["model"] == model
            if model in PAPER_MODELS:  # a section's model names its architecture instead
                assert run.data.params["model.name"] == model
            assert run.data.params["seed"] == str(seed)
            epochs = int(run.data.params["train.epochs"])
            assert len(client.get_metric_history(run_id, "loss")) == epochs
            assert "test_accuracy" in run.data.metrics
            top = {a.path for a in client.list_artifacts(run_id)}
            assert {"model", "training", "config.json"} <= top, top
            assert top - {"model", "training", "config.json"}, f"{model}: only {top}"
            assert {"training/metrics.json", "training/history.csv"} <= {
                a.path for a in client.list_artifacts(run_id, "training")}
            [output] = run.outputs.model_outputs  # the MLflow Model logged by the run
            logged = client.get_logged_model(output.model_id)
            assert logged.name == model and logged.source_run_id == run_id


def test_models_are_registered_one_version_per_run(server_run):
    client, seeds = server_run["client"], server_run["seeds"]
    for model in TRAINED_MODELS:
        name = f"inputgrad-{model}"
        ids = {run_of(server_run, model, seed).info.run_id for seed in seeds}
        versions = [v for v in client.search_model_versions(f"name = '{name}'")
                    if v.run_id in ids]
        assert sorted(v.run_id for v in versions) == sorted(ids)
        for seed in seeds:
            version = client.get_model_version_by_alias(name, f"seed{seed}")
            assert version.run_id == run_of(server_run, model, seed).info.run_id
            section = run_of(server_run, model, seed).data.tags["section"]  # its rule file
            assert section and version.tags == {"model": model, "seed": str(seed),
                                                 "section": section, "profile": "smoke"}


def test_logged_models_predict_as_the_keras_files(server_run, tmp_path):
    import keras
    import mlflow
    from mlflow.models import Model

    worst = 0.0
    for model in TRAINED_MODELS:
        run_id = run_of(server_run, model, server_run["seeds"][0]).info.run_id
        with using_uri(server_run["uri"]):  # runs:/ and models:/ resolve through the server
            local = mlflow.artifacts.download_artifacts(f"runs:/{run_id}/{model}",
                                                        dst_path=str(tmp_path / model))
            pyfunc = mlflow.pyfunc.load_model(f"runs:/{run_id}/{model}")
        meta = Model.load(local)
        example = meta.load_input_example(local)
        saved = keras.models.load_model(
            server_run["work"] / f"results/models/{model}/seed{server_run['seeds'][0]}"
            / "model.keras", compile=False)
        assert meta.signature.inputs.inputs[0].shape == (-1, *saved.input_shape[1:])
        diff = float(np.max(np.abs(np.asarray(pyfunc.predict(example))
                                   - saved.predict(example, verbose=0))))
        print(f"{model}: pyfunc vs keras max abs difference {diff}")
        worst = max(worst, diff)
    assert worst <= 1e-6


def test_pyfunc_reproduces_the_test_accuracy(server_run):
    """mnist_mlp, first seed: the registered model (through the registry alias) on the prepared
    test digits gives the accuracy the training stage wrote to metrics.json."""
    import mlflow

    seed = server_run["seeds"][0]
    work = server_run["work"]
    with using_uri(server_run["uri"]):
        pyfunc = mlflow.pyfunc.load_model(f"models:/inputgrad-mnist_mlp@seed{seed}")
    with np.load(work / "results/data/mnist.npz") as data:
        x = data["x_test"].reshape(len(data["x_test"]), -1).astype(np.float32)
        y = data["y_test"]
    accuracy = float(np.mean(np.argmax(pyfunc.predict(x), axis=1) == y))
    saved = json.loads((work / f"results/models/mnist_mlp/seed{seed}/metrics.json")
                       .read_text())["test_accuracy"]
    print(f"mnist_mlp seed {seed}: pyfunc accuracy {accuracy:.6f}, metrics.json {saved:.6f}")
    assert abs(accuracy - saved) <= 1e-6
