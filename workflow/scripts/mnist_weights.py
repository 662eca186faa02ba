"""Thin adapter: the logistic regression's weight matrix (10 x 784) as an array."""
from inputgrad import logs
from inputgrad.tracking import log_to_runs
from inputgrad.mnist import save_weights

logs.setup(snakemake.log[0])
save_weights(snakemake.input.model, snakemake.output.weights)
log_to_runs(snakemake.input.experiment, snakemake.config["tracking"]["uri"],
            [snakemake.input.run_id], [snakemake.output.weights], "attributions")
