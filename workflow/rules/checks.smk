# Beyond the paper: faithfulness (deletion test) and model-randomisation sanity check of an MNIST
# model's attributions (config["checks"]["model"], paper seed), and the seed variability of the
# bag-of-words ḡ ranking. Stage functions: inputgrad.sections.checks.stages; hyperparameters:
# config/hydra/attribution/checks.yaml; figure style: config/hydra/experiment/checks.yaml.

CHECKS_ATTR = CFG["checks"]["attribution"]
CHECKS_MODEL = {"model": config["checks"]["model"], "seed": PAPER_SEED}
CHECKS_CATEGORY = "Beyond the paper"


rule attribution_deletion:
    input:
        model=expand(rules.train_mnist.output.model, **CHECKS_MODEL)[0],
        run_id=expand(rules.train_mnist.output.run_id, **CHECKS_MODEL)[0],
        data=rules.prepare_mnist.output.data,
    output:
        table=report(
            results("tables/attribution_deletion.csv"),
            caption="../report/attribution_deletion.rst",
            category=CHECKS_CATEGORY,
        ),
        summary=report(
            results("tables/attribution_deletion.json"),
            caption="../report/attribution_deletion.rst",
            category=CHECKS_CATEGORY,
        ),
    log:
        results("logs/attribution_deletion.log"),
    benchmark:
        results("benchmarks/attribution_deletion.tsv")
    conda:
        ENV
    params:
        cfg={k: CHECKS_ATTR[k] for k in ("digits", "deletion")},
        track=track("checks", configs=("cfg",)),
    script:
        "../scripts/attribution_deletion.py"


rule attribution_sanity:
    input:
        model=rules.attribution_deletion.input.model,
        run_id=rules.attribution_deletion.input.run_id,
        data=rules.attribution_deletion.input.data,
    output:
        summary=report(
            results("tables/attribution_sanity.json"),
            caption="../report/attribution_sanity.rst",
            category=CHECKS_CATEGORY,
        ),
    log:
        results("logs/attribution_sanity.log"),
    benchmark:
        results("benchmarks/attribution_sanity.tsv")
    conda:
        ENV
    params:
        cfg={k: CHECKS_ATTR[k] for k in ("digits", "sanity")},
        track=track("checks"),
    script:
        "../scripts/attribution_sanity.py"


rule attribution_deletion_figure:
    input:
        table=rules.attribution_deletion.output.table,
        run_id=rules.attribution_deletion.input.run_id,
    output:
        png=report(
            results("figures/attribution_deletion_figure.png"),
            caption="../report/attribution_deletion_figure.rst",
            category=CHECKS_CATEGORY,
        ),
        pdf=results("figures/attribution_deletion_figure.pdf"),
    log:
        results("logs/attribution_deletion_figure.log"),
    benchmark:
        results("benchmarks/attribution_deletion_figure.tsv")
    conda:
        ENV
    params:
        cfg={"figure": CFG["checks"]["figure"]},
        track=track("checks"),
    script:
        "../scripts/attribution_deletion_figure.py"


rule seed_variability:
    input:
        gbar=expand(results("attributions/imdb_bow_mlp/seed{seed}/imdb_bow_gbar.csv"), seed=SEEDS),
        metrics=expand(rules.train_imdb_bow_mlp.output.metrics, seed=SEEDS),
        run_id=expand(rules.train_imdb_bow_mlp.output.run_id, seed=PAPER_SEED)[0],
    output:
        table=report(
            results("tables/seed_variability.csv"),
            caption="../report/seed_variability.rst",
            category=CHECKS_CATEGORY,
        ),
    log:
        results("logs/seed_variability.log"),
    benchmark:
        results("benchmarks/seed_variability.tsv")
    conda:
        ENV
    params:
        cfg={"seeds": SEEDS, "seed_variability": CHECKS_ATTR["seed_variability"]},
        track=track("checks"),
    script:
        "../scripts/seed_variability.py"


rule checks:
    input:
        rules.attribution_deletion.output,
        rules.attribution_sanity.output,
        rules.attribution_deletion_figure.output,
        rules.seed_variability.output,
