"""Rule train_imdb_bow_mlp: train the paper-5.2 bag-of-words MLP (the shared training path)."""
from inputgrad.infra.stage import main
from inputgrad.sections.imdb_bow.stages import train_imdb_bow_mlp as run

main(snakemake, run)  # noqa: F821
