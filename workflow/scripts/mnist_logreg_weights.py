"""Rule mnist_logreg_weights: paper 5.3, the logistic regression's weights (10 x 784)."""
from inputgrad.infra.stage import main
from inputgrad.sections.mnist.stages import mnist_logreg_weights as run

main(snakemake, run)  # noqa: F821
