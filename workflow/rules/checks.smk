# Beyond the paper: faithfulness (deletion test) and model-randomisation sanity check of an MNIST
# model's attributions (config["checks"]["model"]), per seed, and their spread over the seeds.
# Stage functions: inputgrad.sections.checks.stages; hyperparameters:
# config/hydra/attribution/checks.yaml; figure style: config/hydra/experiment/checks.yaml.

CHECKS_ATTR = CFG["checks"]["attribution"]
CHECKS_MODEL = config["checks"]["model"]
CHECKS_CATEGORY = "Beyond the paper"


rule attribution_deletion:
    input:
        model=expand(rules.train_mnist.output.model, model=CHECKS_MODEL, allow_missing=True)[0],
        data=rules.prepare_mnist.output.data,
    output:
        table=report(
            results("tables/seed{seed}/attribution_deletion.csv"),
            caption="../report/attribution_deletion.rst",
            category=CHECKS_CATEGORY,
        ),
        summary=report(
            results("tables/seed{seed}/attribution_deletion.json"),
            caption="../report/attribution_deletion.rst",
            category=CHECKS_CATEGORY,
        ),
        record=record(
            "attribution_deletion",
            "seed{seed}",
            "checks",
            configs=("cfg",),
            models=(CHECKS_MODEL,),
        ),
    log:
        logs("attribution_deletion", "seed{seed}"),
    benchmark:
        bench("attribution_deletion", "seed{seed}")
    wildcard_constraints:
        seed=r"\d+",
    conda:
        ENV
    resources:
        **resources_of("attribution_deletion"),
    params:
        cfg={k: CHECKS_ATTR[k] for k in ("digits", "deletion", "method_options")},
        seed=seed_of,
    script:
        "../scripts/attribution_deletion.py"


rule attribution_sanity:
    input:
        model=rules.attribution_deletion.input.model,
        data=rules.attribution_deletion.input.data,
    output:
        summary=report(
            results("tables/seed{seed}/attribution_sanity.json"),
            caption="../report/attribution_sanity.rst",
            category=CHECKS_CATEGORY,
        ),
        record=record("attribution_sanity", "seed{seed}", "checks", models=(CHECKS_MODEL,)),
    log:
        logs("attribution_sanity", "seed{seed}"),
    benchmark:
        bench("attribution_sanity", "seed{seed}")
    wildcard_constraints:
        seed=r"\d+",
    conda:
        ENV
    resources:
        **resources_of("attribution_sanity"),
    params:
        cfg={k: CHECKS_ATTR[k] for k in ("digits", "sanity")},
        seed=seed_of,
    script:
        "../scripts/attribution_sanity.py"


rule attribution_deletion_figure:
    input:
        table=expand(rules.attribution_deletion.output.table, seed=PAPER_SEED)[0],
    output:
        png=report(
            results("figures/attribution_deletion_figure.png"),
            caption="../report/attribution_deletion_figure.rst",
            category=CHECKS_CATEGORY,
        ),
        pdf=results("figures/attribution_deletion_figure.pdf"),
        record=record(
            "attribution_deletion_figure", None, "checks", models=(CHECKS_MODEL,), seed=PAPER_SEED
        ),
    log:
        logs("attribution_deletion_figure"),
    benchmark:
        bench("attribution_deletion_figure")
    conda:
        ENV
    resources:
        **resources_of("attribution_deletion_figure"),
    params:
        cfg={"figure": CFG["checks"]["figure"]},
    script:
        "../scripts/attribution_deletion_figure.py"


rule checks_seeds:
    input:
        deletion=expand(rules.attribution_deletion.output.summary, seed=SEEDS),
        sanity=expand(rules.attribution_sanity.output.summary, seed=SEEDS),
    output:
        csv=report(
            results("tables/checks_seeds.csv"),
            caption="../report/checks_seeds.rst",
            category=CHECKS_CATEGORY,
        ),
        md=results("tables/checks_seeds.md"),
        record=record("checks_seeds", None, "checks", across=True),
    log:
        logs("checks_seeds"),
    benchmark:
        bench("checks_seeds")
    conda:
        ENV
    resources:
        **resources_of("checks_seeds"),
    params:
        cfg={"seeds": SEEDS},
    script:
        "../scripts/checks_seeds.py"


rule checks:
    input:
        expand(rules.attribution_deletion.output, seed=SEEDS),
        expand(rules.attribution_sanity.output, seed=SEEDS),
        rules.attribution_deletion_figure.output,
        rules.checks_seeds.output,


register_section(
    "checks",
    targets=rules.checks.input,
    seed_tables=[rules.checks_seeds.output.md],
)
