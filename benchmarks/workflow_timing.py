"""Run the whole real-data workflow from prepared data and print wall time per rule.

Usage (repo root, environment active, data already prepared by `snakemake data`):
    python benchmarks/workflow_timing.py [--cores N] [--no-run] [-- SNAKEMAKE ARGS...]

Every job after data preparation is forced to rerun (arguments after `--` go to Snakemake,
e.g. `-- --config 'seeds=[0,1,2]'`); per-job times come from the `benchmark:` files Snakemake
writes under results/benchmarks/, the total from the clock. Each benchmark file is credited to
the rule whose name is the longest prefix of its path (`train_mnist_mnist_mlp_seed0.tsv`,
`attribution_deletion/seed0.tsv`), its seed read from `seed<N>` in the path. Prints one row
per rule: jobs, the sum and the max over its jobs (seeds, models) of wall seconds, max RSS.
With --no-run it only summarises the benchmark files already there.
The targets (issue 24): the whole default run (3 seeds) within 20 minutes (1200 s) of wall time
on 2 cores, aim 15; the paper's part (`mnist imdb_cnn imdb_bow`) within 10.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

UPSTREAM = {"download", "prepare_mnist", "prepare_imdb", "mlflow_experiment", "all"}
BENCH_DIR = Path("results/benchmarks")
TARGET_S = 1200  # the whole default run; the paper's part alone has 600


def rules(snakemake: str) -> list[str]:
    out = subprocess.run([snakemake, "--list-rules"], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"snakemake --list-rules failed:\n{out.stderr}")
    return [line.strip() for line in out.stdout.splitlines() if re.fullmatch(r"\w+", line.strip())]


def forced(names: list[str]) -> list[str]:
    """The rules after data preparation and the tracking setup (aggregates included)."""
    return [n for n in names if n not in UPSTREAM and not n.startswith(("data", "tracking"))]


def rule_of(path: str, names: list[str]) -> str:
    """The longest rule name that prefixes `path` up to a `_`, `/` or `.` (or the whole path)."""
    hits = [n for n in names if re.match(re.escape(n) + r"(?:[_/.]|$)", path)]
    return max(hits, key=len) if hits else f"? {path}"


def jobs(bench_dir: Path, names: list[str], since: float = 0.0) -> pd.DataFrame:
    """One row per benchmark file written after `since`: rule, seed, wall s, max RSS MB."""
    rows = []
    for tsv in sorted(bench_dir.rglob("*.tsv")):
        if tsv.stat().st_mtime < since:
            continue
        row = pd.read_csv(tsv, sep="\t").iloc[-1]
        path = tsv.relative_to(bench_dir).with_suffix("").as_posix()
        seed = re.search(r"seed(\d+)", path)
        rows.append({"rule": rule_of(path, names), "job": path,
                     "seed": int(seed.group(1)) if seed else None, "wall_s": float(row["s"]),
                     "max_rss_mb": float(row.get("max_rss", float("nan")))})
    return pd.DataFrame(rows, columns=["rule", "job", "seed", "wall_s", "max_rss_mb"])


def per_rule(table: pd.DataFrame) -> pd.DataFrame:
    grouped = table.groupby("rule").agg(
        jobs=("job", "size"), seeds=("seed", "nunique"), sum_wall_s=("wall_s", "sum"),
        max_wall_s=("wall_s", "max"), max_rss_mb=("max_rss_mb", "max"))
    return grouped.sort_values("sum_wall_s", ascending=False).reset_index()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", default=str(os.cpu_count()))
    parser.add_argument("--no-run", action="store_true")
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    names = rules(snakemake)
    total, since = float("nan"), 0.0
    if not args.no_run:
        since = time.time()
        cmd = [snakemake, "--cores", args.cores, *extra, "--forcerun", *forced(names)]
        subprocess.run(cmd, check=True)
        total = time.time() - since
    table = jobs(BENCH_DIR, names, since)
    if table.empty:
        print(f"no benchmark files in {BENCH_DIR}")
        return 1
    print(per_rule(table).to_markdown(index=False, floatfmt=".1f"))
    print(f"\njobs: {len(table)}; sum of job wall times: {table['wall_s'].sum():.0f} s")
    if not args.no_run:
        verdict = "within" if total <= TARGET_S else "over"
        print(f"workflow wall time (from prepared data, --cores {args.cores}): {total:.0f} s "
              f"({verdict} the whole run's {TARGET_S} s target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
