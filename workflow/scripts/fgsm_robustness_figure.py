"""Rule fgsm_robustness_figure: MNIST accuracy against eps per attack."""
from inputgrad.infra.stage import main
from inputgrad.sections.sensitivity.stages import fgsm_robustness_figure as run

main(snakemake, run)  # noqa: F821
