"""Thin adapter: deletion test (faithfulness) of the MNIST MLP's attributions; logged to its run."""
from inputgrad import logs
from inputgrad.checks import deletion_stage, log_run

logs.setup(snakemake.log[0])
summary = deletion_stage(snakemake.input.model, snakemake.input.data, snakemake.params.digits,
                         snakemake.params.deletion, snakemake.output.csv, snakemake.output.summary)
log_run(snakemake.input.experiment, snakemake.input.run_id, snakemake.config["tracking"]["uri"],
        [snakemake.output.csv, snakemake.output.summary], "checks",
        metrics={**{f"deletion_aoc_{m}": v for m, v in summary["aoc"].items()},
                 "ig_completeness_gap_mean_abs": summary["ig_completeness_gap"]["mean_abs"]},
        configs={"checks_digits": snakemake.params.digits,
                 "checks_deletion": snakemake.params.deletion})
