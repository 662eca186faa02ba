"""Rule train_imdb_cnn: train the paper-5.1 IMDB CNN (Keras imdb_cnn example) for one seed."""
from inputgrad.infra.stage import main
from inputgrad.sections.imdb_cnn.stages import train_imdb_cnn as run

main(snakemake, run)  # noqa: F821
