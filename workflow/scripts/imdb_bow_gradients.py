"""Thin adapter: mean input gradient ḡ of the bag-of-words MLP (test and train sets)."""
from inputgrad import logs
from inputgrad.imdb_bow import gradients_stage

logs.setup(snakemake.log[0])
gradients_stage(
    snakemake.input.model,
    snakemake.input.train,
    snakemake.input.test,
    snakemake.input.word_index,
    snakemake.input.run_id,
    imdb_cfg=snakemake.params.imdb,
    batch_size=snakemake.params.batch_size,
    outputs={k: snakemake.output[k] for k in ("gbar", "table", "scores", "summary")},
    tracking_uri=snakemake.config["tracking"]["uri"],
)
