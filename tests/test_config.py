from pathlib import Path

import pytest
import yaml

from inputgrad.infra.config import compose, validate_config
from inputgrad.infra.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
HYDRA = ROOT / "config" / "hydra"


def repo_config():
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def test_repo_config_is_valid_and_defaults_fill():
    cfg = validate_config({}, SCHEMA)
    assert cfg["profile"] == "full" and cfg["download"]["retries"] == 3
    assert cfg["tracking"]["experiment"] == "inputgrad"
    validate_config(repo_config(), SCHEMA)


def test_smoke_config_is_the_defaults_but_profile_and_counts():
    smoke = yaml.safe_load((ROOT / ".test" / "config" / "config.yaml").read_text())
    assert validate_config(dict(smoke), SCHEMA) == smoke
    defaults = validate_config({}, SCHEMA)
    defaults["download"]["canonical_counts"] = False
    assert smoke == {**defaults, "profile": "smoke"}


def test_seeds_from_the_command_line_are_integers_and_unique():
    assert validate_config({"seeds": ["0", "1", "2"]}, SCHEMA)["seeds"] == [0, 1, 2]
    with pytest.raises(ConfigError, match="non-unique"):
        validate_config({"seeds": [0, 0]}, SCHEMA)
    with pytest.raises(ConfigError, match="seeds.0"):
        validate_config({"seeds": ["one"]}, SCHEMA)


def schema_keys(schema, prefix=""):
    for key, sub in schema.get("properties", {}).items():
        yield prefix + key
        yield from schema_keys(sub, f"{prefix}{key}.")


def test_config_readme_describes_every_key_and_group():
    readme = (ROOT / "config" / "README.md").read_text()
    schema = yaml.safe_load(SCHEMA.read_text())
    missing = [key for key in schema_keys(schema) if f"`{key}`" not in readme]
    missing += [group.name for group in HYDRA.iterdir()
                if group.is_dir() and f"`{group.name}/`" not in readme]
    assert not missing, f"config/README.md does not describe {missing}"


def test_unknown_key_is_named():
    cfg = repo_config()
    cfg["download"]["mirorr"] = "/tmp"
    with pytest.raises(ConfigError, match=r"unknown config key 'download\.mirorr'"):
        validate_config(cfg, SCHEMA)


def test_wrong_type_is_named():
    cfg = repo_config()
    cfg["seeds"] = [0, "one"]
    with pytest.raises(ConfigError, match=r"config key 'seeds\.1': 'one' is not of type 'integer'"):
        validate_config(cfg, SCHEMA)
    cfg = repo_config()
    cfg["profile"] = "quick"
    with pytest.raises(ConfigError, match=r"config key 'profile'"):
        validate_config(cfg, SCHEMA)


def test_compose_shared_and_smoke(tmp_path):
    shared = compose(HYDRA)
    assert shared["data"]["imdb"]["num_words"] == 5000
    (tmp_path / "experiment").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "config.yaml").write_text((HYDRA / "config.yaml").read_text())
    (tmp_path / "data" / "default.yaml").write_text("imdb: {num_words: 7}\n")
    (tmp_path / "experiment" / "toy.yaml").write_text(
        "# @package _global_\ntrain: {epochs: 20, lr: 0.1}\nsmoke: {train: {epochs: 1}}\n")
    assert compose(tmp_path, "toy")["train"] == {"epochs": 20, "lr": 0.1}
    assert compose(tmp_path, "toy", "smoke")["train"] == {"epochs": 1, "lr": 0.1}
    assert compose(tmp_path, "toy", overrides=["train.epochs=3"])["train"]["epochs"] == 3
    with pytest.raises(ConfigError, match="profile"):
        compose(tmp_path, "toy", "tiny")


def test_a_rule_without_declared_resources_gets_the_default_or_stops_naming_it(tmp_path):
    """config/resources.yaml is the one home of memory and time per rule: a rule missing
    there (a new section's) gets its `default` entry; without that entry too, Snakemake stops
    before any job, naming the file and the rule."""
    from workflow_utils import copy_repo, snakemake

    repo = copy_repo(tmp_path / "repo")
    resources = repo / "config" / "resources.yaml"
    lines = resources.read_text().splitlines()
    resources.write_text("\n".join(x for x in lines if not x.startswith("paper_report:")) + "\n")
    code, out = snakemake(tmp_path / "work", "-n", "--cores", "1", "paper_report",
                          snakefile=repo / "Snakefile", check=False)
    assert code == 0, out
    assert "paper_report" in out
    kept = [x for x in lines if not x.startswith(("paper_report:", "default:"))]
    resources.write_text("\n".join(kept) + "\n")
    code, out = snakemake(tmp_path / "work", "-n", "--cores", "1", snakefile=repo / "Snakefile",
                          check=False)
    assert code != 0
    assert f"{resources}: rule paper_report lacks mem_mb, runtime" in out
    assert not (tmp_path / "work" / "results").exists()
