"""A tracked stage's record: what the stage did, written as a declared output for the tracking
jobs to log (rules track_model and track_evaluation, `infra.tracking`).

The stage itself never opens MLflow: no computation waits on the store or depends on a run id,
and changing where or how runs are logged reruns only the tracking jobs. A record holds the
rule, the job's named inputs, outputs and params, the metrics `run` returned, when the stage
started and ended (the run's Duration is the stage's, not the logging's), and for a training
job the machine's provenance.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from .io import write_text


def _plain(value):
    """numpy scalars and arrays, paths and other values as JSON types."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def write_record(path, rule: str, inputs: dict, outputs: dict, params: dict, metrics: dict,
                 started: float, ended: float, provenance: dict | None = None) -> None:
    """Write a stage's record atomically (`infra.io`); metrics as floats, NaN kept as null."""
    record = {
        "rule": rule,
        "inputs": inputs,
        "outputs": outputs,
        "params": params,
        "metrics": {k: (float(v) if math.isfinite(float(v)) else None)
                    for k, v in metrics.items()},
        "started_ms": int(started * 1000),
        "ended_ms": int(ended * 1000),
        "provenance": provenance or {},
    }
    write_text(path, json.dumps(record, indent=1, default=_plain) + "\n")  # fields in order


def load_record(path) -> dict:
    return json.loads(Path(path).read_text())
