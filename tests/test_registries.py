"""A new evaluation is one registry entry (config.yaml `sections`) plus its own files: its
rule file, Hydra experiment, schema (workflow/schemas/sections/) and claims (config/claims/).
No shared file is edited; the shared registries merge the section's files."""

from pathlib import Path

import pytest
import yaml

from inputgrad.infra.errors import ConfigError
from inputgrad.infra.hyperparameters import merged_schema, validate_hyperparameters
from inputgrad.sections.report.claims import ClaimError, load_claims, section_claims_files
from workflow_utils import ROOT, copy_repo, snakemake

SHARED_SCHEMA = ROOT / "workflow" / "schemas" / "hyperparameters.schema.yaml"
SECTION_SCHEMAS = sorted((ROOT / "workflow" / "schemas" / "sections").glob("*.schema.yaml"))
SECTIONS = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["sections"]

TOY_RULES = '''
rule toy_eval_scores:
    input:
        results("models/mnist_mlp/seed{seed}/model.keras"),
    output:
        results("tables/seed{seed}/toy_eval.json"),
    resources:
        **resources_of("toy_eval_scores"),
    params:
        cfg=CFG["toy_eval"]["attribution"],
    script:
        "../scripts/toy_eval_scores.py"


rule toy_eval:
    input:
        expand(rules.toy_eval_scores.output, seed=SEEDS),


register_section("toy_eval", targets=rules.toy_eval.input)
'''
TOY_SCRIPT = '''"""Rule toy_eval_scores (a test's toy section)."""
from inputgrad.infra.io import write_json
from inputgrad.infra.stage import main


def run(inputs, outputs, params):
    write_json(outputs[0], {"score": params["cfg"]["digits"]})


main(snakemake, run)  # noqa: F821
'''
TOY_EXPERIMENT = "# @package _global_\nattribution:\n  digits: 5\n"
TOY_SCHEMA = """properties:
  toy_eval:
    type: object
    additionalProperties: false
    required: [data, attribution]
    properties:
      data: {$ref: "#/$defs/data"}  # config/hydra/config.yaml composes data/default.yaml
      attribution:
        type: object
        additionalProperties: false
        properties:
          digits: {$ref: "#/$defs/count"}
"""
TOY_CLAIMS = """summary:
  - title: "Toy: a new evaluation"
    claims: [toy_eval_positive]
claims:
  - id: toy_eval_positive
    section: "toy"
    claim: "the toy score is positive"
    ours: {file: "tables/seed{seed}/toy_eval.json", key: score}
    compare: {op: at_least, value: 0}
"""


def toy_section(repo: Path, schema: bool = True) -> None:
    """Add the evaluation `toy_eval` to a copy of the repository: only new files."""
    (repo / "workflow/rules/toy_eval.smk").write_text(TOY_RULES)
    (repo / "workflow/scripts/toy_eval_scores.py").write_text(TOY_SCRIPT)
    (repo / "config/hydra/experiment/toy_eval.yaml").write_text(TOY_EXPERIMENT)
    (repo / "config/claims/toy_eval.yaml").write_text(TOY_CLAIMS)
    if schema:
        (repo / "workflow/schemas/sections/toy_eval.schema.yaml").write_text(TOY_SCHEMA)


def join(work: Path, repo: Path) -> None:
    """The registry entry: the project's config.yaml lists the new section."""
    snakemake(work, "-n", "--config", f"hydra_dir={repo / 'config/hydra'}", "--cores", "1",
              snakefile=repo / "Snakefile")  # gives the project its config/
    cfg_file = work / "config" / "config.yaml"
    cfg = yaml.safe_load(cfg_file.read_text())
    cfg["sections"].append("toy_eval")
    cfg_file.write_text(yaml.safe_dump(cfg, sort_keys=False))


def changed_files(repo: Path) -> set[str]:
    """Files of the copy that differ from the repository's, or are new."""
    out = set()
    for path in repo.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            original = ROOT / path.relative_to(repo)
            if not original.exists() or original.read_bytes() != path.read_bytes():
                out.add(str(path.relative_to(repo)))
    return out


def test_a_new_evaluation_joins_the_dag_and_the_report_with_only_its_own_files(tmp_path):
    repo = copy_repo(tmp_path / "repo")
    toy_section(repo)
    assert changed_files(repo) == {
        "workflow/rules/toy_eval.smk", "workflow/scripts/toy_eval_scores.py",
        "config/hydra/experiment/toy_eval.yaml",
        "config/claims/toy_eval.yaml", "workflow/schemas/sections/toy_eval.schema.yaml"}
    work = tmp_path / "work"
    join(work, repo)
    code, out = snakemake(work, "-n", "--config", f"hydra_dir={repo / 'config/hydra'}",
                          "--cores", "1", snakefile=repo / "Snakefile", check=False)
    assert code == 0, out[-3000:]
    assert "rule toy_eval_scores:" in out and "tables/seed0/toy_eval.json" in out
    # the report reads the claim's file on every seed: the section joined the report
    report = out.split("rule paper_report:", 1)[1].split("\nrule ", 1)[0]
    assert "tables/seed0/toy_eval.json" in report and "config/claims/toy_eval.yaml" in report


def test_a_new_evaluation_without_its_schema_stops_the_dry_run_naming_it(tmp_path):
    repo = copy_repo(tmp_path / "repo")
    toy_section(repo, schema=False)
    work = tmp_path / "work"
    code, out = snakemake(work, "-n", "--config", f"hydra_dir={repo / 'config/hydra'}",
                          "--cores", "1", snakefile=repo / "Snakefile", check=False)
    assert code != 0
    assert "experiment/toy_eval.yaml: experiment 'toy_eval' has no schema" in out, out[-3000:]
    assert not (work / "results").exists()


def test_every_experiment_is_described_by_exactly_one_section_schema():
    experiments = {p.stem for p in (ROOT / "config/hydra/experiment").glob("*.yaml")}
    described = [name for path in SECTION_SCHEMAS
                 for name in yaml.safe_load(path.read_text())["properties"]]
    assert sorted(described) == sorted(experiments)
    assert {p.name.removesuffix(".schema.yaml") for p in SECTION_SCHEMAS} <= set(SECTIONS)
    assert not yaml.safe_load(SHARED_SCHEMA.read_text()).get("properties")


def test_a_section_schema_may_not_redefine_a_name(tmp_path):
    clash = tmp_path / "clash.schema.yaml"
    clash.write_text("$defs:\n  count: {type: integer}\n")
    with pytest.raises(ConfigError, match=r"clash.schema.yaml: \$defs 'count' is already"):
        merged_schema(SHARED_SCHEMA, [clash])
    twice = tmp_path / "twice.schema.yaml"
    twice.write_text(TOY_SCHEMA)
    with pytest.raises(ConfigError, match="twice.schema.yaml: properties 'toy_eval'"):
        merged_schema(SHARED_SCHEMA, [twice, twice])


def test_an_experiment_without_schema_is_named(tmp_path):
    (tmp_path / "experiment").mkdir()
    (tmp_path / "experiment" / "toy.yaml").write_text("a: 1\n")
    with pytest.raises(ConfigError, match="experiment 'toy' has no schema"):
        validate_hyperparameters({"toy": {"a": 1}}, SHARED_SCHEMA, tmp_path)
    schema = tmp_path / "toy.schema.yaml"
    schema.write_text("properties:\n  toy: {type: object}\n")
    validate_hyperparameters({"toy": {"a": 1}}, SHARED_SCHEMA, tmp_path, sections=[schema])


def test_section_claims_merge_after_the_papers_in_section_order(tmp_path):
    paper = tmp_path / "paper.yaml"
    paper.write_text("claims: []\nsummary: []\n")
    (tmp_path / "config" / "claims").mkdir(parents=True)
    (tmp_path / "config" / "claims" / "toy_eval.yaml").write_text(
        TOY_CLAIMS + "report: {title: toy, table: toy_eval_seeds}\n")
    files = section_claims_files(tmp_path, ["absent", "toy_eval"])
    assert files == [tmp_path / "config" / "claims" / "toy_eval.yaml"]
    doc = load_claims(paper, files)
    assert [c["id"] for c in doc["claims"]] == ["toy_eval_positive"]
    assert doc["summary"][0]["title"] == "Toy: a new evaluation"
    assert doc["beyond_the_paper"] == [{"title": "toy", "table": "toy_eval_seeds"}]
    assert load_claims(paper, str(files[0]))["claims"] == doc["claims"]  # one file as a str
    with pytest.raises(ClaimError, match="claim 'toy_eval_positive' is already defined"):
        load_claims(paper, files + files)
    bad = tmp_path / "bad.yaml"
    bad.write_text("claim: []\n")
    with pytest.raises(ClaimError, match="bad.yaml: unknown key 'claim'"):
        load_claims(paper, [bad])


def test_the_project_claims_are_the_papers_then_each_sections():
    files = section_claims_files(ROOT, SECTIONS)
    assert [f.stem for f in files] == [s for s in SECTIONS if s in {f.stem for f in files}]
    assert {p.stem for p in (ROOT / "config" / "claims").glob("*.yaml")} <= set(SECTIONS)
    doc = load_claims(ROOT / "config" / "paper_claims.yaml", files)
    paper = yaml.safe_load((ROOT / "config" / "paper_claims.yaml").read_text())
    assert "beyond_the_paper" not in paper  # every report section is a section's own
    assert len(doc["beyond_the_paper"]) == len(files)
