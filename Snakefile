# inputgrad: replication of Hechtlinger (2016). This file only wires the stages together.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"


# the sections of config.yaml `sections`, each registering its targets (register_section)
for section in SECTIONS:

    include: f"workflow/rules/{section}.smk"


include: "workflow/rules/report.smk"
include: "workflow/rules/tracking.smk"  # reads the records every section registered


rule all:
    default_target: True
    input:
        rules.data.input,
        rules.tracking.input,
        section_targets(),
        rules.paper_report.output,
