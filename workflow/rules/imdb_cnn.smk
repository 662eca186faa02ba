# Paper section 5.1: word-embedding CNN on IMDB -> per-word gradient norms -> Table 1 + views.

IMDB_CNN = hyper("imdb_cnn")
IMDB_CNN_DIR = f"{RESULTS}/models/imdb_cnn/seed{{seed}}"
IMDB_CNN_ATTR = f"{RESULTS}/attributions/imdb_cnn/seed{{seed}}"
IMDB_CNN_CATEGORY = "5.1 IMDB CNN"


rule train_imdb_cnn:
    input:
        train=f"{RESULTS}/data/imdb_train.npz",
        test=f"{RESULTS}/data/imdb_test.npz",
        experiment=f"{RESULTS}/mlflow/experiment_id.txt",
    output:
        model=f"{IMDB_CNN_DIR}/model.keras",
        metrics=f"{IMDB_CNN_DIR}/metrics.json",
        history=f"{IMDB_CNN_DIR}/history.csv",
        run_id=f"{IMDB_CNN_DIR}/run_id.txt",
    params:
        hyper={k: IMDB_CNN[k] for k in ("model", "train", "data")},
    log:
        f"{RESULTS}/logs/train_imdb_cnn/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_imdb_cnn_seed{{seed}}.tsv"
    conda:
        ENV
    script:
        "../scripts/imdb_cnn_train.py"


rule imdb_cnn_word_gradients:
    input:
        model=rules.train_imdb_cnn.output.model,
        run_id=rules.train_imdb_cnn.output.run_id,
        experiment=rules.train_imdb_cnn.input.experiment,
        test=f"{RESULTS}/data/imdb_test.npz",
    output:
        gradients=f"{IMDB_CNN_ATTR}/word_gradients.npz",
        summary=f"{IMDB_CNN_ATTR}/word_gradients.json",
    params:
        hyper={k: IMDB_CNN[k] for k in ("model", "attribution", "data")},
    log:
        f"{RESULTS}/logs/imdb_cnn_word_gradients/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/word_gradients_imdb_cnn_seed{{seed}}.tsv"
    conda:
        ENV
    script:
        "../scripts/imdb_cnn_gradients.py"


rule table1_expressions:
    input:
        gradients=expand(rules.imdb_cnn_word_gradients.output.gradients, seed=PAPER_SEED),
        run_id=expand(rules.train_imdb_cnn.output.run_id, seed=PAPER_SEED),
        experiment=rules.train_imdb_cnn.input.experiment,
        test=f"{RESULTS}/data/imdb_test.npz",
        tokens=f"{RESULTS}/data/imdb_tokens.json",
    output:
        csv=report(
            f"{RESULTS}/tables/table1_expressions.csv",
            caption="../report/imdb_cnn_table1.rst",
            category=IMDB_CNN_CATEGORY,
        ),
        md=f"{RESULTS}/tables/table1_expressions.md",
    params:
        hyper={k: IMDB_CNN[k] for k in ("model", "attribution", "data")},
    log:
        f"{RESULTS}/logs/table1_expressions.log",
    benchmark:
        f"{RESULTS}/benchmarks/table1_expressions.tsv"
    conda:
        ENV
    script:
        "../scripts/imdb_cnn_table1.py"


rule imdb_cnn_figure:
    input:
        table=rules.table1_expressions.output.csv,
        gradients=rules.table1_expressions.input.gradients,
        run_id=rules.table1_expressions.input.run_id,
        experiment=rules.train_imdb_cnn.input.experiment,
        test=f"{RESULTS}/data/imdb_test.npz",
        tokens=f"{RESULTS}/data/imdb_tokens.json",
    output:
        html=report(
            f"{RESULTS}/figures/imdb_cnn_word_gradients.html",
            caption="../report/imdb_cnn_word_gradients.rst",
            category=IMDB_CNN_CATEGORY,
        ),
        png=report(
            f"{RESULTS}/figures/imdb_cnn_word_gradients.png",
            caption="../report/imdb_cnn_word_gradients.rst",
            category=IMDB_CNN_CATEGORY,
        ),
    params:
        hyper={k: IMDB_CNN[k] for k in ("model", "attribution", "data")},
        figure=IMDB_CNN["figure"],
    log:
        f"{RESULTS}/logs/imdb_cnn_figure.log",
    benchmark:
        f"{RESULTS}/benchmarks/imdb_cnn_figure.tsv"
    conda:
        ENV
    script:
        "../scripts/imdb_cnn_figure.py"


rule imdb_cnn:
    input:
        expand(rules.train_imdb_cnn.output, seed=config["seeds"]),
        expand(rules.imdb_cnn_word_gradients.output, seed=config["seeds"]),
        rules.table1_expressions.output,
        rules.imdb_cnn_figure.output,
