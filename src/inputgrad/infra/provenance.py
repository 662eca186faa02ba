"""What machine and software produced a number: recorded in every MLflow run and the report.

TensorFlow picks CPU kernels (oneDNN) by instruction set at run time, so the same seed gives
bit-identical results on one machine but not across CPUs; these fields let a difference
between two machines be traced to the CPU, the oneDNN setting or a package version.
"""

from __future__ import annotations

import os
import platform
import re
import tempfile
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version

SIMD = re.compile(r"^(sse\S*|ssse3|avx\S*|fma\S*|f16c|amx\S*|popcnt)$")
PACKAGES = ("tensorflow", "keras", "numpy")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    """The CPU's vector-instruction flags (the ones that decide oneDNN's kernels)."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return sorted(f for f in line.split(":", 1)[1].split() if SIMD.match(f))
    except OSError:
        pass
    return []


def tensorflow_isa() -> str:
    """TensorFlow's own line on the instructions it finds on this CPU beyond its build flags.
    Its CPU feature guard writes it to file descriptor 2 once, when TensorFlow is imported, so
    call this before anything imports TensorFlow (`infra.stage` does, for training rules)."""
    import sys

    if "tensorflow" in sys.modules:
        return "not captured (TensorFlow was imported first)"
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        saved = os.dup(2)
        try:
            os.dup2(tmp.fileno(), 2)
            import tensorflow  # noqa: F401
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        text = tmp.read().decode(errors="replace")
    found = re.search(r"following instructions: ([A-Z0-9_ ]+?)(?:,| in other|$)", text)
    return found.group(1).strip() if found else "none reported"


def onednn() -> str:
    """oneDNN in TensorFlow: the environment switch (default on for x86 CPU builds) and
    whether this build has it."""
    from tensorflow.python.util import _pywrap_util_port

    setting = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)")
    built = "built with oneDNN" if _pywrap_util_port.IsMklEnabled() else "built without oneDNN"
    return f"TF_ENABLE_ONEDNN_OPTS={setting}; {built}"


def package_version(name: str) -> str:
    for dist in (name, f"{name}-cpu"):
        try:
            return version(dist)
        except PackageNotFoundError:
            continue
    return "not installed"


@lru_cache(maxsize=1)
def describe() -> dict[str, str]:
    """The provenance fields, as strings (MLflow tags and a report table)."""
    fields = {"cpu_model": cpu_model(), "cpu_flags": " ".join(cpu_flags()),
              "tensorflow_isa": tensorflow_isa(), "onednn": onednn(),
              "python": platform.python_version(), "platform": platform.platform()}
    fields.update({name: package_version(name) for name in PACKAGES})
    return fields
