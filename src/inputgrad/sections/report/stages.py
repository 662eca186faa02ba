"""Rule paper_report: the paper's claims next to ours on every seed, from the tidy outputs."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import yaml

from ...infra.io import write_csv, write_text
from ...infra.provenance import package_version
from .claims import claims_table, declared_files, load_claims
from .views import Parts, render

log = logging.getLogger(__name__)
# beyond the provenance fields (which name TensorFlow, Keras and NumPy)
PACKAGES = ("pandas", "snakemake", "hydra-core", "mlflow", "matplotlib", "seaborn")


def paper_report(inputs, outputs, params):
    """Rule paper_report: judge every claim on every seed, write the claims table and the
    HTML/Markdown report. Inputs: claims (the paper's claims file), section_claims (the
    sections' claims files, in section order), results (the files the claims
    read, every seed's), tables (the paper seed's tables, shown next to the paper's rows),
    seed_tables (cross-seed tables as Markdown), figures (PNG), configs (each model's
    config.yaml, saved beside it by its training), training (a training job's record, whose
    provenance names the machine); params: cfg = {"seeds": the seeds}."""
    seeds = list(params["cfg"]["seeds"])
    cfg = {"seeds": seeds, **model_configs(inputs["configs"])}
    doc = load_claims(inputs["claims"], inputs.get("section_claims", ()))
    claims = claims_table(doc, declared_files(doc, inputs["results"], seeds), cfg, seeds)
    parts = Parts(
        tables={Path(p).stem: pd.read_csv(p) for p in inputs["tables"]},
        seed_tables={Path(p).stem: Path(p).read_text() for p in inputs["seed_tables"]},
        figures={Path(p).stem: p for p in inputs["figures"]},
        machine=machine(inputs["training"]),
        configs=cfg,
    )
    page, md = render(doc, claims, parts, seeds, outputs["md"])
    write_csv(outputs["claims"], claims)
    write_text(outputs["md"], md)
    write_text(outputs["html"], page)
    log.info("verdicts over %d seeds: %s", len(seeds), claims["verdict"].value_counts().to_dict())


def model_configs(paths) -> dict:
    """{model name: the config its training saved}, from models/<model>/seed<N>/config.yaml."""
    return {Path(p).parent.parent.name: yaml.safe_load(Path(p).read_text()) for p in paths}


def machine(training_record) -> dict[str, str]:
    """The machine and software the results were made on: the provenance fields a training
    job recorded (infra.stage, before TensorFlow was imported; read here so this job needs no
    TensorFlow), and the versions of the other packages in the pipeline."""
    from ...infra.records import load_record

    return {**load_record(training_record)["provenance"],
            **{name: package_version(name) for name in PACKAGES}}
