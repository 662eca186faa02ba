"""Thin adapter: per-word embedding-gradient norms for every test review; log them to the run."""
from inputgrad import logs
from inputgrad.tracking import log_to_runs
from inputgrad.imdb_cnn import compute_word_gradients
from inputgrad.io import write_json

logs.setup(snakemake.log[0])
summary = compute_word_gradients(
    snakemake.input.model, snakemake.input.test, snakemake.output.gradients, snakemake.params.hyper
)
write_json(snakemake.output.summary, summary)
log_to_runs(
    snakemake.input.experiment,
    snakemake.config["tracking"]["uri"],
    [snakemake.input.run_id],
    [snakemake.output.gradients, snakemake.output.summary],
    "attributions",
    metrics={"word_gradients_seconds": summary["seconds"]},
)
