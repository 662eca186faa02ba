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


def seeds_of(entry):
    """The seeds a registered record exists for."""
    return SEEDS if "{seed}" in entry["path"] else [entry["seed"]]


def stage_declaration(entry, seed, models):
    return {
        "artifacts": entry["artifacts"].format(seed=seed),
        "configs": entry["configs"],
        "models": models,
        "across": entry["across"],
        "stage_models": entry["stage_models"](seed) if entry["stage_models"] else [],
    }


def records_about(model, seed):
    """{record file: declaration} of every stage about `model` on `seed`, in rule order."""
    found = {}
    for entry in TRACKED.values():
        if entry["training"] or entry["across"] or model not in entry["models"]:
            continue
        if seed not in seeds_of(entry):
            continue
        per_model = "{model}" in entry["path"]
        path = entry["path"].format(model=model, seed=seed)
        found[path] = stage_declaration(entry, seed, [model] if per_model else entry["models"])
    return found


def trained_by(model):
    """The training record entry of a model."""
    (entry,) = [e for e in TRACKED.values() if e["training"] and model in e["models"]]
    return entry


TRACKED_MODELS = [m for e in TRACKED.values() if e["training"] for m in e["models"]]


def model_runs(wildcards):
    """track_model's params: per seed, the training record, how it becomes the run, and the
    records of the stages about the model."""
    return {
        seed: {
            "training_record": trained_by(wildcards.model)["path"].format(
                model=wildcards.model, seed=seed
            ),
            "training": training_declaration(
                wildcards.model, seed, trained_by(wildcards.model)["section"]
            ),
            "records": records_about(wildcards.model, seed),
        }
        for seed in SEEDS
    }


def model_records(wildcards):
    runs = model_runs(wildcards).values()
    return [r["training_record"] for r in runs] + [p for r in runs for p in r["records"]]


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
        model="|".join(TRACKED_MODELS),
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


def evaluation_records():
    """{record file: declaration} of every stage's record on every seed (track_evaluation
    logs those with something for the evaluation run: infra.tracking.goes_to_evaluation)."""
    found = {}
    for entry in TRACKED.values():
        if entry["training"]:
            continue
        for seed in seeds_of(entry):
            for model in entry["models"] if "{model}" in entry["path"] else [None]:
                about = [model] if model else entry["models"]
                path = entry["path"].format(model=model, seed=seed)
                found[path] = stage_declaration(entry, seed, about)
    return found


MODEL_RUNS = [results(f"mlflow/runs/{m}/seed{s}.txt") for m in TRACKED_MODELS for s in SEEDS]


rule track_evaluation:
    input:
        experiment=EXPERIMENT_ID,
        runs=MODEL_RUNS,
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
