# Stage 5: the paper's claims next to ours, from the tidy outputs only.
from inputgrad.report import claim_files, load_claims

CLAIMS = "config/paper_claims.yaml"
EXPERIMENTS = ["mnist_mlp", "mnist_logreg", "imdb_cnn", "imdb_bow_mlp"]
REPORT_TABLES = {
    "table1_expressions": f"{RESULTS}/tables/table1_expressions.csv",
    "table2_words": f"{RESULTS}/tables/table2_words.csv",
    "mnist_jacobian_vs_logreg": f"{RESULTS}/tables/mnist_jacobian_vs_logreg.csv",
}
REPORT_FIGURES = {
    "imdb_cnn_word_gradients": f"{RESULTS}/figures/imdb_cnn_word_gradients.png",
    "imdb_bow_mean_gradient": f"{RESULTS}/figures/imdb_bow_mean_gradient.png",
    "mnist_jacobian_vs_logreg": f"{RESULTS}/figures/mnist_jacobian_vs_logreg.png",
}


rule paper_report:
    input:
        claims=CLAIMS,
        results=[
            f"{RESULTS}/{f}"
            for f in claim_files(load_claims(CLAIMS, PAPER_SEED))
        ],
        tables=list(REPORT_TABLES.values()),
        figures=list(REPORT_FIGURES.values()),
    output:
        html=report(
            f"{RESULTS}/report.html",
            caption="../report/paper_report.rst",
            category="Report",
        ),
        md=f"{RESULTS}/report.md",
        claims=report(
            f"{RESULTS}/tables/paper_vs_ours.csv",
            caption="../report/paper_vs_ours.rst",
            category="Report",
        ),
    params:
        seed=PAPER_SEED,
        tables=REPORT_TABLES,
        figures=REPORT_FIGURES,
        # figure styles left out: a style change reruns its figure (and so this report via
        # the new PNG), but is no result to show here
        configs={
            name: {k: v for k, v in hyper(name).items() if k != "figure"}
            for name in EXPERIMENTS
        },
    log:
        f"{RESULTS}/logs/paper_report.log",
    benchmark:
        f"{RESULTS}/benchmarks/paper_report.tsv"
    conda:
        ENV
    script:
        "../scripts/paper_report.py"
