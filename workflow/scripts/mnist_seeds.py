"""Rule mnist_seeds: paper 5.3 across seeds, accuracies and r of every Jacobian variant."""
from inputgrad.infra.stage import main
from inputgrad.sections.mnist.stages import mnist_seeds as run

main(snakemake, run)  # noqa: F821
