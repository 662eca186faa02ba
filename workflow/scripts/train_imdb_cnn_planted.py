"""Rule train_imdb_cnn_planted: the paper's CNN on the planted reviews."""
from inputgrad.infra.stage import main
from inputgrad.sections.planted_tokens.stages import train_imdb_cnn_planted as run

main(snakemake, run)  # noqa: F821
