"""Thin adapter: Table 1 (top-gradient expressions) from the saved gradient arrays."""
from inputgrad import logs
from inputgrad.imdb_cnn import log_to_run, make_table1

logs.setup(snakemake.log[0])
make_table1(
    snakemake.input.gradients[0],
    snakemake.input.test,
    snakemake.input.tokens,
    snakemake.output.csv,
    snakemake.output.md,
    snakemake.params.hyper,
)
log_to_run(
    snakemake.input.experiment,
    snakemake.config["tracking"]["uri"],
    snakemake.input.run_id[0],
    [snakemake.output.csv, snakemake.output.md],
    "tables",
)
