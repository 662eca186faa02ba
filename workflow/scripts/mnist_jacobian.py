"""Thin adapter: mean Jacobian (10 x 784) over the test digits; logged into the model's run."""
from inputgrad import logs
from inputgrad.mnist import compute_jacobians
from inputgrad.tracking import log_to_runs

logs.setup(snakemake.log[0])
compute_jacobians(snakemake.input.model, snakemake.input.data, snakemake.output.jacobian,
                  snakemake.params.hyper)
log_to_runs(snakemake.input.experiment, snakemake.config["tracking"]["uri"],
            [snakemake.input.run_id], [snakemake.output.jacobian], "attributions",
            configs={"attribution": snakemake.params.hyper["attribution"]})
