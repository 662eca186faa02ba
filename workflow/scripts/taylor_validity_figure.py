"""Rule taylor_validity_figure: first-order error against eps per model."""
from inputgrad.infra.stage import main
from inputgrad.sections.sensitivity.stages import taylor_validity_figure as run

main(snakemake, run)  # noqa: F821
