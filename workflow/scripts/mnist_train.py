"""Thin adapter: train an MNIST model of paper 5.3 (shared train_and_log path, MLflow run)."""
from inputgrad import logs
from inputgrad.mnist import train

logs.setup(snakemake.log[0])
train(
    snakemake.input.data,
    snakemake.input.experiment,
    outputs={k: snakemake.output[k] for k in ("model", "metrics", "history", "run_id")},
    hyper=snakemake.params.hyper,
    seed=int(snakemake.wildcards.seed),
    tracking_uri=snakemake.config["tracking"]["uri"],
)
