"""Thin adapter: fetch and verify one raw dataset file."""
from inputgrad import logs
from inputgrad.download import fetch, resolve_mirror

logs.setup(snakemake.log[0])
data = snakemake.config["data"]
fetch(
    snakemake.wildcards.file,
    snakemake.output[0],
    mirror=resolve_mirror(data["mirror"]),
    retries=data["retries"],
    timeout=data["timeout_s"],
)
