# inputgrad: replication of Hechtlinger (2016). This file only wires the stages together.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/tracking.smk"
include: "workflow/rules/mnist.smk"
include: "workflow/rules/imdb_cnn.smk"
include: "workflow/rules/imdb_bow.smk"
include: "workflow/rules/checks.smk"
include: "workflow/rules/text_faithfulness.smk"
include: "workflow/rules/sensitivity.smk"
include: "workflow/rules/anomaly.smk"
include: "workflow/rules/any_model.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        rules.data.input,
        rules.tracking.input,
        rules.mnist.input,
        rules.imdb_cnn.input,
        rules.imdb_bow.input,
        rules.checks.input,
        rules.text_faithfulness_all.input,
        rules.sensitivity.input,
        rules.anomaly.input,
        rules.any_model.input,
        rules.paper_report.output,
