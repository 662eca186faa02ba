# Beyond the paper: faithfulness (deletion test) and model-randomisation sanity check of the
# MNIST MLP's attributions (paper seed), and the seed variability of the bag-of-words ḡ ranking.
# Hyperparameters: config/hydra/attribution/checks.yaml; figure style: experiment/checks.yaml.

CHECKS = hyper("checks")
CHECKS_ATTR = CHECKS["attribution"]
CHECKS_MODEL_DIR = f"{RESULTS}/models/{CHECKS_ATTR['digits']['model']}/seed{PAPER_SEED}"
CHECKS_CATEGORY = "Beyond the paper"
CHECKS_EXPERIMENT = f"{RESULTS}/mlflow/experiment_id.txt"  # scripts find the MLflow store from it


rule attribution_deletion:
    input:
        model=f"{CHECKS_MODEL_DIR}/model.keras",
        run_id=f"{CHECKS_MODEL_DIR}/run_id.txt",
        data=f"{RESULTS}/data/mnist.npz",
        experiment=CHECKS_EXPERIMENT,
    output:
        csv=report(
            f"{RESULTS}/tables/attribution_deletion.csv",
            caption="../report/checks_deletion_table.rst",
            category=CHECKS_CATEGORY,
        ),
        summary=report(
            f"{RESULTS}/tables/attribution_deletion_summary.json",
            caption="../report/checks_deletion_summary.rst",
            category=CHECKS_CATEGORY,
        ),
    params:
        digits=CHECKS_ATTR["digits"],
        deletion=CHECKS_ATTR["deletion"],
    log:
        f"{RESULTS}/logs/attribution_deletion.log",
    benchmark:
        f"{RESULTS}/benchmarks/attribution_deletion_{CHECKS_ATTR['digits']['model']}_seed{PAPER_SEED}.tsv"
    conda:
        ENV
    script:
        "../scripts/checks_deletion.py"


rule attribution_sanity:
    input:
        model=rules.attribution_deletion.input.model,
        run_id=rules.attribution_deletion.input.run_id,
        data=rules.attribution_deletion.input.data,
        experiment=CHECKS_EXPERIMENT,
    output:
        report(
            f"{RESULTS}/tables/attribution_sanity.json",
            caption="../report/checks_sanity.rst",
            category=CHECKS_CATEGORY,
        ),
    params:
        digits=CHECKS_ATTR["digits"],
        sanity=CHECKS_ATTR["sanity"],
    log:
        f"{RESULTS}/logs/attribution_sanity.log",
    benchmark:
        f"{RESULTS}/benchmarks/attribution_sanity_{CHECKS_ATTR['digits']['model']}_seed{PAPER_SEED}.tsv"
    conda:
        ENV
    script:
        "../scripts/checks_sanity.py"


rule attribution_deletion_figure:
    input:
        table=rules.attribution_deletion.output.csv,
        run_id=rules.attribution_deletion.input.run_id,
        experiment=CHECKS_EXPERIMENT,
    output:
        png=report(
            f"{RESULTS}/figures/attribution_deletion.png",
            caption="../report/checks_deletion_figure.rst",
            category=CHECKS_CATEGORY,
        ),
        pdf=f"{RESULTS}/figures/attribution_deletion.pdf",
    params:
        figure=CHECKS["figure"],
    log:
        f"{RESULTS}/logs/attribution_deletion_figure.log",
    benchmark:
        f"{RESULTS}/benchmarks/attribution_deletion_figure.tsv"
    conda:
        ENV
    script:
        "../scripts/checks_figure.py"


rule seed_variability:
    input:
        tables=expand(f"{RESULTS}/attributions/imdb_bow_mlp/seed{{seed}}/gbar.csv", seed=config["seeds"]),
        metrics=expand(f"{RESULTS}/models/imdb_bow_mlp/seed{{seed}}/metrics.json", seed=config["seeds"]),
        run_id=f"{RESULTS}/models/imdb_bow_mlp/seed{PAPER_SEED}/run_id.txt",
        experiment=CHECKS_EXPERIMENT,
    output:
        report(
            f"{RESULTS}/tables/seed_variability.csv",
            caption="../report/checks_seed_variability.rst",
            category=CHECKS_CATEGORY,
        ),
    params:
        seeds=config["seeds"],
        cfg=CHECKS_ATTR["seed_variability"],
    log:
        f"{RESULTS}/logs/seed_variability.log",
    benchmark:
        f"{RESULTS}/benchmarks/seed_variability.tsv"
    conda:
        ENV
    script:
        "../scripts/checks_seed_variability.py"


rule attribution_checks:
    input:
        rules.attribution_deletion.output,
        rules.attribution_sanity.output,
        rules.attribution_deletion_figure.output,
        rules.seed_variability.output,
