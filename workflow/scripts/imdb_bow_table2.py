"""Thin adapter: Table 2, the words with the largest positive and negative ḡ."""
from inputgrad import logs
from inputgrad.imdb_bow import table2_stage

logs.setup(snakemake.log[0])
table2_stage(
    snakemake.input.table[0],
    snakemake.input.summary[0],
    snakemake.input.run_id[0],
    top_k=snakemake.params.top_k,
    paper_words=snakemake.params.paper_words,
    outputs={"csv": snakemake.output.csv, "md": snakemake.output.md},
    tracking_uri=snakemake.config["tracking"]["uri"],
)
