"""Rule mlflow_experiment: create (or find) the MLflow experiment once."""
from inputgrad.infra.stage import main
from inputgrad.infra.tracking import mlflow_experiment as run

main(snakemake, run)  # noqa: F821
