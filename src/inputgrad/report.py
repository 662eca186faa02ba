"""Paper vs reproduction: resolve each claim in config/paper_claims.yaml against the tidy
outputs under results/, give it a verdict, and render the report (HTML and Markdown).

A claim points at our number with `ours`: {file, key} for a JSON file (dotted key),
{file, where: {column: value}, column, agg} for the matching rows of a CSV table (agg: first,
min, max or mean), {config: experiment, key} for a resolved hyperparameter, or
{diff: [pointer, pointer]}. `compare` says how the
number is judged: op is one of approx (|ours - target| <= tolerance), at_least, at_most.
The target is the paper's value, or `compare.value` when the paper states a qualitative claim.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
from pathlib import Path

import pandas as pd
import yaml

from .io import write_text

REQUIRED = ("id", "section", "claim", "ours", "compare")
OPS = ("approx", "at_least", "at_most")
AGGREGATES = ("first", "min", "max", "mean")
NOT_STATED = "not stated by the paper"


class ClaimError(ValueError):
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


def _dig(value, key: str, where: str, claim_id: str):
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise ClaimError(f"claim {claim_id!r}: key {key!r} not in {where}")
        value = value[part]
    return value


def resolve(ours: dict, results_dir, claim_id: str = "?", configs: dict | None = None):
    """Our number for a claim: from a JSON/CSV result, a resolved config, or a difference."""
    if "diff" in ours:
        a, b = (resolve(p, results_dir, claim_id, configs) for p in ours["diff"])
        return None if a is None or b is None else float(a) - float(b)
    if "config" in ours:
        if ours["config"] not in (configs or {}):
            raise ClaimError(f"claim {claim_id!r}: no resolved config {ours['config']!r}")
        return _dig(configs[ours["config"]], ours["key"], f"config {ours['config']}", claim_id)
    path = Path(results_dir) / ours["file"]
    if not path.exists():
        raise ClaimError(f"claim {claim_id!r}: result file {path} does not exist")
    if path.suffix == ".json":
        return _dig(json.loads(path.read_text()), ours["key"], str(path), claim_id)
    table = pd.read_csv(path)
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


def claims_table(doc: dict, results_dir, configs: dict | None = None) -> pd.DataFrame:
    rows = []
    for claim in doc["claims"]:
        value = resolve(claim["ours"], results_dir, claim["id"], configs)
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


def _img(path: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f'<img alt="{html.escape(Path(path).stem)}" src="data:image/png;base64,{data}">'


def render(doc: dict, results_dir, tables: dict, figures: dict, configs: dict,
           versions: dict, html_out, md_out) -> pd.DataFrame:
    """Write the HTML report (figures embedded) and its Markdown twin; return the claims table."""
    claims = claims_table(doc, results_dir, configs)
    md_out, html_out = Path(md_out), Path(html_out)
    paper_tables = {k: pd.DataFrame(v) for k, v in doc.get("paper_tables", {}).items()}
    counts = claims["verdict"].value_counts().to_dict()
    summary = ", ".join(f"{n} {k}" for k, n in counts.items())

    md = [f"# {doc.get('title', 'Paper vs reproduction')}", "", f"Verdicts: {summary}.", "",
          "## Claims", "", claims.to_markdown(index=False), ""]
    body = [f"<h1>{html.escape(doc.get('title', 'Paper vs reproduction'))}</h1>",
            f"<p>Verdicts: {html.escape(summary)}.</p>", "<h2>Claims</h2>",
            _html_table(claims)]
    for name, table in tables.items():
        ours = pd.read_csv(table)
        md += [f"## {name}", ""]
        body.append(f"<h2>{html.escape(name)}</h2><div class='pair'>")
        if name in paper_tables:
            md += ["Paper:", "", paper_tables[name].to_markdown(index=False), ""]
            body.append(f"<div><h3>Paper</h3>{_html_table(paper_tables[name])}</div>")
        md += ["Ours:", "", ours.to_markdown(index=False), ""]
        body.append(f"<div><h3>Ours</h3>{_html_table(ours)}</div></div>")
    md += ["## Figures", ""]
    body.append("<h2>Figures</h2>")
    for name, png in figures.items():
        rel = os.path.relpath(Path(png).resolve(), md_out.parent.resolve())
        md += [f"### {name}", "", f"![{name}]({rel})", ""]
        body.append(f"<h3>{html.escape(name)}</h3><figure>{_img(png)}</figure>")
    md += ["## Resolved configuration", "", "```yaml", yaml.safe_dump(configs, sort_keys=False),
           "```", "", "## Package versions", "",
           pd.DataFrame(versions.items(), columns=["package", "version"]).to_markdown(index=False), ""]
    body += ["<h2>Resolved configuration</h2>",
             f"<pre>{html.escape(yaml.safe_dump(configs, sort_keys=False))}</pre>",
             "<h2>Package versions</h2>",
             _html_table(pd.DataFrame(versions.items(), columns=["package", "version"]))]
    write_text(md_out, "\n".join(md))
    write_text(html_out, _page(doc.get("title", "Paper vs reproduction"), "\n".join(body)))
    return claims


def _html_table(df: pd.DataFrame) -> str:
    out = df.to_html(index=False, escape=True, na_rep="—", border=0, classes="t")
    for word, css in (("reproduced", "ok"), ("differs", "bad"), (NOT_STATED, "na")):
        out = out.replace(f"<td>{word}</td>", f'<td class="{css}">{word}</td>')
    return out


def _page(title: str, body: str) -> str:
    style = """body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;
color:#222}table.t{border-collapse:collapse;font-size:.85em;margin:.5em 0}
table.t td,table.t th{border:1px solid #ccc;padding:.25em .5em;vertical-align:top}
table.t th{background:#f2f2f2}td.ok{background:#d8f3dc}td.bad{background:#ffd6d6}
td.na{background:#eee;color:#555}.pair{display:flex;gap:2em;align-items:flex-start;flex-wrap:wrap}
img{max-width:100%}pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:.8em}"""
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title><style>{style}</style></head><body>{body}</body></html>\n")


def package_versions(names=("tensorflow", "keras", "numpy", "pandas", "snakemake", "hydra-core",
                            "mlflow", "matplotlib", "seaborn")) -> dict:
    from importlib.metadata import PackageNotFoundError, version

    import platform

    found = {"python": platform.python_version()}
    for name in names:
        for dist in (name, f"{name}-cpu"):
            try:
                found[name] = version(dist)
                break
            except PackageNotFoundError:
                continue
    return found
