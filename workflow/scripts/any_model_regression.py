"""Rule any_model_regression: the diabetes regression of one seed (four models, ḡ)."""
from inputgrad.infra.stage import main
from inputgrad.sections.any_model.stages import any_model_regression as run

main(snakemake, run)  # noqa: F821
