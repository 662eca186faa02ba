"""Rule class_images: class-model images of the MNIST MLP and logistic regression of one seed."""
from inputgrad.infra.stage import main
from inputgrad.sections.any_model.stages import class_images as run

main(snakemake, run)  # noqa: F821
