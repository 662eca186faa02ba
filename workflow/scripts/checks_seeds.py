"""Rule checks_seeds: deletion AOC, IG completeness gap and sanity Spearman across seeds."""
from inputgrad.infra.stage import main
from inputgrad.sections.checks.stages import checks_seeds as run

main(snakemake, run)  # noqa: F821
