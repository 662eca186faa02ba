"""Rule attribution_deletion_figure: the deletion curves, from the tidy deletion table."""
from inputgrad.infra.stage import main
from inputgrad.sections.checks.stages import attribution_deletion_figure as run

main(snakemake, run)  # noqa: F821
