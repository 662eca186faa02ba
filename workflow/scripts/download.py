"""Rule download: fetch and verify one raw dataset file."""
from inputgrad.data.stages import download as run
from inputgrad.infra.stage import main

main(snakemake, run)  # noqa: F821
