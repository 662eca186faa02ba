"""Rule planted_imdb: the planted IMDB reviews (training subset, three test versions)."""
from inputgrad.infra.stage import main
from inputgrad.sections.planted_tokens.stages import planted_imdb as run

main(snakemake, run)  # noqa: F821
