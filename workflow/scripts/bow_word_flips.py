"""Rule bow_word_flips: fewest word flips that change the bag-of-words prediction."""
from inputgrad.infra.stage import main
from inputgrad.sections.sensitivity.stages import bow_word_flips as run

main(snakemake, run)  # noqa: F821
