"""The stage contract: every rule's script is `main(snakemake, run)`.

`run(inputs, outputs, params) -> metrics | None` reads its inputs, computes and writes its
outputs (atomically, through `infra.io`); it neither opens MLflow nor knows where results live.
`main` does the rest, the same way for every rule: the rule's log, the record of a tracked
rule (its output `record`, `infra.records`: what the tracking jobs log to MLflow; no stage
imports MLflow), and errors: a named error (`infra.errors.InputgradError`) becomes one line in
the log and exit code 1.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time

from . import logs
from .errors import InputgradError


def named(namedlist) -> dict:
    """Snakemake's named input/output/params as a plain dict (lists stay lists)."""
    out = {}
    for key, value in namedlist.items():
        out[key] = list(value) if isinstance(value, list) else value
    return out


# Execution settings a rule declares as resources: they change no number (a test shows it for
# each), so they stay out of params, whose change reruns the job.
EXECUTION = ("steps_per_execution",)


def execution(resources) -> dict:
    """The execution settings among a job's resources."""
    return {k: getattr(resources, k) for k in EXECUTION if hasattr(resources, k)}


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def tensorflow_threads(n: int) -> None:
    """TensorFlow's thread pools sized to the job's threads (Snakemake's `threads`, 1 unless a
    rule says otherwise), before TensorFlow is imported: with TensorFlow's default (one thread
    per CPU in every job) two parallel jobs spin on each other's cores. A rule whose numbers
    depend on the thread count pins it with param `tf_threads` (docs/determinism.md); an
    environment variable set by the user wins."""
    for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        os.environ.setdefault(name, str(n))


def main(smk, run) -> None:
    # SIGTERM (how Snakemake and schedulers stop jobs) unwinds like Ctrl-C, so a half-logged
    # MLflow run (a tracking job's) is closed as KILLED instead of staying RUNNING.
    signal.signal(signal.SIGTERM, _interrupt)
    log = logs.setup(smk.log[0] if smk.log else None)
    inputs, outputs, params = named(smk.input), named(smk.output), named(smk.params)
    record = outputs.pop("record", None)  # written last, by this path, never by the stage
    if execution(smk.resources):
        params["execution"] = execution(smk.resources)
    tensorflow_threads(params.pop("tf_threads", None) or smk.threads)
    provenance = None
    if record and params.get("provenance"):  # a training rule: the machine, before TF loads
        from .provenance import describe

        params.pop("provenance")
        provenance = describe()
    try:
        started = time.time()
        metrics = run(inputs, outputs, params) or {}
        if record:
            from .records import write_record

            write_record(record, smk.rule, inputs, outputs, params, metrics, started,
                         time.time(), provenance)
    except InputgradError as err:
        log.error("%s: %s", smk.rule, err)
        logging.shutdown()
        sys.exit(1)
