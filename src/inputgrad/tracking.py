"""MLflow as a side channel: one experiment, one run per trained model, reopened by id file.

All writes go through `Tracker`, which holds an exclusive file lock for the duration of each
MLflow call: parallel Snakemake jobs then never race on the SQLite store ("database is locked")
and the experiment is created exactly once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
from pathlib import Path

from .io import write_text

STORE_DIR = "mlflow"


def default_uri(results_dir) -> str:
    return "sqlite:///" + str((Path(results_dir) / STORE_DIR / "mlflow.db").resolve())


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
    def __init__(self, uri: str, lock_path) -> None:
        from mlflow.tracking import MlflowClient

        self.uri = uri
        self.lock_path = Path(lock_path)
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        if uri.startswith("sqlite:///"):
            Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        with self._locked():
            self.client = MlflowClient(tracking_uri=uri)

    @classmethod
    def for_results(cls, results_dir, uri: str | None = None) -> "Tracker":
        results_dir = Path(results_dir)
        return cls(uri or default_uri(results_dir), results_dir / STORE_DIR / ".lock")

    @contextlib.contextmanager
    def _locked(self):
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

    def start_run(self, experiment_id: str, run_name: str, id_file, tags: dict | None = None) -> str:
        """Create a run and write its id to `id_file`, the declared output later rules read."""
        with self._locked():
            run = self.client.create_run(experiment_id, run_name=run_name, tags=tags or {})
        write_text(id_file, run.info.run_id + "\n")
        return run.info.run_id

    def log_params(self, run_id: str, cfg: dict) -> None:
        from mlflow.entities import Param

        params = [Param(k, v[:6000]) for k, v in flatten(cfg).items()]
        with self._locked():
            for start in range(0, len(params), 100):
                self.client.log_batch(run_id, params=params[start:start + 100])

    def log_metrics(self, run_id: str, metrics: dict[str, float], step: int | None = None) -> None:
        import time

        from mlflow.entities import Metric

        stamp = int(time.time() * 1000)
        batch = [Metric(k, float(v), stamp, step or 0) for k, v in metrics.items()]
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

    def set_tag(self, run_id: str, key: str, value: str) -> None:
        with self._locked():
            self.client.set_tag(run_id, key, value)

    def finish(self, run_id: str, status: str = "FINISHED") -> None:
        with self._locked():
            self.client.set_terminated(run_id, status=status)


def results_dir_of(anchor) -> Path:
    """The results folder, from <results>/mlflow/experiment_id.txt or from a run-id file
    <results>/models/<model>/seed<N>/run_id.txt."""
    anchor = Path(anchor).resolve()
    if anchor.name == "experiment_id.txt":
        return anchor.parents[1]
    if anchor.name == "run_id.txt":
        return anchor.parents[3]
    raise ValueError(f"{anchor}: expected an experiment_id.txt or run_id.txt file")


def log_to_runs(anchor, tracking_uri, run_id_files, paths, artifact_path: str,
                configs: dict | None = None, metrics: dict | None = None) -> None:
    """Reopen each model's run by its id file (a declared input) and add a later stage's
    files under `artifact_path`, its config slices as JSON, and metrics (non-finite ones,
    e.g. a statistic undefined for one seed, are left out). `anchor`: see results_dir_of."""
    tracker = Tracker.for_results(results_dir_of(anchor), tracking_uri)
    metrics = {k: float(v) for k, v in (metrics or {}).items() if math.isfinite(v)}
    for id_file in run_id_files:
        run_id = read_id(id_file)
        for path in paths:
            tracker.log_artifact(run_id, path, artifact_path)
        for name, cfg in (configs or {}).items():
            tracker.log_dict(run_id, cfg, f"config/{name}.json")
        if metrics:
            tracker.log_metrics(run_id, metrics)


def read_id(path) -> str:
    return Path(path).read_text().strip()


def keras_epoch_logger(tracker: Tracker, run_id: str):
    """A Keras callback that logs every epoch's metrics (loss, accuracy, val_*) to the run."""
    import keras

    class EpochLogger(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            tracker.log_metrics(run_id, dict(logs or {}), step=epoch)

    return EpochLogger()
