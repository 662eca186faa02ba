"""Rule bow_faithfulness: one seed's bag-of-words MLP, its word rankings, AOPC, agreement."""
from inputgrad.infra.stage import main
from inputgrad.sections.text_faithfulness.stages import bow_faithfulness as run

main(snakemake, run)  # noqa: F821
