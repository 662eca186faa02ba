"""Thin adapter: model-randomisation sanity check of the MNIST MLP's gradients; logged to its run."""
from inputgrad import logs
from inputgrad.checks import log_run, sanity_stage

logs.setup(snakemake.log[0])
result = sanity_stage(snakemake.input.model, snakemake.input.data, snakemake.params.digits,
                      snakemake.params.sanity, snakemake.output[0])
log_run(snakemake.input.experiment, snakemake.input.run_id, snakemake.config["tracking"]["uri"],
        [snakemake.output[0]], "checks",
        metrics={"sanity_spearman_abs_gradient": result["spearman_abs_gradient_mean"]},
        configs={"checks_sanity": snakemake.params.sanity})
