"""Rule seed_variability: test accuracy and ḡ ranking of the bag-of-words MLP across seeds."""
from inputgrad.infra.stage import main
from inputgrad.sections.checks.stages import seed_variability as run

main(snakemake, run)  # noqa: F821
