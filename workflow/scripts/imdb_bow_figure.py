"""Thin adapter: figure of ḡ (top words) and x·ḡ vs the network's logit, from saved arrays."""
from inputgrad import logs
from inputgrad.imdb_bow import figure_stage

logs.setup(snakemake.log[0])
figure_stage(
    snakemake.input.table[0],
    snakemake.input.scores[0],
    snakemake.input.agreement,
    snakemake.input.run_id[0],
    style=snakemake.params.figure,
    outputs={"png": snakemake.output.png, "pdf": snakemake.output.pdf},
    tracking_uri=snakemake.config["tracking"]["uri"],
)
