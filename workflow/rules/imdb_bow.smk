# Paper section 5.2: bag-of-words MLP on IMDB -> mean input gradient ḡ -> Table 2, linear rule,
# per seed; table2_seeds compares them across the seeds; the figure uses the first seed.
# Stage functions: inputgrad.sections.imdb_bow.stages; hyperparameters:
# config/hydra/experiment/imdb_bow_mlp.yaml (model, train, attribution; figure style).

BOW = CFG["imdb_bow_mlp"]
BOW_CATEGORY = "5.2 IMDB bag of words"


rule train_imdb_bow_mlp:
    input:
        train=rules.prepare_imdb.output.train,
        test=rules.prepare_imdb.output.test,
        raw=raw_file("imdb_bow_mlp"),
    output:
        model=results("models/imdb_bow_mlp/seed{seed}/model.keras"),
        metrics=results("models/imdb_bow_mlp/seed{seed}/metrics.json"),
        history=results("models/imdb_bow_mlp/seed{seed}/history.csv"),
        config=results("models/imdb_bow_mlp/seed{seed}/config.yaml"),
        example=results("models/imdb_bow_mlp/seed{seed}/input_example.npy"),
        record=record("train_imdb_bow_mlp", "seed{seed}", models=("imdb_bow_mlp",), training=True),
    log:
        logs("train_imdb_bow_mlp", "seed{seed}"),
    benchmark:
        bench("train_imdb_bow_mlp", "seed{seed}")
    wildcard_constraints:
        seed=r"\d+",
    priority: 1
    conda:
        ENV
    resources:
        **execution("imdb_bow_mlp"),
        **resources_of("train_imdb_bow_mlp"),
    params:
        cfg=training("imdb_bow_mlp"),
        seed=seed_of,
        provenance=True,  # the machine, in the record (infra.stage)
    script:
        "../scripts/train_imdb_bow_mlp.py"


rule imdb_bow_gbar:
    input:
        model=rules.train_imdb_bow_mlp.output.model,
        train=rules.prepare_imdb.output.train,
        test=rules.prepare_imdb.output.test,
        word_index=results("data/raw/imdb_word_index.json"),
    output:
        npz=results("attributions/imdb_bow_mlp/seed{seed}/imdb_bow_gbar.npz"),
        csv=results("attributions/imdb_bow_mlp/seed{seed}/imdb_bow_gbar.csv"),
        json=results("attributions/imdb_bow_mlp/seed{seed}/imdb_bow_gbar.json"),
        scores=results("attributions/imdb_bow_mlp/seed{seed}/imdb_bow_gbar_scores.npz"),
        record=record("imdb_bow_gbar", "seed{seed}", "attributions", models=("imdb_bow_mlp",)),
    log:
        logs("imdb_bow_gbar", "seed{seed}"),
    benchmark:
        bench("imdb_bow_gbar", "seed{seed}")
    wildcard_constraints:
        seed=r"\d+",
    conda:
        ENV
    resources:
        **resources_of("imdb_bow_gbar"),
    params:
        cfg={
            "data": BOW["data"],
            "attribution": {"batch_size": BOW["attribution"]["batch_size"]},
        },
    script:
        "../scripts/imdb_bow_gbar.py"


rule table2_words:
    input:
        csv=rules.imdb_bow_gbar.output.csv,
        json=rules.imdb_bow_gbar.output.json,
    output:
        csv=report(
            results("tables/seed{seed}/table2_words.csv"),
            caption="../report/table2_words.rst",
            category=BOW_CATEGORY,
        ),
        md=results("tables/seed{seed}/table2_words.md"),
        record=record("table2_words", "seed{seed}", "tables", models=("imdb_bow_mlp",)),
    log:
        logs("table2_words", "seed{seed}"),
    benchmark:
        bench("table2_words", "seed{seed}")
    wildcard_constraints:
        seed=r"\d+",
    conda:
        ENV
    resources:
        **resources_of("table2_words"),
    params:
        cfg={
            "attribution": {k: BOW["attribution"][k] for k in ("top_k", "paper_words")},
        },
    script:
        "../scripts/table2_words.py"


rule bow_linear_agreement:
    input:
        scores=rules.imdb_bow_gbar.output.scores,
    output:
        json=report(
            results("tables/seed{seed}/bow_linear_agreement.json"),
            caption="../report/bow_linear_agreement.rst",
            category=BOW_CATEGORY,
        ),
        record=record("bow_linear_agreement", "seed{seed}", "tables", models=("imdb_bow_mlp",)),
    log:
        logs("bow_linear_agreement", "seed{seed}"),
    benchmark:
        bench("bow_linear_agreement", "seed{seed}")
    wildcard_constraints:
        seed=r"\d+",
    conda:
        ENV
    resources:
        **resources_of("bow_linear_agreement"),
    script:
        "../scripts/bow_linear_agreement.py"


rule table2_seeds:
    input:
        gbar=expand(rules.imdb_bow_gbar.output.csv, seed=SEEDS),
        words=expand(rules.table2_words.output.csv, seed=SEEDS),
        agreement=expand(rules.bow_linear_agreement.output.json, seed=SEEDS),
        metrics=expand(rules.train_imdb_bow_mlp.output.metrics, seed=SEEDS),
    output:
        csv=report(
            results("tables/table2_seeds.csv"),
            caption="../report/table2_seeds.rst",
            category=BOW_CATEGORY,
        ),
        md=results("tables/table2_seeds.md"),
        pairs=report(
            results("tables/table2_seeds_pairs.csv"),
            caption="../report/table2_seeds_pairs.rst",
            category=BOW_CATEGORY,
        ),
        record=record("table2_seeds", None, "tables", across=True),
    log:
        logs("table2_seeds"),
    benchmark:
        bench("table2_seeds")
    conda:
        ENV
    resources:
        **resources_of("table2_seeds"),
    params:
        cfg={
            "seeds": SEEDS,
            "attribution": {k: BOW["attribution"][k] for k in ("top_k", "paper_words", "seeds")},
        },
    script:
        "../scripts/table2_seeds.py"


rule imdb_bow_gbar_figure:
    input:
        csv=expand(rules.imdb_bow_gbar.output.csv, seed=PAPER_SEED)[0],
        scores=expand(rules.imdb_bow_gbar.output.scores, seed=PAPER_SEED)[0],
        agreement=expand(rules.bow_linear_agreement.output.json, seed=PAPER_SEED)[0],
    output:
        png=report(
            results("figures/imdb_bow_gbar_figure.png"),
            caption="../report/imdb_bow_gbar_figure.rst",
            category=BOW_CATEGORY,
        ),
        pdf=results("figures/imdb_bow_gbar_figure.pdf"),
        record=record(
            "imdb_bow_gbar_figure", None, "figures", models=("imdb_bow_mlp",), seed=PAPER_SEED
        ),
    log:
        logs("imdb_bow_gbar_figure"),
    benchmark:
        bench("imdb_bow_gbar_figure")
    conda:
        ENV
    resources:
        **resources_of("imdb_bow_gbar_figure"),
    params:
        cfg={"figure": BOW["figure"]},
    script:
        "../scripts/imdb_bow_gbar_figure.py"


rule imdb_bow:
    input:
        expand(rules.train_imdb_bow_mlp.output, seed=SEEDS),
        expand(rules.imdb_bow_gbar.output, seed=SEEDS),
        expand(rules.table2_words.output, seed=SEEDS),
        expand(rules.bow_linear_agreement.output, seed=SEEDS),
        rules.table2_seeds.output,
        rules.imdb_bow_gbar_figure.output,


register_section(
    "imdb_bow",
    targets=rules.imdb_bow.input,
    tables=expand(rules.table2_words.output.csv, seed=PAPER_SEED),
    seed_tables=[rules.table2_seeds.output.md],
    figures=[rules.imdb_bow_gbar_figure.output.png],
)
