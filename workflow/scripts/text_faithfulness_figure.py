"""Rule text_faithfulness_figure: AOPC per text method across seeds and the deletion curves."""
from inputgrad.infra.stage import main
from inputgrad.sections.text_faithfulness.stages import text_faithfulness_figure as run

main(snakemake, run)  # noqa: F821
