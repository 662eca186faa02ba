"""Rule decoy_mnist_figure: mean |attribution| maps per method, decoy, clean and repaired model."""
from inputgrad.infra.stage import main
from inputgrad.sections.decoy_mnist.stages import decoy_mnist_figure as run

main(snakemake, run)  # noqa: F821
