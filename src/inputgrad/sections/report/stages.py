"""Rule paper_report: the paper's claims next to ours, from the tidy outputs only."""

from __future__ import annotations

import logging
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

from ...infra.io import write_csv, write_text
from .claims import claims_table, declared_files, load_claims
from .views import render

log = logging.getLogger(__name__)
PACKAGES = ("tensorflow", "keras", "numpy", "pandas", "snakemake", "hydra-core", "mlflow",
            "matplotlib", "seaborn")


def paper_report(inputs, outputs, params):
    """Rule paper_report: judge every claim, write the claims table and the HTML/Markdown
    report. Inputs: claims (the claims file), results (the files the claims read), tables
    and figures (shown under their file names); params: cfg (resolved config per model, no
    figure style), seed (the paper seed)."""
    doc = load_claims(inputs["claims"], params["seed"])
    claims = claims_table(doc, declared_files(doc, inputs["results"]), params["cfg"])
    tables = {Path(p).stem: pd.read_csv(p) for p in inputs["tables"]}
    figures = {Path(p).stem: p for p in inputs["figures"]}
    page, md = render(doc, claims, tables, figures, params["cfg"], package_versions(),
                      outputs["md"])
    write_csv(outputs["claims"], claims)
    write_text(outputs["md"], md)
    write_text(outputs["html"], page)
    log.info("verdicts: %s", claims["verdict"].value_counts().to_dict())


def package_versions(names=PACKAGES) -> dict:
    """Python's and each package's installed version (the "-cpu" build where that is it)."""
    found = {"python": platform.python_version()}
    for name in names:
        for dist in (name, f"{name}-cpu"):
            try:
                found[name] = version(dist)
                break
            except PackageNotFoundError:
                continue
    return found
