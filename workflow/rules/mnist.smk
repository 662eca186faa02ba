# Paper section 5.3: MLP and logistic regression on MNIST, every seed -> mean Jacobian per class
# over the test digits (all digits and class-conditional) -> compared with the regression's
# weights (per-seed correlation table, cross-seed table; figures from the first seed and the
# seed-averaged variants).
# Stage functions: inputgrad.sections.mnist.stages; hyperparameters: config/hydra/experiment/
# mnist_{mlp,logreg}.yaml (attribution/mnist.yaml; figure style in experiment/mnist_mlp.yaml).


rule train_mnist:
    input:
        data=rules.prepare_mnist.output.data,
        raw=lambda wc: raw_file(wc.model),
    output:
        model=results("models/{model}/seed{seed}/model.keras"),
        metrics=results("models/{model}/seed{seed}/metrics.json"),
        history=results("models/{model}/seed{seed}/history.csv"),
        config=results("models/{model}/seed{seed}/config.yaml"),
        example=results("models/{model}/seed{seed}/input_example.npy"),
        record=record("train_mnist", "{model}/seed{seed}", models=PIXEL_MODELS, training=True),
    log:
        logs("train_mnist", "{model}/seed{seed}"),
    benchmark:
        bench("train_mnist", "{model}/seed{seed}")
    wildcard_constraints:
        model="|".join(PIXEL_MODELS),
        seed=r"\d+",
    priority: 2
    conda:
        ENV
    resources:
        **resources_of("train_mnist"),
        steps_per_execution=lambda wc: execution(wc.model)["steps_per_execution"],
    params:
        cfg=lambda wc: training(wc.model),
        seed=seed_of,
        provenance=True,  # the machine, in the record (infra.stage)
    script:
        "../scripts/train_mnist.py"


rule mnist_jacobian:
    input:
        model=rules.train_mnist.output.model,
        data=rules.prepare_mnist.output.data,
    output:
        jacobian=results("attributions/{model}/seed{seed}/mnist_jacobian.npz"),
        record=record(
            "mnist_jacobian",
            "{model}/seed{seed}",
            "attributions",
            configs=("cfg",),
            models=PIXEL_MODELS,
        ),
    log:
        logs("mnist_jacobian", "{model}/seed{seed}"),
    benchmark:
        bench("mnist_jacobian", "{model}/seed{seed}")
    wildcard_constraints:
        model="|".join(PIXEL_MODELS),
        seed=r"\d+",
    conda:
        ENV
    resources:
        **resources_of("mnist_jacobian"),
    params:
        cfg=lambda wc: {k: CFG[wc.model][k] for k in ("model", "attribution")},
    script:
        "../scripts/mnist_jacobian.py"


rule mnist_logreg_weights:
    input:
        model=expand(rules.train_mnist.output.model, model="mnist_logreg", allow_missing=True)[0],
    output:
        weights=results("attributions/mnist_logreg/seed{seed}/mnist_logreg_weights.npz"),
        record=record(
            "mnist_logreg_weights", "seed{seed}", "attributions", models=("mnist_logreg",)
        ),
    log:
        logs("mnist_logreg_weights", "seed{seed}"),
    benchmark:
        bench("mnist_logreg_weights", "seed{seed}")
    wildcard_constraints:
        seed=r"\d+",
    conda:
        ENV
    resources:
        **resources_of("mnist_logreg_weights"),
    script:
        "../scripts/mnist_logreg_weights.py"


rule mnist_jacobian_table:
    input:
        mlp=expand(rules.mnist_jacobian.output.jacobian, model="mnist_mlp", allow_missing=True)[0],
        logreg=expand(
            rules.mnist_jacobian.output.jacobian, model="mnist_logreg", allow_missing=True
        )[0],
        weights=rules.mnist_logreg_weights.output.weights,
    output:
        csv=report(
            results("tables/seed{seed}/mnist_jacobian_table.csv"),
            caption="../report/mnist_jacobian_table.rst",
            category="5.3 MNIST",
            subcategory="seed {seed}",
        ),
        md=results("tables/seed{seed}/mnist_jacobian_table.md"),
        record=record("mnist_jacobian_table", "seed{seed}", "tables", models=(*MNIST_MODELS,)),
    log:
        logs("mnist_jacobian_table", "seed{seed}"),
    benchmark:
        bench("mnist_jacobian_table", "seed{seed}")
    wildcard_constraints:
        seed=r"\d+",
    conda:
        ENV
    resources:
        **resources_of("mnist_jacobian_table"),
    script:
        "../scripts/mnist_jacobian_table.py"


rule mnist_jacobian_figure:
    input:
        mlp=expand(rules.mnist_jacobian.output.jacobian, model="mnist_mlp", seed=PAPER_SEED)[0],
        weights=expand(rules.mnist_logreg_weights.output.weights, seed=PAPER_SEED)[0],
        table=expand(rules.mnist_jacobian_table.output.csv, seed=PAPER_SEED)[0],
    output:
        png=report(
            results("figures/mnist_jacobian_figure.png"),
            caption="../report/mnist_jacobian_figure.rst",
            category="5.3 MNIST",
        ),
        pdf=results("figures/mnist_jacobian_figure.pdf"),
        record=record(
            "mnist_jacobian_figure", None, "figures", models=(*MNIST_MODELS,), seed=PAPER_SEED
        ),
    log:
        logs("mnist_jacobian_figure"),
    benchmark:
        bench("mnist_jacobian_figure")
    conda:
        ENV
    resources:
        **resources_of("mnist_jacobian_figure"),
    params:
        cfg={"figure": CFG["mnist_mlp"]["figure"]},
    script:
        "../scripts/mnist_jacobian_figure.py"


rule mnist_seeds:
    input:
        mlp=expand(rules.mnist_jacobian.output.jacobian, model="mnist_mlp", seed=SEEDS),
        logreg=expand(rules.mnist_jacobian.output.jacobian, model="mnist_logreg", seed=SEEDS),
        weights=expand(rules.mnist_logreg_weights.output.weights, seed=SEEDS),
    output:
        csv=report(
            results("tables/mnist_seeds.csv"),
            caption="../report/mnist_seeds.rst",
            category="5.3 MNIST",
        ),
        md=results("tables/mnist_seeds.md"),
        record=record("mnist_seeds", None, "tables", across=True),
    log:
        logs("mnist_seeds"),
    benchmark:
        bench("mnist_seeds")
    conda:
        ENV
    resources:
        **resources_of("mnist_seeds"),
    params:
        cfg={"seeds": SEEDS},
    script:
        "../scripts/mnist_seeds.py"


rule mnist_jacobian_variants_figure:
    input:
        mlp=rules.mnist_jacobian_figure.input.mlp,
        mlp_seeds=rules.mnist_seeds.input.mlp,
        weights_seeds=rules.mnist_seeds.input.weights,
    output:
        png=report(
            results("figures/mnist_jacobian_variants_figure.png"),
            caption="../report/mnist_jacobian_variants_figure.rst",
            category="5.3 MNIST",
        ),
        pdf=results("figures/mnist_jacobian_variants_figure.pdf"),
        record=record("mnist_jacobian_variants_figure", None, "figures", across=True),
    log:
        logs("mnist_jacobian_variants_figure"),
    benchmark:
        bench("mnist_jacobian_variants_figure")
    conda:
        ENV
    resources:
        **resources_of("mnist_jacobian_variants_figure"),
    params:
        cfg={"seeds": SEEDS, "figure": CFG["mnist_mlp"]["figure"]},
    script:
        "../scripts/mnist_jacobian_variants_figure.py"


rule mnist:
    input:
        expand(rules.train_mnist.output, model=MNIST_MODELS, seed=SEEDS),
        expand(rules.mnist_jacobian.output, model=MNIST_MODELS, seed=SEEDS),
        expand(rules.mnist_logreg_weights.output, seed=SEEDS),
        expand(rules.mnist_jacobian_table.output, seed=SEEDS),
        rules.mnist_jacobian_figure.output,
        rules.mnist_seeds.output,
        rules.mnist_jacobian_variants_figure.output,


register_section(
    "mnist",
    targets=rules.mnist.input,
    tables=expand(rules.mnist_jacobian_table.output.csv, seed=PAPER_SEED),
    seed_tables=[rules.mnist_seeds.output.md],
    figures=[
        rules.mnist_jacobian_figure.output.png,
        rules.mnist_jacobian_variants_figure.output.png,
    ],
)
