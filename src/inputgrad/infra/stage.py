"""The stage contract: every rule's script is `main(snakemake, run)`.

`run(inputs, outputs, params) -> metrics | None` reads its inputs, computes and writes its
outputs (atomically, through `infra.io`); it neither opens MLflow nor knows where results live.
`main` does the rest, the same way for every rule: the rule's log, the tracking the rule
declared in its `track` param (`infra.tracking.record`), and errors: a named error
(`infra.errors.InputgradError`) becomes one line in the log and exit code 1.
"""

from __future__ import annotations

import logging
import os
import signal
import sys

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
    # MLflow run is closed as KILLED instead of staying RUNNING.
    signal.signal(signal.SIGTERM, _interrupt)
    log = logs.setup(smk.log[0] if smk.log else None)
    inputs, outputs, params = named(smk.input), named(smk.output), named(smk.params)
    track = params.pop("track", None)
    if execution(smk.resources):
        params["execution"] = execution(smk.resources)
    tensorflow_threads(params.pop("tf_threads", None) or smk.threads)
    if track and "run" in track:  # a training rule: note the machine before TF is imported
        from .provenance import describe

        track = {**track, "provenance": describe()}
    try:
        metrics = run(inputs, outputs, params) or {}
        if track:
            from .tracking import record

            record({**track, "rule": smk.rule}, inputs, outputs, params, metrics)
    except InputgradError as err:
        log.error("%s: %s", smk.rule, err)
        logging.shutdown()
        sys.exit(1)
