"""Rule cnn_word_substitutions: HotFlip-style vs random word substitutions on the IMDB CNN."""
from inputgrad.infra.stage import main
from inputgrad.sections.sensitivity.stages import cnn_word_substitutions as run

main(snakemake, run)  # noqa: F821
