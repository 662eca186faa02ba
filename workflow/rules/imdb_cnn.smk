# Paper section 5.1: word-embedding CNN on IMDB -> per-word gradient norms -> Table 1 per seed,
# Table 1 across seeds (null reference, stability) + views of the first seed.
# Stage functions: inputgrad.sections.imdb_cnn.stages; hyperparameters:
# config/hydra/experiment/imdb_cnn.yaml (model, train, attribution; figure style).

CNN = CFG["imdb_cnn"]
CNN_CATEGORY = "5.1 IMDB CNN"


rule train_imdb_cnn:
    input:
        train=rules.prepare_imdb.output.train,
        test=rules.prepare_imdb.output.test,
        raw=raw_file("imdb_cnn"),
    output:
        model=results("models/imdb_cnn/seed{seed}/model.keras"),
        metrics=results("models/imdb_cnn/seed{seed}/metrics.json"),
        history=results("models/imdb_cnn/seed{seed}/history.csv"),
        config=results("models/imdb_cnn/seed{seed}/config.yaml"),
        example=results("models/imdb_cnn/seed{seed}/input_example.npy"),
        record=record("train_imdb_cnn", "seed{seed}", models=("imdb_cnn",), training=True),
    log:
        logs("train_imdb_cnn", "seed{seed}"),
    benchmark:
        bench("train_imdb_cnn", "seed{seed}")
    wildcard_constraints:
        seed=r"\d+",
    # the longest jobs first, so no long job is left for the end (docs/timing.md)
    priority: 3
    conda:
        ENV
    resources:
        **execution("imdb_cnn"),
        **resources_of("train_imdb_cnn", threads=CNN["train"]["threads"]),
    params:
        cfg=training("imdb_cnn"),
        seed=seed_of,
        tf_threads=CNN["train"]["threads"],
        provenance=True,  # the machine, in the record (infra.stage)
    script:
        "../scripts/train_imdb_cnn.py"


rule imdb_cnn_word_gradients:
    input:
        model=rules.train_imdb_cnn.output.model,
        test=rules.prepare_imdb.output.test,
    output:
        gradients=results("attributions/imdb_cnn/seed{seed}/imdb_cnn_word_gradients.npz"),
        summary=results("attributions/imdb_cnn/seed{seed}/imdb_cnn_word_gradients.json"),
        record=record("imdb_cnn_word_gradients", "seed{seed}", "attributions", models=("imdb_cnn",)),
    log:
        logs("imdb_cnn_word_gradients", "seed{seed}"),
    benchmark:
        bench("imdb_cnn_word_gradients", "seed{seed}")
    wildcard_constraints:
        seed=r"\d+",
    conda:
        ENV
    resources:
        **resources_of("imdb_cnn_word_gradients"),
    params:
        cfg={
            "model": CNN["model"],
            "data": CNN["data"],
            "attribution": {
                k: CNN["attribution"][k] for k in ("targets", "batch_size", "chunk_size")
            },
        },
    script:
        "../scripts/imdb_cnn_word_gradients.py"


rule table1_expressions:
    input:
        gradients=rules.imdb_cnn_word_gradients.output.gradients,
        test=rules.prepare_imdb.output.test,
        tokens=rules.prepare_imdb.output.tokens,
    output:
        csv=report(
            results("tables/seed{seed}/table1_expressions.csv"),
            caption="../report/table1_expressions.rst",
            category=CNN_CATEGORY,
        ),
        md=results("tables/seed{seed}/table1_expressions.md"),
        record=record("table1_expressions", "seed{seed}", "tables", models=("imdb_cnn",)),
    log:
        logs("table1_expressions", "seed{seed}"),
    benchmark:
        bench("table1_expressions", "seed{seed}")
    wildcard_constraints:
        seed=r"\d+",
    conda:
        ENV
    resources:
        **resources_of("table1_expressions"),
    params:
        cfg={
            "model": {"maxlen": CNN["model"]["maxlen"]},
            "data": CNN["data"],
            "attribution": {k: CNN["attribution"][k] for k in ("rank_by", "window", "table")},
        },
        seed=seed_of,
    script:
        "../scripts/table1_expressions.py"


# Across seeds: the paper's phrases ranked in every seed next to a random word, and the
# stability of the per-word ranking between seeds (logged into the first seed's run).
rule table1_seeds:
    input:
        gradients=expand(rules.imdb_cnn_word_gradients.output.gradients, seed=SEEDS),
        test=rules.prepare_imdb.output.test,
        tokens=rules.prepare_imdb.output.tokens,
    output:
        csv=report(
            results("tables/table1_seeds.csv"),
            caption="../report/table1_seeds.rst",
            category=CNN_CATEGORY,
        ),
        md=results("tables/table1_seeds.md"),
        stability=report(
            results("tables/table1_seeds_stability.csv"),
            caption="../report/table1_seeds.rst",
            category=CNN_CATEGORY,
        ),
        record=record("table1_seeds", None, "tables", across=True),
    log:
        logs("table1_seeds"),
    benchmark:
        bench("table1_seeds")
    conda:
        ENV
    resources:
        **resources_of("table1_seeds"),
    params:
        cfg={
            "seeds": SEEDS,
            "model": {"maxlen": CNN["model"]["maxlen"]},
            "data": CNN["data"],
            "attribution": {k: CNN["attribution"][k] for k in ("rank_by", "window", "table")},
        },
    script:
        "../scripts/table1_seeds.py"


rule table1_expressions_figure:
    input:
        table=expand(rules.table1_expressions.output.csv, seed=PAPER_SEED)[0],
        gradients=expand(rules.imdb_cnn_word_gradients.output.gradients, seed=PAPER_SEED)[0],
        test=rules.prepare_imdb.output.test,
        tokens=rules.prepare_imdb.output.tokens,
    output:
        html=report(
            results("figures/table1_expressions_figure.html"),
            caption="../report/table1_expressions_figure.rst",
            category=CNN_CATEGORY,
        ),
        png=report(
            results("figures/table1_expressions_figure.png"),
            caption="../report/table1_expressions_figure.rst",
            category=CNN_CATEGORY,
        ),
        record=record(
            "table1_expressions_figure", None, "figures", models=("imdb_cnn",), seed=PAPER_SEED
        ),
    log:
        logs("table1_expressions_figure"),
    benchmark:
        bench("table1_expressions_figure")
    conda:
        ENV
    resources:
        **resources_of("table1_expressions_figure"),
    params:
        cfg={
            "figure": CNN["figure"],
            "model": {k: CNN["model"][k] for k in ("maxlen", "embedding_dim")},
            "data": CNN["data"],
            "attribution": {k: CNN["attribution"][k] for k in ("rank_by", "window")},
        },
    script:
        "../scripts/table1_expressions_figure.py"


rule imdb_cnn:
    input:
        expand(rules.train_imdb_cnn.output, seed=SEEDS),
        expand(rules.imdb_cnn_word_gradients.output, seed=SEEDS),
        expand(rules.table1_expressions.output, seed=SEEDS),
        rules.table1_seeds.output,
        rules.table1_expressions_figure.output,


register_section(
    "imdb_cnn",
    targets=rules.imdb_cnn.input,
    tables=expand(rules.table1_expressions.output.csv, seed=PAPER_SEED),
    seed_tables=[rules.table1_seeds.output.md],
    figures=[rules.table1_expressions_figure.output.png],
)
