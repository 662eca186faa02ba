"""Rule train_imdb_bow_mlp_planted: the bag-of-words MLP on the planted reviews."""
from inputgrad.infra.stage import main
from inputgrad.sections.planted_tokens.stages import train_imdb_bow_mlp_planted as run

main(snakemake, run)  # noqa: F821
