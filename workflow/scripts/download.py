"""Thin adapter: fetch and verify one raw dataset file."""
import sys

from inputgrad import logs
from inputgrad.download import DataError, fetch, resolve_mirror

log = logs.setup(snakemake.log[0])
data = snakemake.config["data"]
try:
    fetch(
        snakemake.wildcards.file,
        snakemake.output[0],
        mirror=resolve_mirror(data["mirror"]),
        retries=data["retries"],
        timeout=data["timeout_s"],
    )
except DataError as err:
    log.error("%s", err)
    sys.exit(1)
