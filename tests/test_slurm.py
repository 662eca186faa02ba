"""The smoke workflow through a real SLURM cluster, with tracking on a real MLflow server.

`slurm_cluster` brings up a single-node SLURM on this machine with tests/slurm/start_cluster.sh
(munged, MariaDB, slurmdbd, slurmctld, slurmd; no systemd), or reuses the one already running
from the same state folder ($INPUTGRAD_SLURM_DIR, default /tmp/inputgrad-slurm), and stops it
at the end if it started it. The workflow then runs with `--profile profiles/slurm` (the
Snakemake SLURM executor plugin) against the `mlflow_server` of servers.py (PostgreSQL backend),
on the synthetic data of the suite's local smoke run (conftest's `smoke_run`).

Checked: every job of the run was a SLURM job that completed (`sacct`, and the plugin's log of
each job under .snakemake/slurm_logs), every run reached the server, the tables of both runs
match the local run's, and with a SQLite tracking URI the SLURM run stops before any job, saying
why. The wall times of both runs and the sacct lines are printed (`-s` shows them).

Skipped where SLURM, MUNGE or MariaDB binaries are missing (Debian: slurm-wlm slurmdbd munge
mariadb-server) or when not root; failed instead under INPUTGRAD_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml

from inputgrad.infra.errors import ConfigError
from inputgrad.infra.tracking import check_executor
from servers import unavailable
from workflow_utils import ROOT, SMOKE_CONFIG, TRAINED_MODELS, snakemake

HERE = Path(__file__).resolve().parent
START, STOP = HERE / "slurm" / "start_cluster.sh", HERE / "slurm" / "stop_cluster.sh"
PROFILE = ROOT / "profiles" / "slurm"
BINARIES = ("munged", "munge", "slurmctld", "slurmd", "slurmdbd", "sacctmgr", "sbatch", "srun",
            "sacct", "squeue", "sinfo", "scontrol")
MARIADB = (("mariadbd", "mysqld"), ("mariadb-install-db", "mysql_install_db"),
           ("mariadb", "mysql"))
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
EXPERIMENT = "inputgrad-slurm-test"
SACCT_FIELDS = "JobIDRaw,JobName%40,State,ExitCode,Elapsed,NodeList,AllocCPUS,ReqMem,Comment%80"


# ---- the SQLite refusal, without a cluster --------------------------------------------------

@pytest.mark.parametrize("uri", [None, "sqlite:////shared/mlflow.db", "file:///shared/mlruns",
                                 "/shared/mlruns"])
def test_remote_executor_refuses_a_local_store(uri):
    with pytest.raises(ConfigError) as err:
        check_executor(uri, "slurm", local=False)
    message = str(err.value)
    assert message.startswith("config key 'tracking.uri': the slurm executor runs jobs on other "
                              "nodes")
    assert "tracking server" in message and "http://host:port" in message
    if uri is None or uri.startswith("sqlite"):
        assert "SQLite store takes a local file lock" in message


@pytest.mark.parametrize("uri", ["http://mlflow:5000", "https://mlflow.example.org",
                                 "postgresql://u@db/mlflow"])
def test_remote_executor_accepts_a_server(uri):
    check_executor(uri, "slurm", local=False)


def test_local_executor_keeps_sqlite():
    check_executor(None, "local", local=True)


# ---- the cluster --------------------------------------------------------------------------

def _alive(pidfile: Path) -> bool:
    try:
        os.kill(int(pidfile.read_text()), 0)
    except (OSError, ValueError):
        return False
    return True


@pytest.fixture(scope="session")
def slurm_cluster():
    """A running single-node SLURM cluster: {"state", "env" (SLURM_CONF), "node"}."""
    missing = [name for name in BINARIES if shutil.which(name, path=SEARCH_PATH) is None]
    missing += [alts[0] for alts in MARIADB
                if not any(shutil.which(a, path=SEARCH_PATH) for a in alts)]
    if missing:
        unavailable(f"SLURM test cluster: not found: {', '.join(missing)} (Debian packages "
                    "slurm-wlm slurmdbd munge mariadb-server)")
    if os.geteuid() != 0:
        unavailable("SLURM test cluster: tests/slurm/start_cluster.sh must run as root")
    state = Path(os.environ.get("INPUTGRAD_SLURM_DIR", "/tmp/inputgrad-slurm"))
    was_up = all(_alive(state / "run" / f"{d}.pid")
                 for d in ("munged", "mariadb", "slurmdbd", "slurmctld", "slurmd"))
    env = {**os.environ, "PATH": SEARCH_PATH}
    env.pop("SLURM_CONF", None)
    started = time.monotonic()
    proc = subprocess.run(["bash", str(START), str(state)], capture_output=True, text=True,
                          env=env, timeout=600)
    if proc.returncode == 3:
        unavailable(proc.stderr.strip())
    if proc.returncode != 0:
        pytest.fail(f"{START} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}",
                    pytrace=False)
    print(f"\nSLURM test cluster {'reused' if was_up else 'started'} in "
          f"{time.monotonic() - started:.0f} s ({state})")
    try:
        yield {"state": state, "env": {"SLURM_CONF": str(state / "etc" / "slurm.conf"),
                                       "PATH": SEARCH_PATH}}
    finally:
        if not was_up:
            subprocess.run(["bash", str(STOP), str(state)], capture_output=True, timeout=300)


def slurm_cmd(cluster, *args) -> str:
    env = {**os.environ, **cluster["env"]}
    proc = subprocess.run(list(args), capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, f"{' '.join(args)}: {proc.stderr}"
    return proc.stdout


def sacct(cluster, *args) -> list[dict]:
    """sacct rows (parsable, without steps) of the given selection, as dicts."""
    since = f"{datetime.now() - timedelta(days=1):%Y-%m-%dT%H:%M}"
    out = slurm_cmd(cluster, "sacct", "-X", "--parsable2", "--noheader",
                    f"--format={SACCT_FIELDS}", "--starttime", since, *args)
    names = [f.split("%")[0] for f in SACCT_FIELDS.split(",")]
    return [dict(zip(names, line.split("|"), strict=True)) for line in out.splitlines() if line]


def project(base: Path, name: str, seeds=None, **tracking) -> Path:
    """A scratch project directory with the smoke config, `tracking` keys (and `seeds`)
    overridden."""
    work = base / name
    (work / "config").mkdir(parents=True)
    cfg = yaml.safe_load((SMOKE_CONFIG / "config.yaml").read_text())
    cfg["tracking"].update(tracking)
    if seeds is not None:
        cfg["seeds"] = seeds
    (work / "config" / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return work


def slurm_args() -> list[str]:
    # first status check 2 s after submission (the plugin's default, 40 s, suits a busy
    # cluster, not a test); everything else from the profile
    return ["--profile", str(PROFILE), "--slurm-init-seconds-before-status-checks", "2"]


def elapsed(log: str) -> float:
    """Snakemake's own "Elapsed time: H:MM:SS.ffffff" line, in seconds."""
    h, m, sec = re.search(r"^Elapsed time: (\d+):(\d+):([\d.]+)$", log, re.M).groups()
    return int(h) * 3600 + int(m) * 60 + float(sec)


@pytest.fixture(scope="module")
def slurm_run(slurm_cluster, mlflow_server, smoke_run, tmp_path_factory):
    """The smoke workflow through SLURM, tracking on the server, on the synthetic data of the
    suite's local smoke run (conftest's `smoke_run`: the default profile, SQLite, --cores 4 on
    this 2-core machine), which it is compared with: reusing that run keeps CI short. One seed
    (the local run's first): every rule still runs as a SLURM job (46 jobs), and on one 2-CPU
    node each job's own Snakemake start-up costs ~10 s, so 3 seeds (92 jobs) took 801 s."""
    from mlflow.tracking import MlflowClient

    base = tmp_path_factory.mktemp("slurm_smoke")
    seed = yaml.safe_load((smoke_run["work"] / "config/config.yaml").read_text())["seeds"][0]
    work = project(base, "slurm", seeds=[seed], uri=mlflow_server["uri"], experiment=EXPERIMENT)
    with pytest.MonkeyPatch.context() as mp:
        for key, value in slurm_cluster["env"].items():
            mp.setenv(key, value)
        _, log = snakemake(work, *slurm_args(), mirror=smoke_run["mirror"], timeout=3600)
    slurm_seconds, local_seconds = elapsed(log), elapsed(smoke_run["log"])
    print(f"\nsmoke workflow through SLURM (one 2-CPU node, tracking server): "
          f"{slurm_seconds:.0f} s; locally (default profile, SQLite): {local_seconds:.0f} s")
    client = MlflowClient(mlflow_server["uri"])
    experiment = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    return {"work": work, "log": log, "local": smoke_run["work"],
            "slurm_seconds": slurm_seconds, "local_seconds": local_seconds, "runs": runs,
            "seeds": yaml.safe_load((work / "config/config.yaml").read_text())["seeds"]}


def submitted(log: str) -> dict[str, str]:
    """SLURM job id -> its log file, from the plugin's "submitted with SLURM jobid" lines."""
    found = re.findall(r"submitted with SLURM jobid (\d+) \(log: (\S+?)\)\.?$", log, re.M)
    return dict(found)


def test_every_job_ran_as_a_slurm_job(slurm_run, slurm_cluster):
    log = slurm_run["log"]
    run_id = re.search(r"SLURM run ID: (\S+)", log).group(1)
    jobs = submitted(log)
    rules_run = re.findall(r"^rule (\w+):", log, re.M)  # jobs with an action (not localrule)
    assert rules_run and len(jobs) == len(rules_run), (len(jobs), len(rules_run))
    assert not re.search(r"^localrule (?!all:)", log, re.M)  # nothing but `all` ran locally
    rows = sacct(slurm_cluster, "--name", run_id)
    print(f"\nsacct -X --name {run_id} ({len(rows)} jobs):")
    print("|".join(f.split("%")[0] for f in SACCT_FIELDS.split(",")))
    for row in rows:
        print("|".join(row.values()))
    assert {r["JobIDRaw"] for r in rows} == set(jobs)
    assert all(r["State"] == "COMPLETED" and r["ExitCode"] == "0:0" for r in rows), rows
    # each job's comment names its rule: the rules SLURM ran are the rules Snakemake ran
    ran = sorted(re.match(r"rule_(.+?)(?:_wildcards_.*)?$", r["Comment"]).group(1) for r in rows)
    assert ran == sorted(rules_run)
    for log_file in jobs.values():  # the plugin's log of every job (profile keeps them)
        text = Path(log_file).read_text()
        assert "Finished jobid" in text or "steps (100%) done" in text, log_file


def test_every_run_reached_the_server(slurm_run):
    runs, seeds = slurm_run["runs"], slurm_run["seeds"]
    print(f"\nruns found on the server: {len(runs)}")
    models = [r for r in runs if r.data.tags.get("kind") != "evaluation"]
    assert len(models) == len(TRAINED_MODELS) * len(seeds) and len(runs) == len(models) + 1
    assert all(run.info.status == "FINISHED" for run in runs)
    mlflow_dir = slurm_run["work"] / "results" / "mlflow"
    assert not list(mlflow_dir.glob("*.db")) and not list(mlflow_dir.glob("*.lock"))


def _same_table(a: Path, b: Path) -> str | None:
    """None if two result files agree (CSV: same columns, numbers within 1e-9 relative), else
    what differs."""
    if a.suffix != ".csv":
        return None if a.read_bytes() == b.read_bytes() else "bytes differ"
    x, y = pd.read_csv(a), pd.read_csv(b)
    if list(x.columns) != list(y.columns) or x.shape != y.shape:
        return f"shape/columns {x.shape} vs {y.shape}"
    for col in x.columns:
        if pd.api.types.is_numeric_dtype(x[col]) and pd.api.types.is_numeric_dtype(y[col]):
            for u, v in zip(x[col], y[col], strict=True):
                if not (pd.isna(u) and pd.isna(v)) and not math.isclose(u, v, rel_tol=1e-9,
                                                                        abs_tol=1e-12):
                    return f"column {col}: {u} vs {v}"
        elif not x[col].astype(str).equals(y[col].astype(str)):
            return f"column {col} differs"
    return None


def test_tables_match_a_local_run(slurm_run):
    """The per-seed tables of the seed run through SLURM equal the local run's (the cross-seed
    tables summarise one seed here, three there)."""
    seed_dir = f"seed{slurm_run['seeds'][0]}"
    tables = slurm_run["work"] / "results" / "tables" / seed_dir
    local = slurm_run["local"] / "results" / "tables" / seed_dir
    names = sorted(p.relative_to(tables) for p in tables.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(local) for p in local.rglob("*") if p.is_file())
    assert any(n.suffix == ".csv" for n in names)
    differing = {str(n): why for n in names
                 if (why := _same_table(tables / n, local / n)) is not None}
    assert not differing, differing


def test_sqlite_tracking_is_refused_before_any_job(slurm_cluster, tmp_path):
    """tracking.uri null (SQLite) with the SLURM profile: exit 1 with the reason, no job."""
    work = project(tmp_path, "refused")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in slurm_cluster["env"].items():
            mp.setenv(key, value)
        code, log = snakemake(work, *slurm_args(), check=False, timeout=600)
    assert code != 0
    assert ("config key 'tracking.uri': the slurm executor runs jobs on other nodes" in log
            and "SQLite store takes a local file lock" in log), log[-3000:]
    assert not submitted(log)
    run_id = re.search(r"SLURM run ID: (\S+)", log).group(1)
    assert sacct(slurm_cluster, "--name", run_id) == []
    assert not (work / "results" / "data").exists()
