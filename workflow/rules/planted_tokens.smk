# Issue 22 (planted tokens in IMDB): ground truth for the text methods. Two tokens outside the
# dictionary (ids num_words, num_words + 1; one per class) planted into a share of the training
# reviews (planted_imdb); the paper's CNN and bag-of-words MLP trained on them per seed;
# per seed every registered method scored on the planted and on the clean (control) models:
# accuracy per test version, relevance mass, pointing game, rank, detection without being told.
# Stage functions: inputgrad.sections.planted_tokens.stages; hyperparameters:
# config/hydra/experiment/planted_tokens.yaml (generator, figure),
# attribution/planted_tokens.yaml (scoring), experiment/imdb_cnn_planted.yaml and
# experiment/imdb_bow_mlp_planted.yaml (the planted models).

PLANT = CFG["planted_tokens"]
PLANT_CNN = CFG["imdb_cnn_planted"]
PLANT_CATEGORY = "Beyond the paper: planted tokens"
# the planted models read what the clean ones read, with the planted tokens: their runs log
# planted_imdb's training file and its consistent test file
SECTION_MODELS.update({"imdb_cnn_planted": "token_ids", "imdb_bow_mlp_planted": "bag_of_words"})
SECTION_DATASETS.update(
    dict.fromkeys(
        ("imdb_cnn_planted", "imdb_bow_mlp_planted"),
        {
            "name": "planted-aclimdb",
            "train": "train",
            "test": "consistent",
            "made_by": "planted_imdb",
        },
    )
)


rule planted_imdb:
    input:
        train=rules.prepare_imdb.output.train,
        test=rules.prepare_imdb.output.test,
        tokens=rules.prepare_imdb.output.tokens,
    output:
        train=results("data/planted/imdb_train.npz"),
        clean=results("data/planted/imdb_test_clean.npz"),
        consistent=results("data/planted/imdb_test_consistent.npz"),
        swapped=results("data/planted/imdb_test_swapped.npz"),
        tokens=results("data/planted/imdb_tokens.json"),
        summary=results("data/planted/planted_imdb.json"),
    log:
        logs("planted_imdb"),
    benchmark:
        bench("planted_imdb")
    conda:
        ENV
    resources:
        **resources_of("planted_imdb"),
    params:
        cfg={
            "data": PLANT["data"],
            "planted": PLANT["planted"],
            "window": PLANT_CNN["model"]["maxlen"],
        },
    script:
        "../scripts/planted_imdb.py"


rule train_imdb_cnn_planted:
    input:
        train=rules.planted_imdb.output.train,
        consistent=rules.planted_imdb.output.consistent,
        raw=raw_file("imdb_cnn_planted"),
    output:
        model=results("models/imdb_cnn_planted/seed{seed}/model.keras"),
        metrics=results("models/imdb_cnn_planted/seed{seed}/metrics.json"),
        history=results("models/imdb_cnn_planted/seed{seed}/history.csv"),
        config=results("models/imdb_cnn_planted/seed{seed}/config.yaml"),
        example=results("models/imdb_cnn_planted/seed{seed}/input_example.npy"),
        record=record(
            "train_imdb_cnn_planted", "seed{seed}", models=("imdb_cnn_planted",), training=True
        ),
    log:
        logs("train_imdb_cnn_planted", "seed{seed}"),
    benchmark:
        bench("train_imdb_cnn_planted", "seed{seed}")
    wildcard_constraints:
        seed=r"\d+",
    priority: 2
    conda:
        ENV
    resources:
        **execution("imdb_cnn_planted"),
        **resources_of("train_imdb_cnn_planted", threads=PLANT_CNN["train"]["threads"]),
    params:
        cfg=training("imdb_cnn_planted"),
        seed=seed_of,
        tf_threads=PLANT_CNN["train"]["threads"],
        provenance=True,  # the machine, in the record (infra.stage)
    script:
        "../scripts/train_imdb_cnn_planted.py"


rule train_imdb_bow_mlp_planted:
    input:
        train=rules.planted_imdb.output.train,
        consistent=rules.planted_imdb.output.consistent,
        raw=raw_file("imdb_bow_mlp_planted"),
    output:
        model=results("models/imdb_bow_mlp_planted/seed{seed}/model.keras"),
        metrics=results("models/imdb_bow_mlp_planted/seed{seed}/metrics.json"),
        history=results("models/imdb_bow_mlp_planted/seed{seed}/history.csv"),
        config=results("models/imdb_bow_mlp_planted/seed{seed}/config.yaml"),
        example=results("models/imdb_bow_mlp_planted/seed{seed}/input_example.npy"),
        record=record(
            "train_imdb_bow_mlp_planted",
            "seed{seed}",
            models=("imdb_bow_mlp_planted",),
            training=True,
        ),
    log:
        logs("train_imdb_bow_mlp_planted", "seed{seed}"),
    benchmark:
        bench("train_imdb_bow_mlp_planted", "seed{seed}")
    wildcard_constraints:
        seed=r"\d+",
    conda:
        ENV
    resources:
        **execution("imdb_bow_mlp_planted"),
        **resources_of("train_imdb_bow_mlp_planted"),
    params:
        cfg=training("imdb_bow_mlp_planted"),
        seed=seed_of,
        provenance=True,  # the machine, in the record (infra.stage)
    script:
        "../scripts/train_imdb_bow_mlp_planted.py"


rule planted_tokens:
    input:
        cnn_planted=rules.train_imdb_cnn_planted.output.model,
        bow_planted=rules.train_imdb_bow_mlp_planted.output.model,
        cnn_control=rules.train_imdb_cnn.output.model,
        bow_control=rules.train_imdb_bow_mlp.output.model,
        clean=rules.planted_imdb.output.clean,
        consistent=rules.planted_imdb.output.consistent,
        swapped=rules.planted_imdb.output.swapped,
    output:
        csv=report(
            results("tables/seed{seed}/planted_tokens.csv"),
            caption="../report/planted_tokens.rst",
            category=PLANT_CATEGORY,
        ),
        json=results("tables/seed{seed}/planted_tokens.json"),
        words=results("tables/seed{seed}/planted_tokens_words.csv"),
        record=record(
            "planted_tokens",
            "seed{seed}",
            "tables",
            models=(
                "imdb_cnn_planted",
                "imdb_bow_mlp_planted",
            ),
        ),
    log:
        logs("planted_tokens", "seed{seed}"),
    benchmark:
        bench("planted_tokens", "seed{seed}")
    wildcard_constraints:
        seed=r"\d+",
    priority: 1
    conda:
        ENV
    resources:
        **resources_of("planted_tokens"),
    params:
        cfg={
            "data": PLANT["data"],
            "attribution": PLANT["attribution"],
            "maxlen": PLANT_CNN["model"]["maxlen"],
        },
        seed=seed_of,
    script:
        "../scripts/planted_tokens.py"


rule planted_tokens_seeds:
    input:
        tables=expand(rules.planted_tokens.output.csv, seed=SEEDS),
    output:
        csv=report(
            results("tables/planted_tokens_seeds.csv"),
            caption="../report/planted_tokens_seeds.rst",
            category=PLANT_CATEGORY,
        ),
        md=results("tables/planted_tokens_seeds.md"),
        record=record("planted_tokens_seeds", None, "tables", across=True),
    log:
        logs("planted_tokens_seeds"),
    benchmark:
        bench("planted_tokens_seeds")
    conda:
        ENV
    resources:
        **resources_of("planted_tokens_seeds"),
    params:
        cfg={"seeds": SEEDS},
    script:
        "../scripts/planted_tokens_seeds.py"


rule planted_tokens_figure:
    input:
        words=expand(rules.planted_tokens.output.words, seed=PAPER_SEED)[0],
        tokens=rules.planted_imdb.output.tokens,
    output:
        png=report(
            results("figures/planted_tokens_figure.png"),
            caption="../report/planted_tokens_figure.rst",
            category=PLANT_CATEGORY,
        ),
        record=record(
            "planted_tokens_figure", None, "figures", models=("imdb_cnn_planted",), seed=PAPER_SEED
        ),
    log:
        logs("planted_tokens_figure"),
    benchmark:
        bench("planted_tokens_figure")
    conda:
        ENV
    resources:
        **resources_of("planted_tokens_figure"),
    params:
        cfg={"figure": PLANT["figure"]},
    script:
        "../scripts/planted_tokens_figure.py"


rule planted_tokens_all:
    input:
        rules.planted_imdb.output,
        expand(rules.train_imdb_cnn_planted.output, seed=SEEDS),
        expand(rules.train_imdb_bow_mlp_planted.output, seed=SEEDS),
        expand(rules.planted_tokens.output, seed=SEEDS),
        rules.planted_tokens_seeds.output,
        rules.planted_tokens_figure.output,


register_section(
    "planted_tokens",
    targets=rules.planted_tokens_all.input,
    seed_tables=[rules.planted_tokens_seeds.output.md],
    figures=[rules.planted_tokens_figure.output.png],
)
