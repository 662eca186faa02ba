"""Thin adapter: accuracy and ḡ ranking of the bag-of-words MLP across seeds; logged to the
paper seed's run."""
from inputgrad import logs
from inputgrad.checks import log_run, seed_variability_stage

logs.setup(snakemake.log[0])
table = seed_variability_stage(snakemake.params.seeds, snakemake.input.tables,
                               snakemake.input.metrics, snakemake.params.cfg, snakemake.output[0])
log_run(snakemake.input.experiment, snakemake.input.run_id, snakemake.config["tracking"]["uri"],
        [snakemake.output[0]], "checks",
        metrics={"seed_variability_spearman_gbar_mean": table["spearman_gbar"].mean(),
                 "seed_variability_accuracy_sd": table["accuracy_sd"].iloc[0]})
