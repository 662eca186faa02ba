"""Rule taylor_validity: first-order (Taylor) error of the input gradient, all four models."""
from inputgrad.infra.stage import main
from inputgrad.sections.sensitivity.stages import taylor_validity as run

main(snakemake, run)  # noqa: F821
