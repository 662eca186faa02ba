"""Rule table2_seeds: Table 2, the linear rule and the ḡ ranking of the bag-of-words MLP across
seeds."""
from inputgrad.infra.stage import main
from inputgrad.sections.imdb_bow.stages import table2_seeds as run

main(snakemake, run)  # noqa: F821
