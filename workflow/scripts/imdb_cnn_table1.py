"""Thin adapter: Table 1 (top-gradient expressions) from the saved gradient arrays."""
from inputgrad import logs
from inputgrad.tracking import log_to_runs
from inputgrad.imdb_cnn import make_table1

logs.setup(snakemake.log[0])
make_table1(
    snakemake.input.gradients[0],
    snakemake.input.test,
    snakemake.input.tokens,
    snakemake.output.csv,
    snakemake.output.md,
    snakemake.params.hyper,
)
log_to_runs(
    snakemake.input.experiment,
    snakemake.config["tracking"]["uri"],
    [snakemake.input.run_id[0]],
    [snakemake.output.csv, snakemake.output.md],
    "tables",
)
