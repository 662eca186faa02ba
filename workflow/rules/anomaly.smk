# Beyond the paper (companion article, issue 13 items 3-4): gradient-norm anomaly detection on
# every model and deletion curves by feature groups, per seed; both across seeds, and a figure.
# Stage functions: inputgrad.sections.anomaly.stages; hyperparameters:
# config/hydra/attribution/anomaly.yaml; figure style: config/hydra/experiment/anomaly.yaml.

ANOMALY = CFG["anomaly"]
ANOMALY_CATEGORY = "Beyond the paper: anomaly detection, grouped attributions"


rule gradient_anomaly:
    input:
        mnist_mlp=expand(rules.train_mnist.output.model, model="mnist_mlp", allow_missing=True)[0],
        mnist_logreg=expand(
            rules.train_mnist.output.model, model="mnist_logreg", allow_missing=True
        )[0],
        imdb_cnn=rules.train_imdb_cnn.output.model,
        imdb_bow_mlp=rules.train_imdb_bow_mlp.output.model,
        # the four models' runs of this seed (order of MODELS)
        run_id=[
            *expand(rules.train_mnist.output.run_id, model=MNIST_MODELS, allow_missing=True),
            rules.train_imdb_cnn.output.run_id,
            rules.train_imdb_bow_mlp.output.run_id,
        ],
        mnist=rules.prepare_mnist.output.data,
        imdb_test=rules.prepare_imdb.output.test,
    output:
        table=report(
            results("tables/seed{seed}/gradient_anomaly.csv"),
            caption="../report/gradient_anomaly.rst",
            category=ANOMALY_CATEGORY,
        ),
    log:
        logs("gradient_anomaly", "seed{seed}"),
    benchmark:
        bench("gradient_anomaly", "seed{seed}")
    wildcard_constraints:
        seed=r"\d+",
    conda:
        ENV
    resources:
        **resources_of("gradient_anomaly"),
    params:
        cfg={"anomaly": ANOMALY["attribution"]["anomaly"], "data": ANOMALY["data"]},
        seed=seed_of,
        track=track("anomaly", configs=("cfg",)),
    script:
        "../scripts/gradient_anomaly.py"


rule grouped_deletion:
    input:
        mnist_mlp=rules.gradient_anomaly.input.mnist_mlp,
        imdb_cnn=rules.gradient_anomaly.input.imdb_cnn,
        run_id=[
            expand(rules.train_mnist.output.run_id, model="mnist_mlp", allow_missing=True)[0],
            rules.train_imdb_cnn.output.run_id,
        ],
        mnist=rules.prepare_mnist.output.data,
        imdb_test=rules.prepare_imdb.output.test,
    output:
        table=report(
            results("tables/seed{seed}/grouped_deletion.csv"),
            caption="../report/grouped_deletion.rst",
            category=ANOMALY_CATEGORY,
        ),
    log:
        logs("grouped_deletion", "seed{seed}"),
    benchmark:
        bench("grouped_deletion", "seed{seed}")
    wildcard_constraints:
        seed=r"\d+",
    conda:
        ENV
    resources:
        **resources_of("grouped_deletion"),
    params:
        cfg={"grouped": ANOMALY["attribution"]["grouped"], "data": ANOMALY["data"]},
        seed=seed_of,
        track=track("anomaly", configs=("cfg",)),
    script:
        "../scripts/grouped_deletion.py"


rule anomaly_seeds:
    input:
        anomaly=expand(rules.gradient_anomaly.output.table, seed=SEEDS),
        deletion=expand(rules.grouped_deletion.output.table, seed=SEEDS),
        run_id=expand(rules.gradient_anomaly.input.run_id, seed=PAPER_SEED),
    output:
        csv=report(
            results("tables/anomaly_seeds.csv"),
            caption="../report/anomaly_seeds.rst",
            category=ANOMALY_CATEGORY,
        ),
        md=results("tables/anomaly_seeds.md"),
    log:
        logs("anomaly_seeds"),
    benchmark:
        bench("anomaly_seeds")
    conda:
        ENV
    resources:
        **resources_of("anomaly_seeds"),
    params:
        cfg={"seeds": SEEDS},
        track=track("anomaly"),
    script:
        "../scripts/anomaly_seeds.py"


rule anomaly_figure:
    input:
        table=rules.anomaly_seeds.output.csv,
        run_id=rules.anomaly_seeds.input.run_id,
    output:
        png=report(
            results("figures/anomaly_figure.png"),
            caption="../report/anomaly_figure.rst",
            category=ANOMALY_CATEGORY,
        ),
        pdf=results("figures/anomaly_figure.pdf"),
    log:
        logs("anomaly_figure"),
    benchmark:
        bench("anomaly_figure")
    conda:
        ENV
    resources:
        **resources_of("anomaly_figure"),
    params:
        cfg={"figure": ANOMALY["figure"]},
        track=track("figures"),
    script:
        "../scripts/anomaly_figure.py"


rule anomaly:
    input:
        expand(rules.gradient_anomaly.output, seed=SEEDS),
        expand(rules.grouped_deletion.output, seed=SEEDS),
        rules.anomaly_seeds.output,
        rules.anomaly_figure.output,
