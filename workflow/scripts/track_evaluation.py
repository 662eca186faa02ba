"""Rule track_evaluation: log records to MLflow (infra.tracking.track_evaluation)."""
from inputgrad.infra.stage import main
from inputgrad.infra.tracking import track_evaluation as run

main(snakemake, run)  # noqa: F821
