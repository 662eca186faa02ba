"""Rule paper_report: the paper's claims judged on every seed, as HTML, Markdown and a table."""
from inputgrad.infra.stage import main
from inputgrad.sections.report.stages import paper_report as run

main(snakemake, run)  # noqa: F821
