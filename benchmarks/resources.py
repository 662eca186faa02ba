"""Measured vs declared resources of every rule, from Snakemake's `benchmark:` files.

Usage (repo root):
    python benchmarks/resources.py [BENCHMARK_DIR ...] [--write]

Reads every benchmark TSV under the given folders (default results/benchmarks; give several,
e.g. two full runs, to take the maximum over all of them), credits each file to the rule whose
`benchmark:` pattern (workflow/rules/*.smk) it matches, and prints one Markdown row per rule
that runs a job: how many files, the largest wall time (s), peak memory (max_rss, MB) and busy
cores (cpu_time / s), what those measurements call for, and what config/resources.yaml
declares. With --write, config/resources.yaml is rewritten with the derived numbers of every
measured rule (rules without a measurement keep their entry and its comment).

Derived from the largest measurement of a rule (`HEADROOM` below):
- mem_mb = 1.5 x max_rss + the two Snakemake processes around a job inside a SLURM job,
  rounded up to 100 MB;
- runtime (minutes) = 2 x wall seconds + their start-up, rounded up, at least 1.
cpus_per_task is not measured but set: it is the number of TensorFlow threads the job runs
(infra.stage sizes TensorFlow's thread pools to it; 1 unless the rule pins `tf_threads` and
passes the same number to `resources_of`), shown here with the measured busy cores beside it.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
RULES_DIR = ROOT / "workflow" / "rules"
DECLARED = ROOT / "config" / "resources.yaml"
KEYS = ("mem_mb", "runtime")
DEFAULT = "default"  # the entry of a rule not listed (not measured yet), kept by --write
HEADROOM = {
    "mem_factor": 1.5,
    # the two Snakemake processes around every job on a SLURM node, measured by `sacct` in the
    # smoke run of tests/test_slurm.py: the job step `snakemake --executor slurm-jobstep` with
    # srun (MaxRSS of the batch step: 183 MB) and the Snakemake it starts through srun, which
    # runs the rule's script (step .0 of a job whose script is tiny: 168-175 MB)
    "job_overhead_mb": 400,
    "time_factor": 2.0,
    # their start-up (read the workflow, compose and check the configs, twice) before the
    # script starts: SLURM Elapsed minus the benchmark's s, 11 s per job on average there
    "job_overhead_s": 30,
}


def rules() -> dict[str, dict]:
    """Every rule that runs a job (script, shell, run, ...) -> {"pattern": its benchmark
    pattern or None, "threads": the `threads=` it passes to resources_of, "1" if none}."""
    found = {}
    for smk in sorted(RULES_DIR.glob("*.smk")):
        for block in re.split(r"^(?=rule \w+:)", smk.read_text(), flags=re.M):
            name = re.match(r"rule (\w+):", block)
            if not name or not re.search(r"^\s+(script|shell|run|wrapper|notebook):", block,
                                         re.M):
                continue
            # bench("rule") or bench("rule", "wildcards"), as common.smk names the file
            pattern = re.search(r'^\s+benchmark:\s*\n\s+bench\("(\w+)"(?:,\s*"([^"]+)")?\)',
                                block, re.M)
            threads = re.search(r"resources_of\(\"\w+\",\s*threads=(.+?)\),?\s*$", block, re.M)
            found[name.group(1)] = {"pattern": bench_pattern(*pattern.groups()) if pattern
                                    else None,
                                    "threads": threads.group(1) if threads else "1"}
    return found


def bench_pattern(rule: str, wildcards: str | None) -> str:
    """The path common.smk's `bench` gives (benchmarks/<rule>[/<wildcards>].tsv)."""
    return f"benchmarks/{rule}/{wildcards}.tsv" if wildcards else f"benchmarks/{rule}.tsv"


def pattern_regex(pattern: str) -> re.Pattern:
    """benchmarks/train_mnist/{model}/seed{seed}.tsv -> a regex of paths below benchmarks/."""
    pattern = pattern.removeprefix("benchmarks/")
    parts = re.split(r"(\{\w+\})", pattern)
    regex = "".join(r"\d+" if p == "{seed}" else r"[^/]+" if p.startswith("{") else re.escape(p)
                    for p in parts)
    return re.compile(regex)


def literal_length(pattern: str) -> int:
    return len(re.sub(r"\{\w+\}", "", pattern))


def measurements(folders: list[Path], found: dict[str, dict]) -> pd.DataFrame:
    """One row per benchmark file: rule, file, s, max_rss (MB), cores (cpu_time / s)."""
    patterns = {rule: info["pattern"] for rule, info in found.items() if info["pattern"]}
    regexes = {rule: pattern_regex(p) for rule, p in patterns.items()}
    rows, unmatched = [], []
    for folder in folders:
        for tsv in sorted(folder.rglob("*.tsv")):
            rel = tsv.relative_to(folder).as_posix()
            hits = [rule for rule, rx in regexes.items() if rx.fullmatch(rel)]
            # mnist_jacobian_table_seed0.tsv also fits mnist_jacobian_{model}_seed{seed}.tsv:
            # the most specific pattern (most characters outside wildcards) wins
            hits.sort(key=lambda rule: -literal_length(patterns[rule]))
            if len(hits) > 1 and (literal_length(patterns[hits[0]])
                                  > literal_length(patterns[hits[1]])):
                hits = hits[:1]
            if len(hits) != 1:
                unmatched.append(f"{tsv} ({'rules ' + ', '.join(hits) if hits else 'no rule'})")
                continue
            last = pd.read_csv(tsv, sep="\t").iloc[-1]
            seconds = float(last["s"])
            rows.append({"rule": hits[0], "file": str(tsv), "s": seconds,
                         "max_rss": float(last["max_rss"]),
                         "cores": float(last["cpu_time"]) / seconds if seconds > 0 else 0.0})
    for line in unmatched:
        print(f"skipped {line}", file=sys.stderr)
    return pd.DataFrame(rows, columns=["rule", "file", "s", "max_rss", "cores"])


def derive(s: float, max_rss: float) -> dict[str, int]:
    h = HEADROOM
    mem = math.ceil((h["mem_factor"] * max_rss + h["job_overhead_mb"]) / 100) * 100
    runtime = max(1, math.ceil((h["time_factor"] * s + h["job_overhead_s"]) / 60))
    return {"mem_mb": int(mem), "runtime": int(runtime)}


def summary(measured: pd.DataFrame, found: dict, declared: dict) -> pd.DataFrame:
    rows = []
    for rule, info in found.items():
        mine = measured[measured.rule == rule]
        row = {"rule": rule, "files": len(mine), "threads": info["threads"]}
        if len(mine):
            row.update(s=mine.s.max(), max_rss=mine.max_rss.max(), cores=mine.cores.max())
            row.update({f"derived_{k}": v for k, v in derive(row["s"], row["max_rss"]).items()})
        decl = declared.get(rule) or declared.get(DEFAULT) or {}
        row.update({f"declared_{k}": decl.get(k) for k in KEYS})
        rows.append(row)
    return pd.DataFrame(rows)


def status(row) -> str:
    if any(pd.isna(row[f"declared_{k}"]) for k in KEYS):
        return "NOT DECLARED"
    if not row["files"]:
        return "not measured"
    short = [k for k in KEYS
             if row[f"declared_{k}"] < (row["max_rss"] if k == "mem_mb" else row["s"] / 60)]
    if short:
        return "BELOW MEASURED: " + ", ".join(short)
    same = all(row[f"declared_{k}"] == row[f"derived_{k}"] for k in KEYS)
    return "ok" if same else "ok (differs from derived)"


def markdown(table: pd.DataFrame) -> str:
    def num(v, fmt="{:.0f}"):
        return "" if v is None or pd.isna(v) else fmt.format(v)

    lines = ["| rule | files | max s | max RSS MB | busy cores | declared mem_mb / runtime min "
             "| derived | cpus_per_task | status |",
             "|---|---|---|---|---|---|---|---|---|"]
    for _, r in table.iterrows():
        declared = " / ".join(num(r[f"declared_{k}"]) for k in KEYS)
        derived = " / ".join(num(r[f"derived_{k}"]) for k in KEYS) if r["files"] else ""
        threads = r["threads"] if r["threads"] == "1" else f"`{r['threads']}`"
        lines.append(f"| {r['rule']} | {r['files']} | {num(r.get('s'), '{:.1f}')} | "
                     f"{num(r.get('max_rss'))} | {num(r.get('cores'), '{:.2f}')} | {declared} "
                     f"| {derived} | {threads} | {status(r)} |")
    return "\n".join(lines)


def load_declared() -> dict:
    return (yaml.safe_load(DECLARED.read_text()) or {}) if DECLARED.exists() else {}


def write(table: pd.DataFrame, folders: list[Path]) -> None:
    """Rewrite config/resources.yaml: derived numbers for measured rules, the existing entry and
    comment for the others, rules in workflow order; the file's leading comment is kept."""
    old = DECLARED.read_text().splitlines() if DECLARED.exists() else []
    head = []
    for line in old:
        if not line.startswith("#"):
            break
        if not line.startswith("# measured from:"):
            head.append(line)
    comments = {m.group(1): m.group(2) for line in old
                if (m := re.match(r"(\w+):\s*\{.*\}\s*(#.*)$", line))}
    declared = load_declared()
    lines = [*head, "# measured from: " + ", ".join(str(f) for f in folders)]
    if DEFAULT in declared:
        body = ", ".join(f"{k}: {declared[DEFAULT][k]}" for k in KEYS)
        lines.append(f"{DEFAULT}: {{{body}}}  {comments.get(DEFAULT, '')}".rstrip())
    for _, r in table.iterrows():
        if r["files"]:
            values = {k: int(r[f"derived_{k}"]) for k in KEYS}
            comment = (f"# {r['files']} jobs: max {r['s']:.0f} s, {r['max_rss']:.0f} MB, "
                       f"{r['cores']:.2f} busy cores")
        elif r["rule"] in declared:
            values = {k: declared[r["rule"]][k] for k in KEYS}
            comment = comments.get(r["rule"], "# not measured")
        else:  # a new rule, not measured yet: it keeps the default entry
            continue
        body = ", ".join(f"{k}: {v}" for k, v in values.items())
        lines.append(f"{r['rule']}: {{{body}}}  {comment}")
    DECLARED.write_text("\n".join(lines) + "\n")
    print(f"wrote {DECLARED}", file=sys.stderr)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="*", type=Path,
                        default=[Path("results/benchmarks")])
    parser.add_argument("--write", action="store_true",
                        help="rewrite config/resources.yaml from the measurements")
    args = parser.parse_args(argv)
    found = rules()
    table = summary(measurements(args.folders, found), found, load_declared())
    if args.write:
        write(table, args.folders)
        table = summary(measurements(args.folders, found), found, load_declared())
    print(markdown(table))
    extra = sorted(set(load_declared()) - set(found) - {DEFAULT})
    if extra:
        print(f"\n{DECLARED.name} names rules that do not exist: {', '.join(extra)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
