"""Rule table1_expressions: Table 1, the expression at each review's largest word-gradient norm."""
from inputgrad.infra.stage import main
from inputgrad.sections.imdb_cnn.stages import table1_expressions as run

main(snakemake, run)  # noqa: F821
