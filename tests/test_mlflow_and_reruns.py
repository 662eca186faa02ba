"""After the smoke workflow: MLflow holds one complete run per model, and single-rule reruns
touch exactly what a change invalidates (Snakemake's own dry-run reasons)."""

import re
import shutil

import yaml
from mlflow.tracking import MlflowClient

from workflow_utils import ROOT, copy_project, snakemake

MODELS = ("mnist_mlp", "mnist_logreg", "imdb_cnn", "imdb_bow_mlp")


def client_for(work):
    return MlflowClient("sqlite:///" + str(work / "results/mlflow/mlflow.db"))


def test_one_complete_run_per_model_and_seed(smoke_run):
    work = smoke_run["work"]
    assert "database is locked" not in smoke_run["log"]
    client = client_for(work)
    exp = (work / "results/mlflow/experiment_id.txt").read_text().strip()
    runs = client.search_runs([exp], max_results=1000)
    seeds = yaml.safe_load((work / "config/config.yaml").read_text())["seeds"]
    for model in MODELS:
        for seed in seeds:
            mine = [r for r in runs if r.data.tags.get("model") == model
                    and r.data.tags.get("seed") == str(seed)]
            assert len(mine) == 1, f"{model} seed {seed}: {len(mine)} runs"
            run = mine[0]
            assert run.info.status == "FINISHED"
            id_file = work / f"results/mlflow/runs/{model}/seed{seed}.txt"
            assert run.info.run_id == id_file.read_text().strip()
            # params: the resolved config flattened (train.epochs, model.name, ...) and the seed
            epochs = int(run.data.params["train.epochs"])
            assert run.data.params["model.name"] == model
            assert run.data.params["seed"] == str(seed)
            assert run.data.tags["provenance.tensorflow"] and run.data.tags["provenance.cpu_model"]
            history = client.get_metric_history(run.info.run_id, "loss")
            assert len(history) == epochs
            assert "test_accuracy" in run.data.metrics
            top = {a.path for a in client.list_artifacts(run.info.run_id)}
            assert {"model", "training"} <= top, top
            # later stages (gradients, tables, figures) logged into the same run
            assert top - {"model", "training", "config.json"}, f"{model}: only {top}"
            # that model's numbers only (issue 21): no metric names another model
            foreign = [k for k in run.data.metrics for other in MODELS
                       if other != model and other in k]
            assert not foreign, f"{model} seed {seed}: {foreign}"
            assert {d.dataset.name for d in run.inputs.dataset_inputs} >= {
                n for n in ("mnist-train", "mnist-test", "aclimdb-train", "aclimdb-test")
                if n.startswith("mnist" if model.startswith("mnist") else "aclimdb")}


def hydra_config(work):
    """`--config hydra_dir=<the project's own copy>`: Hydra configs are read from the
    repository, so a test that edits them works on a copy inside its scratch project."""
    return ["--config", f"hydra_dir={work / 'hydra'}"]


# the only jobs that open MLflow (tracking.smk): they re-log whatever changed
TRACKING_ONLY = {"mlflow_experiment", "track_model", "track_evaluation"}


def dry_run(work, tracking=False):
    """(the rules a dry run would run, sorted, without the tracking jobs unless `tracking`,
    the dry run's output)."""
    _, out = snakemake(work, "-n", *hydra_config(work), "--cores", "1")
    rules = set(re.findall(r"^rule (\w+):", out, re.M)) - {"all"}
    return sorted(rules if tracking else rules - TRACKING_ONLY), out


def edited_copy(smoke_run, tmp_path, relpath, edit):
    """A copy of the finished smoke project (results, metadata, config) plus a copy of the
    repository's config/hydra as hydra/, with one edit of the Hydra file `relpath`."""
    work = tmp_path / "work"
    copy_project(smoke_run["work"], work)
    shutil.copytree(ROOT / "config" / "hydra", work / "hydra")
    path = work / "hydra" / relpath
    doc = yaml.safe_load(path.read_text())
    edit(doc)
    text = yaml.safe_dump(doc, sort_keys=False)
    path.write_text("# @package _global_\n" + text if relpath.startswith("experiment/") else text)
    return work


def test_unchanged_copy_reruns_nothing(smoke_run, tmp_path):
    work = edited_copy(smoke_run, tmp_path, "data/default.yaml", lambda d: None)
    rules, out = dry_run(work, tracking=True)
    assert rules == [], out[-3000:]


def test_figure_style_change_reruns_only_that_figure(smoke_run, tmp_path):
    work = edited_copy(smoke_run, tmp_path, "experiment/mnist_mlp.yaml",
                       lambda d: d["figure"].update(cmap="PuOr_r"))
    rules, out = dry_run(work, tracking=True)
    # the figure rule reruns for its params; the report only because it embeds the new PNG
    # (both MNIST figures share the mnist_mlp figure style); the tracking jobs re-log them
    assert rules == ["mnist_jacobian_figure", "mnist_jacobian_variants_figure", "paper_report",
                     "track_evaluation", "track_model"], out[-3000:]
    assert sorted(re.findall(r"wildcards: model=(\w+)", out)) == ["mnist_logreg", "mnist_mlp"]
    figure_job = out[out.index("rule mnist_jacobian_figure:"):]
    assert "Params have changed since last execution" in figure_job.split("rule ", 2)[1]
    report_job = out[out.index("rule paper_report:"):].split("rule ", 2)[1]
    assert "Params have changed" not in report_job


def test_model_hyperparameter_change_reruns_model_and_dependents_only(smoke_run, tmp_path):
    work = edited_copy(smoke_run, tmp_path, "model/imdb_bow_mlp.yaml",
                       lambda d: d.update(dropout=d["dropout"] / 2))
    rules, out = dry_run(work)
    assert "train_imdb_bow_mlp" in rules, out[-3000:]
    assert not [r for r in rules if "mnist" in r or "imdb_cnn" in r or r.startswith("prepare")]
    assert not [r for r in rules if r in ("train_imdb_cnn", "train_mnist", "download")]


def test_snakemake_report_registers_tables_and_figures(smoke_run, tmp_path):
    out = tmp_path / "snakemake_report.html"
    snakemake(smoke_run["work"], "--report", str(out))
    page = out.read_text()
    for name in ("table1_expressions", "table1_expressions_figure", "table2_words",
                 "bow_linear_agreement", "imdb_bow_gbar_figure", "mnist_jacobian_table",
                 "mnist_jacobian_figure", "attribution_deletion_figure", "paper_report.html"):
        assert name in page, name


def edited_config(smoke_run, tmp_path, edit):
    """A copy of the finished smoke project with one edit of its config/config.yaml (and the
    Hydra configs beside it, as dry_run reads them)."""
    work = copy_project(smoke_run["work"], tmp_path / "work")
    shutil.copytree(ROOT / "config" / "hydra", work / "hydra")
    path = work / "config" / "config.yaml"
    doc = yaml.safe_load(path.read_text())
    edit(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return work


def test_registering_models_reruns_only_the_models_tracking(smoke_run, tmp_path):
    """No computation depends on MLflow (issue 21): registering the models re-logs them."""
    work = edited_config(smoke_run, tmp_path,
                         lambda d: d["tracking"].update(register_models=True))
    rules, out = dry_run(work, tracking=True)
    assert rules == ["track_evaluation", "track_model"], out[-3000:]


def test_a_new_store_reruns_only_tracking(smoke_run, tmp_path):
    """Removing results/mlflow (a fresh store) re-logs every run from the records, which live
    outside it; no training, attribution or table reruns."""
    work = copy_project(smoke_run["work"], tmp_path / "work")
    shutil.copytree(ROOT / "config" / "hydra", work / "hydra")
    shutil.rmtree(work / "results" / "mlflow")
    rules, out = dry_run(work, tracking=True)
    assert set(rules) == TRACKING_ONLY, out[-3000:]
