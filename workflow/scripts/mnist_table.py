"""Thin adapter: per-digit correlations, MLP mean Jacobian vs logistic-regression weights."""
from inputgrad import logs
from inputgrad.tracking import log_to_runs
from inputgrad.mnist import make_table

logs.setup(snakemake.log[0])
make_table(snakemake.input.mlp, snakemake.input.logreg, snakemake.input.weights,
           snakemake.output.csv, snakemake.output.md)
log_to_runs(snakemake.input.experiment, snakemake.config["tracking"]["uri"], snakemake.input.run_ids,
            [snakemake.output.csv, snakemake.output.md], "tables")
