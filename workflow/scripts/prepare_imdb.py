"""Thin adapter: IMDB reviews from the archive to Keras-style word ids."""
from pathlib import Path

from inputgrad import logs
from inputgrad.prepare import prepare_imdb

logs.setup(snakemake.log[0])
prepare_imdb(
    snakemake.input.archive,
    snakemake.input.word_index,
    Path(snakemake.output.stats).parent,
    snakemake.params.imdb,
)
