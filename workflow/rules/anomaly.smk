# Beyond the paper (companion article, issue 13 items 3-4): gradient-norm anomaly detection on
# every model and deletion curves by feature groups, per seed; both across seeds, and a figure.
# Stage functions: inputgrad.sections.anomaly.stages; hyperparameters:
# config/hydra/attribution/anomaly.yaml; figure style: config/hydra/experiment/anomaly.yaml.

ANOMALY = CFG["anomaly"]
ANOMALY_CATEGORY = "Beyond the paper: anomaly detection, grouped attributions"


rule gradient_anomaly:
    input:
        unpack(model_files("gradient_anomaly")),  # one input per scored model, named after it
        mnist=rules.prepare_mnist.output.data,
        imdb_test=rules.prepare_imdb.output.test,
    output:
        table=report(
            results("tables/seed{seed}/gradient_anomaly.csv"),
            caption="../report/gradient_anomaly.rst",
            category=ANOMALY_CATEGORY,
        ),
        record=record(
            "gradient_anomaly",
            "seed{seed}",
            "anomaly",
            configs=("cfg",),
            models=evaluated("gradient_anomaly"),
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
        models=scored("gradient_anomaly"),
        seed=seed_of,
    script:
        "../scripts/gradient_anomaly.py"


rule grouped_deletion:
    input:
        mnist_mlp=expand(rules.train_mnist.output.model, model="mnist_mlp", allow_missing=True)[0],
        imdb_cnn=rules.train_imdb_cnn.output.model,
        mnist=rules.prepare_mnist.output.data,
        imdb_test=rules.prepare_imdb.output.test,
    output:
        table=report(
            results("tables/seed{seed}/grouped_deletion.csv"),
            caption="../report/grouped_deletion.rst",
            category=ANOMALY_CATEGORY,
        ),
        record=record(
            "grouped_deletion",
            "seed{seed}",
            "anomaly",
            configs=("cfg",),
            models=(
                "mnist_mlp",
                "imdb_cnn",
            ),
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
    script:
        "../scripts/grouped_deletion.py"


rule anomaly_seeds:
    input:
        anomaly=expand(rules.gradient_anomaly.output.table, seed=SEEDS),
        deletion=expand(rules.grouped_deletion.output.table, seed=SEEDS),
    output:
        csv=report(
            results("tables/anomaly_seeds.csv"),
            caption="../report/anomaly_seeds.rst",
            category=ANOMALY_CATEGORY,
        ),
        md=results("tables/anomaly_seeds.md"),
        record=record("anomaly_seeds", None, "anomaly", across=True),
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
    script:
        "../scripts/anomaly_seeds.py"


rule anomaly_figure:
    input:
        table=rules.anomaly_seeds.output.csv,
    output:
        png=report(
            results("figures/anomaly_figure.png"),
            caption="../report/anomaly_figure.rst",
            category=ANOMALY_CATEGORY,
        ),
        pdf=results("figures/anomaly_figure.pdf"),
        record=record("anomaly_figure", None, "figures", across=True),
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
    script:
        "../scripts/anomaly_figure.py"


rule anomaly:
    input:
        expand(rules.gradient_anomaly.output, seed=SEEDS),
        expand(rules.grouped_deletion.output, seed=SEEDS),
        rules.anomaly_seeds.output,
        rules.anomaly_figure.output,


register_section(
    "anomaly",
    targets=rules.anomaly.input,
    seed_tables=[rules.anomaly_seeds.output.md],
    figures=[rules.anomaly_figure.output.png],
)
