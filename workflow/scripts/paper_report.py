"""Thin adapter: build results/report.{html,md} and the claims table."""
from pathlib import Path

from inputgrad import logs
from inputgrad.report import load_claims, package_versions, render

log = logs.setup(snakemake.log[0])
results = Path(snakemake.output.md).parent
claims = render(
    load_claims(snakemake.input.claims, snakemake.params.seed),
    results,
    snakemake.params.tables,
    snakemake.params.figures,
    snakemake.params.configs,
    package_versions(),
    snakemake.output.html,
    snakemake.output.md,
)
claims.to_csv(snakemake.output.claims, index=False)
log.info("verdicts: %s", claims["verdict"].value_counts().to_dict())
