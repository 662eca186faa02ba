"""Rule table2_words: Table 2, the words with the largest positive and negative ḡ."""
from inputgrad.infra.stage import main
from inputgrad.sections.imdb_bow.stages import table2_words as run

main(snakemake, run)  # noqa: F821
