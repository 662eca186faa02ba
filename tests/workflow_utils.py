"""Run the real Snakemake CLI of this checkout on a scratch project directory."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
SMOKE_CONFIG = ROOT / ".test" / "config"
# the paper's models (config `models`), and every model a full run trains: those plus the ones
# sections train themselves (SECTION_MODELS in decoy_mnist.smk and planted_tokens.smk)
PAPER_MODELS = ("mnist_mlp", "mnist_logreg", "imdb_cnn", "imdb_bow_mlp")
TRAINED_MODELS = PAPER_MODELS + (
    "decoy_mnist_mlp", "decoy_mnist_repaired", "imdb_cnn_planted", "imdb_bow_mlp_planted")


def snakemake(workdir, *args, mirror=None, check=True, timeout=1500, snakefile=None):
    """Run the workflow with `workdir` as the project directory. The Snakefile reads
    config/config.yaml from the working directory, so the project gets a copy of the smoke
    config (.test/config/) unless it has a config/ already; Hydra configs stay in the
    repository (DAG key `hydra_dir`). `snakefile`: another copy of the workflow."""
    workdir = Path(workdir)
    if not (workdir / "config").exists():
        shutil.copytree(SMOKE_CONFIG, workdir / "config")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg"}
    env.pop("INPUTGRAD_DATA_MIRROR", None)
    if mirror is not None:
        env["INPUTGRAD_DATA_MIRROR"] = str(mirror)
    cmd = [SNAKEMAKE, "-s", str(snakefile or ROOT / "Snakefile"), "-d", str(workdir), *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    out = proc.stdout + proc.stderr
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{out[-6000:]}")
    return proc.returncode, out


def copy_project(src, dst):
    """A copy of a finished project, its MLflow store pointed at the copy (as a user does
    with `python -m inputgrad relocate-store`; the dry run refuses a store of another folder)."""
    from inputgrad.infra.tracking import relocate_store

    shutil.copytree(src, dst)
    if (Path(dst) / "results" / "mlflow" / "mlflow.db").exists():
        relocate_store(dst)
    return Path(dst)


def copy_repo(dst):
    """A copy of the workflow (Snakefile, rules, config), for tests that edit repository
    files such as config/resources.yaml or the claims."""
    dst = Path(dst)
    dst.mkdir(parents=True)
    for part in ("Snakefile", "workflow", "config", "environment.yml"):
        copy = shutil.copytree if (ROOT / part).is_dir() else shutil.copy
        copy(ROOT / part, dst / part)
    return dst
