"""Rule table1_expressions_figure: Table 1's reviews with every word shaded by its gradient norm."""
from inputgrad.infra.stage import main
from inputgrad.sections.imdb_cnn.stages import table1_expressions_figure as run

main(snakemake, run)  # noqa: F821
