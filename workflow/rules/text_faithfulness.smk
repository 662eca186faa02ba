# Beyond the paper (issue 12): faithfulness of the text attributions. Per seed: the IMDB CNN's
# methods (gradient norm, gradient x input, IG, SmoothGrad, occlusion, LIME, random) and the
# bag-of-words MLP's (gradient, gradient x input, ḡ, logistic regression, occlusion, random):
# ERASER comprehensiveness / sufficiency AOPC, deletion and insertion curves, agreement between
# methods, model randomisation (CNN). Across seeds: one table and one figure.
# Stage functions: inputgrad.sections.text_faithfulness.stages; hyperparameters:
# config/hydra/attribution/text_faithfulness.yaml; figure style:
# config/hydra/experiment/text_faithfulness.yaml.

TEXT = CFG["text_faithfulness"]
TEXT_CATEGORY = "Beyond the paper: text faithfulness"


# the keys both models' faithfulness rules read; each adds its own sample size and methods
TEXT_SHARED = (
    "output",
    "batch_size",
    "sample.seed",
    "sample.min_words",
    "percents",
    "aopc_percents",
    "agreement.top_percent",
)


rule text_faithfulness:
    input:
        model=rules.train_imdb_cnn.output.model,
        test=rules.prepare_imdb.output.test,
    output:
        csv=report(
            results("tables/seed{seed}/text_faithfulness.csv"),
            caption="../report/text_faithfulness.rst",
            category=TEXT_CATEGORY,
        ),
        curves=results("tables/seed{seed}/text_faithfulness_curves.csv"),
        agreement=results("tables/seed{seed}/text_faithfulness_agreement.csv"),
        sanity=results("tables/seed{seed}/text_faithfulness_sanity.csv"),
        record=record("text_faithfulness", "seed{seed}", "tables", models=("imdb_cnn",)),
    log:
        logs("text_faithfulness", "seed{seed}"),
    benchmark:
        bench("text_faithfulness", "seed{seed}")
    wildcard_constraints:
        seed=r"\d+",
    priority: 1
    conda:
        ENV
    resources:
        **resources_of("text_faithfulness"),
    params:
        cfg={
            "attribution": pick(
                TEXT["attribution"],
                *TEXT_SHARED,
                "sample.cnn_reviews",
                "removals",
                "methods.cnn",
                "method_options",
                "sanity",
            ),
            "data": TEXT["data"],
        },
        seed=seed_of,
    script:
        "../scripts/text_faithfulness.py"


rule bow_faithfulness:
    input:
        model=rules.train_imdb_bow_mlp.output.model,
        gbar=rules.imdb_bow_gbar.output.npz,
        train=rules.prepare_imdb.output.train,
        test=rules.prepare_imdb.output.test,
    output:
        csv=report(
            results("tables/seed{seed}/bow_faithfulness.csv"),
            caption="../report/bow_faithfulness.rst",
            category=TEXT_CATEGORY,
        ),
        curves=results("tables/seed{seed}/bow_faithfulness_curves.csv"),
        agreement=results("tables/seed{seed}/bow_faithfulness_agreement.csv"),
        record=record("bow_faithfulness", "seed{seed}", "tables", models=("imdb_bow_mlp",)),
    log:
        logs("bow_faithfulness", "seed{seed}"),
    benchmark:
        bench("bow_faithfulness", "seed{seed}")
    wildcard_constraints:
        seed=r"\d+",
    conda:
        ENV
    resources:
        **resources_of("bow_faithfulness"),
    params:
        cfg={
            "attribution": pick(
                TEXT["attribution"],
                *TEXT_SHARED,
                "sample.bow_reviews",
                "methods.bow",
                "bow_gbar",
                "logistic_regression",
                *options_of(TEXT["attribution"], "bow"),
            ),
            "data": TEXT["data"],
        },
        seed=seed_of,
    script:
        "../scripts/bow_faithfulness.py"


rule text_faithfulness_seeds:
    input:
        cnn=expand(rules.text_faithfulness.output.csv, seed=SEEDS),
        cnn_agreement=expand(rules.text_faithfulness.output.agreement, seed=SEEDS),
        cnn_sanity=expand(rules.text_faithfulness.output.sanity, seed=SEEDS),
        bow=expand(rules.bow_faithfulness.output.csv, seed=SEEDS),
        bow_agreement=expand(rules.bow_faithfulness.output.agreement, seed=SEEDS),
    output:
        csv=report(
            results("tables/text_faithfulness_seeds.csv"),
            caption="../report/text_faithfulness_seeds.rst",
            category=TEXT_CATEGORY,
        ),
        md=results("tables/text_faithfulness_seeds.md"),
        record=record("text_faithfulness_seeds", None, "tables", across=True),
    log:
        logs("text_faithfulness_seeds"),
    benchmark:
        bench("text_faithfulness_seeds")
    conda:
        ENV
    resources:
        **resources_of("text_faithfulness_seeds"),
    params:
        cfg={
            "seeds": SEEDS,
            "attribution": pick(
                TEXT["attribution"],
                "aopc_percents",
                "sample.cnn_reviews",
                "sample.bow_reviews",
                "removals",
                "agreement.headline",
                "agreement.top_percent",
                "sanity.reviews",
            ),
        },
    script:
        "../scripts/text_faithfulness_seeds.py"


rule text_faithfulness_figure:
    input:
        seeds=rules.text_faithfulness_seeds.output.csv,
        cnn_curves=expand(rules.text_faithfulness.output.curves, seed=PAPER_SEED)[0],
        bow_curves=expand(rules.bow_faithfulness.output.curves, seed=PAPER_SEED)[0],
    output:
        png=report(
            results("figures/text_faithfulness_figure.png"),
            caption="../report/text_faithfulness_figure.rst",
            category=TEXT_CATEGORY,
        ),
        pdf=results("figures/text_faithfulness_figure.pdf"),
        record=record("text_faithfulness_figure", None, "figures", across=True),
    log:
        logs("text_faithfulness_figure"),
    benchmark:
        bench("text_faithfulness_figure")
    conda:
        ENV
    resources:
        **resources_of("text_faithfulness_figure"),
    params:
        cfg={
            "figure": TEXT["figure"],
            "attribution": {"removals": TEXT["attribution"]["removals"]},
        },
    script:
        "../scripts/text_faithfulness_figure.py"


rule text_faithfulness_all:
    input:
        expand(rules.text_faithfulness.output, seed=SEEDS),
        expand(rules.bow_faithfulness.output, seed=SEEDS),
        rules.text_faithfulness_seeds.output,
        rules.text_faithfulness_figure.output,


register_section(
    "text_faithfulness",
    targets=rules.text_faithfulness_all.input,
    seed_tables=[rules.text_faithfulness_seeds.output.md],
    figures=[rules.text_faithfulness_figure.output.png],
)
