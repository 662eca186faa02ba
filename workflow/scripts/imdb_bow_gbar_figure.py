"""Rule imdb_bow_gbar_figure: the ḡ figure (top words; x·ḡ vs the logit), from saved files."""
from inputgrad.infra.stage import main
from inputgrad.sections.imdb_bow.stages import imdb_bow_gbar_figure as run

main(snakemake, run)  # noqa: F821
