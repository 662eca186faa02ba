"""Rule imdb_bow_gbar: mean input gradient ḡ of the bag-of-words MLP (test and train reviews)."""
from inputgrad.infra.stage import main
from inputgrad.sections.imdb_bow.stages import imdb_bow_gbar as run

main(snakemake, run)  # noqa: F821
