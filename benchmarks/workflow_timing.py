"""Run the whole real-data workflow from prepared data and print wall time per rule.

Usage (repo root, environment active, data already prepared by `snakemake data`):
    python benchmarks/workflow_timing.py [--cores N] [--no-run]

Every job after data preparation is forced to rerun; per-rule times come from the
`benchmark:` files Snakemake writes under results/benchmarks/, the total from the clock.
With --no-run it only summarises the benchmark files already there.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

UPSTREAM = {"download", "prepare_mnist", "prepare_imdb", "mlflow_experiment", "all"}


def rules(snakemake: str) -> list[str]:
    out = subprocess.run([snakemake, "--list-rules"], capture_output=True, text=True, check=True)
    names = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    return [n for n in names if n not in UPSTREAM and not n.startswith(("data", "tracking"))]


def summarise(bench_dir: Path) -> pd.DataFrame:
    rows = []
    for tsv in sorted(bench_dir.glob("*.tsv")):
        row = pd.read_csv(tsv, sep="\t").iloc[-1]
        rows.append({"job": tsv.stem, "wall_s": float(row["s"]),
                     "max_rss_mb": float(row.get("max_rss", float("nan")))})
    return pd.DataFrame(rows).sort_values("wall_s", ascending=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cores", default=str(os.cpu_count()))
    parser.add_argument("--no-run", action="store_true")
    args = parser.parse_args()
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    total = float("nan")
    if not args.no_run:
        start = time.time()
        cmd = [snakemake, "--cores", args.cores, "--forcerun", *rules(snakemake)]
        subprocess.run(cmd, check=True)
        total = time.time() - start
    table = summarise(Path("results/benchmarks"))
    print(table.to_markdown(index=False, floatfmt=".1f"))
    print(f"\nsum of job wall times: {table['wall_s'].sum():.0f} s")
    if not args.no_run:
        print(f"workflow wall time (from prepared data, --cores {args.cores}): {total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
