"""Rule anomaly_figure: AUROC per detector and shifted set, spread over seeds."""
from inputgrad.infra.stage import main
from inputgrad.sections.anomaly.stages import anomaly_figure as run

main(snakemake, run)  # noqa: F821
