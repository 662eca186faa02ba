"""Rule train_decoy_mnist: an MNIST MLP on the decoyed digits (decoy, or repaired
with the right-reasons penalty)."""
from inputgrad.infra.stage import main
from inputgrad.sections.decoy_mnist.stages import train_decoy_mnist as run

main(snakemake, run)  # noqa: F821
