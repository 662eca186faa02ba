"""Rule mnist_jacobian: paper 5.3, a model's mean Jacobian (10 x 784) over the test digits."""
from inputgrad.infra.stage import main
from inputgrad.sections.mnist.stages import mnist_jacobian as run

main(snakemake, run)  # noqa: F821
