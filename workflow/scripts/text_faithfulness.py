"""Rule text_faithfulness: one seed's IMDB CNN, every text method, AOPC, agreement, sanity."""
from inputgrad.infra.stage import main
from inputgrad.sections.text_faithfulness.stages import text_faithfulness as run

main(snakemake, run)  # noqa: F821
