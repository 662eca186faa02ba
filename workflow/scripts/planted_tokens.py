"""Rule planted_tokens: accuracy per version and every method's token scores, planted vs control."""
from inputgrad.infra.stage import main
from inputgrad.sections.planted_tokens.stages import planted_tokens as run

main(snakemake, run)  # noqa: F821
