# Paper section 5.3: MLP and logistic regression on MNIST -> mean Jacobian per class over the
# test digits -> compared with the regression's weights (figure + correlation table).

MNIST_MODELS = ["mnist_mlp", "mnist_logreg"]
MNIST_HYPER = {name: hyper(name) for name in MNIST_MODELS}
MNIST_DIR = f"{RESULTS}/models/{{model}}/seed{{seed}}"
MNIST_ATTR = f"{RESULTS}/attributions/{{model}}/seed{{seed}}"
MNIST_CATEGORY = "5.3 MNIST"
MNIST_EXPERIMENT = f"{RESULTS}/mlflow/experiment_id.txt"  # scripts find the MLflow store from it


rule train_mnist:
    input:
        data=f"{RESULTS}/data/mnist.npz",
        experiment=MNIST_EXPERIMENT,
    output:
        model=f"{MNIST_DIR}/model.keras",
        metrics=f"{MNIST_DIR}/metrics.json",
        history=f"{MNIST_DIR}/history.csv",
        run_id=f"{MNIST_DIR}/run_id.txt",
    wildcard_constraints:
        model="|".join(MNIST_MODELS),
        seed=r"\d+",
    params:
        hyper=lambda wc: {k: MNIST_HYPER[wc.model][k] for k in ("model", "train")},
    log:
        f"{RESULTS}/logs/train_mnist/{{model}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_mnist_{{model}}_seed{{seed}}.tsv"
    conda:
        ENV
    script:
        "../scripts/mnist_train.py"


rule mnist_jacobian:
    input:
        model=rules.train_mnist.output.model,
        run_id=rules.train_mnist.output.run_id,
        data=f"{RESULTS}/data/mnist.npz",
        experiment=MNIST_EXPERIMENT,
    output:
        jacobian=f"{MNIST_ATTR}/mean_jacobian.npz",
    wildcard_constraints:
        model="|".join(MNIST_MODELS),
        seed=r"\d+",
    params:
        hyper=lambda wc: {k: MNIST_HYPER[wc.model][k] for k in ("model", "attribution")},
    log:
        f"{RESULTS}/logs/mnist_jacobian/{{model}}_seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/mnist_jacobian_{{model}}_seed{{seed}}.tsv"
    conda:
        ENV
    script:
        "../scripts/mnist_jacobian.py"


rule mnist_logreg_weights:
    input:
        model=f"{RESULTS}/models/mnist_logreg/seed{{seed}}/model.keras",
        run_id=f"{RESULTS}/models/mnist_logreg/seed{{seed}}/run_id.txt",
        experiment=MNIST_EXPERIMENT,
    output:
        weights=f"{RESULTS}/attributions/mnist_logreg/seed{{seed}}/weights.npz",
    wildcard_constraints:
        seed=r"\d+",
    log:
        f"{RESULTS}/logs/mnist_logreg_weights/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/mnist_logreg_weights_seed{{seed}}.tsv"
    conda:
        ENV
    script:
        "../scripts/mnist_weights.py"


rule mnist_jacobian_table:
    input:
        mlp=expand(rules.mnist_jacobian.output.jacobian, model="mnist_mlp", seed=PAPER_SEED)[0],
        logreg=expand(rules.mnist_jacobian.output.jacobian, model="mnist_logreg", seed=PAPER_SEED)[0],
        weights=expand(rules.mnist_logreg_weights.output.weights, seed=PAPER_SEED)[0],
        run_ids=expand(rules.train_mnist.output.run_id, model=MNIST_MODELS, seed=PAPER_SEED),
        experiment=MNIST_EXPERIMENT,
    output:
        csv=report(
            f"{RESULTS}/tables/mnist_jacobian_vs_logreg.csv",
            caption="../report/mnist_jacobian_vs_logreg_table.rst",
            category=MNIST_CATEGORY,
        ),
        md=f"{RESULTS}/tables/mnist_jacobian_vs_logreg.md",
    log:
        f"{RESULTS}/logs/mnist_jacobian_table.log",
    benchmark:
        f"{RESULTS}/benchmarks/mnist_jacobian_table.tsv"
    conda:
        ENV
    script:
        "../scripts/mnist_table.py"


rule mnist_jacobian_figure:
    input:
        mlp=rules.mnist_jacobian_table.input.mlp,
        weights=rules.mnist_jacobian_table.input.weights,
        table=rules.mnist_jacobian_table.output.csv,
        run_ids=rules.mnist_jacobian_table.input.run_ids,
        experiment=MNIST_EXPERIMENT,
    output:
        png=report(
            f"{RESULTS}/figures/mnist_jacobian_vs_logreg.png",
            caption="../report/mnist_jacobian_vs_logreg.rst",
            category=MNIST_CATEGORY,
        ),
        pdf=f"{RESULTS}/figures/mnist_jacobian_vs_logreg.pdf",
    params:
        figure=MNIST_HYPER["mnist_mlp"]["figure"],
    log:
        f"{RESULTS}/logs/mnist_jacobian_figure.log",
    benchmark:
        f"{RESULTS}/benchmarks/mnist_jacobian_figure.tsv"
    conda:
        ENV
    script:
        "../scripts/mnist_figure.py"


rule mnist:
    input:
        expand(rules.train_mnist.output, model=MNIST_MODELS, seed=config["seeds"]),
        expand(rules.mnist_jacobian.output, model=MNIST_MODELS, seed=config["seeds"]),
        expand(rules.mnist_logreg_weights.output, seed=config["seeds"]),
        rules.mnist_jacobian_table.output,
        rules.mnist_jacobian_figure.output,
