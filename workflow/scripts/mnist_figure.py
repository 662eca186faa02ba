"""Thin adapter: figure mnist_jacobian_vs_logreg from the saved arrays and table."""
from inputgrad import logs
from inputgrad.figures_mnist import make_figure
from inputgrad.tracking import log_to_runs

logs.setup(snakemake.log[0])
make_figure(snakemake.input.mlp, snakemake.input.weights, snakemake.input.table,
            snakemake.output.png, snakemake.output.pdf, snakemake.params.figure)
log_to_runs(snakemake.input.experiment, snakemake.config["tracking"]["uri"], snakemake.input.run_ids,
            [snakemake.output.png, snakemake.output.pdf], "figures",
            configs={"figure": snakemake.params.figure})
