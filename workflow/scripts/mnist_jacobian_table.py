"""Rule mnist_jacobian_table: paper 5.3, per-digit r of MLP mean Jacobian and weights."""
from inputgrad.infra.stage import main
from inputgrad.sections.mnist.stages import mnist_jacobian_table as run

main(snakemake, run)  # noqa: F821
