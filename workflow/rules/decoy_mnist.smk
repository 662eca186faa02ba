# Beyond the paper, the companion article's watermark example measured: Decoy MNIST (Ross et
# al. 2017). Per seed, an MNIST MLP trained on decoyed digits (decoy_mnist_mlp) and the same
# with the right-reasons penalty (decoy_mnist_repaired), scored with the clean MNIST MLP
# (control, rule train_mnist) on the three test versions; their spread over the seeds; the
# mean-map figure. Stage functions: inputgrad.sections.decoy_mnist.stages; hyperparameters:
# config/hydra/experiment/decoy_mnist{,_mlp,_repaired}.yaml, attribution/decoy_mnist.yaml,
# data/default.yaml (decoy_mnist).

DECOY_MODELS = ["decoy_mnist_mlp", "decoy_mnist_repaired"]
SECTION_MODELS.update(dict.fromkeys(DECOY_MODELS, "pixels"))
# their training decoys the prepared MNIST (input `data`) in the job, seeded by the config
SECTION_DATASETS.update(
    dict.fromkeys(
        DECOY_MODELS,
        {"name": "decoy-mnist", "train": "data", "test": "data", "made_by": "prepare_mnist"},
    )
)
DECOY_CONTROL = "mnist_mlp"
DECOY_CFG = CFG["decoy_mnist"]
DECOY_CATEGORY = "Beyond the paper: Decoy MNIST"


rule train_decoy_mnist:
    input:
        data=rules.prepare_mnist.output.data,
        raw=lambda wc: raw_file(wc.model),
    output:
        model=results("models/{model}/seed{seed}/model.keras"),
        metrics=results("models/{model}/seed{seed}/metrics.json"),
        history=results("models/{model}/seed{seed}/history.csv"),
        config=results("models/{model}/seed{seed}/config.yaml"),
        example=results("models/{model}/seed{seed}/input_example.npy"),
        record=record("train_decoy_mnist", "{model}/seed{seed}", models=DECOY_MODELS, training=True),
    log:
        logs("train_decoy_mnist", "{model}/seed{seed}"),
    benchmark:
        bench("train_decoy_mnist", "{model}/seed{seed}")
    wildcard_constraints:
        model="|".join(DECOY_MODELS),
        seed=r"\d+",
    priority: 2
    conda:
        ENV
    resources:
        **resources_of("train_decoy_mnist"),
        steps_per_execution=lambda wc: execution(wc.model)["steps_per_execution"],
    params:
        # the training keys and the generator's (data.decoy_mnist), nothing else
        cfg=lambda wc: {
            **training(wc.model),
            "data": pick(CFG[wc.model], "data.decoy_mnist")["data"],
        },
        seed=seed_of,
        provenance=True,  # the machine, in the record (infra.stage)
    script:
        "../scripts/train_decoy_mnist.py"


rule decoy_mnist_scores:
    input:
        decoy=expand(
            rules.train_decoy_mnist.output.model, model="decoy_mnist_mlp", allow_missing=True
        )[0],
        repaired=expand(
            rules.train_decoy_mnist.output.model, model="decoy_mnist_repaired", allow_missing=True
        )[0],
        control=results(f"models/{DECOY_CONTROL}/seed{{seed}}/model.keras"),
        data=rules.prepare_mnist.output.data,
    output:
        table=report(
            results("tables/seed{seed}/decoy_mnist_scores.csv"),
            caption="../report/decoy_mnist_scores.rst",
            category=DECOY_CATEGORY,
        ),
        summary=results("tables/seed{seed}/decoy_mnist_scores.json"),
        maps=results("attributions/decoy_mnist/seed{seed}/decoy_mnist_scores.npz"),
        record=record(
            "decoy_mnist_scores",
            "seed{seed}",
            "decoy_mnist",
            configs=("cfg",),
            models=(
                *DECOY_MODELS,
                DECOY_CONTROL,
            ),
        ),
    log:
        logs("decoy_mnist_scores", "seed{seed}"),
    benchmark:
        bench("decoy_mnist_scores", "seed{seed}")
    wildcard_constraints:
        seed=r"\d+",
    conda:
        ENV
    resources:
        **resources_of("decoy_mnist_scores"),
    params:
        cfg={
            "data": pick(DECOY_CFG, "data.decoy_mnist")["data"],
            "attribution": DECOY_CFG["attribution"],
        },
        seed=seed_of,
    script:
        "../scripts/decoy_mnist_scores.py"


rule decoy_mnist_figure:
    input:
        maps=expand(rules.decoy_mnist_scores.output.maps, seed=PAPER_SEED)[0],
        summary=expand(rules.decoy_mnist_scores.output.summary, seed=PAPER_SEED)[0],
    output:
        png=report(
            results("figures/decoy_mnist_figure.png"),
            caption="../report/decoy_mnist_figure.rst",
            category=DECOY_CATEGORY,
        ),
        pdf=results("figures/decoy_mnist_figure.pdf"),
        record=record(
            "decoy_mnist_figure",
            None,
            "decoy_mnist",
            models=(
                *DECOY_MODELS,
                DECOY_CONTROL,
            ),
            seed=PAPER_SEED,
        ),
    log:
        logs("decoy_mnist_figure"),
    benchmark:
        bench("decoy_mnist_figure")
    conda:
        ENV
    resources:
        **resources_of("decoy_mnist_figure"),
    params:
        cfg={"figure": DECOY_CFG["figure"]},
    script:
        "../scripts/decoy_mnist_figure.py"


rule decoy_mnist_seeds:
    input:
        tables=expand(rules.decoy_mnist_scores.output.table, seed=SEEDS),
        summaries=expand(rules.decoy_mnist_scores.output.summary, seed=SEEDS),
    output:
        csv=report(
            results("tables/decoy_mnist_seeds.csv"),
            caption="../report/decoy_mnist_seeds.rst",
            category=DECOY_CATEGORY,
        ),
        md=results("tables/decoy_mnist_seeds.md"),
        record=record("decoy_mnist_seeds", None, "decoy_mnist", across=True),
    log:
        logs("decoy_mnist_seeds"),
    benchmark:
        bench("decoy_mnist_seeds")
    conda:
        ENV
    resources:
        **resources_of("decoy_mnist_seeds"),
    params:
        cfg={"seeds": SEEDS},
    script:
        "../scripts/decoy_mnist_seeds.py"


rule decoy_mnist:
    input:
        expand(rules.train_decoy_mnist.output, model=DECOY_MODELS, seed=SEEDS),
        expand(rules.decoy_mnist_scores.output, seed=SEEDS),
        rules.decoy_mnist_figure.output,
        rules.decoy_mnist_seeds.output,


register_section(
    "decoy_mnist",
    targets=rules.decoy_mnist.input,
    seed_tables=[rules.decoy_mnist_seeds.output.md],
    figures=[rules.decoy_mnist_figure.output.png],
)
