"""Thin adapter: create (or find) the MLflow experiment and record its id."""
from pathlib import Path

from inputgrad import logs
from inputgrad.io import write_text
from inputgrad.tracking import Tracker

log = logs.setup(snakemake.log[0])
results = Path(snakemake.output[0]).parent.parent
tracker = Tracker.for_results(results, snakemake.config["tracking"]["uri"])
exp_id = tracker.ensure_experiment(
    snakemake.config["tracking"]["experiment"], artifact_root=results / "mlflow" / "artifacts"
)
write_text(snakemake.output[0], exp_id + "\n")
log.info("MLflow experiment %s at %s", exp_id, tracker.uri)
