"""Rule anomaly_seeds: anomaly detection and grouped deletion across seeds."""
from inputgrad.infra.stage import main
from inputgrad.sections.anomaly.stages import anomaly_seeds as run

main(snakemake, run)  # noqa: F821
