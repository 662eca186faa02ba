"""Rule fgsm_robustness: MNIST accuracy under FGSM, random signs and PGD per eps."""
from inputgrad.infra.stage import main
from inputgrad.sections.sensitivity.stages import fgsm_robustness as run

main(snakemake, run)  # noqa: F821
