# Stage 5: the paper's claims next to ours on every seed, from the tidy outputs only.
from inputgrad.sections.report.claims import claim_files, load_claims


rule paper_report:
    input:
        claims=CLAIMS,
        experiment=EXPERIMENT_ID,  # the report goes into the evaluation run of this experiment
        # what made each model (the paper seed's), as its training rule saved it
        configs=[results(f"models/{m}/seed{PAPER_SEED}/config.yaml") for m in MODELS],
        # every claim's result file on every seed (`{seed}` expanded over SEEDS)
        results=[results(f) for f in claim_files(load_claims(CLAIMS), SEEDS)],
        # the paper seed's tables, shown next to the paper's rows
        tables=expand(
            [
                rules.table1_expressions.output.csv,
                rules.table2_words.output.csv,
                rules.mnist_jacobian_table.output.csv,
            ],
            seed=PAPER_SEED,
        ),
        seed_tables=[
            rules.table1_seeds.output.md,
            rules.table2_seeds.output.md,
            rules.mnist_seeds.output.md,
            rules.checks_seeds.output.md,
            rules.text_faithfulness_seeds.output.md,
            rules.sensitivity_seeds.output.md,
            rules.anomaly_seeds.output.md,
            rules.any_model_seeds.output.md,
        ],
        figures=[
            rules.table1_expressions_figure.output.png,
            rules.imdb_bow_gbar_figure.output.png,
            rules.mnist_jacobian_figure.output.png,
            rules.mnist_jacobian_variants_figure.output.png,
            rules.text_faithfulness_figure.output.png,
            rules.taylor_validity_figure.output.png,
            rules.fgsm_robustness_figure.output.png,
            rules.anomaly_figure.output.png,
            rules.class_images_figure.output.png,
        ],
    output:
        html=report(
            results("paper_report.html"),
            caption="../report/paper_report.rst",
            category="Report",
        ),
        md=results("paper_report.md"),
        claims=report(
            results("tables/paper_report.csv"),
            caption="../report/paper_report_claims.rst",
            category="Report",
        ),
    log:
        logs("paper_report"),
    benchmark:
        bench("paper_report")
    conda:
        ENV
    resources:
        **resources_of("paper_report"),
    params:
        cfg={"seeds": SEEDS},
        track=track("report", across=True),
    script:
        "../scripts/paper_report.py"
