"""Rule planted_tokens_seeds: the planted-token scores across seeds."""
from inputgrad.infra.stage import main
from inputgrad.sections.planted_tokens.stages import planted_tokens_seeds as run

main(snakemake, run)  # noqa: F821
