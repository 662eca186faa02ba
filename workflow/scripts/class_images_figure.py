"""Rule class_images_figure: mean Jacobian, class images (MLP, logistic regression) and weights."""
from inputgrad.infra.stage import main
from inputgrad.sections.any_model.stages import class_images_figure as run

main(snakemake, run)  # noqa: F821
