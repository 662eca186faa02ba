"""Rule sensitivity_seeds: the sensitivity numbers across seeds."""
from inputgrad.infra.stage import main
from inputgrad.sections.sensitivity.stages import sensitivity_seeds as run

main(snakemake, run)  # noqa: F821
