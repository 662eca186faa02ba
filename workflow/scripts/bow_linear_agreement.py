"""Rule bow_linear_agreement: agreement of the linear rule x·ḡ > t with the bag-of-words MLP."""
from inputgrad.infra.stage import main
from inputgrad.sections.imdb_bow.stages import bow_linear_agreement as run

main(snakemake, run)  # noqa: F821
