"""The paper's claims (config/paper_claims.yaml) and the sections' (config/claims/), each
resolved against the tidy outputs of every seed and given a verdict.

A claim points at our number with `ours`: {file, key} for a JSON file (dotted key),
{file, where: {column: value}, column, agg} for the matching rows of a CSV table (agg: first,
min, max or mean), {config: experiment, key} for a resolved hyperparameter, or
{diff: [pointer, pointer]}. `file` is relative to results/ and may hold `{seed}`, which is
expanded over every seed that ran; the report rule declares every such file as an input, and
`files` maps each name to that input's path. `compare` says how one number is judged: op is
one of approx (|ours - target| <= tolerance), at_least, at_most. The target is the paper's
value, or `compare.value` when the paper states a qualitative claim.

`over_seeds` says how the seeds make one verdict: `each` (the default) judges every seed and
reports "reproduced in k of K seeds"; `mean` judges the mean over the seeds (accuracies:
one run's accuracy is noise around it); `none` is for a number no seed changes (a data count,
a hyperparameter), read and judged once.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import yaml

from ...core.seeds import SUMMARY
from ...core.stats import seed_summary
from ...infra.errors import InputgradError

REQUIRED = ("id", "section", "claim", "ours", "compare")
OPS = ("approx", "at_least", "at_most")
AGGREGATES = ("first", "min", "max", "mean")
OVER_SEEDS = ("each", "mean", "none")
NOT_STATED = "not stated by the paper"
NO_RESULT = "no result"


class ClaimError(InputgradError, ValueError):
    """A claim in the claims file is malformed or points at nothing; the message names it."""


SECTION_KEYS = ("summary", "claims", "report")


def section_claims_files(root, sections) -> list[Path]:
    """The claims files of these sections, in their order: config/claims/<section>.yaml
    under the repository `root`, where a section has one."""
    files = [Path(root) / "config" / "claims" / f"{s}.yaml" for s in sections]
    return [f for f in files if f.exists()]


def load_claims(path, sections=()) -> dict:
    """Read and check the claims file (the paper's) and, after it in the given order, the
    claims files of the sections (config/claims/<section>.yaml: their `summary` rows, `claims`
    and `report` section, which joins `beyond_the_paper`); every claim gets its `over_seeds`
    (default each). A claim id may appear once in all of them."""
    doc = yaml.safe_load(Path(path).read_text())
    # Snakemake hands a one-file list input over as that file's path
    for section_path in [sections] if isinstance(sections, str | Path) else sections:
        _merge_section(doc, section_path)
    for i, claim in enumerate(doc.get("claims", [])):
        name = claim.get("id", f"#{i}")
        for key in REQUIRED:
            if key not in claim:
                raise ClaimError(f"{path}: claim {name!r} lacks key '{key}'")
        if claim["compare"].get("op") not in OPS:
            raise ClaimError(f"{path}: claim {name!r}: compare.op must be one of {OPS}")
        over = claim.setdefault("over_seeds", "each")
        if over not in OVER_SEEDS:
            raise ClaimError(f"{path}: claim {name!r}: over_seeds must be one of {OVER_SEEDS}")
        per_seed = any("{seed}" in p.get("file", "") for p in _pointers(claim["ours"]))
        if per_seed != (over != "none"):
            raise ClaimError(f"{path}: claim {name!r}: over_seeds {over!r} needs "
                             + ("no" if over == "none" else "a") + " file path with {seed}")
    _check_sections(doc, path)
    return doc


def _merge_section(doc: dict, path) -> None:
    """Append one section's claims file to the paper's claims `doc`."""
    part = yaml.safe_load(Path(path).read_text()) or {}
    unknown = sorted(set(part) - set(SECTION_KEYS))
    if unknown:
        raise ClaimError(f"{path}: unknown key {unknown[0]!r} (a section's claims file holds "
                         f"{', '.join(SECTION_KEYS)})")
    ids = {claim.get("id") for claim in doc.get("claims", [])}
    for claim in part.get("claims", []):
        if claim.get("id") in ids:
            raise ClaimError(f"{path}: claim {claim.get('id')!r} is already defined")
    doc.setdefault("summary", []).extend(part.get("summary", []))
    doc.setdefault("claims", []).extend(part.get("claims", []))
    if "report" in part:
        doc.setdefault("beyond_the_paper", []).append(part["report"])


def _check_sections(doc: dict, path) -> None:
    """`beyond_the_paper`: each report section names a title, its cross-seed table and only
    claims that exist."""
    ids = {claim.get("id") for claim in doc.get("claims", [])}
    for i, sec in enumerate(doc.get("beyond_the_paper", [])):
        for key in ("title", "table"):
            if key not in sec:
                raise ClaimError(f"{path}: beyond_the_paper section #{i} lacks key '{key}'")
        unknown = [c for c in sec.get("claims", []) if c not in ids]
        if unknown:
            raise ClaimError(f"{path}: beyond_the_paper section {sec['title']!r} names "
                             f"unknown claim {unknown[0]!r}")
    for i, finding in enumerate(doc.get("summary", [])):
        if "title" not in finding or not finding.get("claims"):
            raise ClaimError(f"{path}: summary finding #{i} needs a title and claims")
        unknown = [c for c in finding["claims"] if c not in ids]
        if unknown:
            raise ClaimError(f"{path}: summary finding {finding['title']!r} names unknown "
                             f"claim {unknown[0]!r}")


def _pointers(ours: dict):
    if "diff" in ours:
        for part in ours["diff"]:
            yield from _pointers(part)
    else:
        yield ours


def claim_files(doc: dict, seeds) -> list[str]:
    """The result files the claims read for these seeds (relative to results/), for the
    report rule's input: `{seed}` expanded over every seed."""
    return sorted({p["file"].replace("{seed}", str(seed))
                   for c in doc["claims"] for p in _pointers(c["ours"]) if "file" in p
                   for seed in seeds})


def declared_files(doc: dict, paths: list[str], seeds) -> dict[str, str]:
    """{claim file: its path}, from the rule's input that lists them in `claim_files` order."""
    names = claim_files(doc, seeds)
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


def resolve(ours: dict, files: dict, claim_id: str = "?", configs: dict | None = None,
            seed=None):
    """Our number for a claim on one seed: from a JSON/CSV result (its `{seed}` filled in),
    a resolved config, or a difference."""
    if "diff" in ours:
        a, b = (resolve(p, files, claim_id, configs, seed) for p in ours["diff"])
        return None if a is None or b is None else float(a) - float(b)
    if "config" in ours:
        if ours["config"] not in (configs or {}):
            raise ClaimError(f"claim {claim_id!r}: no resolved config {ours['config']!r}")
        return _dig(configs[ours["config"]], ours["key"], f"config {ours['config']}", claim_id)
    name = ours["file"].replace("{seed}", str(seed))
    if name not in files:
        raise ClaimError(f"claim {claim_id!r}: result file {name!r} is not an input")
    path = Path(files[name])
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


def seed_values(claim: dict, files: dict, configs: dict | None, seeds) -> list[float]:
    """Our number on each seed (NaN where there is none); one number for over_seeds none."""
    runs = [None] if claim["over_seeds"] == "none" else seeds
    values = []
    for seed in runs:
        value = resolve(claim["ours"], files, claim["id"], configs, seed)
        try:
            values.append(math.nan if value is None else float(value))
        except (TypeError, ValueError):
            raise ClaimError(
                f"claim {claim['id']!r}: our value {value!r} is not a number"
            ) from None
    return values


def judge(value, target, compare: dict) -> bool | None:
    """Whether one number meets the claim (None: no number or no target)."""
    if value is None or target is None or math.isnan(float(value)):
        return None
    tolerance = compare.get("tolerance", 0.0)
    if compare["op"] == "approx":
        return abs(float(value) - float(target)) <= tolerance
    if compare["op"] == "at_least":
        return float(value) >= float(target) - tolerance
    return float(value) <= float(target) + tolerance


def label(k: int, n: int) -> str:
    """The verdict of a claim met on k of n seeds."""
    if k == n:
        return "reproduced"
    return "differs" if k == 0 else f"partly ({k} of {n} seeds)"


def judge_seeds(values: list[float], target, compare: dict, over: str) -> tuple[str, int | None]:
    """(verdict, k): per seed for `each`/`none` (k seeds met it; a seed without a number
    counts as not met), on the mean for `mean` (k is None)."""
    if over == "mean":
        mean = seed_summary(values)["mean"]
        met = judge(mean, target, compare)
        return ({True: "reproduced", False: "differs", None: NO_RESULT}[met], None)
    met = [judge(v, target, compare) for v in values]
    if all(m is None for m in met):
        return NO_RESULT, None
    k = sum(m is True for m in met)
    return label(k, len(values)), k


def verdict(claim: dict, values: list[float]) -> tuple[str, str, str]:
    """(verdict against the paper, against the reference, "k of K" for the paper's verdict
    when it is judged per seed) for one claim's per-seed values."""
    compare, over = claim["compare"], claim.get("over_seeds", "each")
    k_of_n = ""
    if claim.get("paper") is None and "value" not in compare:
        paper = NOT_STATED
    else:
        paper, k = judge_seeds(values, compare.get("value", claim.get("paper")), compare, over)
        k_of_n = "" if k is None else f"{k} of {len(values)}"
    ref = claim.get("reference")
    reference = judge_seeds(values, ref["value"], compare, over)[0] if ref else ""
    return paper, reference, k_of_n


def claims_table(doc: dict, files: dict, configs: dict | None, seeds) -> pd.DataFrame:
    """One row per claim: the paper's value, the reference, the rule, our value on every seed
    (columns seed<s>; empty for a claim no seed changes), their summary (seed_summary), how
    many seeds met the paper's claim, and the verdicts."""
    rows = []
    for claim in doc["claims"]:
        values = seed_values(claim, files, configs, seeds)
        paper_verdict, ref_verdict, k_of_n = verdict(claim, values)
        per_seed = {} if claim["over_seeds"] == "none" else dict(zip(seeds, values, strict=True))
        summary = seed_summary(values)
        rows.append({
            "id": claim["id"], "section": str(claim["section"]), "claim": claim["claim"],
            "paper": "blank in our copy" if claim.get("paper") is None else claim["paper"],
            "reference": (f"{claim['reference']['value']} ({claim['reference']['source']})"
                          if claim.get("reference") else ""),
            "rule": _rule(claim["compare"], claim.get("paper")),
            "over_seeds": claim["over_seeds"],
            **{f"seed{s}": per_seed.get(s, math.nan) for s in seeds},
            **{key: summary[key] for key in SUMMARY},
            "k_of_K": k_of_n, "verdict": paper_verdict, "reference_verdict": ref_verdict,
            "note": claim.get("note", ""),
        })
    return pd.DataFrame(rows)


def _rule(compare: dict, paper) -> str:
    if paper is None and "value" not in compare:
        return ""
    target = f" {compare['value']}" if "value" in compare else ""
    tol = f" ± {compare['tolerance']}" if compare.get("tolerance") else ""
    return {"approx": "≈", "at_least": "≥", "at_most": "≤"}[compare["op"]] + target + tol
