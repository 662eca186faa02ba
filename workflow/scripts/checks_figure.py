"""Thin adapter: figure attribution_deletion from the tidy deletion table; logged to the run."""
from inputgrad import logs
from inputgrad.checks import figure_stage, log_run

logs.setup(snakemake.log[0])
figure_stage(snakemake.input.table, snakemake.params.figure, snakemake.output.png,
             snakemake.output.pdf)
log_run(snakemake.input.experiment, snakemake.input.run_id, snakemake.config["tracking"]["uri"],
        [snakemake.output.png, snakemake.output.pdf], "checks")
