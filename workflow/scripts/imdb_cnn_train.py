"""Thin adapter: train the paper-5.1 IMDB CNN (shared train_and_log path, MLflow run)."""
from inputgrad import logs
from inputgrad.imdb_cnn import train

logs.setup(snakemake.log[0])
train(
    snakemake.input.train,
    snakemake.input.test,
    snakemake.input.experiment,
    outputs={k: snakemake.output[k] for k in ("model", "metrics", "history", "run_id")},
    hyper=snakemake.params.hyper,
    seed=int(snakemake.wildcards.seed),
    tracking_uri=snakemake.config["tracking"]["uri"],
)
