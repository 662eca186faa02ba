"""Rule train_mnist: train an MNIST model of paper 5.3 (MLP or logistic regression)."""
from inputgrad.infra.stage import main
from inputgrad.sections.mnist.stages import train_mnist as run

main(snakemake, run)  # noqa: F821
