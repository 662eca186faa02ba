"""Rule train_imdb_bow_mlp: train the paper-5.2 bag-of-words MLP (the shared training path)."""
from inputgrad.data.examples import example_rows
from inputgrad.infra.stage import main
from inputgrad.sections.imdb_bow.stages import train_imdb_bow_mlp as run

main(snakemake, run, examples=example_rows)  # noqa: F821
