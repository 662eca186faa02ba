"""Nothing half-done: bad hyperparameters, seeds and tracking locations stop `snakemake -n`;
tracking settings are provenance; real signals to a real Snakemake leave no RUNNING run, and
a rerun gives the same bytes as an uninterrupted run."""

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from mlflow.entities import ViewType
from mlflow.tracking import MlflowClient

from workflow_utils import ROOT, SNAKEMAKE, TRAINED_MODELS, copy_project, snakemake

SEEDS = yaml.safe_load((ROOT / ".test" / "config" / "config.yaml").read_text())["seeds"]


def hydra_copy(tmp_path, relpath, edit):
    hydra = tmp_path / "hydra"
    shutil.copytree(ROOT / "config" / "hydra", hydra)
    path = hydra / relpath
    doc = yaml.safe_load(path.read_text())
    edit(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return hydra


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.update(dropuot=0.2),
     "model/mnist_mlp.yaml: unknown key 'dropuot' (experiment mnist_mlp, key model.dropuot)"),
    (lambda d: d.update(dropout="high"),
     "model/mnist_mlp.yaml: 'high' is not valid: 'high' is not of type 'number' "
     "(experiment mnist_mlp, key model.dropout)"),
    (lambda d: d.update(name="mnist_mlpp"),
     "model/mnist_mlp.yaml: 'mnist_mlpp' is not valid: 'mnist_mlp' was expected"),
])
def test_bad_hyperparameter_stops_the_dry_run(tmp_path, edit, message):
    hydra = hydra_copy(tmp_path, "model/mnist_mlp.yaml", edit)
    code, out = snakemake(tmp_path / "work", "-n", "--config", f"hydra_dir={hydra}",
                          check=False)
    assert code != 0 and message in out, out[-3000:]
    assert not (tmp_path / "work" / "results").exists()


def test_bad_learning_rate_names_the_train_file(tmp_path):
    hydra = hydra_copy(tmp_path, "train/mnist_mlp.yaml", lambda d: d.update(learning_rate="fast"))
    code, out = snakemake(tmp_path / "work", "-n", "--config", f"hydra_dir={hydra}",
                          check=False)
    assert code != 0 and "train/mnist_mlp.yaml: 'fast' is not valid" in out, out[-3000:]


def test_seeds_from_the_command_line(tmp_path):
    code, out = snakemake(tmp_path / "a", "-n", "--config", "seeds=[0,1]", check=False)
    assert code == 0, out[-3000:]
    assert "seed1" in out and "models/imdb_cnn/seed1/model.keras" in out
    code, out = snakemake(tmp_path / "b", "-n", "--config", "seeds=[0,0]", check=False)
    assert code != 0 and "config key 'seeds': [0, 0] has non-unique elements" in out


def test_unusable_tracking_location_stops_the_dry_run(tmp_path):
    work = tmp_path / "work"
    snakemake(work, "-n")  # gives the project its config/
    cfg = yaml.safe_load((work / "config" / "config.yaml").read_text())
    cfg["tracking"]["uri"] = "sqlite:////etc/hostname/sub/mlflow.db"
    (work / "config" / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    code, out = snakemake(work, "-n", check=False)
    assert code != 0, out[-3000:]
    assert ("config key 'tracking.uri': cannot create the MLflow store of "
            "sqlite:////etc/hostname/sub/mlflow.db: /etc/hostname is a file, not a folder") in out
    assert not (work / "results").exists()


def test_changing_the_experiment_reruns_only_tracking(smoke_run, tmp_path):
    """No computation depends on MLflow (issue 21): renaming the experiment re-logs the runs
    into the new one and retrains nothing."""
    work = tmp_path / "work"
    copy_project(smoke_run["work"], work)
    cfg = yaml.safe_load((work / "config" / "config.yaml").read_text())
    cfg["tracking"]["experiment"] = "moved"
    (work / "config" / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    _, out = snakemake(work, "-n", "--cores", "1")
    rules = set(re.findall(r"^rule (\w+):", out, re.M)) - {"all"}
    assert rules == {"mlflow_experiment", "track_model", "track_evaluation"}, out[-3000:]
    assert "Params have changed since last execution" in out


# ----------------------------------------------------------------- real signals


def start(work, mirror):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg",
           "INPUTGRAD_DATA_MIRROR": str(mirror)}
    log = open(work / "snakemake.out", "a")
    return subprocess.Popen([SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "-d", str(work),
                             "--cores", "2"], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True, preexec_fn=default_sigint)


def default_sigint():
    """SIGINT as at a terminal. A shell without job control starts background commands with
    SIGINT ignored, and children inherit that: the suite run with `&` would test nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for_training(work, proc, timeout=600):
    """Until a training job has logged its first progress line (then a run is under way)."""
    logs = work / "results" / "logs"
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        for path in logs.glob("train_*/*.log") if logs.exists() else []:
            if "epoch 1:" in path.read_text(errors="replace"):
                return path
        time.sleep(0.2)
    out = (work / "snakemake.out").read_text()
    raise AssertionError(f"no training job started: {out[-3000:]}")


def interrupt(work, mirror, sig):
    proc = start(work, mirror)
    wait_for_training(work, proc)
    os.killpg(proc.pid, sig)
    proc.wait(timeout=300)
    return proc.returncode


def runs(work):
    store = work / "results" / "mlflow" / "mlflow.db"
    if not store.exists():
        return []
    client = MlflowClient(f"sqlite:///{store}")
    exp = client.get_experiment_by_name("inputgrad")
    return client.search_runs([exp.experiment_id], run_view_type=ViewType.ALL,
                              max_results=1000) if exp else []


def no_temp_files(results: Path):
    return [p for p in results.rglob(".*") if p.is_file() and p.parent.name != ".snakemake"]


def same_bytes(a: Path, b: Path) -> list[str]:
    """Result files that differ, apart from models (save timestamps), logs, benchmarks, MLflow."""
    skip = ("logs", "benchmarks", "mlflow", "records")  # records hold the jobs' timings
    differ = []
    for path in sorted(a.rglob("*")):
        rel = path.relative_to(a)
        if not path.is_file() or rel.parts[0] in skip or path.suffix == ".keras":
            continue
        if path.read_bytes() != (b / rel).read_bytes():
            differ.append(str(rel))
    return differ


def test_signals_leave_no_running_run_and_a_plain_rerun_finishes(smoke_run, tmp_path):
    work = tmp_path / "work"
    snakemake(work, "-n")  # the project's config/ from .test
    for sig in (signal.SIGINT, signal.SIGTERM):
        code = interrupt(work, smoke_run["mirror"], sig)
        assert code != 0
        assert not [r for r in runs(work) if r.info.status == "RUNNING"], sig
        assert not no_temp_files(work / "results"), no_temp_files(work / "results")

    # SIGKILL: Snakemake cannot clean up; its lock stays and the README's flag removes it
    proc = start(work, smoke_run["mirror"])
    wait_for_training(work, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    code, out = snakemake(work, "--cores", "2", mirror=smoke_run["mirror"], check=False)
    if code != 0:
        assert "--unlock" in out or "cannot be locked" in out, out[-3000:]
        snakemake(work, "--unlock")
        snakemake(work, "--cores", "2", mirror=smoke_run["mirror"])  # plain rerun: just works

    active = [r for r in runs(work) if r.info.lifecycle_stage == "active"
              and r.data.tags.get("kind") != "evaluation"]  # the one cross-model run aside
    assert len([r for r in runs(work) if r.data.tags.get("kind") == "evaluation"
                and r.info.lifecycle_stage == "active"]) == 1
    per_model = {}
    for run in active:
        per_model.setdefault((run.data.tags["model"], run.data.tags["seed"]), []).append(run)
    assert sorted(per_model) == sorted((m, str(s)) for m in TRAINED_MODELS for s in SEEDS)
    assert all(len(v) == 1 and v[0].info.status == "FINISHED" for v in per_model.values())
    assert not [r for r in runs(work) if r.info.status == "RUNNING"]
    # the interrupted-and-rerun project holds the same bytes as the uninterrupted smoke run
    assert same_bytes(work / "results", smoke_run["work"] / "results") == []
