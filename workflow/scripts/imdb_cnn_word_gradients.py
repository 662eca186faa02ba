"""Rule imdb_cnn_word_gradients: per-word embedding-gradient norms of every IMDB test review."""
from inputgrad.infra.stage import main
from inputgrad.sections.imdb_cnn.stages import imdb_cnn_word_gradients as run

main(snakemake, run)  # noqa: F821
