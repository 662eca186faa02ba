"""Rule text_faithfulness_seeds: text faithfulness AOPC, agreement and sanity across seeds."""
from inputgrad.infra.stage import main
from inputgrad.sections.text_faithfulness.stages import text_faithfulness_seeds as run

main(snakemake, run)  # noqa: F821
