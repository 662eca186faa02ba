# Stage 0 of MLflow: create the experiment once, before any job that logs to it.


rule mlflow_experiment:
    output:
        experiment=EXPERIMENT_ID,
    log:
        logs("mlflow_experiment"),
    benchmark:
        bench("mlflow_experiment")
    conda:
        ENV
    resources:
        **resources_of("mlflow_experiment"),
    params:
        tracking=STORE,
    script:
        "../scripts/mlflow_experiment.py"


rule tracking:
    input:
        rules.mlflow_experiment.output,
