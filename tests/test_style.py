"""Style is checked like behaviour: ruff on every Python file, snakefmt on the workflow
(settings in pyproject.toml: [tool.ruff], [tool.snakefmt])."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def tool(name: str) -> str | None:
    """The executable of the test environment, else one on PATH, else None."""
    local = BIN / name
    return str(local) if local.exists() else shutil.which(name)


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)


def test_ruff_check_is_clean():
    ruff = tool("ruff")
    assert ruff, "ruff is missing: pip install -e '.[test]'"
    targets = ["src", "tests", "benchmarks", "workflow/scripts",
               *sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("docs/*.py"))]
    proc = run([ruff, "check", "--no-cache", *targets])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_snakefmt_check_is_clean():
    snakefmt = tool("snakefmt")
    if snakefmt is None:
        pytest.skip("snakefmt executable not found (pip install -e '.[test]' installs it)")
    rules = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("workflow/rules/*.smk"))
    proc = run([snakefmt, "--check", "Snakefile", *rules])
    if proc.returncode != 0:  # show what would change (the check alone only counts files)
        diff = run([snakefmt, "--compact-diff", "Snakefile", *rules])
        pytest.fail(f"run snakefmt Snakefile workflow/rules:\n{diff.stdout}{proc.stderr}")
