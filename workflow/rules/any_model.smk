# The paper's "any predictive model" (Sections 1-2, 4): regression on scikit-learn's bundled
# diabetes data with four models, and DeepDream's MNIST form (Section 3), the class-model images
# of the MNIST models, per seed, and their spread over the seeds. Stage functions:
# inputgrad.sections.any_model.stages; hyperparameters: config/hydra/attribution/any_model.yaml;
# figure style: config/hydra/experiment/any_model.yaml.

ANY_ATTR = CFG["any_model"]["attribution"]
ANY_CATEGORY = "Beyond the paper"


rule any_model_regression:
    output:
        **{name: regression_model_file(name) for name in REGRESSION_FLAVOR},
        table=report(
            results("tables/seed{seed}/any_model_regression.csv"),
            caption="../report/any_model_regression.rst",
            category=ANY_CATEGORY,
        ),
        features=results("tables/seed{seed}/any_model_regression_features.csv"),
        steps=results("tables/seed{seed}/any_model_regression_steps.csv"),
        summary=results("tables/seed{seed}/any_model_regression.json"),
        split=results("data/diabetes/seed{seed}/split.npz"),
        record=record(
            "any_model_regression",
            "seed{seed}",
            "any_model/seed{seed}",
            configs=("cfg",),
            stage_models=regression_models,
        ),
    log:
        logs("any_model_regression", "seed{seed}"),
    benchmark:
        bench("any_model_regression", "seed{seed}")
    wildcard_constraints:
        seed=r"\d+",
    conda:
        ENV
    resources:
        **resources_of("any_model_regression"),
    params:
        cfg=ANY_ATTR["regression"],
        seed=seed_of,
    script:
        "../scripts/any_model_regression.py"


rule class_images:
    input:
        mlp=expand(rules.train_mnist.output.model, model="mnist_mlp", allow_missing=True)[0],
        logreg=expand(rules.train_mnist.output.model, model="mnist_logreg", allow_missing=True)[0],
        jacobian=expand(
            rules.mnist_jacobian.output.jacobian, model="mnist_mlp", allow_missing=True
        )[0],
    output:
        table=report(
            results("tables/seed{seed}/class_images.csv"),
            caption="../report/class_images.rst",
            category=ANY_CATEGORY,
        ),
        summary=results("tables/seed{seed}/class_images.json"),
        images=results("attributions/mnist_mlp/seed{seed}/class_images.npz"),
        record=record(
            "class_images",
            "seed{seed}",
            "any_model",
            configs=("cfg",),
            models=(
                "mnist_mlp",
                "mnist_logreg",
            ),
        ),
    log:
        logs("class_images", "seed{seed}"),
    benchmark:
        bench("class_images", "seed{seed}")
    wildcard_constraints:
        seed=r"\d+",
    conda:
        ENV
    resources:
        **resources_of("class_images"),
    params:
        cfg=ANY_ATTR["class_images"],
        seed=seed_of,
    script:
        "../scripts/class_images.py"


rule class_images_figure:
    input:
        images=expand(rules.class_images.output.images, seed=PAPER_SEED)[0],
    output:
        png=report(
            results("figures/class_images_figure.png"),
            caption="../report/class_images_figure.rst",
            category=ANY_CATEGORY,
        ),
        pdf=results("figures/class_images_figure.pdf"),
        record=record(
            "class_images_figure", None, "any_model", models=("mnist_mlp",), seed=PAPER_SEED
        ),
    log:
        logs("class_images_figure"),
    benchmark:
        bench("class_images_figure")
    conda:
        ENV
    resources:
        **resources_of("class_images_figure"),
    params:
        cfg={"figure": CFG["any_model"]["figure"]},
    script:
        "../scripts/class_images_figure.py"


rule any_model_seeds:
    input:
        regression=expand(rules.any_model_regression.output.table, seed=SEEDS),
        images=expand(rules.class_images.output.table, seed=SEEDS),
    output:
        csv=report(
            results("tables/any_model_seeds.csv"),
            caption="../report/any_model_seeds.rst",
            category=ANY_CATEGORY,
        ),
        md=results("tables/any_model_seeds.md"),
        record=record("any_model_seeds", None, "any_model", across=True),
    log:
        logs("any_model_seeds"),
    benchmark:
        bench("any_model_seeds")
    conda:
        ENV
    resources:
        **resources_of("any_model_seeds"),
    params:
        cfg={"seeds": SEEDS},
    script:
        "../scripts/any_model_seeds.py"


rule any_model:
    input:
        expand(rules.any_model_regression.output, seed=SEEDS),
        expand(rules.class_images.output, seed=SEEDS),
        rules.class_images_figure.output,
        rules.any_model_seeds.output,


register_section(
    "any_model",
    targets=rules.any_model.input,
    seed_tables=[rules.any_model_seeds.output.md],
    figures=[rules.class_images_figure.output.png],
)
