"""The fixed cost of a workflow job before it computes anything: imports, measured side by side.

    python benchmarks/job_startup.py [--rounds 5] [--benchmarks results/benchmarks]

Every Snakemake job is a fresh Python process (the `script:` directive), so each pays for its
imports. This starts `--rounds` fresh interpreters per kind of job, interleaved, and prints the
best (least disturbed) wall and CPU seconds of each: a bare interpreter; the stage contract
(`infra.stage`, a section's `stages` module, pandas: a table or figure job); + Keras on
TensorFlow (a training, gradient or analysis job); the contract + MLflow with its SQL store
(`mlflow_experiment`); + both (`track_model`, `track_evaluation`, which log Keras models).
Since tracking left the compute jobs (issue 21), only those three rules import MLflow.
With `--benchmarks` (the `benchmark:` files of a full run) it also counts the jobs of each
kind in that run, and prints what starting them adds up to, as job seconds, as wall seconds on
2 cores and as a share of the jobs' summed wall time.
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
    "stage contract": CONTRACT,
    "contract + keras (tensorflow)": CONTRACT + "; import keras",
    "contract + mlflow": MLFLOW,
    "contract + mlflow + keras": MLFLOW + "; import keras",
}
# the kind of each job, by its rule (the first part of its benchmark file's path)
MLFLOW_ONLY = ("mlflow_experiment",)
TRACKING = ("track_model", "track_evaluation")
# rules whose jobs run no TensorFlow: tables, figures, across-seed summaries, the report, data
NO_TENSORFLOW = ("table", "figure", "seeds", "report", "download", "prepare", "planted_imdb",
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
    rows = [{"job imports": name, "wall_s": min(w for w, _ in r), "cpu_s": min(c for _, c in r)}
            for name, r in runs.items()]
    return pd.DataFrame(rows)


def kind_of(rule: str) -> str:
    if rule in MLFLOW_ONLY:
        return "contract + mlflow"
    if rule in TRACKING:
        return "contract + mlflow + keras"
    if any(part in rule for part in NO_TENSORFLOW):
        return "stage contract"
    return "contract + keras (tensorflow)"


def job_kinds(bench_dir: Path) -> tuple[pd.Series, float]:
    """(jobs of each kind, summed wall seconds of the jobs) of a run."""
    paths = sorted(bench_dir.rglob("*.tsv"))
    kinds = pd.Series([kind_of(p.relative_to(bench_dir).parts[0].removesuffix(".tsv"))
                       for p in paths]).value_counts()
    seconds = sum(float(pd.read_csv(p, sep="\t")["s"].iloc[-1]) for p in paths)
    return kinds, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--benchmarks", type=Path, default=None)
    args = parser.parse_args()
    table = measure(args.rounds)
    print(f"## Import cost of a fresh job (best of {args.rounds}, interleaved)\n")
    print(table.to_markdown(index=False, floatfmt=".2f"))
    if args.benchmarks:
        kinds, seconds = job_kinds(args.benchmarks)
        wall = table.set_index("job imports")["wall_s"]
        parts = [f"{n} x {wall[kind]:.2f} s ({kind})" for kind, n in kinds.items()]
        total = sum(n * wall[kind] for kind, n in kinds.items())
        share = 100 * total / seconds
        print(f"\n{kinds.sum()} jobs with a benchmark file: {'; '.join(parts)}. Starting them "
              f"costs {total:.0f} job seconds, {total / 2:.0f} s of wall time on 2 cores; the "
              f"jobs' summed wall time is {seconds:.0f} s, so start-up is {share:.1f} % of it "
              f"and compute {100 - share:.1f} %.")


if __name__ == "__main__":
    main()
