import json

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from inputgrad.infra.errors import InputgradError
from inputgrad.sections.report.claims import (
    ClaimError,
    claim_files,
    claims_table,
    declared_files,
    load_claims,
    verdict,
)
from inputgrad.sections.report.stages import paper_report

CLAIMS = """
title: Toy report
claims:
  - id: acc
    section: "5.1"
    claim: accuracy close to 0.89
    paper: null
    reference: {value: 0.89, source: Keras example}
    ours: {file: m/metrics.json, key: test.accuracy}
    compare: {op: approx, tolerance: 0.01}
  - id: word
    section: "5.2"
    claim: excellent is a top positive word
    paper: top positive
    ours: {file: t.csv, where: {word: excellent}, column: rank}
    compare: {op: at_most, value: 20}
  - id: missing
    section: "5.1"
    claim: a phrase we do not have
    paper: present
    ours: {file: t.csv, where: {word: nope}, column: rank}
    compare: {op: at_most, value: 1}
  - id: maxlen
    section: "5.1"
    claim: reviews thresholded to 400 words
    paper: null
    reference: {value: 400, source: Keras example}
    ours: {config: imdb_cnn, key: model.maxlen}
    compare: {op: approx}
  - id: gap
    section: "5.3"
    claim: the network beats the linear model
    paper: better
    ours: {diff: [{file: m/metrics.json, key: test.accuracy},
                  {file: m/metrics.json, key: test.base}]}
    compare: {op: at_least, value: 0.0}
  - id: mean_rank
    section: "5.2"
    claim: mean of a column
    paper: null
    ours: {file: t.csv, column: rank, agg: mean}
    compare: {op: approx}
paper_tables:
  table2_words:
    - {word: excellent, sign: positive}
"""


@pytest.fixture
def results(tmp_path):
    (tmp_path / "m").mkdir()
    metrics = {"test": {"accuracy": 0.885, "base": 0.8}}
    (tmp_path / "m/metrics.json").write_text(json.dumps(metrics))
    table = pd.DataFrame({"word": ["excellent", "worst"], "rank": [3, 25]})
    table.to_csv(tmp_path / "t.csv", index=False)
    (tmp_path / "claims.yaml").write_text(CLAIMS)
    return tmp_path


def files(results, doc):
    """The claim files as the report rule declares them: one input path per file."""
    return {name: str(results / name) for name in claim_files(doc)}


def test_claims_table_verdicts(results):
    doc = load_claims(results / "claims.yaml")
    configs = {"imdb_cnn": {"model": {"maxlen": 400}}}
    table = claims_table(doc, files(results, doc), configs).set_index("id")
    assert table.loc["maxlen", "reference_verdict"] == "reproduced"
    assert table.loc["gap", "verdict"] == "reproduced" and table.loc["gap", "ours"] == "0.085"
    assert table.loc["acc", "verdict"] == "not stated by the paper"
    assert table.loc["acc", "reference_verdict"] == "reproduced"
    assert table.loc["acc", "paper"] == "blank in our copy"
    assert table.loc["word", "verdict"] == "reproduced" and table.loc["word", "ours"] == "3"
    assert table.loc["missing", "verdict"] == "no result"
    assert table.loc["mean_rank", "ours"] == "14"
    assert table.loc["mean_rank", "verdict"] == "not stated by the paper"


def test_verdict_differs_outside_tolerance():
    claim = {"paper": 0.98, "compare": {"op": "approx", "tolerance": 0.005}}
    assert verdict(claim, 0.97) == ("differs", "")
    assert verdict(claim, 0.984) == ("reproduced", "")


def test_bad_claims_are_named(results):
    (results / "bad.yaml").write_text("claims:\n  - {id: x, section: 1, claim: c, ours: {}}\n")
    with pytest.raises(ClaimError, match="claim 'x' lacks key 'compare'"):
        load_claims(results / "bad.yaml")
    assert issubclass(ClaimError, InputgradError)  # one clear line in the rule's log
    doc = load_claims(results / "claims.yaml")
    doc["claims"][0]["ours"]["key"] = "test.recall"
    with pytest.raises(ClaimError, match="key 'test.recall' not in"):
        claims_table(doc, files(results, doc), {"imdb_cnn": {"model": {"maxlen": 400}}})
    with pytest.raises(ClaimError, match="is not the claims' files"):
        declared_files(doc, [str(results / "t.csv")])


def test_paper_report_writes_html_markdown_and_claims(results):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1])
    fig.savefig(results / "toy_figure.png")
    plt.close(fig)
    table = results / "table2_words.csv"
    table.write_text((results / "t.csv").read_text())
    doc = load_claims(results / "claims.yaml")
    inputs = {"claims": str(results / "claims.yaml"),
              "results": list(files(results, doc).values()),
              "tables": [str(table)], "figures": [str(results / "toy_figure.png")]}
    outputs = {"html": str(results / "paper_report.html"), "md": str(results / "paper_report.md"),
               "claims": str(results / "tables/paper_report.csv")}
    cfg = {"imdb_cnn": {"train": {"epochs": 2}, "model": {"maxlen": 400}}}
    paper_report(inputs, outputs, {"cfg": cfg, "seed": 0})
    page = (results / "paper_report.html").read_text()
    assert "data:image/png;base64," in page and 'class="ok">reproduced' in page
    md = (results / "paper_report.md").read_text()
    assert "![toy_figure](toy_figure.png)" in md and "| excellent" in md and "epochs: 2" in md
    claims = pd.read_csv(results / "tables/paper_report.csv").set_index("id")
    assert claims.loc["word", "verdict"] == "reproduced" and len(claims) == 6
