"""Rule any_model_seeds: the any_model tables across the seeds."""
from inputgrad.infra.stage import main
from inputgrad.sections.any_model.stages import any_model_seeds as run

main(snakemake, run)  # noqa: F821
