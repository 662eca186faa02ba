"""MLflow as a side channel, done once for every rule by `record` (called by `infra.stage`).

A rule declares what it logs in its `track` param (built by `common.smk`):
- training rules: {"tracking": {...}, "run": {"name", "tags"}, "artifacts": {output: folder}}
  (plus "provenance", the machine and package fields of `infra.provenance`, as run tags):
  the run is created only after the stage has written its outputs, then params (the resolved
  config), per-epoch metrics (from the history CSV), final metrics and artifacts are logged and
  the run is closed, FINISHED, or FAILED/KILLED if logging itself is interrupted; its id file
  (output `run_id`) is the handle later rules declare as input.
- later rules: {"tracking": {...}, "runs": <input key of run-id files>, "artifacts": folder,
  "configs": [param names]}: every output goes into each of those runs under `folder`, the
  named params as JSON (config/<rule>.json), and the metrics the stage returned (non-finite
  ones left out).

`tracking` is the DAG-level `tracking:` config ({uri, experiment}); uri null means the SQLite
store `infra.paths.DEFAULT_STORE` under the project directory. With SQLite, every MLflow call
holds an exclusive file lock beside the store, so parallel jobs never race on it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
from pathlib import Path

from . import paths
from .errors import ConfigError
from .io import write_text


def resolve_uri(uri: str | None) -> str:
    """The tracking URI: the configured one, or the default SQLite store (absolute path)."""
    return uri or "sqlite:///" + str(Path(paths.DEFAULT_STORE).resolve())


def check_location(uri: str | None, timeout: float = 5.0) -> None:
    """Before any job: the store must be creatable (SQLite, file) or the server reachable
    (http, https); raise ConfigError naming `tracking.uri` otherwise."""
    resolved = resolve_uri(uri)
    scheme = resolved.split(":", 1)[0]
    if scheme in ("http", "https"):
        _check_server(resolved, timeout)
    elif scheme in ("sqlite", "file"):
        _check_creatable(Path(resolved.split(":///", 1)[-1] if "://" in resolved
                              else resolved.split(":", 1)[1]), resolved)


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
    """MlflowClient calls, each under a file lock when the store is a SQLite file."""

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
        with self._locked():
            found = self.client.get_experiment_by_name(name)
            if found is not None:
                return found.experiment_id
            location = Path(artifact_root).resolve().as_uri() if artifact_root else None
            return self.client.create_experiment(name, artifact_location=location)

    def create_run(self, experiment_id: str, run_name: str, tags: dict | None = None) -> str:
        with self._locked():
            return self.client.create_run(experiment_id, run_name=run_name,
                                          tags=tags or {}).info.run_id

    def log_params(self, run_id: str, cfg: dict) -> None:
        from mlflow.entities import Param

        params = [Param(k, v[:6000]) for k, v in flatten(cfg).items()]
        with self._locked():
            for start in range(0, len(params), 100):
                self.client.log_batch(run_id, params=params[start:start + 100])

    def log_metrics(self, run_id: str, metrics: dict[str, float], step: int = 0) -> None:
        import time

        from mlflow.entities import Metric

        stamp = int(time.time() * 1000)
        batch = [Metric(k, float(v), stamp, step) for k, v in metrics.items()
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

    def log_dict(self, run_id: str, obj: dict, name: str) -> None:
        with self._locked():
            self.client.log_dict(run_id, obj, name)

    def finish(self, run_id: str, status: str = "FINISHED") -> None:
        with self._locked():
            self.client.set_terminated(run_id, status=status)

    def supersede(self, run_id: str, tags: dict) -> list[str]:
        """Close (KILLED) and delete every other run of the experiment with the same tags (the
        same model and seed): a rerun leaves one run per model and seed, never a second
        FINISHED one, and no run of an interrupted job stays RUNNING. MLflow keeps deleted
        runs restorable (`mlflow gc` removes them for good)."""
        if not tags:
            return []
        with self._locked():
            experiment_id = self.client.get_run(run_id).info.experiment_id
            query = " and ".join(f"tags.{k} = '{v}'" for k, v in sorted(tags.items()))
            old = [r for r in self.client.search_runs([experiment_id], query, max_results=1000)
                   if r.info.run_id != run_id]
            for run in old:
                if run.info.status == "RUNNING":
                    self.client.set_terminated(run.info.run_id, status="KILLED")
                self.client.delete_run(run.info.run_id)
            if old:
                self.client.set_tag(run_id, "supersedes", ",".join(r.info.run_id for r in old))
        return [r.info.run_id for r in old]


def read_id(path) -> str:
    return Path(path).read_text().strip()


def files(value) -> list[str]:
    """A Snakemake input/output entry (one path or a list of them) as a list of paths."""
    return [value] if isinstance(value, (str, Path)) else [str(v) for v in value]


def record(track: dict, inputs: dict, outputs: dict, params: dict, metrics: dict) -> None:
    """Log one finished stage as its rule declared (see the module docstring)."""
    tracker = Tracker(track["tracking"]["uri"])
    if "run" in track:
        _record_training(tracker, track, inputs, outputs, params, metrics)
        return
    for id_file in files(inputs[track.get("runs", "run_id")]):
        run_id = read_id(id_file)
        for value in outputs.values():
            for path in files(value):
                tracker.log_artifact(run_id, path, track["artifacts"])
        for name in track.get("configs", ()):
            tracker.log_dict(run_id, params[name], f"config/{track.get('rule', name)}.json")
        tracker.log_metrics(run_id, metrics)


def _record_training(tracker: Tracker, track, inputs, outputs, params, metrics) -> None:
    import pandas as pd

    tags = {**(track["run"].get("tags") or {}),
            **{f"provenance.{k}": v for k, v in track.get("provenance", {}).items()}}
    run_id = tracker.create_run(read_id(inputs["experiment"]), track["run"]["name"], tags)
    try:
        resolved = {**params.get("cfg", {}), **{k: v for k, v in params.items() if k != "cfg"}}
        tracker.log_params(run_id, resolved)  # train.epochs, model.name, ..., seed
        tracker.log_dict(run_id, resolved, "config.json")
        history = pd.read_csv(outputs["history"])
        for _, row in history.iterrows():
            tracker.log_metrics(run_id, row.drop("epoch").to_dict(), step=int(row["epoch"]) - 1)
        tracker.log_metrics(run_id, metrics)
        for key, folder in track["artifacts"].items():
            tracker.log_artifact(run_id, outputs[key], folder)
        write_text(outputs["run_id"], run_id + "\n")
    except BaseException as err:
        tracker.finish(run_id, "KILLED" if isinstance(err, KeyboardInterrupt) else "FAILED")
        raise
    tracker.finish(run_id)
    tracker.supersede(run_id, track["run"].get("tags") or {})  # model and seed, not provenance


def mlflow_experiment(inputs, outputs, params):
    """Rule mlflow_experiment: create (or find) the experiment once, before any job logs to it,
    and write its id to the file every training rule declares as input."""
    import logging

    tracking = params["tracking"]
    tracker = Tracker(tracking["uri"])
    exp_id = tracker.ensure_experiment(tracking["experiment"], artifact_root=paths.ARTIFACTS)
    write_text(outputs["experiment"], exp_id + "\n")
    logging.getLogger(__name__).info("MLflow experiment %s at %s", exp_id, tracker.uri)
