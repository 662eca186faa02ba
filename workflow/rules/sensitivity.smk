# Beyond the paper (companion article): the input gradient as a first-order sensitivity, per
# seed on the four trained models: Taylor validity, FGSM / PGD on MNIST, word flips on the bag
# of words, HotFlip-style substitutions on the CNN; their spread over the seeds; two figures.
# Stage functions: inputgrad.sections.sensitivity.stages; hyperparameters:
# config/hydra/attribution/sensitivity.yaml; figure style: config/hydra/experiment/sensitivity.yaml.

SENS = CFG["sensitivity"]
SENS_ATTR = SENS["attribution"]
SENS_CATEGORY = "Beyond the paper: sensitivity"


rule taylor_validity:
    input:
        unpack(model_files("taylor_validity")),  # one input per scored model, named after it
        mnist=rules.prepare_mnist.output.data,
        test=rules.prepare_imdb.output.test,
    output:
        csv=report(
            results("tables/seed{seed}/taylor_validity.csv"),
            caption="../report/taylor_validity.rst",
            category=SENS_CATEGORY,
        ),
        json=results("tables/seed{seed}/taylor_validity.json"),
        record=record(
            "taylor_validity",
            "seed{seed}",
            "sensitivity",
            configs=("cfg",),
            models=evaluated("taylor_validity"),
        ),
    log:
        logs("taylor_validity", "seed{seed}"),
    benchmark:
        bench("taylor_validity", "seed{seed}")
    wildcard_constraints:
        seed=r"\d+",
    conda:
        ENV
    resources:
        **resources_of("taylor_validity"),
    params:
        cfg={
            "attribution": {k: SENS_ATTR[k] for k in ("batch_size", "taylor")},
            "data": SENS["data"],
        },
        models=scored("taylor_validity"),
        seed=seed_of,
    script:
        "../scripts/taylor_validity.py"


rule fgsm_robustness:
    input:
        unpack(model_files("fgsm_robustness")),
        mnist=rules.prepare_mnist.output.data,
    output:
        csv=report(
            results("tables/seed{seed}/fgsm_robustness.csv"),
            caption="../report/fgsm_robustness.rst",
            category=SENS_CATEGORY,
        ),
        json=results("tables/seed{seed}/fgsm_robustness.json"),
        record=record(
            "fgsm_robustness",
            "seed{seed}",
            "sensitivity",
            configs=("cfg",),
            models=evaluated("fgsm_robustness"),
        ),
    log:
        logs("fgsm_robustness", "seed{seed}"),
    benchmark:
        bench("fgsm_robustness", "seed{seed}")
    wildcard_constraints:
        seed=r"\d+",
    conda:
        ENV
    resources:
        **resources_of("fgsm_robustness"),
    params:
        cfg={"attribution": {k: SENS_ATTR[k] for k in ("batch_size", "fgsm")}},
        models=scored("fgsm_robustness"),
        seed=seed_of,
    script:
        "../scripts/fgsm_robustness.py"


rule bow_word_flips:
    input:
        model=rules.train_imdb_bow_mlp.output.model,
        test=rules.prepare_imdb.output.test,
    output:
        csv=report(
            results("tables/seed{seed}/bow_word_flips.csv"),
            caption="../report/bow_word_flips.rst",
            category=SENS_CATEGORY,
        ),
        json=results("tables/seed{seed}/bow_word_flips.json"),
        record=record(
            "bow_word_flips",
            "seed{seed}",
            "sensitivity",
            configs=("cfg",),
            models=("imdb_bow_mlp",),
        ),
    log:
        logs("bow_word_flips", "seed{seed}"),
    benchmark:
        bench("bow_word_flips", "seed{seed}")
    wildcard_constraints:
        seed=r"\d+",
    conda:
        ENV
    resources:
        **resources_of("bow_word_flips"),
    params:
        cfg={
            "attribution": {k: SENS_ATTR[k] for k in ("batch_size", "word_flips")},
            "data": SENS["data"],
        },
        seed=seed_of,
    script:
        "../scripts/bow_word_flips.py"


rule cnn_word_substitutions:
    input:
        model=rules.train_imdb_cnn.output.model,
        test=rules.prepare_imdb.output.test,
        tokens=rules.prepare_imdb.output.tokens,
        word_index=results("data/raw/imdb_word_index.json"),
    output:
        csv=report(
            results("tables/seed{seed}/cnn_word_substitutions.csv"),
            caption="../report/cnn_word_substitutions.rst",
            category=SENS_CATEGORY,
        ),
        md=results("tables/seed{seed}/cnn_word_substitutions.md"),
        json=results("tables/seed{seed}/cnn_word_substitutions.json"),
        record=record(
            "cnn_word_substitutions",
            "seed{seed}",
            "sensitivity",
            configs=("cfg",),
            models=("imdb_cnn",),
        ),
    log:
        logs("cnn_word_substitutions", "seed{seed}"),
    benchmark:
        bench("cnn_word_substitutions", "seed{seed}")
    wildcard_constraints:
        seed=r"\d+",
    conda:
        ENV
    resources:
        **resources_of("cnn_word_substitutions"),
    params:
        cfg={
            "attribution": {k: SENS_ATTR[k] for k in ("batch_size", "word_substitutions")},
            "data": SENS["data"],
        },
        seed=seed_of,
    script:
        "../scripts/cnn_word_substitutions.py"


rule sensitivity_seeds:
    input:
        taylor=expand(rules.taylor_validity.output.json, seed=SEEDS),
        robustness=expand(rules.fgsm_robustness.output.json, seed=SEEDS),
        flips=expand(rules.bow_word_flips.output.json, seed=SEEDS),
        substitutions=expand(rules.cnn_word_substitutions.output.json, seed=SEEDS),
    output:
        csv=report(
            results("tables/sensitivity_seeds.csv"),
            caption="../report/sensitivity_seeds.rst",
            category=SENS_CATEGORY,
        ),
        md=results("tables/sensitivity_seeds.md"),
        record=record("sensitivity_seeds", None, "sensitivity", across=True),
    log:
        logs("sensitivity_seeds"),
    benchmark:
        bench("sensitivity_seeds")
    conda:
        ENV
    resources:
        **resources_of("sensitivity_seeds"),
    params:
        cfg={
            "seeds": SEEDS,
            "attribution": {
                "taylor": {"threshold": SENS_ATTR["taylor"]["threshold"]},
                "fgsm": {"report_eps": SENS_ATTR["fgsm"]["report_eps"]},
                "word_flips": {"max_flips": SENS_ATTR["word_flips"]["max_flips"]},
            },
        },
    script:
        "../scripts/sensitivity_seeds.py"


rule taylor_validity_figure:
    input:
        tables=expand(rules.taylor_validity.output.csv, seed=SEEDS),
    output:
        png=report(
            results("figures/taylor_validity_figure.png"),
            caption="../report/taylor_validity_figure.rst",
            category=SENS_CATEGORY,
        ),
        pdf=results("figures/taylor_validity_figure.pdf"),
        record=record("taylor_validity_figure", None, "figures", across=True),
    log:
        logs("taylor_validity_figure"),
    benchmark:
        bench("taylor_validity_figure")
    conda:
        ENV
    resources:
        **resources_of("taylor_validity_figure"),
    params:
        cfg={
            "seeds": SEEDS,
            "threshold": SENS_ATTR["taylor"]["threshold"],
            "figure": SENS["figure"],
        },
    script:
        "../scripts/taylor_validity_figure.py"


rule fgsm_robustness_figure:
    input:
        tables=expand(rules.fgsm_robustness.output.csv, seed=SEEDS),
    output:
        png=report(
            results("figures/fgsm_robustness_figure.png"),
            caption="../report/fgsm_robustness_figure.rst",
            category=SENS_CATEGORY,
        ),
        pdf=results("figures/fgsm_robustness_figure.pdf"),
        record=record("fgsm_robustness_figure", None, "figures", across=True),
    log:
        logs("fgsm_robustness_figure"),
    benchmark:
        bench("fgsm_robustness_figure")
    conda:
        ENV
    resources:
        **resources_of("fgsm_robustness_figure"),
    params:
        cfg={"seeds": SEEDS, "figure": SENS["figure"]},
    script:
        "../scripts/fgsm_robustness_figure.py"


rule sensitivity:
    input:
        expand(rules.taylor_validity.output, seed=SEEDS),
        expand(rules.fgsm_robustness.output, seed=SEEDS),
        expand(rules.bow_word_flips.output, seed=SEEDS),
        expand(rules.cnn_word_substitutions.output, seed=SEEDS),
        rules.sensitivity_seeds.output,
        rules.taylor_validity_figure.output,
        rules.fgsm_robustness_figure.output,


register_section(
    "sensitivity",
    targets=rules.sensitivity.input,
    seed_tables=[rules.sensitivity_seeds.output.md],
    figures=[
        rules.taylor_validity_figure.output.png,
        rules.fgsm_robustness_figure.output.png,
    ],
)
