"""Run the real Snakemake CLI of this checkout on a scratch working directory."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def snakemake(workdir, *args, mirror=None, configfile=None, snakefile=None, check=True,
              timeout=1500):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg"}
    env.pop("INPUTGRAD_DATA_MIRROR", None)
    if mirror is not None:
        env["INPUTGRAD_DATA_MIRROR"] = str(mirror)
    cmd = [SNAKEMAKE, "-s", str(snakefile or ROOT / "Snakefile"), "-d", str(workdir),
           "--configfile", str(configfile or ROOT / "config" / "config.yaml"), *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    out = proc.stdout + proc.stderr
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{out[-6000:]}")
    return proc.returncode, out
