"""MLflow, done once for every rule, by the tracking jobs only (rules in tracking.smk).

No computation opens MLflow or reads a run id. A tracked rule's job writes a record
(`infra.records`, output `record`), and its declaration beside the rule (common.smk `record`)
says how the record is logged:
- `track_model` (one job per model, all seeds): per seed, a new run made from the training
  record (`log_training`): params (the resolved config), per-epoch metrics (the history CSV),
  final metrics, datasets, artifacts and the saved Keras model as an MLflow Model (below),
  started and ended when the training did; then every stage record about the model
  (`log_stage`): its outputs under the declared folder, the named params as JSON
  (config/<rule>.json), and that model's metrics as <rule>/<name>. The run is closed FINISHED,
  or FAILED/KILLED if logging itself breaks or is interrupted; its id goes to
  results/mlflow/runs/<model>/seed<N>.txt.
- `track_evaluation` (one job): the workflow run's evaluation run, with what is about several
  models or seeds, the report, and the MLflow Models stages fitted (`_log_stage_model`),
  linked to every model run.

MLflow Model of a training run ("model": {"output", "name", "example", "registered_name",
"alias"}): the Keras file of output `output` is logged with MLflow's Keras flavour as the
run's model `name` ("model": `mlflow.pyfunc.load_model("runs:/<run id>/model")`; the plain
.keras file stays beside it as the artifact model/model.keras), with a signature inferred from
a few real input rows and the model's outputs on them (logits), and those rows as its input
example. `example` names the output (.npy) where the training stage saved those rows, encoded
as the model saw its test inputs (`core.train.input_example`), so tracking needs to know no
encoding. With `registered_name` the model also becomes a version of that
registered model, tagged with the run's tags and pointed at by `alias` (e.g.
`models:/inputgrad-imdb_cnn@seed0`).

Reruns: a new run of a model and seed supersedes (closes and deletes) the earlier runs of it,
with their logged models (MLflow keeps deleted runs and models restorable until `mlflow gc`);
their registry versions are deleted (the registry has no restorable delete), so the registry
only ever holds versions of live runs, and the alias moves to the new version.

`tracking` is the store part of the DAG-level `tracking:` config ({uri, experiment}); uri null
means the SQLite store `infra.paths.DEFAULT_STORE` under the project directory. With SQLite,
every MLflow call holds an exclusive file lock beside the store, so parallel jobs never race on
it. With a tracking server (http, https) no lock is taken: the server and its database (e.g.
PostgreSQL) serialise concurrent writes, which works across machines, and the experiment's
artifacts go where the server keeps them (`mlflow server --artifacts-destination`).
The experiment is tagged `mlflow.experimentKind: custom_model_development`, so the MLflow UI
opens it as model training, not as a GenAI experiment.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import types
from pathlib import Path

from . import paths
from .errors import ConfigError
from .io import sha256_of, write_text

# The experiment tag the MLflow UI reads to choose its view (its values are in the UI's code:
# "custom_model_development" = model training, "genai_development" = GenAI).
EXPERIMENT_KIND = {"mlflow.experimentKind": "custom_model_development"}

def resolve_uri(uri: str | None) -> str:
    """The tracking URI: the configured one, or the default SQLite store (absolute path)."""
    return uri or "sqlite:///" + str(Path(paths.DEFAULT_STORE).resolve())


def is_server(uri: str | None) -> bool:
    """True for a tracking server (http, https): no file lock, artifacts kept by the server."""
    return resolve_uri(uri).split(":", 1)[0].lower() in ("http", "https")


def check_location(uri: str | None, timeout: float = 5.0) -> None:
    """Before any job: the store must be creatable (SQLite, file) or the server reachable
    (http, https); raise ConfigError naming `tracking.uri` otherwise."""
    resolved = resolve_uri(uri)
    scheme = resolved.split(":", 1)[0].lower() if ":" in resolved else "file"
    if scheme in ("http", "https"):
        _check_server(resolved, timeout)
    elif scheme == "sqlite":
        _check_creatable(Path(resolved.split(":///", 1)[-1]), resolved)
    elif scheme == "file" or "://" not in resolved:
        # MLflow 3 refuses filesystem stores when a run starts; say so before any job
        raise ConfigError(f"config key 'tracking.uri': {resolved} is a filesystem store, which "
                          "MLflow 3 no longer accepts (it raises once a run starts); use "
                          "sqlite:///<path>.db, null for results/mlflow/mlflow.db, or "
                          "http(s)://host:port")


# where each table keeps an absolute artifact location (MLflow's SQL store)
LOCATIONS = (("experiments", "artifact_location"), ("runs", "artifact_uri"),
             ("logged_models", "artifact_location"), ("model_versions", "storage_location"),
             ("model_versions", "source"))


def _store_locations(db: Path) -> list[str]:
    import sqlite3

    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
        rows = con.execute("select artifact_location from experiments where "
                           "lifecycle_stage = 'active' and name != 'Default'").fetchall()
    return [loc for (loc,) in rows if loc and loc.startswith("file://")]


def check_portable(uri: str | None) -> None:
    """Before any job: the default SQLite store keeps absolute artifact locations, so a copied
    or moved project would write its artifacts into the original folder. Stop in one line if
    the store's experiments keep them outside this project's results/mlflow/artifacts."""
    db = Path(paths.DEFAULT_STORE)
    if uri is not None or not db.exists():
        return
    here = Path(paths.ARTIFACTS).resolve().as_uri()
    foreign = [loc for loc in _store_locations(db) if not loc.startswith(here)]
    if foreign:
        raise ConfigError(
            f"{db}: its artifacts live in {foreign[0]}, outside this project ({here}), so the "
            "project was copied or moved; run `python -m inputgrad relocate-store` here to "
            "point the store at this project, or remove results/mlflow to start a new one")


def relocate_store(project=".") -> int:
    """Point a copied or moved project's SQLite store at its own results/mlflow/artifacts:
    every absolute artifact location under the old folder is rewritten. Returns the rows."""
    import sqlite3

    db = Path(project) / paths.DEFAULT_STORE
    here = (Path(project) / paths.ARTIFACTS).resolve().as_uri()
    old = [loc for loc in _store_locations(db) if not loc.startswith(here)]
    changed = 0
    with contextlib.closing(sqlite3.connect(db)) as con, con:
        for prefix in {loc.rstrip("/") for loc in old}:
            for table, column in LOCATIONS:
                cur = con.execute(f"update {table} set {column} = ? || substr({column}, ?) "
                                  f"where {column} like ? || '%'",
                                  (here, len(prefix) + 1, prefix))
                changed += cur.rowcount
    return changed


def check_executor(uri: str | None, executor: str, local: bool) -> None:
    """Before any job, under an executor that runs jobs on other machines (SLURM, ...): the
    store must be a tracking server (or a database URI), not SQLite or a file store; raise
    ConfigError naming `tracking.uri` and saying why otherwise."""
    resolved = resolve_uri(uri)
    scheme = resolved.split(":", 1)[0].lower() if ":" in resolved else "file"  # a bare path
    if local or scheme not in ("sqlite", "file"):
        return
    store = ("a SQLite store takes a local file lock, which does not work across nodes (NFS), "
             "and SQLite is not a multi-writer server" if scheme == "sqlite" else
             "a file store has no lock and no server to order concurrent writes")
    raise ConfigError(
        f"config key 'tracking.uri': the {executor} executor runs jobs on other nodes; "
        f"{resolved} is not usable there: {store}. Start an MLflow tracking server (README, "
        "'Shared tracking server') and set tracking.uri: http://host:port")


def _check_creatable(path: Path, uri: str) -> None:
    import os

    if path.exists():
        return
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(f"config key 'tracking.uri': cannot create the MLflow store of {uri}: "
                          f"{parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"config key 'tracking.uri': cannot create the MLflow store of {uri}: "
                          f"folder {parent} is not writable")


def _check_server(uri: str, timeout: float) -> None:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=timeout) as resp:
            resp.read()
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise ConfigError(f"config key 'tracking.uri': no MLflow tracking server answers at "
                          f"{uri} ({err}); start one (see README, 'shared tracking server') "
                          "or set tracking.uri: null for the local SQLite store") from err


def flatten(cfg: dict, prefix: str = "") -> dict[str, str]:
    """Nested config -> {"train.epochs": "20", ...}, the form MLflow params take."""
    flat = {}
    for key, value in cfg.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = json.dumps(value) if isinstance(value, (list, tuple)) else str(value)
    return flat


class Tracker:
    """MlflowClient calls, each under a file lock when the store is a SQLite file (never for a
    tracking server)."""

    def __init__(self, uri: str | None = None) -> None:
        from mlflow.tracking import MlflowClient

        self.uri = resolve_uri(uri)
        self.lock_path = None
        if self.uri.startswith("sqlite:///"):
            db = Path(self.uri.removeprefix("sqlite:///"))
            db.parent.mkdir(parents=True, exist_ok=True)
            self.lock_path = db.with_name(db.name + ".lock")
        with self._locked():
            self.client = MlflowClient(tracking_uri=self.uri)

    @contextlib.contextmanager
    def _locked(self):
        if self.lock_path is None:
            yield
            return
        with open(self.lock_path, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def ensure_experiment(self, name: str, artifact_root=None) -> str:
        """The experiment's id, created if missing (artifacts under `artifact_root`, except on a
        tracking server, which keeps them where it was told to), tagged as model training."""
        with self._locked():
            found = self.client.get_experiment_by_name(name)
            if found is not None:
                for key, value in EXPERIMENT_KIND.items():
                    if found.tags.get(key) != value:  # an experiment made before the tag
                        self.client.set_experiment_tag(found.experiment_id, key, value)
                return found.experiment_id
            location = (Path(artifact_root).resolve().as_uri()
                        if artifact_root and not is_server(self.uri) else None)
            return self.client.create_experiment(name, artifact_location=location,
                                                 tags=EXPERIMENT_KIND)

    def create_run(self, experiment_id: str, run_name: str, tags: dict | None = None,
                   start_time: int | None = None) -> str:
        with self._locked():
            return self.client.create_run(experiment_id, run_name=run_name, tags=tags or {},
                                          start_time=start_time).info.run_id

    def log_params(self, run_id: str, cfg: dict) -> None:
        from mlflow.entities import Param

        params = [Param(k, v[:6000]) for k, v in flatten(cfg).items()]
        with self._locked():
            for start in range(0, len(params), 100):
                self.client.log_batch(run_id, params=params[start:start + 100])

    def log_metrics(self, run_id: str, metrics: dict[str, float], step: int = 0,
                    model_id: str | None = None, dataset=None) -> None:
        """Finite metrics into the run; with `model_id` also on that MLflow Model, evaluated on
        `dataset` (an mlflow.data Dataset) if given."""
        import time

        from mlflow.entities import Metric

        stamp = int(time.time() * 1000)
        on = {"model_id": model_id, "run_id": run_id,
              "dataset_name": dataset.name if dataset else None,
              "dataset_digest": dataset.digest if dataset else None} if model_id else {}
        batch = [Metric(k, float(v), stamp, step, **on) for k, v in metrics.items()
                 if math.isfinite(float(v))]
        if batch:
            with self._locked():
                self.client.log_batch(run_id, metrics=batch)

    def log_artifact(self, run_id: str, path, artifact_path: str | None = None) -> None:
        with self._locked():
            if Path(path).is_dir():
                self.client.log_artifacts(run_id, str(path), artifact_path)
            else:
                self.client.log_artifact(run_id, str(path), artifact_path)

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        with self._locked():
            for key, value in tags.items():
                self.client.set_tag(run_id, key, value)

    def log_dict(self, run_id: str, obj: dict, name: str) -> None:
        with self._locked():
            self.client.log_dict(run_id, obj, name)

    def log_keras_model(self, run_id: str, model, example, name: str = "model",
                        registered_name: str | None = None, alias: str | None = None,
                        tags: dict | None = None):
        """Log a Keras model into the (RUNNING) run as the MLflow Model `name`, Keras flavour,
        with the signature inferred from `example` and the model's outputs on it, and
        `example` as its input example; with `registered_name`, register it (a new version,
        tagged `tags`, pointed at by `alias`). Returns MLflow's ModelInfo."""
        import mlflow
        from mlflow.models import infer_signature

        signature = infer_signature(example, model.predict(example, verbose=0))
        with self._locked(), using_uri(self.uri), mlflow.start_run(run_id=run_id):
            # inside the resumed run: the model is logged into the run's experiment, linked
            # to the run (`runs:/<id>/<name>`); leaving it ends the run FINISHED, as `finish`
            info = mlflow.models.Model.log(
                None, name=name, flavor=_KERAS_FLAVOR, model=model, signature=signature,
                input_example=example, pip_requirements=_keras_requirements(),
                registered_model_name=registered_name, tags=tags)
            if registered_name and alias:
                self.client.set_registered_model_alias(
                    registered_name, alias, str(info.registered_model_version))
        return info

    def log_datasets(self, run_id: str, declared, inputs: dict) -> None:
        """Each declared dataset as a run input (MLflow's Dataset column): its name, context
        training/testing, and as digest the sha256 of the rule input it was read from. A raw
        download's source is its canonical URL; a file a rule prepared (`made_by`) has its
        path and that rule as source. MLflow caps a digest at 36 characters
        (mlflow.utils.validation.MAX_DATASET_DIGEST_SIZE), so the digest is the hash's first
        36 hex digits and the profile holds all 64."""
        from mlflow.entities import Dataset, DatasetInput, InputTag

        entries, hashes = [], {}
        for d in declared:
            path = str(inputs[d["input"]])
            full = hashes.get(path) or hashes.setdefault(path, sha256_of(path))
            if "url" in d:
                kind, source, file = "http", {"url": d["url"]}, d["file"]
            else:
                kind, source, file = "local", {"path": path, "made_by": d["made_by"]}, path
            dataset = Dataset(name=d["name"], digest=full[:36], source_type=kind,
                              source=json.dumps(source),
                              profile=json.dumps({"sha256": full, "file": file}))
            entries.append(DatasetInput(dataset, [InputTag("mlflow.data.context",
                                                           d["context"])]))
        if entries:
            with self._locked():
                self.client.log_inputs(run_id, datasets=entries)

    def finish(self, run_id: str, status: str = "FINISHED", end_time: int | None = None) -> None:
        with self._locked():
            self.client.set_terminated(run_id, status=status, end_time=end_time)

    def supersede(self, run_id: str, tags: dict) -> list[str]:
        """Close (KILLED) and delete every other run of the experiment with the same tags (the
        same model and seed): a rerun leaves one run per model and seed, never a second
        FINISHED one, and no run of an interrupted job stays RUNNING. MLflow keeps deleted
        runs restorable (`mlflow gc` removes them for good). The MLflow Models those runs
        logged are deleted with them (restorable alike), and their Model Registry versions are
        deleted for good, so no registered version points at a deleted run."""
        if not tags:
            return []
        with self._locked():
            experiment_id = self.client.get_run(run_id).info.experiment_id
            query = " and ".join(f"tags.{k} = '{v}'" for k, v in sorted(tags.items()))
            old = [r for r in self.client.search_runs([experiment_id], query, max_results=1000)
                   if r.info.run_id != run_id]
            for run in old:
                # said on the run itself: MLflow keeps deleted runs until `mlflow gc`
                self.client.set_tag(run.info.run_id, "superseded_by", run_id)
                if run.info.status == "RUNNING":
                    self.client.set_terminated(run.info.run_id, status="KILLED")
                for version in self.client.search_model_versions(
                        f"run_id = '{run.info.run_id}'"):
                    self.client.delete_model_version(version.name, version.version)
                for output in (run.outputs.model_outputs if run.outputs else None) or ():
                    self.client.delete_logged_model(output.model_id)
                self.client.delete_run(run.info.run_id)
            if old:
                self.client.set_tag(run_id, "supersedes", ",".join(r.info.run_id for r in old))
        return [r.info.run_id for r in old]


@contextlib.contextmanager
def using_uri(uri: str):
    """MLflow's fluent API (`log_model`, `pyfunc.load_model`, ...) pointed at `uri` for the
    block."""
    import mlflow

    before = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(before)


def _save_keras(path, **kwargs):
    """`mlflow.keras.save_model`, with the model folder created first: MLflow 3.17 writes the
    input example before creating it (mlflow/mlflow#16183, "log_model does not create the
    necessary directory ... when input_example is not None")."""
    import os

    import mlflow.keras

    os.makedirs(path, exist_ok=True)
    mlflow.keras.save_model(path=path, **kwargs)


# MLflow's Keras flavour for `Model.log` (what `mlflow.keras.log_model` calls), saving through
# `_save_keras`; the MLmodel file is the Keras flavour's own (loader module mlflow.keras).
_KERAS_FLAVOR = types.SimpleNamespace(__name__="mlflow.keras", save_model=_save_keras)


def _keras_requirements() -> list[str]:
    """The pins an MLflow Model of ours needs: Keras and the installed TensorFlow package
    (tensorflow-cpu, or tensorflow with the [gpu] extra). Given explicitly, so MLflow does not
    infer them by loading the model in a subprocess (slow, and under the SQLite lock)."""
    from importlib.metadata import PackageNotFoundError, version

    pins = [f"keras=={version('keras')}"]
    for dist in ("tensorflow", "tensorflow-cpu"):
        try:
            pins.append(f"{dist}=={version(dist)}")
            break
        except PackageNotFoundError:
            continue
    return pins


def _sklearn_requirements() -> list[str]:
    """The pins of a scikit-learn Model saved with skops, given explicitly for the reason of
    `_keras_requirements`."""
    from importlib.metadata import version

    return [f"{dist}=={version(dist)}" for dist in ("scikit-learn", "skops")]


def read_id(path) -> str:
    return Path(path).read_text().strip()


def files(value) -> list[str]:
    """A Snakemake input/output entry (one path or a list of them) as a list of paths."""
    return [value] if isinstance(value, (str, Path)) else [str(v) for v in value]


def log_stage(tracker: Tracker, run_id: str, rec: dict, declared: dict,
              model: str | None = None) -> None:
    """Log one stage's record (`infra.records`) into one run, as declared beside its rule
    (`record(...)` in common.smk: "artifacts" folder, "configs" params, "models" it is about,
    "across"): every output under the folder, the named params as config/<rule>.json, and
    metrics as <rule>/<name>. Into model `model`'s run go that model's metrics only, its name
    cut out (split_metrics), and those naming no model when the stage is about it alone; into
    the evaluation run (model None) the metrics naming no model, or all of a stage across
    seeds, and the MLflow Models the stage fitted (declared "stage_models")."""
    rule = rec["rule"]
    metrics = {k: v for k, v in rec["metrics"].items() if v is not None}
    owned = {d["metrics"] for d in declared.get("stage_models", ())}  # logged with their model
    metrics = {k: v for k, v in metrics.items() if not any(k.startswith(p) for p in owned)}
    about = declared.get("models", [])
    if model is None and not declared.get("across") and about:
        mine = split_metrics(metrics, about)[1]
    elif model is None:
        mine = metrics
    else:
        per_model, rest = split_metrics(metrics, about)
        mine = {**per_model.get(model, {}), **(rest if len(about) == 1 else {})}
    for value in rec["outputs"].values():
        for path in files(value):
            tracker.log_artifact(run_id, path, declared["artifacts"])
    for name in declared.get("configs", ()):
        tracker.log_dict(run_id, rec["params"][name], f"config/{rule}.json")
    tracker.log_metrics(run_id, {f"{rule}/{k}": v for k, v in mine.items()})
    if model is None:
        for stage_model in declared.get("stage_models", ()):
            prefix = stage_model["metrics"]
            its = {f"{rule}/{k}": v for k, v in rec["metrics"].items()
                   if k.startswith(prefix) and v is not None}
            _log_stage_model(tracker, run_id, stage_model, rec["outputs"], its)


def goes_to_evaluation(rec: dict, declared: dict) -> bool:
    """Whether a record has anything for the evaluation run: a stage across seeds or about no
    model, one that fitted MLflow Models, or metrics about several models at once that name
    none of them."""
    about = declared.get("models", [])
    if declared.get("across") or not about or declared.get("stage_models"):
        return True
    metrics = {k: v for k, v in rec["metrics"].items() if v is not None}
    return len(about) > 1 and bool(split_metrics(metrics, about)[1])


def _log_stage_model(tracker: Tracker, run_id: str, declared: dict, outputs, metrics) -> None:
    """A model a later stage fitted and saved (declared "models" entry: output, flavor
    sklearn|keras, name, params, tags, the prefix of its metrics, split output, the split's
    dataset name and source) as an MLflow Model made by `run_id` (its source run), with its
    params, its `metrics` (logged into the run as well, on the model and on the test split), and the
    split's arrays as datasets: their digest is MLflow's hash of the prepared arrays, not of a
    downloaded file. A rerun replaces the Model of the same name and tags (deleted, restorable
    until gc)."""
    import mlflow
    import numpy as np
    from mlflow.data.code_dataset_source import CodeDatasetSource
    from mlflow.entities import DatasetInput, InputTag, LoggedModelInput, LoggedModelOutput
    from mlflow.models import infer_signature

    path = outputs[declared["output"]]
    split = dict(np.load(outputs[declared["split"]]))
    if declared["flavor"] == "keras":
        import keras

        model = keras.models.load_model(path, compile=False)
        example = split["x_test"][:5].astype(np.float32)
        flavor, kwargs = _KERAS_FLAVOR, {"model": model,
                                         "pip_requirements": _keras_requirements()}
        predicted = model.predict(example, verbose=0)
    else:
        import skops.io as sio

        # the stage that just wrote this file is the source: its types (a tree's node store
        # too) are trusted here, and in MLflow's reload check of the copy it saves
        trusted = sio.get_untrusted_types(file=path)
        model = sio.load(path, trusted=trusted)
        example = split["x_test"][:5]
        flavor, kwargs = mlflow.sklearn, {"sk_model": model, "serialization_format": "skops",
                                          "skops_trusted_types": trusted,
                                          "pip_requirements": _sklearn_requirements()}
        predicted = model.predict(example)
    data = {c: mlflow.data.from_numpy(split[f"x_{c}"], targets=split[f"y_{c}"],
                                      name=f"{declared['dataset']}-{c}",
                                      source=CodeDatasetSource(
                                          {"mlflow.source.name": declared["source"]}))
            for c in ("train", "test")}
    with tracker._locked(), using_uri(tracker.uri):
        experiment_id = tracker.client.get_run(run_id).info.experiment_id
        query = " AND ".join([f"name = '{declared['name']}'"] + [
            f"tags.{k} = '{v}'" for k, v in sorted(declared.get("tags", {}).items())])
        for old in tracker.client.search_logged_models([experiment_id], query):
            tracker.client.delete_logged_model(old.model_id)
        # created here, in the run's experiment (Model.log would make it in the fluent API's
        # current experiment, Default)
        logged = tracker.client.create_logged_model(
            experiment_id, name=declared["name"], source_run_id=run_id,
            tags={k: str(v) for k, v in declared.get("tags", {}).items()},
            params={k: str(v) for k, v in declared.get("params", {}).items()})
        # without run_id: Model.log would copy every metric of the (evaluation) run onto
        # the model; the model is linked to the run as its output below instead
        mlflow.models.Model.log(
            None, name=declared["name"], flavor=flavor, model_id=logged.model_id,
            signature=infer_signature(example, predicted), input_example=example, **kwargs)
        tracker.client.log_inputs(run_id, datasets=[DatasetInput(
            data[c]._to_mlflow_entity(), [InputTag("mlflow.data.context", context)])
            for c, context in (("train", "training"), ("test", "testing"))],
            models=[LoggedModelInput(logged.model_id)])
        tracker.client.log_outputs(run_id, [LoggedModelOutput(logged.model_id, step=0)])
    tracker.log_metrics(run_id, metrics, model_id=logged.model_id, dataset=data["test"])


def split_metrics(metrics: dict, models: list[str]) -> tuple[dict, dict]:
    """({model: its metrics, the model's name cut out of each}, the metrics naming no model):
    a model's run holds that model's numbers only, named alike in every run."""
    per_model: dict[str, dict] = {}
    rest = {}
    for name, value in metrics.items():
        found = [m for m in sorted(models, key=len, reverse=True) if m in name]
        if found:
            short = name.replace(found[0], "").replace("__", "_").strip("_")
            per_model.setdefault(found[0], {})[short] = value
        else:
            rest[name] = value
    return per_model, rest


EVALUATION_TAGS = {"kind": "evaluation"}


def run_tags() -> dict[str, str]:
    """Tags every run gets: the code's git commit (findable in the UI's search box)."""
    import subprocess

    try:
        commit = subprocess.run(["git", "-C", str(Path(__file__).parent), "rev-parse", "HEAD"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {"git_commit": commit or "unknown"}



def log_training(tracker: Tracker, run_id: str, declared: dict, rec: dict) -> None:
    """A training record into its model and seed's new run (declared by `track_model` in
    common.smk: "run" name and tags, "artifacts" {output: folder}, "datasets", "model"):
    params (the resolved config), per-epoch metrics (the history CSV), final metrics,
    datasets, artifacts and the MLflow Model."""
    import pandas as pd

    inputs, outputs, params = rec["inputs"], rec["outputs"], rec["params"]
    metrics = {k: v for k, v in rec["metrics"].items() if v is not None}
    resolved = {**params.get("cfg", {}), **{k: v for k, v in params.items() if k != "cfg"}}
    tracker.log_params(run_id, resolved)  # train.epochs, model.name, ..., seed
    tracker.log_dict(run_id, resolved, "config.json")
    tracker.log_datasets(run_id, declared.get("datasets", ()), inputs)
    history = pd.read_csv(outputs["history"])
    for _, row in history.iterrows():
        tracker.log_metrics(run_id, row.drop("epoch").to_dict(), step=int(row["epoch"]) - 1)
    tracker.log_metrics(run_id, metrics)
    if "train_seconds" in metrics:
        tracker.set_tags(run_id, {"train_seconds": f"{metrics['train_seconds']:.1f}"})
    for key, folder in declared["artifacts"].items():
        tracker.log_artifact(run_id, outputs[key], folder)
    if declared.get("model"):
        _log_model(tracker, run_id, declared["model"], outputs,
                   declared["run"].get("tags") or {})


@contextlib.contextmanager
def new_run(tracker: Tracker, experiment_id: str, name: str, tags: dict, supersedes: dict,
            start_time: int | None = None, end_time: int | None = None):
    """A run created for the block, FINISHED when it ends (at `end_time` if given), then
    superseding the earlier runs with the tags `supersedes`; FAILED or KILLED, superseding
    nothing, if the block raises or is interrupted. Yields the run id."""
    run_id = tracker.create_run(experiment_id, name, {**tags, **run_tags()},
                                start_time=start_time)
    try:
        yield run_id
    except BaseException as err:
        tracker.finish(run_id, "KILLED" if isinstance(err, KeyboardInterrupt) else "FAILED")
        raise
    tracker.finish(run_id, end_time=end_time)
    tracker.supersede(run_id, supersedes)


def _log_model(tracker: Tracker, run_id: str, declared: dict, outputs, tags) -> None:
    """The saved Keras model of a training record as an MLflow Model (module docstring)."""
    import keras
    import numpy as np

    model = keras.models.load_model(outputs[declared.get("output", "model")], compile=False)
    example = np.load(outputs[declared["example"]])
    example = example.astype(model.inputs[0].dtype)  # the signature's dtype is the model's
    tracker.log_keras_model(run_id, model, example, name=declared.get("name", "model"),
                            registered_name=declared.get("registered_name"),
                            alias=declared.get("alias"), tags=tags)


def track_model(inputs, outputs, params):
    """Rule track_model: one model's runs, one per seed, each from the seed's training record
    and the records of every stage about the model (params "seeds": {seed: {"training_record":
    file, "training": declaration, "records": {record file: declaration}}}). A run starts and
    ends when the training did (its Duration is the fit's) and supersedes the earlier runs of
    the model and seed; each seed's run id goes to output seed<N>."""
    from .records import load_record

    tracker = Tracker(params["tracking"]["uri"])
    experiment_id = read_id(inputs["experiment"])
    for seed, job in params["seeds"].items():
        training, declared = load_record(job["training_record"]), job["training"]
        tags = {**(declared["run"].get("tags") or {}),
                **{f"provenance.{k}": v for k, v in training.get("provenance", {}).items()}}
        same = {k: tags[k] for k in ("model", "seed") if k in tags}  # older stores' runs too
        with new_run(tracker, experiment_id, declared["run"]["name"], tags, same,
                     training["started_ms"], training["ended_ms"]) as run_id:
            log_training(tracker, run_id, declared, training)
            for path, stage in job["records"].items():
                log_stage(tracker, run_id, load_record(path), stage, model=params["model"])
        write_text(outputs[f"seed{seed}"], run_id + "\n")


def track_evaluation(inputs, outputs, params):
    """Rule track_evaluation: the workflow run's one evaluation run (tagged kind: evaluation),
    with what is about several models or seeds, the report and the MLflow Models stages
    fitted, linked to every model run (each tagged evaluation_run; runs.json lists them). It
    supersedes the evaluation run of the previous workflow run."""
    from .records import load_record

    tracker = Tracker(params["tracking"]["uri"])
    experiment_id = read_id(inputs["experiment"])
    ids = [read_id(f) for f in inputs["runs"]]
    with tracker._locked():
        runs = {tracker.client.get_run(i).info.run_name: i for i in ids}  # <model>-seed<N>
    tags = {**EVALUATION_TAGS, **params.get("tags", {})}
    with new_run(tracker, experiment_id, "evaluation", tags, EVALUATION_TAGS) as run_id:
        for path, declared in params["records"].items():
            rec = load_record(path)
            if goes_to_evaluation(rec, declared):
                log_stage(tracker, run_id, rec, declared)
        tracker.log_dict(run_id, runs, "runs.json")
        for model_run in runs.values():
            tracker.set_tags(model_run, {"evaluation_run": run_id})
    write_text(outputs["run_id"], run_id + "\n")


def mlflow_experiment(inputs, outputs, params):
    """Rule mlflow_experiment: create (or find) the experiment once, before any tracking job
    logs to it, and write its id to the file they declare as input."""
    import logging

    tracking = params["tracking"]
    tracker = Tracker(tracking["uri"])
    exp_id = tracker.ensure_experiment(tracking["experiment"], artifact_root=paths.ARTIFACTS)
    write_text(outputs["experiment"], exp_id + "\n")
    logging.getLogger(__name__).info("MLflow experiment %s at %s", exp_id, tracker.uri)
