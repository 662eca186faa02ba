"""Rule decoy_mnist_seeds: the Decoy MNIST scores across the seeds."""
from inputgrad.infra.stage import main
from inputgrad.sections.decoy_mnist.stages import decoy_mnist_seeds as run

main(snakemake, run)  # noqa: F821
