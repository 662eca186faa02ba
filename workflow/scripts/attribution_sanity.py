"""Rule attribution_sanity: model-randomisation sanity check of the checks model's gradients."""
from inputgrad.infra.stage import main
from inputgrad.sections.checks.stages import attribution_sanity as run

main(snakemake, run)  # noqa: F821
