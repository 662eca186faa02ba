"""The paper's claims (config/paper_claims.yaml), each resolved against the tidy outputs and
given a verdict.

A claim points at our number with `ours`: {file, key} for a JSON file (dotted key),
{file, where: {column: value}, column, agg} for the matching rows of a CSV table (agg: first,
min, max or mean), {config: experiment, key} for a resolved hyperparameter, or
{diff: [pointer, pointer]}. `file` is relative to results/; the report rule declares every such
file as an input, and `files` maps each name to that input's path. `compare` says how the
number is judged: op is one of approx (|ours - target| <= tolerance), at_least, at_most.
The target is the paper's value, or `compare.value` when the paper states a qualitative claim.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import yaml

from ...infra.errors import InputgradError

REQUIRED = ("id", "section", "claim", "ours", "compare")
OPS = ("approx", "at_least", "at_most")
AGGREGATES = ("first", "min", "max", "mean")
NOT_STATED = "not stated by the paper"


class ClaimError(InputgradError, ValueError):
    """A claim in the claims file is malformed or points at nothing; the message names it."""


def load_claims(path, seed: int = 0) -> dict:
    """Read and check the claims file; `{seed}` in result paths becomes the paper seed."""
    doc = yaml.safe_load(Path(path).read_text())
    for i, claim in enumerate(doc.get("claims", [])):
        name = claim.get("id", f"#{i}")
        for key in REQUIRED:
            if key not in claim:
                raise ClaimError(f"{path}: claim {name!r} lacks key '{key}'")
        if claim["compare"].get("op") not in OPS:
            raise ClaimError(f"{path}: claim {name!r}: compare.op must be one of {OPS}")
        for pointer in _pointers(claim["ours"]):
            if "file" in pointer:
                pointer["file"] = pointer["file"].replace("{seed}", str(seed))
    return doc


def _pointers(ours: dict):
    if "diff" in ours:
        for part in ours["diff"]:
            yield from _pointers(part)
    else:
        yield ours


def claim_files(doc: dict) -> list[str]:
    """The result files the claims read (relative to results/), for the report rule's input."""
    return sorted({p["file"] for c in doc["claims"] for p in _pointers(c["ours"]) if "file" in p})


def declared_files(doc: dict, paths: list[str]) -> dict[str, str]:
    """{claim file: its path}, from the rule's input that lists them in `claim_files` order."""
    names = claim_files(doc)
    ends = [Path(p).as_posix().endswith(n) for n, p in zip(names, paths, strict=False)]
    if len(names) != len(paths) or not all(ends):
        raise ClaimError(f"the rule's claim-file input {paths} is not the claims' files {names}")
    return dict(zip(names, paths, strict=True))


def _dig(value, key: str, where: str, claim_id: str):
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise ClaimError(f"claim {claim_id!r}: key {key!r} not in {where}")
        value = value[part]
    return value


def resolve(ours: dict, files: dict, claim_id: str = "?", configs: dict | None = None):
    """Our number for a claim: from a JSON/CSV result, a resolved config, or a difference."""
    if "diff" in ours:
        a, b = (resolve(p, files, claim_id, configs) for p in ours["diff"])
        return None if a is None or b is None else float(a) - float(b)
    if "config" in ours:
        if ours["config"] not in (configs or {}):
            raise ClaimError(f"claim {claim_id!r}: no resolved config {ours['config']!r}")
        return _dig(configs[ours["config"]], ours["key"], f"config {ours['config']}", claim_id)
    if ours["file"] not in files:
        raise ClaimError(f"claim {claim_id!r}: result file {ours['file']!r} is not an input")
    path = Path(files[ours["file"]])
    if not path.exists():
        raise ClaimError(f"claim {claim_id!r}: result file {path} does not exist")
    if path.suffix == ".json":
        return _dig(json.loads(path.read_text()), ours["key"], str(path), claim_id)
    return _from_table(pd.read_csv(path), ours, path, claim_id)


def _from_table(table: pd.DataFrame, ours: dict, path: Path, claim_id: str):
    rows = table
    for column, wanted in ours.get("where", {}).items():
        if column not in table.columns:
            raise ClaimError(f"claim {claim_id!r}: column {column!r} not in {path}")
        rows = rows[rows[column].astype(str) == str(wanted)]
    if len(rows) == 0:
        return None  # e.g. the phrase does not occur in our data: reported, not a crash
    if ours["column"] not in rows.columns:
        raise ClaimError(f"claim {claim_id!r}: column {ours['column']!r} not in {path}")
    column = rows[ours["column"]]
    agg = ours.get("agg", "first")
    if agg not in AGGREGATES:
        raise ClaimError(f"claim {claim_id!r}: agg must be one of {AGGREGATES}, got {agg!r}")
    value = column.iloc[0] if agg == "first" else getattr(column, agg)()
    return value.item() if hasattr(value, "item") else value


def judge(value, target, compare: dict) -> bool | None:
    if value is None or target is None or (isinstance(value, float) and math.isnan(value)):
        return None
    tolerance = compare.get("tolerance", 0.0)
    if compare["op"] == "approx":
        return abs(float(value) - float(target)) <= tolerance
    if compare["op"] == "at_least":
        return float(value) >= float(target) - tolerance
    return float(value) <= float(target) + tolerance


def verdict(claim: dict, value) -> tuple[str, str]:
    """(verdict against the paper, verdict against the reference) for one claim."""
    compare = claim["compare"]
    words = {True: "reproduced", False: "differs", None: "no result"}
    if claim.get("paper") is None and "value" not in compare:
        paper = NOT_STATED
    else:
        paper = words[judge(value, compare.get("value", claim.get("paper")), compare)]
    ref = claim.get("reference")
    reference = words[judge(value, ref["value"], compare)] if ref else ""
    return paper, reference


def claims_table(doc: dict, files: dict, configs: dict | None = None) -> pd.DataFrame:
    """One row per claim: the paper's value, the reference, ours, the rule and the verdicts."""
    rows = []
    for claim in doc["claims"]:
        value = resolve(claim["ours"], files, claim["id"], configs)
        paper_verdict, ref_verdict = verdict(claim, value)
        compare = claim["compare"]
        rows.append({
            "id": claim["id"], "section": str(claim["section"]), "claim": claim["claim"],
            "paper": "blank in our copy" if claim.get("paper") is None else claim["paper"],
            "reference": (f"{claim['reference']['value']} ({claim['reference']['source']})"
                          if claim.get("reference") else ""),
            "ours": _fmt(value), "rule": _rule(compare, claim.get("paper")),
            "verdict": paper_verdict, "reference_verdict": ref_verdict,
            "note": claim.get("note", ""),
        })
    return pd.DataFrame(rows)


def _rule(compare: dict, paper) -> str:
    if paper is None and "value" not in compare:
        return ""
    target = f" {compare['value']}" if "value" in compare else ""
    tol = f" ± {compare['tolerance']}" if compare.get("tolerance") else ""
    return {"approx": "≈", "at_least": "≥", "at_most": "≤"}[compare["op"]] + target + tol


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
