"""Rule gradient_anomaly: AUROC and FPR95 of gradient-norm, GradNorm and MSP detectors, per seed."""
from inputgrad.infra.stage import main
from inputgrad.sections.anomaly.stages import gradient_anomaly as run

main(snakemake, run)  # noqa: F821
