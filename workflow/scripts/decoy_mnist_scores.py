"""Rule decoy_mnist_scores: accuracies, relevance mass, pointing game and detection
window of one seed's decoy, repaired and control model."""
from inputgrad.infra.stage import main
from inputgrad.sections.decoy_mnist.stages import decoy_mnist_scores as run

main(snakemake, run)  # noqa: F821
