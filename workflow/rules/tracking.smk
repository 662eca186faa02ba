# Stage 0 of MLflow: create the experiment once, before any job that logs to it.


rule mlflow_experiment:
    output:
        f"{RESULTS}/mlflow/experiment_id.txt",
    log:
        f"{RESULTS}/logs/mlflow_experiment.log",
    benchmark:
        f"{RESULTS}/benchmarks/mlflow_experiment.tsv"
    conda:
        ENV
    script:
        "../scripts/mlflow_experiment.py"


rule tracking:
    input:
        rules.mlflow_experiment.output,
