"""The report's pages: one HTML file (figures embedded, verdicts coloured) and its Markdown
twin (figures linked), from the claims table, the paper seed's tables, the cross-seed tables,
the figures, the machine and the configs."""

from __future__ import annotations

import base64
import html
import itertools
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

DEFAULT_TITLE = "Paper vs reproduction"
DETERMINISM = (
    "Results are bit-identical on one machine for one seed, not across CPUs: TensorFlow's "
    "oneDNN picks its kernels by the CPU's instruction set, so another CPU can change the last "
    "digits of every number (see docs/determinism.md). This report was built on:"
)
VERDICT_CSS = re.compile(r"<td>(reproduced|differs|partly \(\d+ of \d+ seeds\)|not stated by "
                         r"the paper)</td>")
CSS = {"reproduced": "ok", "differs": "bad", "not stated by the paper": "na"}
SEPARATOR = re.compile(r"^\s*:?-+:?\s*$")
CODE = re.compile(r"`([^`]+)`")


@dataclass
class Parts:
    """What the report shows besides the claims. tables: {name: the paper seed's DataFrame},
    shown next to the paper's rows of the same name; seed_tables: {name: Markdown text of a
    cross-seed table}; figures: {name: PNG path}; machine: {field: value}; configs: the
    resolved configs (with `seeds`)."""

    tables: dict = field(default_factory=dict)
    seed_tables: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    machine: dict = field(default_factory=dict)
    configs: dict = field(default_factory=dict)


def render(doc: dict, claims: pd.DataFrame, parts: Parts, seeds, md_path) -> tuple[str, str]:
    """(HTML page, Markdown text) of the report; md_path: where the Markdown goes (its figure
    links are relative to it)."""
    title = doc.get("title", DEFAULT_TITLE)
    md, body = [f"# {title}", ""], [f"<h1>{html.escape(title)}</h1>"]
    beyond = doc.get("beyond_the_paper", [])
    used = {name for sec in beyond for name in [sec["table"], *sec.get("figures", [])]}
    seed_tables = {k: v for k, v in parts.seed_tables.items() if k not in used}
    figures = {k: v for k, v in parts.figures.items() if k not in used}
    for section in (_summary(doc, claims, parts.figures, seeds, md_path),
                    _claims(doc, claims, seeds), _tables(doc, parts.tables, seeds[0]),
                    _seed_tables(seed_tables), _figures(figures, seeds[0], md_path),
                    *(_beyond(sec, claims, parts, seeds, md_path) for sec in beyond),
                    _machine(parts.machine), _configs(parts.configs)):
        md += section[0]
        body += section[1]
    return _page(title, "\n".join(body)), "\n".join(md)


def _summary(doc: dict, claims: pd.DataFrame, figures: dict, seeds,
             md_path) -> tuple[list, list]:
    """The findings first: per paper section and article use (`summary` of the claims file),
    each claim in one line with our verdict (k of K seeds), our number with its spread, and
    a thumbnail of the figure that supports it."""
    rows = claims.set_index("id")
    md = ["## Summary", "", f"Seeds: {', '.join(map(str, seeds))} (K = {len(seeds)}); the "
          "verdict rule and every claim follow below.", "",
          "| finding | claim | verdict | ours |", "|---|---|---|---|"]
    body = ["<h2>Summary</h2>", f"<p>Seeds: {', '.join(map(str, seeds))} (K = {len(seeds)}); "
            "the verdict rule and every claim follow below.</p>", "<table class='t sum'>",
            "<tr><th>finding</th><th>claim</th><th>verdict</th><th>ours</th><th>figure</th></tr>"]
    for finding in doc.get("summary", []):
        ids = [i for i in finding["claims"] if i in rows.index]
        figure = figures.get(finding.get("figure"))
        picture = _img(figure, width=320) if figure else ""
        for n, claim_id in enumerate(ids):
            row = rows.loc[claim_id]
            verdict, number = summary_verdict(row), summary_number(row)
            title = finding["title"] if n == 0 else ""
            md.append(f"| {title} | {_one_line(row['claim'])} | {verdict} | {number} |")
            cells = (f"<td>{html.escape(_one_line(row['claim']))}</td>"
                     f"<td class='{CSS.get(row['verdict'], 'part')}'>{html.escape(verdict)}"
                     f"</td><td>{html.escape(number)}</td>")
            head = (f"<td rowspan='{len(ids)}'><b>{html.escape(finding['title'])}</b></td>"
                    if n == 0 else "")
            thumb = f"<td rowspan='{len(ids)}'>{picture}</td>" if n == 0 else ""
            body.append(f"<tr>{head}{cells}{thumb}</tr>")
        if figure:
            rel = os.path.relpath(Path(figure).resolve(), Path(md_path).parent.resolve())
            md[-len(ids)] = md[-len(ids)].replace(f"| {finding['title']} |",
                                                  f"| {finding['title']} ([figure]({rel})) |")
    body.append("</table>")
    return md + [""], body


def summary_verdict(row) -> str:
    """A claim's verdict with its k of K where seeds were counted."""
    k = row.get("k_of_K")
    return f"{row['verdict']} ({k})" if isinstance(k, str) and k and "(" not in row["verdict"] \
        else str(row["verdict"])


def summary_number(row) -> str:
    """Our headline number: the mean over the seeds, with min – max when they differ."""
    if row["n"] > 1 and row["min"] != row["max"]:
        return f"{number(row['mean'])} ({number(row['min'])} – {number(row['max'])})"
    return number(row["mean"])


def number(value) -> str:
    """A number for reading: 25,000; 0.882; 1.2e-09 (never 2.5e+04)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    value = float(value)
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 0.001:
        return f"{value:.3g}" if abs(value) < 1 else f"{value:.4g}"
    return f"{value:.2g}"


def _one_line(text) -> str:
    return " ".join(str(text).split())


def _claims(doc: dict, claims: pd.DataFrame, seeds) -> tuple[list, list]:
    counts = claims["verdict"].value_counts().to_dict()
    summary = (f"Seeds: {', '.join(map(str, seeds))} (K = {len(seeds)}). Verdicts: "
               + ", ".join(f"{n} {k}" for k, n in counts.items()) + ".")
    rule = doc.get("verdict_rule", "").strip()
    # the paper's claims first; values no seed changes (data counts, hyperparameters the paper
    # leaves blank) in a shorter table of their own
    setup = claims["over_seeds"] == "none"
    shown = claims_display(claims[~setup], seeds)
    fixed = claims_display(claims[setup], [seeds[0]])[
        ["id", "section", "claim", "paper", "reference", "ours", "verdict",
         "reference verdict", "note"]]
    per_seed = per_seed_display(claims, seeds)
    md = ["## Verdict rule", "", rule, "", summary, "", "## Claims", "",
          shown.to_markdown(index=False), "", "## Claims per seed", "",
          per_seed.to_markdown(index=False), "", "## Setup values", "",
          fixed.to_markdown(index=False), ""]
    body = ["<h2>Verdict rule</h2>", *(f"<p>{html.escape(p)}</p>" for p in rule.split("\n\n")),
            f"<p>{html.escape(summary)}</p>", "<h2>Claims</h2>", _html_table(shown),
            "<h2>Claims per seed</h2>", _html_table(per_seed), "<h2>Setup values</h2>",
            "<p>Data counts and settings the paper leaves blank: read once, no seed changes "
            "them.</p>", _html_table(fixed)]
    return md, body


def claims_display(claims: pd.DataFrame, seeds) -> pd.DataFrame:
    """The claims table as shown: our value (the mean when several seeds ran), its range and
    95 % interval as text, the verdicts; the per-seed values go to their own table."""
    several = len(seeds) > 1
    ours = "ours (mean over seeds)" if several else "ours"
    rows = []
    for row in claims.to_dict("records"):
        spread = row["n"] > 1
        rows.append({
            "id": row["id"], "section": row["section"], "claim": row["claim"],
            "paper": row["paper"], "reference": row["reference"], "rule": row["rule"],
            "over seeds": row["over_seeds"], ours: _fmt(row["mean"]),
            "min – max": f"{_fmt(row['min'])} – {_fmt(row['max'])}" if spread else "",
            "95 % interval": ("" if math.isnan(row["ci_low"])
                              else f"{_fmt(row['ci_low'])} – {_fmt(row['ci_high'])}"),
            "k of K": row["k_of_K"], "verdict": row["verdict"],
            "reference verdict": row["reference_verdict"], "note": row["note"],
        })
    return pd.DataFrame(rows).fillna("")


def per_seed_display(claims: pd.DataFrame, seeds) -> pd.DataFrame:
    """Our value of every per-seed claim on every seed (one column per seed)."""
    rows = claims[claims["over_seeds"] != "none"]
    shown = {"id": rows["id"]}
    shown.update({f"seed {s}": rows[f"seed{s}"].map(_fmt) for s in seeds})
    return pd.DataFrame(shown)


def _tables(doc: dict, tables: dict, paper_seed) -> tuple[list, list]:
    paper_tables = {k: pd.DataFrame(v) for k, v in doc.get("paper_tables", {}).items()}
    md, body = [], []
    for name, ours in tables.items():
        md += [f"## {name}", ""]
        body.append(f"<h2>{html.escape(name)}</h2><div class='pair'>")
        if name in paper_tables:
            md += ["Paper:", "", paper_tables[name].to_markdown(index=False), ""]
            body.append(f"<div><h3>Paper</h3>{_html_table(paper_tables[name])}</div>")
        md += [f"Ours (seed {paper_seed}):", "", ours.to_markdown(index=False), ""]
        body.append(f"<div><h3>Ours (seed {paper_seed})</h3>{_html_table(ours)}</div></div>")
    return md, body


def _seed_tables(seed_tables: dict) -> tuple[list, list]:
    intro = "The paper's tables and checks on every seed, with their spread over the seeds."
    md, body = ["## Seeds", "", intro, ""], ["<h2>Seeds</h2>", f"<p>{intro}</p>"]
    for name, text in seed_tables.items():
        # the embedded file's own headings go below this section's
        demoted = [f"###{line}" if line.startswith("#") else line for line in text.splitlines()]
        md += [f"### {name}", "", *demoted, ""]
        body += [f"<h3>{html.escape(name)}</h3>", markdown_html(text, level=4)]
    return md, body


def _figures(figures: dict, paper_seed, md_path) -> tuple[list, list]:
    intro = f"Figures of one run show the first seed, {paper_seed}."
    md, body = ["## Figures", "", intro, ""], ["<h2>Figures</h2>", f"<p>{intro}</p>"]
    for name, png in figures.items():
        rel = os.path.relpath(Path(png).resolve(), Path(md_path).parent.resolve())
        md += [f"### {name}", "", f"![{name}]({rel})", ""]
        body.append(f"<h3>{html.escape(name)}</h3><figure>{_img(png)}</figure>")
    return md, body


def _beyond(sec: dict, claims: pd.DataFrame, parts: Parts, seeds, md_path) -> tuple[list, list]:
    """One section beyond the paper (`beyond_the_paper` in the claims file): its lead, the
    verdicts of its claims, its cross-seed table and its figures."""
    title, lead = f"Beyond the paper: {sec['title']}", sec.get("lead", "").strip()
    mine = claims[claims["id"].isin(sec.get("claims", []))]
    verdicts = [verdict_line(row, seeds) for row in mine.to_dict("records")]
    md = [f"## {title}", "", lead, "", *(f"- {v}" for v in verdicts), ""]
    anchor = re.sub(r"[^a-z0-9]+", "-", sec["table"].lower())
    body = [f"<h2 id='{anchor}'>{html.escape(title)}</h2>", f"<p>{_inline(lead)}</p>",
            "<ul>" + "".join(f"<li>{_inline(v)}</li>" for v in verdicts) + "</ul>"]
    text = parts.seed_tables.get(sec["table"])
    if text is not None:
        md += [f"###{line}" if line.startswith("#") else line for line in text.splitlines()]
        body.append(markdown_html(text, level=3))
    for name in sec.get("figures", []):
        if name in parts.figures:
            rel = os.path.relpath(Path(parts.figures[name]).resolve(),
                                  Path(md_path).parent.resolve())
            md += ["", f"![{name}]({rel})", ""]
            body.append(f"<figure>{_img(parts.figures[name])}</figure>")
    return md, body


def verdict_line(row: dict, seeds) -> str:
    """'claim: verdict (k of K seeds); ours mean (min – max)' for a section's list."""
    spread = f" ({_fmt(row['min'])} – {_fmt(row['max'])})" if row["n"] > 1 else ""
    count = f", {row['k_of_K']} seeds" if isinstance(row["k_of_K"], str) and row["k_of_K"] else ""
    return (f"{row['claim']} — {row['verdict']}{count}; ours: {_fmt(row['mean'])}{spread} "
            f"(`{row['id']}`: {row['note']})")


def _machine(machine: dict) -> tuple[list, list]:
    table = pd.DataFrame(machine.items(), columns=["field", "value"])
    md = ["## Machine and software", "", DETERMINISM, "", table.to_markdown(index=False), ""]
    body = ["<h2>Machine and software</h2>", f"<p>{html.escape(DETERMINISM)}</p>",
            _html_table(table)]
    return md, body


def _configs(configs: dict) -> tuple[list, list]:
    text = yaml.safe_dump(configs, sort_keys=False)
    md = ["## Resolved configuration", "", "```yaml", text, "```", ""]
    return md, ["<h2>Resolved configuration</h2>", f"<pre>{html.escape(text)}</pre>"]


def markdown_html(text: str, level: int = 3) -> str:
    """HTML of the Markdown our table rules write: pipe tables, headings (shifted to start at
    `level`), "- " lists, paragraphs and `code`; anything else is kept as escaped text."""
    out = []
    for what, group in itertools.groupby(text.splitlines(), key=_kind):
        lines = [line.strip() for line in group]
        if what == "table":
            out.append(_pipe_table(lines))
        elif what == "heading":
            for line in lines:
                depth = min(len(line) - len(line.lstrip("#")) + level - 1, 6)
                out.append(f"<h{depth}>{_inline(line.lstrip('#').strip())}</h{depth}>")
        elif what == "list":
            out.append("<ul>" + "".join(f"<li>{_inline(x[2:])}</li>" for x in lines) + "</ul>")
        elif what == "text":
            out.append(f"<p>{_inline(' '.join(lines))}</p>")
    return "\n".join(out)


def _kind(line: str) -> str:
    s = line.strip()
    for prefix, kind in (("|", "table"), ("#", "heading"), ("- ", "list")):
        if s.startswith(prefix):
            return kind
    return "text" if s else "blank"


def _inline(text: str) -> str:
    return CODE.sub(r"<code>\1</code>", html.escape(text))


def _pipe_table(lines: list[str]) -> str:
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    aligns = [""] * len(rows[0])
    if len(rows) > 1 and all(SEPARATOR.match(c) for c in rows[1]):
        aligns = [" style='text-align:right'" if c.endswith(":") and not c.startswith(":")
                  else "" for c in rows[1]]
        rows = [rows[0], *rows[2:]]
    head = "".join(f"<th>{_inline(c)}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td{a}>{_inline(c)}</td>"
                                    for a, c in zip(aligns, row, strict=False)) + "</tr>"
                   for row in rows[1:])
    return f"<table class='t'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(value) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number(value)
    if value is None:
        return "—"
    return str(value)


def _img(path, width: int | None = None) -> str:
    """The PNG inline, re-encoded with an adaptive 256-colour palette (plots have few colours:
    several times smaller, no visible change), scaled down to `width` pixels if given."""
    import io

    from PIL import Image

    with Image.open(path) as image:
        image = image.convert("RGB")
        if width and image.width > width:
            image = image.resize((width, round(image.height * width / image.width)),
                                 Image.LANCZOS)
        buffer = io.BytesIO()
        image.quantize(colors=256).save(buffer, format="PNG", optimize=True)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img alt="{html.escape(Path(path).stem)}" src="data:image/png;base64,{data}">'


def _html_table(df: pd.DataFrame) -> str:
    """A table in a box that scrolls sideways when the table is wider than the page."""
    out = df.to_html(index=False, escape=True, na_rep="—", border=0, classes="t")
    out = VERDICT_CSS.sub(
        lambda m: f'<td class="{CSS.get(m.group(1), "part")}">{m.group(1)}</td>', out)
    return f'<div class="wide">{out}</div>'



def _page(title: str, body: str) -> str:
    style = """body{font-family:system-ui,sans-serif;max-width:1400px;margin:2em auto;padding:0 1em;
color:#222}table.t{border-collapse:collapse;font-size:.85em;margin:.5em 0}
table.t td,table.t th{border:1px solid #ccc;padding:.25em .5em;vertical-align:top;max-width:28em}
table.t th{background:#f2f2f2}td.ok{background:#d8f3dc}td.bad{background:#ffd6d6}
td.part{background:#fff3bf}td.na{background:#eee;color:#555}
.pair{display:flex;gap:2em;align-items:flex-start;flex-wrap:wrap}
img{max-width:100%}pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:.8em}
div.wide{max-width:100%;overflow-x:auto}.pair>div{min-width:0;max-width:100%}"""
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title><style>{style}</style></head><body>{body}</body></html>\n")
