"""Thin adapter: agreement of the linear rule x·ḡ > t with the bag-of-words MLP."""
from inputgrad import logs
from inputgrad.imdb_bow import agreement_stage

logs.setup(snakemake.log[0])
agreement_stage(
    snakemake.input.scores[0],
    snakemake.input.run_id[0],
    snakemake.output[0],
    tracking_uri=snakemake.config["tracking"]["uri"],
)
