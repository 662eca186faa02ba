"""Rule prepare_imdb: IMDB reviews from the archive to Keras-style word ids."""
from inputgrad.data.stages import prepare_imdb as run
from inputgrad.infra.stage import main

main(snakemake, run)  # noqa: F821
