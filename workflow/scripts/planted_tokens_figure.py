"""Rule planted_tokens_figure: a planted review shaded by the per-word gradient norm."""
from inputgrad.infra.stage import main
from inputgrad.sections.planted_tokens.stages import planted_tokens_figure as run

main(snakemake, run)  # noqa: F821
