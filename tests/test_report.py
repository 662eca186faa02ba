import json
import math
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import yaml

from inputgrad.core.stats import seed_summary, t_quantile
from inputgrad.infra.errors import InputgradError
from inputgrad.sections.report.claims import (
    ClaimError,
    claim_files,
    claims_table,
    declared_files,
    load_claims,
    section_claims_files,
    verdict,
)
from inputgrad.sections.report.stages import paper_report
from inputgrad.sections.report.views import markdown_html

CLAIMS = """
title: Toy report
verdict_rule: |
  Judged on every seed.
claims:
  - id: acc
    section: "5.1"
    claim: accuracy close to 0.89
    paper: null
    reference: {value: 0.89, source: Keras example}
    ours: {file: "m/seed{seed}/metrics.json", key: test.accuracy}
    compare: {op: approx, tolerance: 0.005}
    over_seeds: mean
  - id: acc_each
    section: "5.1"
    claim: the same accuracy judged per seed
    paper: 0.89
    ours: {file: "m/seed{seed}/metrics.json", key: test.accuracy}
    compare: {op: approx, tolerance: 0.005}
  - id: excellent
    section: "5.2"
    claim: excellent is a top positive word
    paper: top positive
    ours: {file: "t/seed{seed}/t.csv", where: {word: excellent}, column: rank}
    compare: {op: at_most, value: 20}
  - id: great
    section: "5.2"
    claim: great is a top positive word
    paper: top positive
    ours: {file: "t/seed{seed}/t.csv", where: {word: great}, column: rank}
    compare: {op: at_most, value: 20}
    over_seeds: each
  - id: worst
    section: "5.2"
    claim: worst is a top positive word (it is not)
    paper: top positive
    ours: {file: "t/seed{seed}/t.csv", where: {word: worst}, column: rank}
    compare: {op: at_most, value: 20}
  - id: missing
    section: "5.1"
    claim: a phrase we do not have
    paper: present
    ours: {file: "t/seed{seed}/t.csv", where: {word: nope}, column: rank}
    compare: {op: at_most, value: 1}
  - id: maxlen
    section: "5.1"
    claim: reviews thresholded to 400 words
    paper: null
    reference: {value: 400, source: Keras example}
    ours: {config: imdb_cnn, key: model.maxlen}
    compare: {op: approx}
    over_seeds: none
  - id: gap
    section: "5.3"
    claim: the network beats the linear model
    paper: better
    ours: {diff: [{file: "m/seed{seed}/metrics.json", key: test.accuracy},
                  {file: "m/seed{seed}/metrics.json", key: test.base}]}
    compare: {op: at_least, value: 0.1}
    over_seeds: mean
  - id: mean_rank
    section: "5.2"
    claim: mean of a column
    paper: null
    ours: {file: "t/seed{seed}/t.csv", column: rank, agg: mean}
    compare: {op: approx}
paper_tables:
  table2_words:
    - {word: excellent, sign: positive}
"""
CONFIGS = {"imdb_cnn": {"model": {"maxlen": 400}}}


def training_record(root) -> str:
    """A training job's record as infra.stage writes it, with the machine's provenance."""
    from inputgrad.infra.records import write_record

    path = root / "records" / "train_imdb_cnn" / "seed0.json"
    write_record(path, "train_imdb_cnn", {}, {}, {}, {}, 0.0, 1.0,
                 {"cpu_model": "Test CPU", "onednn": "TF_ENABLE_ONEDNN_OPTS=0; built with oneDNN",
                  "tensorflow": "2.21.0"})
    return str(path)


def model_config_files(root, configs: dict) -> list[str]:
    """Each model's config.yaml where its training saves it: models/<model>/seed0/."""
    paths = []
    for name, cfg in configs.items():
        path = root / "models" / name / "seed0" / "config.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(cfg))
        paths.append(str(path))
    return paths
# per seed: test accuracy, linear baseline, rank of excellent / great / worst
SEEDS3 = {0: (0.88, 0.80, 3, 1, 30), 1: (0.89, 0.80, 25, 2, 40), 2: (0.90, 0.75, 5, 3, 50)}


def write_seeds(root, seeds: dict):
    """Per-seed result files as the seed rules write them: m/seed<s>/metrics.json and
    t/seed<s>/t.csv (a word table with ranks)."""
    for seed, (acc, base, excellent, great, worst) in seeds.items():
        (root / f"m/seed{seed}").mkdir(parents=True, exist_ok=True)
        (root / f"t/seed{seed}").mkdir(parents=True, exist_ok=True)
        metrics = {"test": {"accuracy": acc, "base": base}}
        (root / f"m/seed{seed}/metrics.json").write_text(json.dumps(metrics))
        table = pd.DataFrame({"word": ["excellent", "great", "worst"],
                              "rank": [excellent, great, worst]})
        table.to_csv(root / f"t/seed{seed}/t.csv", index=False)
    (root / "claims.yaml").write_text(CLAIMS)
    return root


def files(root, doc, seeds):
    """The claim files as the report rule declares them: one input path per file and seed."""
    return {name: str(root / name) for name in claim_files(doc, seeds)}


def table_for(root, seeds):
    doc = load_claims(root / "claims.yaml")
    return claims_table(doc, files(root, doc, seeds), CONFIGS, seeds).set_index("id")


def test_t_quantile_and_seed_summary():
    assert t_quantile(0.95, 4) == pytest.approx(2.776, abs=5e-4)
    assert t_quantile(0.95, 9) == pytest.approx(2.262, abs=5e-4)
    assert t_quantile(0.95, 1) == pytest.approx(12.706, abs=5e-4)
    assert t_quantile(0.95, 30) == pytest.approx(2.042, abs=5e-4)
    assert t_quantile(0.95, 10_000) == pytest.approx(1.960, abs=5e-4)
    five = seed_summary([1, 2, 3, 4, 5])
    half = 2.7764451 * math.sqrt(2.5) / math.sqrt(5)  # t(0.975, 4) * sd / sqrt(n)
    assert five["n"] == 5 and five["mean"] == 3 and five["sd"] == pytest.approx(math.sqrt(2.5))
    assert (five["min"], five["max"]) == (1, 5)
    assert five["ci_low"] == pytest.approx(3 - half) and five["ci_high"] == pytest.approx(3 + half)
    three = seed_summary([1.0, float("nan"), 3.0, 5.0])  # NaN ignored: 3 values, no interval
    assert three["n"] == 3 and three["mean"] == 3 and three["sd"] == 2
    assert math.isnan(three["ci_low"]) and math.isnan(three["ci_high"])
    one = seed_summary([0.5])
    assert one["n"] == 1 and one["mean"] == one["min"] == 0.5 and math.isnan(one["sd"])
    assert seed_summary([])["n"] == 0 and math.isnan(seed_summary([float("nan")])["mean"])


def test_claims_over_three_seeds(tmp_path):
    table = table_for(write_seeds(tmp_path, SEEDS3), [0, 1, 2])
    # each seed's value, their mean and range
    assert list(table.loc["excellent", ["seed0", "seed1", "seed2"]]) == [3, 25, 5]
    assert table.loc["excellent", "mean"] == 11 and table.loc["excellent", "n"] == 3
    assert (table.loc["excellent", "min"], table.loc["excellent", "max"]) == (3, 25)
    assert math.isnan(table.loc["excellent", "ci_low"])  # no interval from 3 seeds
    # the labels: all, some, none, no value at all
    assert table.loc["great", ["verdict", "k_of_K"]].tolist() == ["reproduced", "3 of 3"]
    assert table.loc["excellent", "verdict"] == "partly (2 of 3 seeds)"
    assert table.loc["excellent", "k_of_K"] == "2 of 3"
    assert table.loc["worst", ["verdict", "k_of_K"]].tolist() == ["differs", "0 of 3"]
    assert table.loc["missing", "verdict"] == "no result" and table.loc["missing", "n"] == 0
    # per seed only 0.89 is within 0.005 of 0.89; the mean 0.89 is
    assert table.loc["acc_each", "verdict"] == "partly (1 of 3 seeds)"
    assert table.loc["acc", "mean"] == pytest.approx(0.89)
    assert table.loc["acc", "verdict"] == "not stated by the paper"
    assert table.loc["acc", "reference_verdict"] == "reproduced"
    assert table.loc["acc", "k_of_K"] == ""  # judged on the mean, not per seed
    # the gains 0.08, 0.09, 0.15 meet >= 0.1 on one seed; their mean 0.1067 meets it
    assert table.loc["gap", "mean"] == pytest.approx((0.08 + 0.09 + 0.15) / 3)
    assert table.loc["gap", "verdict"] == "reproduced"
    # a hyperparameter is read once, whatever the seeds
    assert table.loc["maxlen", "reference_verdict"] == "reproduced"
    assert table.loc["maxlen", "n"] == 1 and math.isnan(table.loc["maxlen", "seed0"])
    assert table.loc["mean_rank", "seed1"] == pytest.approx(67 / 3)
    assert table.loc["mean_rank", "verdict"] == "not stated by the paper"


def test_mean_claim_interval_over_five_seeds(tmp_path):
    accuracies = [0.86, 0.87, 0.88, 0.89, 0.90]
    seeds = {s: (acc, 0.8, 1, 1, 1) for s, acc in enumerate(accuracies)}
    table = table_for(write_seeds(tmp_path, seeds), list(range(5)))
    half = 2.7764451 * math.sqrt(0.00025) / math.sqrt(5)  # sd of the five is sqrt(0.00025)
    acc = table.loc["acc"]
    assert acc["mean"] == pytest.approx(0.88) and acc["sd"] == pytest.approx(math.sqrt(0.00025))
    assert acc["ci_low"] == pytest.approx(0.88 - half) and acc["ci_high"] == pytest.approx(
        0.88 + half)
    assert acc["reference_verdict"] == "differs"  # the mean 0.88 is not within 0.005 of 0.89
    assert table.loc["acc_each", "verdict"] == "partly (1 of 5 seeds)"


def test_one_seed_is_k_of_one(tmp_path):
    table = table_for(write_seeds(tmp_path, {7: SEEDS3[1]}), [7])
    assert table.loc["excellent", ["verdict", "k_of_K"]].tolist() == ["differs", "0 of 1"]
    assert table.loc["great", ["verdict", "k_of_K"]].tolist() == ["reproduced", "1 of 1"]
    assert table.loc["acc", "seed7"] == 0.89 and math.isnan(table.loc["acc", "sd"])


def test_verdict_differs_outside_tolerance():
    claim = {"paper": 0.98, "compare": {"op": "approx", "tolerance": 0.005}}
    assert verdict(claim, [0.97]) == ("differs", "", "0 of 1")
    assert verdict(claim, [0.984]) == ("reproduced", "", "1 of 1")
    assert verdict({**claim, "over_seeds": "mean"}, [0.97, 0.99]) == ("reproduced", "", "")


def test_bad_claims_are_named(tmp_path):
    root = write_seeds(tmp_path, SEEDS3)
    (root / "bad.yaml").write_text("claims:\n  - {id: x, section: 1, claim: c, ours: {}}\n")
    with pytest.raises(ClaimError, match="claim 'x' lacks key 'compare'"):
        load_claims(root / "bad.yaml")
    assert issubclass(ClaimError, InputgradError)  # one clear line in the rule's log
    one = "claims:\n  - {id: y, section: 1, claim: c, compare: {op: approx}, %s}\n"
    for body, message in (
        ("ours: {file: a.json, key: k}", "over_seeds 'each' needs a file path with {seed}"),
        ("ours: {file: 's{seed}.json', key: k}, over_seeds: none",
         "over_seeds 'none' needs no file path with {seed}"),
        ("ours: {file: 's{seed}.json', key: k}, over_seeds: median", "over_seeds must be"),
    ):
        (root / "bad.yaml").write_text(one % body)
        with pytest.raises(ClaimError, match=message):
            load_claims(root / "bad.yaml")
    doc = load_claims(root / "claims.yaml")
    doc["claims"][0]["ours"]["key"] = "test.recall"
    with pytest.raises(ClaimError, match="key 'test.recall' not in"):
        claims_table(doc, files(root, doc, [0, 1, 2]), CONFIGS, [0, 1, 2])
    with pytest.raises(ClaimError, match="is not the claims' files"):  # a seed's files missing
        declared_files(doc, list(files(root, doc, [0, 1]).values()), [0, 1, 2])


def project_claims() -> dict:
    """The paper's claims file merged with the claims files of config.yaml's sections."""
    root = Path(__file__).resolve().parents[1]
    sections = yaml.safe_load((root / "config" / "config.yaml").read_text())["sections"]
    return load_claims(root / "config" / "paper_claims.yaml", section_claims_files(root, sections))


def test_the_project_claims_file_reads_every_seed():
    doc = project_claims()
    names = claim_files(doc, [0, 1, 2])
    assert "tables/seed2/table2_words.csv" in names and "data/imdb.json" in names
    assert not any("{seed}" in n for n in names)
    assert {c["over_seeds"] for c in doc["claims"]} == {"each", "mean", "none"}
    accuracy = [c for c in doc["claims"] if "accuracy" in c["id"]]
    assert accuracy and all(c["over_seeds"] == "mean" for c in accuracy)
    assert "k of K" in doc["verdict_rule"]


def test_markdown_tables_become_html():
    text = ("# Title\n\nSome words\nwrapped.\n\n| a | b |\n|:--|--:|\n| x<y | 1.5 |\n\n"
            "- `mlp`: a note\n- two\n")
    out = markdown_html(text, level=4)
    assert "<h4>Title</h4>" in out and "<p>Some words wrapped.</p>" in out
    assert "<ul><li><code>mlp</code>: a note</li><li>two</li></ul>" in out
    assert "<th>a</th><th>b</th>" in out and "<td>x&lt;y</td>" in out
    assert "<td style='text-align:right'>1.5</td>" in out and ":--" not in out


def test_paper_report_on_three_seeds(tmp_path):
    root = write_seeds(tmp_path, SEEDS3)
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1])
    fig.savefig(root / "toy_figure.png")
    plt.close(fig)
    table = root / "table2_words.csv"
    table.write_text((root / "t/seed0/t.csv").read_text())
    seed_md = root / "table2_seeds.md"
    summary = pd.DataFrame({"word": ["excellent"], "mean": [11.0], "min": [3], "max": [25]})
    seed_md.write_text("# Table 2 over seeds\n\n" + summary.to_markdown(index=False) + "\n")
    doc = load_claims(root / "claims.yaml")
    inputs = {"claims": str(root / "claims.yaml"),
              "results": list(files(root, doc, [0, 1, 2]).values()),
              "tables": [str(table)], "seed_tables": [str(seed_md)],
              "figures": [str(root / "toy_figure.png")],
              "training": training_record(root),
              "configs": model_config_files(
                  root, {"imdb_cnn": {"train": {"epochs": 2}, "model": {"maxlen": 400}}})}
    outputs = {"html": str(root / "paper_report.html"), "md": str(root / "paper_report.md"),
               "claims": str(root / "tables/paper_report.csv")}
    paper_report(inputs, outputs, {"cfg": {"seeds": [0, 1, 2]}})

    page = (root / "paper_report.html").read_text()
    assert "data:image/png;base64," in page and 'class="ok">reproduced' in page
    assert 'class="part">partly (2 of 3 seeds)' in page and 'class="bad">differs' in page
    assert "<h2>Seeds</h2>" in page and "<h4>Table 2 over seeds</h4>" in page
    assert "<td>excellent</td>" in page and "Judged on every seed." in page
    assert "<h2>Machine and software</h2>" in page and "cpu_model" in page
    assert "bit-identical on one machine for one seed, not across CPUs" in page
    md = (root / "paper_report.md").read_text()
    assert "![toy_figure](toy_figure.png)" in md and "| excellent" in md and "epochs: 2" in md
    assert "## Seeds" in md and "#### Table 2 over seeds" in md and "## Claims per seed" in md
    assert "| seed 0 " in md and "11 " in md and "3 – 25" in md and "docs/determinism.md" in md
    assert "Ours (seed 0)" in md and "onednn" in md and "## Verdict rule" in md
    claims = pd.read_csv(root / "tables/paper_report.csv").set_index("id")
    assert len(claims) == 9 and claims.loc["great", "verdict"] == "reproduced"
    assert list(claims.loc["worst", ["seed0", "seed1", "seed2"]]) == [30, 40, 50]
    assert claims.loc["excellent", "verdict"] == "partly (2 of 3 seeds)"


def test_sections_beyond_the_paper(tmp_path):
    root = write_seeds(tmp_path, SEEDS3)
    text = (root / "claims.yaml").read_text()
    section = ("beyond_the_paper:\n  - title: robustness\n    lead: FGSM against random signs.\n"
               "    claims: [great]\n    table: sens_seeds\n    figures: [sens_figure]\n")
    (root / "claims.yaml").write_text(text + section)
    fig, ax = plt.subplots(figsize=(2, 2))
    fig.savefig(root / "sens_figure.png")
    plt.close(fig)
    (root / "sens_seeds.md").write_text("# Sensitivity over seeds\n\n| a |\n|--|\n| 0.4 |\n")
    doc = load_claims(root / "claims.yaml")
    inputs = {"claims": str(root / "claims.yaml"),
              "results": list(files(root, doc, [0, 1, 2]).values()), "tables": [],
              "seed_tables": [str(root / "sens_seeds.md")],
              "figures": [str(root / "sens_figure.png")],
              "training": training_record(root),
              "configs": model_config_files(root, CONFIGS)}
    outputs = {"html": str(root / "r.html"), "md": str(root / "r.md"),
               "claims": str(root / "r.csv")}
    paper_report(inputs, outputs, {"cfg": {"seeds": [0, 1, 2]}})
    page, md = (root / "r.html").read_text(), (root / "r.md").read_text()
    # the section holds its lead, its claims' verdicts, its table and its figure...
    assert "<h2 id='sens-seeds'>Beyond the paper: robustness</h2>" in page
    start = md.index("## Beyond the paper: robustness")
    assert "FGSM against random signs." in md[start:] and "— reproduced, 3 of 3 seeds" in md
    assert "#### Sensitivity over seeds" in md[start:] and "![sens_figure]" in md[start:]
    # ...and they are not shown again in the generic sections
    assert "### sens_seeds" not in md and "### sens_figure" not in md
    # a section naming an unknown claim is refused with its name
    (root / "claims.yaml").write_text(text + section.replace("[great]", "[grate]"))
    with pytest.raises(ClaimError, match="section 'robustness' names unknown claim 'grate'"):
        load_claims(root / "claims.yaml")


def test_report_opens_with_a_summary_of_findings(tmp_path):
    """The findings first: each summary claim with its verdict (k of K), our number with its
    spread and the figure's thumbnail, before the verdict rule and the claims table."""
    root = write_seeds(tmp_path, SEEDS3)
    text = (root / "claims.yaml").read_text()
    (root / "claims.yaml").write_text(text + (
        "summary:\n  - title: Table 2 words\n    claims: [excellent, worst]\n"
        "    figure: toy_figure\n"))
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.plot([0, 1])
    fig.savefig(root / "toy_figure.png")
    plt.close(fig)
    doc = load_claims(root / "claims.yaml")
    inputs = {"claims": str(root / "claims.yaml"),
              "results": list(files(root, doc, [0, 1, 2]).values()), "tables": [],
              "seed_tables": [], "figures": [str(root / "toy_figure.png")],
              "training": training_record(root),
              "configs": model_config_files(root, CONFIGS)}
    outputs = {"html": str(root / "r.html"), "md": str(root / "r.md"),
               "claims": str(root / "r.csv")}
    paper_report(inputs, outputs, {"cfg": {"seeds": [0, 1, 2]}})
    page, md = (root / "r.html").read_text(), (root / "r.md").read_text()
    claims = pd.read_csv(root / "r.csv").set_index("id")
    top = page[:page.index("<h2>Verdict rule</h2>")]
    assert "<h2>Summary</h2>" in top and "Table 2 words" in top and "data:image/png" in top
    for claim_id in ("excellent", "worst"):
        verdict = claims.loc[claim_id, "verdict"]
        assert html_escape(verdict) in top, (claim_id, verdict)
    assert "partly (2 of 3 seeds)" in top  # excellent: 2 of 3 seeds
    assert "11 (3 – 25)" in top  # excellent's rank: mean (min – max) of 3, 25, 5
    assert md.index("## Summary") < md.index("## Verdict rule")
    assert "| Table 2 words ([figure](toy_figure.png)) |" in md


def html_escape(text):
    import html

    return html.escape(str(text))


def test_number_format_for_reading():
    from inputgrad.sections.report.views import number

    assert number(25000.0) == "25,000" and number(0.88214) == "0.882"
    assert number(1.234e-9) == "1.2e-09" and number(float("nan")) == "—"
    assert number(12.3456) == "12.35"


def test_summary_of_the_real_claims_file_covers_every_seed_claim():
    """Every claim judged on seeds appears in the report's summary; the rest are setup values
    (data counts, settings), which have their own table."""
    doc = project_claims()
    listed = {c for finding in doc["summary"] for c in finding["claims"]}
    judged = {c["id"] for c in doc["claims"] if c["over_seeds"] != "none"}
    assert judged <= listed, judged - listed
