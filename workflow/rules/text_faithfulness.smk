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


rule text_faithfulness:
    input:
        model=rules.train_imdb_cnn.output.model,
        run_id=rules.train_imdb_cnn.output.run_id,
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
    log:
        results("logs/text_faithfulness/seed{seed}.log"),
    benchmark:
        results("benchmarks/text_faithfulness_seed{seed}.tsv")
    wildcard_constraints:
        seed=r"\d+",
    priority: 1
    conda:
        ENV
    resources:
        **resources_of("text_faithfulness"),
    params:
        cfg={"attribution": TEXT["attribution"], "data": TEXT["data"]},
        seed=seed_of,
        track=track("tables"),
    script:
        "../scripts/text_faithfulness.py"


rule bow_faithfulness:
    input:
        model=rules.train_imdb_bow_mlp.output.model,
        run_id=rules.train_imdb_bow_mlp.output.run_id,
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
    log:
        results("logs/bow_faithfulness/seed{seed}.log"),
    benchmark:
        results("benchmarks/bow_faithfulness_seed{seed}.tsv")
    wildcard_constraints:
        seed=r"\d+",
    conda:
        ENV
    resources:
        **resources_of("bow_faithfulness"),
    params:
        cfg={"attribution": TEXT["attribution"], "data": TEXT["data"]},
        seed=seed_of,
        track=track("tables"),
    script:
        "../scripts/bow_faithfulness.py"


rule text_faithfulness_seeds:
    input:
        cnn=expand(rules.text_faithfulness.output.csv, seed=SEEDS),
        cnn_agreement=expand(rules.text_faithfulness.output.agreement, seed=SEEDS),
        cnn_sanity=expand(rules.text_faithfulness.output.sanity, seed=SEEDS),
        bow=expand(rules.bow_faithfulness.output.csv, seed=SEEDS),
        bow_agreement=expand(rules.bow_faithfulness.output.agreement, seed=SEEDS),
        run_id=expand(rules.train_imdb_cnn.output.run_id, seed=PAPER_SEED)[0],
    output:
        csv=report(
            results("tables/text_faithfulness_seeds.csv"),
            caption="../report/text_faithfulness_seeds.rst",
            category=TEXT_CATEGORY,
        ),
        md=results("tables/text_faithfulness_seeds.md"),
    log:
        results("logs/text_faithfulness_seeds.log"),
    benchmark:
        results("benchmarks/text_faithfulness_seeds.tsv")
    conda:
        ENV
    resources:
        **resources_of("text_faithfulness_seeds"),
    params:
        cfg={"seeds": SEEDS, "attribution": TEXT["attribution"]},
        track=track("tables"),
    script:
        "../scripts/text_faithfulness_seeds.py"


rule text_faithfulness_figure:
    input:
        seeds=rules.text_faithfulness_seeds.output.csv,
        cnn_curves=expand(rules.text_faithfulness.output.curves, seed=PAPER_SEED)[0],
        bow_curves=expand(rules.bow_faithfulness.output.curves, seed=PAPER_SEED)[0],
        run_id=expand(rules.train_imdb_cnn.output.run_id, seed=PAPER_SEED)[0],
    output:
        png=report(
            results("figures/text_faithfulness_figure.png"),
            caption="../report/text_faithfulness_figure.rst",
            category=TEXT_CATEGORY,
        ),
        pdf=results("figures/text_faithfulness_figure.pdf"),
    log:
        results("logs/text_faithfulness_figure.log"),
    benchmark:
        results("benchmarks/text_faithfulness_figure.tsv")
    conda:
        ENV
    resources:
        **resources_of("text_faithfulness_figure"),
    params:
        cfg={
            "figure": TEXT["figure"],
            "attribution": {"removals": TEXT["attribution"]["removals"]},
        },
        track=track("figures"),
    script:
        "../scripts/text_faithfulness_figure.py"


rule text_faithfulness_all:
    input:
        expand(rules.text_faithfulness.output, seed=SEEDS),
        expand(rules.bow_faithfulness.output, seed=SEEDS),
        rules.text_faithfulness_seeds.output,
        rules.text_faithfulness_figure.output,
