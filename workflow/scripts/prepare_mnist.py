"""Rule prepare_mnist: MNIST pixels to float32 in [0, 1]."""
from inputgrad.data.stages import prepare_mnist as run
from inputgrad.infra.stage import main

main(snakemake, run)  # noqa: F821
