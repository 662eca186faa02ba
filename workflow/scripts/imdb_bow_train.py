"""Thin adapter: train the paper-5.2 bag-of-words MLP (shared train_and_log path, MLflow run)."""
from inputgrad import logs
from inputgrad.imdb_bow import train_stage

logs.setup(snakemake.log[0])
train_stage(
    snakemake.input.train,
    snakemake.input.test,
    snakemake.input.experiment,
    model_cfg=snakemake.params.model,
    train_cfg=snakemake.params.train,
    imdb_cfg=snakemake.params.imdb,
    outputs={k: snakemake.output[k] for k in ("model", "metrics", "history", "run_id")},
    seed=int(snakemake.wildcards.seed),
    tracking_uri=snakemake.config["tracking"]["uri"],
)
