"""Rule track_model: log records to MLflow (infra.tracking.track_model)."""
from inputgrad.infra.stage import main
from inputgrad.infra.tracking import track_model as run

main(snakemake, run)  # noqa: F821
