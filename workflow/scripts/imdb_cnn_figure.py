"""Thin adapter: HTML + PNG views of per-word gradient norms (saved arrays only, no model)."""
from inputgrad import logs
from inputgrad.tracking import log_to_runs
from inputgrad.imdb_cnn import make_views

logs.setup(snakemake.log[0])
make_views(
    snakemake.input.table,
    snakemake.input.gradients[0],
    snakemake.input.test,
    snakemake.input.tokens,
    snakemake.output.html,
    snakemake.output.png,
    snakemake.params.hyper,
    snakemake.params.figure,
)
log_to_runs(
    snakemake.input.experiment,
    snakemake.config["tracking"]["uri"],
    [snakemake.input.run_id[0]],
    [snakemake.output.html, snakemake.output.png],
    "figures",
)
