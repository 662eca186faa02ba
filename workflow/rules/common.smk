# The single home of workflow Python: config validation, Hydra composition, the model list,
# tracking declarations and target lists. Rule files only use what is defined here.
import inspect
import os
from pathlib import Path

import yaml

from inputgrad.data.download import SOURCES
from inputgrad.infra.config import compose, drop, pick, validate_config
from inputgrad.infra import sigterm
from inputgrad.infra.errors import ConfigError
from inputgrad.infra.hyperparameters import validate_hyperparameters
from inputgrad.infra.paths import EXPERIMENT_ID, RESULTS
from inputgrad.infra.tracking import check_executor, check_location, check_portable
from inputgrad.sections.any_model.compute import FLAVOR as REGRESSION_FLAVOR
from inputgrad.sections.report.claims import section_claims_files

sigterm.patch()  # Snakemake 9.27.1 can deadlock on SIGTERM (infra/sigterm.py says why)
validate_config(config, workflow.source_path("../schemas/config.schema.yaml"))

ROOT = Path(workflow.basedir)  # the repository: config/hydra and the claims file live here
HYDRA_DIR = str(ROOT / config["hydra_dir"])
# relative to the project (the working directory): a copied or moved project is the same DAG
CLAIMS = os.path.relpath(ROOT / "config" / "paper_claims.yaml")
ENV = "../../environment.yml"
# the models and which evaluations score them are data: config.yaml `models`, `evaluations`
MODELS = list(config["models"])  # = experiment names
PIXEL_MODELS = [m for m in MODELS if config["models"][m] == "pixels"]  # trained by train_mnist
MNIST_MODELS = ["mnist_mlp", "mnist_logreg"]  # paper 5.3 compares these two
SEEDS = config["seeds"]
PAPER_SEED = SEEDS[0]  # the seed of every single-seed paper table and figure
RAW_FILES = ["mnist.npz", "imdb_word_index.json", "aclImdb_v1.tar.gz"]
TRACKING = config["tracking"]
# where runs go: the part of `tracking` every tracking job reads (registering models concerns
# track_model only); no compute job reads a `tracking` key
STORE = {key: TRACKING[key] for key in ("uri", "experiment")}


# the sections that run (config.yaml `sections`), in include order, each a rule file
SECTIONS = config["sections"]
for _section in SECTIONS:
    if not (ROOT / "workflow" / "rules" / f"{_section}.smk").exists():
        raise ConfigError(
            f"config key 'sections': {_section!r} has no rule file workflow/rules/{_section}.smk"
        )
# a section's own claims, summary rows and report section (beyond the paper's claims file),
# merged after it in section order: config/claims/<section>.yaml, where it has one
SECTION_CLAIMS = [os.path.relpath(f) for f in section_claims_files(ROOT, SECTIONS)]
# what each section registered: its aggregate target, and its inputs of the report
REGISTERED = {"targets": {}, "tables": [], "seed_tables": [], "figures": []}


def register_section(name, targets, tables=(), seed_tables=(), figures=()):
    """A section's entry in the grid: its aggregate target (in `rule all`), and what the
    report shows of it: the paper seed's `tables` (next to the paper's rows), its across-seed
    tables (Markdown) and its figures (PNG). Called at the end of the section's rule file."""
    REGISTERED["targets"][name] = list(targets)
    for key, files in (("tables", tables), ("seed_tables", seed_tables), ("figures", figures)):
        REGISTERED[key] += list(files)


def section_targets():
    """Every registered section's target files (rule all)."""
    return [f for files in REGISTERED["targets"].values() for f in files]


def hyper(experiment=None):
    """Resolved hyperparameters (Hydra compose) of an experiment, or the shared ones."""
    return compose(HYDRA_DIR, experiment, profile=config["profile"])


# every Hydra experiment (a model's, a section's): config/hydra/experiment/<name>.yaml
EXPERIMENTS = sorted(p.stem for p in (Path(HYDRA_DIR) / "experiment").glob("*.yaml"))
CFG = {name: hyper(name) for name in EXPERIMENTS}
SHARED = hyper()
# Before any job: every experiment's hyperparameters and the tracking location.
# the shared vocabulary, and each section's own schema (workflow/schemas/sections/): every
# experiment file is checked, whether its section runs or not
SECTION_SCHEMAS = sorted((ROOT / "workflow" / "schemas" / "sections").glob("*.schema.yaml"))
validate_hyperparameters(
    CFG,
    workflow.source_path("../schemas/hyperparameters.schema.yaml"),
    HYDRA_DIR,
    ROOT,
    sections=SECTION_SCHEMAS,
)
check_location(TRACKING["uri"])
check_portable(TRACKING["uri"])


onstart:
    # the executor is known only once the run starts, after the Snakefile is read; this runs
    # before the first job (never in a dry run): SLURM & co. need a tracking server
    check_executor(TRACKING["uri"], workflow.executor_plugin.name, workflow.local_exec)


RESOURCES_FILE = ROOT / "config" / "resources.yaml"
RESOURCES = yaml.safe_load(RESOURCES_FILE.read_text()) or {}


def resources_of(rule, threads=1):
    """A rule's resources: mem_mb and runtime (minutes) from config/resources.yaml, the one
    place these numbers live (measured by benchmarks/resources.py; a rule not listed there,
    such as a new section's, gets its `default` entry), and cpus_per_task, the
    TensorFlow threads its job runs (infra.stage: 1, or the rule's pinned `tf_threads`)."""
    declared = RESOURCES.get(rule) or RESOURCES.get("default") or {}  # default: not measured yet
    missing = [k for k in ("mem_mb", "runtime") if k not in declared]
    if missing:
        raise ConfigError(f"{RESOURCES_FILE}: rule {rule} lacks {', '.join(missing)}")
    return {"mem_mb": declared["mem_mb"], "runtime": declared["runtime"], "cpus_per_task": threads}


def results(path):
    return f"{RESULTS}/{path}"


def logs(rule, wildcards=None):
    """A rule's log: logs/<rule>.log, or logs/<rule>/<wildcards>.log (one scheme for all)."""
    return results(f"logs/{rule}/{wildcards}.log" if wildcards else f"logs/{rule}.log")


def bench(rule, wildcards=None):
    """A rule's benchmark file, in the scheme of `logs` (benchmarks/resources.py reads it)."""
    return results(f"benchmarks/{rule}/{wildcards}.tsv" if wildcards else f"benchmarks/{rule}.tsv")


# Keys that change no number (each has a test saying so): they reach jobs as resources, which
# Snakemake does not compare between runs, instead of params, which it does.
EXECUTION_KEYS = ("train.steps_per_execution",)


def training(name):
    """What a training job reads: the model, the train keys and, for IMDB models, the dataset
    conventions; no attribution, figure or execution key, so none of them retrains."""
    data = ["data.imdb"] if name.startswith("imdb_") else []
    return drop(pick(CFG[name], "model", "train", *data), *EXECUTION_KEYS)


def execution(name):
    """The execution settings of a model's training, as resources (see EXECUTION_KEYS)."""
    return {"steps_per_execution": CFG[name]["train"]["steps_per_execution"]}


# What each tracked job declared (`record`), for the tracking jobs of tracking.smk, by name:
# its record file pattern and how it is logged.
TRACKED = {}


def record(
    rule_name,
    wildcards=None,
    artifacts=None,
    configs=(),
    models=(),
    seed="{seed}",
    across=False,
    training=False,
    stage_models=None,
):
    """A tracked rule's output `record` (infra.records: what the job did, written by the shared
    stage path), registered for the tracking jobs, which are the only ones to open MLflow: the
    rule's outputs go under `artifacts` into the runs of `models` (of the job's seed, or of
    `seed`), each model's metrics into its own run as <rule>/<name>, the named `configs` params
    as JSON; a stage `across` seeds, about no model or (for what names no model) about several
    goes to the evaluation run. `training`: the record a model's run is made from (of each
    model in `models`, wildcards {model} and {seed}). `stage_models(seed)`: the MLflow Models a
    stage fitted (track_evaluation logs them). No tracking key reaches the job itself."""
    TRACKED[rule_name] = {
        # the section that declared it (a run tag), from the caller's workflow/rules/<x>.smk
        "section": Path(inspect.stack()[1].filename).stem,
        "path": results(
            f"records/{rule_name}/{wildcards}.json" if wildcards else f"records/{rule_name}.json"
        ),
        "artifacts": artifacts,
        "configs": list(configs),
        "models": list(models),
        "seed": seed,
        "across": across,
        "training": training,
        "stage_models": stage_models,
    }
    return TRACKED[rule_name]["path"]


def evaluated(evaluation):
    """The models an evaluation scores (config `evaluations`), as a record's `models`."""
    return list(config["evaluations"][evaluation])


# the raw file each input kind is prepared from: what a training run logs as its datasets
RAW_OF = {
    "pixels": "mnist.npz",
    "token_ids": "aclImdb_v1.tar.gz",
    "bag_of_words": "aclImdb_v1.tar.gz",
}


# models a section trains itself (not in config `models`: no paper evaluation scores them),
# name -> the input kind it reads; a section's rule file adds its own (decoy_mnist.smk)
SECTION_MODELS = {}


def input_kind(model):
    """The input a model reads: config `models`, or what its section declared."""
    return {**config["models"], **SECTION_MODELS}[model]


def raw_file(model):
    """The raw download a model's data are prepared from (a training rule's input `raw`)."""
    return results(f"data/raw/{RAW_OF[input_kind(model)]}")


# models a section trains on data it made (not a raw download): name -> their dataset name,
# the rule inputs holding the train and the test split, and the rule that made them; a section's
# rule file adds its own (decoy_mnist.smk, planted_tokens.smk)
SECTION_DATASETS = {}


def datasets(name):
    """The datasets a model's training run logs (MLflow log_input): its train and test split.
    A paper model's are named after the raw file, whose verified sha256 (input `raw`) is their
    digest; a section model's are its own, with the sha256 of the prepared file it read."""
    contexts = (("train", "training"), ("test", "testing"))
    if name in SECTION_DATASETS:
        made = SECTION_DATASETS[name]
        return [
            {
                "name": f"{made['name']}-{split}",
                "context": context,
                "input": made[split],
                "made_by": made["made_by"],
            }
            for split, context in contexts
        ]
    raw = RAW_OF[input_kind(name)]
    base = raw.split(".")[0].split("_")[0].lower()  # mnist, aclImdb -> aclimdb
    return [
        {
            "name": f"{base}-{split}",
            "context": context,
            "input": "raw",
            "file": raw,
            "url": SOURCES[raw].url,
        }
        for split, context in contexts
    ]


def training_declaration(name, seed, section):
    """How a model's training record becomes its run (track_model): one new run per model and
    seed, its datasets, and the model as an MLflow Model named after it, with the input example
    its training saved (output `example`), registered as inputgrad-<model> if
    tracking.register_models."""
    return {
        "run": {
            "name": f"{name}-seed{seed}",
            "tags": {
                "model": name,
                "seed": str(seed),
                "section": section,
                "profile": config["profile"],
            },
        },
        "artifacts": {"model": "model", "metrics": "training", "history": "training"},
        "datasets": datasets(name),
        "model": {
            "output": "model",
            "name": name,  # the MLflow Model carries the model's name
            "example": "example",
            "registered_name": f"inputgrad-{name}" if TRACKING["register_models"] else None,
            "alias": f"seed{seed}",
        },
    }


def check_evaluations():
    """Every evaluation names trained models, of an input it can read."""
    needs = {"fgsm_robustness": ("pixels",)}  # an attack on continuous inputs
    for evaluation, names in config["evaluations"].items():
        for name in names:
            if name not in config["models"]:
                raise ConfigError(
                    f"config key 'evaluations.{evaluation}': {name!r} is not "
                    f"one of `models` ({', '.join(MODELS)})"
                )
            kinds = needs.get(evaluation)
            if kinds and config["models"][name] not in kinds:
                raise ConfigError(
                    f"config key 'evaluations.{evaluation}': {name!r} reads "
                    f"{config['models'][name]}; {evaluation} needs {' or '.join(kinds)}"
                )


check_evaluations()


def scored(evaluation):
    """{model: its input} of the models an evaluation scores, in config order."""
    return {m: config["models"][m] for m in config["evaluations"][evaluation]}


def model_files(evaluation, what="model.keras"):
    """Input function: {model: its trained file of the job's seed} for an evaluation (every
    training rule writes models/<model>/seed<N>/); with unpack(), one named input per model."""

    def files(wildcards):
        return {
            m: results(f"models/{m}/seed{wildcards.seed}/{what}")
            for m in config["evaluations"][evaluation]
        }

    return files


def options_of(attribution, model):
    """The method_options keys of the methods a model's list names (those with options)."""
    names = attribution["methods"][model]
    return [f"method_options.{m}" for m in names if m in attribution["method_options"]]


def seed_of(wildcards):
    return int(wildcards.seed)


# The regression's models, each saved as a file (scikit-learn ones as skops, the Keras MLP as
# .keras) and logged by the shared tracking path as an MLflow Model of its flavour, with its
# params, metrics and the prepared split as dataset, linked to the evaluation run.
def regression_model_file(name):
    ext = "keras" if REGRESSION_FLAVOR[name] == "keras" else "skops"
    return results(f"models/diabetes/seed{{seed}}/{name}.{ext}")


def regression_models(seed):
    """The regression rule's fitted models, each logged as an MLflow Model of its flavour into
    the evaluation run (`stage_models` of its record, read by infra.tracking)."""
    models = CFG["any_model"]["attribution"]["regression"]["models"]
    return [
        {
            "output": name,
            "flavor": flavor,
            "name": f"diabetes-{name}",
            "params": {**(models.get(name) or {}), "seed": int(seed)},
            "metrics": f"seed{seed}_{name}_",
            "tags": {"model": f"diabetes-{name}", "seed": str(seed)},
            "split": "split",
            "dataset": "diabetes",
            "source": "sklearn.datasets.load_diabetes",
        }
        for name, flavor in REGRESSION_FLAVOR.items()
    ]


# What the tracking jobs (tracking.smk) log: functions of the registry TRACKED, called once
# every section has registered its records.
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


def tracked_models():
    """Every model a registered training record trains (each gets a track_model job)."""
    return [m for e in TRACKED.values() if e["training"] for m in e["models"]]


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


def model_runs_files():
    """The run-id files of every model and seed (track_model's outputs)."""
    return [results(f"mlflow/runs/{m}/seed{s}.txt") for m in tracked_models() for s in SEEDS]
