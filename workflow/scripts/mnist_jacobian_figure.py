"""Rule mnist_jacobian_figure: paper 5.3, MLP mean Jacobian vs regression weights."""
from inputgrad.infra.stage import main
from inputgrad.sections.mnist.stages import mnist_jacobian_figure as run

main(snakemake, run)  # noqa: F821
