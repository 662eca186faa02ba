"""Rule grouped_deletion: deletion curves by pixels vs patches and words vs windows, per seed."""
from inputgrad.infra.stage import main
from inputgrad.sections.anomaly.stages import grouped_deletion as run

main(snakemake, run)  # noqa: F821
