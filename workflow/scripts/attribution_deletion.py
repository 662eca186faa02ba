"""Rule attribution_deletion: deletion test of the checks model's attributions, AOC, IG gap."""
from inputgrad.infra.stage import main
from inputgrad.sections.checks.stages import attribution_deletion as run

main(snakemake, run)  # noqa: F821
