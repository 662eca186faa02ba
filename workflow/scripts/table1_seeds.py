"""Rule table1_seeds: Table 1 across seeds, the paper's phrases against a random word."""
from inputgrad.infra.stage import main
from inputgrad.sections.imdb_cnn.stages import table1_seeds as run

main(snakemake, run)  # noqa: F821
