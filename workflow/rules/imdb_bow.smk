# Paper section 5.2: bag-of-words MLP on IMDB -> mean input gradient ḡ -> Table 2, linear rule.

IMDB_BOW = hyper("imdb_bow_mlp")
IMDB_BOW_DIR = f"{RESULTS}/models/imdb_bow_mlp/seed{{seed}}"
IMDB_BOW_ATTR = f"{RESULTS}/attributions/imdb_bow_mlp/seed{{seed}}"
IMDB_BOW_CATEGORY = "5.2 IMDB bag of words"


rule train_imdb_bow_mlp:
    input:
        train=f"{RESULTS}/data/imdb_train.npz",
        test=f"{RESULTS}/data/imdb_test.npz",
        experiment=f"{RESULTS}/mlflow/experiment_id.txt",
    output:
        model=f"{IMDB_BOW_DIR}/model.keras",
        metrics=f"{IMDB_BOW_DIR}/metrics.json",
        history=f"{IMDB_BOW_DIR}/history.csv",
        run_id=f"{IMDB_BOW_DIR}/run_id.txt",
    params:
        model=IMDB_BOW["model"],
        train=IMDB_BOW["train"],
        imdb=IMDB_BOW["data"]["imdb"],
    log:
        f"{RESULTS}/logs/train_imdb_bow_mlp/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_imdb_bow_mlp_seed{{seed}}.tsv"
    conda:
        ENV
    script:
        "../scripts/imdb_bow_train.py"


rule imdb_bow_gradients:
    input:
        model=rules.train_imdb_bow_mlp.output.model,
        run_id=rules.train_imdb_bow_mlp.output.run_id,
        train=f"{RESULTS}/data/imdb_train.npz",
        test=f"{RESULTS}/data/imdb_test.npz",
        word_index=f"{RESULTS}/data/raw/imdb_word_index.json",
    output:
        gbar=f"{IMDB_BOW_ATTR}/gbar.npz",
        table=f"{IMDB_BOW_ATTR}/gbar.csv",
        scores=f"{IMDB_BOW_ATTR}/scores.npz",
        summary=f"{IMDB_BOW_ATTR}/gbar_summary.json",
    params:
        imdb=IMDB_BOW["data"]["imdb"],
        batch_size=IMDB_BOW["attribution"]["batch_size"],
    log:
        f"{RESULTS}/logs/imdb_bow_gradients/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/imdb_bow_gradients_imdb_bow_mlp_seed{{seed}}.tsv"
    conda:
        ENV
    script:
        "../scripts/imdb_bow_gradients.py"


rule table2_words:
    input:
        table=expand(rules.imdb_bow_gradients.output.table, seed=PAPER_SEED),
        summary=expand(rules.imdb_bow_gradients.output.summary, seed=PAPER_SEED),
        run_id=expand(rules.train_imdb_bow_mlp.output.run_id, seed=PAPER_SEED),
    output:
        csv=report(
            f"{RESULTS}/tables/table2_words.csv",
            caption="../report/imdb_bow_table2.rst",
            category=IMDB_BOW_CATEGORY,
        ),
        md=f"{RESULTS}/tables/table2_words.md",
    params:
        top_k=IMDB_BOW["attribution"]["top_k"],
        paper_words=IMDB_BOW["attribution"]["paper_words"],
    log:
        f"{RESULTS}/logs/table2_words.log",
    benchmark:
        f"{RESULTS}/benchmarks/table2_words.tsv"
    conda:
        ENV
    script:
        "../scripts/imdb_bow_table2.py"


rule bow_linear_agreement:
    input:
        scores=expand(rules.imdb_bow_gradients.output.scores, seed=PAPER_SEED),
        run_id=expand(rules.train_imdb_bow_mlp.output.run_id, seed=PAPER_SEED),
    output:
        report(
            f"{RESULTS}/tables/bow_linear_agreement.json",
            caption="../report/imdb_bow_agreement.rst",
            category=IMDB_BOW_CATEGORY,
        ),
    log:
        f"{RESULTS}/logs/bow_linear_agreement.log",
    benchmark:
        f"{RESULTS}/benchmarks/bow_linear_agreement.tsv"
    conda:
        ENV
    script:
        "../scripts/imdb_bow_agreement.py"


rule imdb_bow_mean_gradient_figure:
    input:
        table=rules.table2_words.input.table,
        scores=rules.bow_linear_agreement.input.scores,
        agreement=rules.bow_linear_agreement.output[0],
        run_id=rules.table2_words.input.run_id,
    output:
        png=report(
            f"{RESULTS}/figures/imdb_bow_mean_gradient.png",
            caption="../report/imdb_bow_mean_gradient.rst",
            category=IMDB_BOW_CATEGORY,
        ),
        pdf=f"{RESULTS}/figures/imdb_bow_mean_gradient.pdf",
    params:
        figure=IMDB_BOW["figure"],
    log:
        f"{RESULTS}/logs/imdb_bow_mean_gradient_figure.log",
    benchmark:
        f"{RESULTS}/benchmarks/imdb_bow_mean_gradient_figure.tsv"
    conda:
        ENV
    script:
        "../scripts/imdb_bow_figure.py"


rule imdb_bow:
    input:
        expand(rules.train_imdb_bow_mlp.output, seed=config["seeds"]),
        expand(rules.imdb_bow_gradients.output, seed=config["seeds"]),
        rules.table2_words.output,
        rules.bow_linear_agreement.output,
        rules.imdb_bow_mean_gradient_figure.output,
