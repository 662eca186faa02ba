# MLflow, off the critical path: compute jobs write records (common.smk `record`), and only
# these jobs open the store. mlflow_experiment makes the experiment; track_model turns a
# model's training records and the records of every stage about it into one run per seed;
# track_evaluation makes the workflow run's evaluation run. Changing a `tracking` key, or
# re-logging, reruns only these. Included after every section, whose records they read.


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


rule track_model:
    input:
        experiment=EXPERIMENT_ID,
        records=model_records,
    output:
        **{f"seed{seed}": results(f"mlflow/runs/{{model}}/seed{seed}.txt") for seed in SEEDS},
    log:
        logs("track_model", "{model}"),
    benchmark:
        bench("track_model", "{model}")
    wildcard_constraints:
        model="|".join(tracked_models()),
    conda:
        ENV
    resources:
        **resources_of("track_model"),
    params:
        tracking=STORE,
        model=lambda wc: wc.model,
        seeds=model_runs,
    script:
        "../scripts/track_model.py"


rule track_evaluation:
    input:
        experiment=EXPERIMENT_ID,
        runs=model_runs_files(),
        records=list(evaluation_records()),
    output:
        run_id=results("mlflow/runs/evaluation.txt"),
    log:
        logs("track_evaluation"),
    benchmark:
        bench("track_evaluation")
    conda:
        ENV
    resources:
        **resources_of("track_evaluation"),
    params:
        tracking=STORE,
        tags={"profile": config["profile"]},
        records=evaluation_records(),
    script:
        "../scripts/track_evaluation.py"


rule tracking:
    input:
        rules.track_evaluation.output,
