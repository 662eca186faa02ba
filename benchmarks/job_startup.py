"""The fixed cost of a workflow job before it computes anything: imports, measured side by side.

    python benchmarks/job_startup.py [--rounds 5] [--benchmarks results/benchmarks]

Every Snakemake job is a fresh Python process (the `script:` directive), so each pays for its
imports. This starts `--rounds` fresh interpreters per step, interleaved, and prints the best
(least disturbed) wall and CPU seconds of each. The steps add up: a bare interpreter; + the
stage contract (`infra.stage`, a section's `stages` module, pandas); + MLflow with the
SQLAlchemy store every tracked rule opens (a table or figure job); + Keras on TensorFlow (a
training, gradient or analysis job). `added_s` is a step's wall time over the previous one.
With `--benchmarks` (the `benchmark:` files of a full run) it also counts the jobs of that run
that import TensorFlow, and prints what starting them adds up to over the run, as job seconds,
as wall seconds on 2 cores and as a share of the jobs' summed wall time.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # the children inherit it
CONTRACT = "import inputgrad.infra.stage, inputgrad.sections.mnist.stages, pandas"
MLFLOW = CONTRACT + "; import mlflow, mlflow.store.tracking.sqlalchemy_store"
STEPS = {
    "python": "pass",
    "+ stage contract": CONTRACT,
    "+ mlflow and its SQL store": MLFLOW,
    "+ keras (tensorflow)": MLFLOW + "; import keras",
}
# rules whose jobs run TensorFlow: training, gradients and every attribution or analysis stage
NO_TENSORFLOW = ("table", "figure", "seeds", "report", "download", "prepare", "mlflow_",
                 "bow_linear_agreement")


def timed(code: str) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(rounds: int) -> pd.DataFrame:
    runs = {name: [] for name in STEPS}
    for _ in range(rounds):
        for name, code in STEPS.items():
            runs[name].append(timed(code))
    rows = [{"import": name, "wall_s": min(w for w, _ in r), "cpu_s": min(c for _, c in r)}
            for name, r in runs.items()]
    table = pd.DataFrame(rows)
    table["added_s"] = table["wall_s"].diff().fillna(table["wall_s"])
    return table


def tensorflow_jobs(bench_dir: Path) -> tuple[int, int, float]:
    """(jobs, jobs importing TensorFlow, summed wall seconds of the jobs) of a run."""
    paths = sorted(bench_dir.rglob("*.tsv"))
    files = [p.relative_to(bench_dir).as_posix() for p in paths]
    with_tf = [f for f in files if not any(part in f for part in NO_TENSORFLOW)]
    seconds = sum(float(pd.read_csv(p, sep="\t")["s"].iloc[-1]) for p in paths)
    return len(files), len(with_tf), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--benchmarks", type=Path, default=None)
    args = parser.parse_args()
    table = measure(args.rounds)
    print(f"## Import cost of a fresh job (best of {args.rounds}, interleaved)\n")
    print(table.to_markdown(index=False, floatfmt=".2f"))
    if args.benchmarks:
        jobs, tf_jobs, seconds = tensorflow_jobs(args.benchmarks)
        wall = table.set_index("import")["wall_s"]
        base, tf = wall["+ mlflow and its SQL store"], wall["+ keras (tensorflow)"]
        total = (jobs - tf_jobs) * base + tf_jobs * tf
        print(f"\n{jobs} jobs with a benchmark file, {tf_jobs} of them import TensorFlow: "
              f"starting them costs {total:.0f} job seconds, {total / 2:.0f} s of wall time on "
              f"2 cores ({jobs - tf_jobs} x {base:.2f} s + {tf_jobs} x {tf:.2f} s); the jobs' "
              f"summed wall time is {seconds:.0f} s, so start-up is {100 * total / seconds:.0f} % "
              f"of it and compute {100 - 100 * total / seconds:.0f} %.")


if __name__ == "__main__":
    main()
