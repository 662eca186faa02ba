"""The report's pages: one HTML file (figures embedded, verdicts coloured) and its Markdown
twin (figures linked), from the claims table and the paper's tables, figures and configs."""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path

import pandas as pd
import yaml

from .claims import NOT_STATED

DEFAULT_TITLE = "Paper vs reproduction"


def render(doc: dict, claims: pd.DataFrame, tables: dict, figures: dict, configs: dict,
           versions: dict, md_path) -> tuple[str, str]:
    """(HTML page, Markdown text) of the report. tables: {name: our DataFrame}, shown next to
    the paper's rows of the same name; figures: {name: PNG path}; md_path: where the
    Markdown goes (its figure links are relative to it)."""
    title = doc.get("title", DEFAULT_TITLE)
    paper_tables = {k: pd.DataFrame(v) for k, v in doc.get("paper_tables", {}).items()}
    counts = claims["verdict"].value_counts().to_dict()
    summary = ", ".join(f"{n} {k}" for k, n in counts.items())

    md = [f"# {title}", "", f"Verdicts: {summary}.", "",
          "## Claims", "", claims.to_markdown(index=False), ""]
    body = [f"<h1>{html.escape(title)}</h1>",
            f"<p>Verdicts: {html.escape(summary)}.</p>", "<h2>Claims</h2>",
            _html_table(claims)]
    for name, ours in tables.items():
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
        rel = os.path.relpath(Path(png).resolve(), Path(md_path).parent.resolve())
        md += [f"### {name}", "", f"![{name}]({rel})", ""]
        body.append(f"<h3>{html.escape(name)}</h3><figure>{_img(png)}</figure>")
    config_yaml = yaml.safe_dump(configs, sort_keys=False)
    packages = pd.DataFrame(versions.items(), columns=["package", "version"])
    md += ["## Resolved configuration", "", "```yaml", config_yaml, "```", "",
           "## Package versions", "", packages.to_markdown(index=False), ""]
    body += ["<h2>Resolved configuration</h2>", f"<pre>{html.escape(config_yaml)}</pre>",
             "<h2>Package versions</h2>", _html_table(packages)]
    return _page(title, "\n".join(body)), "\n".join(md)


def _img(path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f'<img alt="{html.escape(Path(path).stem)}" src="data:image/png;base64,{data}">'


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
