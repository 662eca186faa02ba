"""Rule mnist_jacobian_variants_figure: paper 5.3, variants of the MLP mean Jacobian vs weights."""
from inputgrad.infra.stage import main
from inputgrad.sections.mnist.stages import mnist_jacobian_variants_figure as run

main(snakemake, run)  # noqa: F821
