"""Check each experiment's composed Hydra config against workflow/schemas/ before any job runs.

A bad key or value is reported with the Hydra file it comes from, e.g.
`config/hydra/model/mnist_mlp.yaml: unknown key 'dropuot' (experiment mnist_mlp, model.dropuot)`.
"""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml

from .errors import ConfigError


def group_files(hydra_dir, experiment: str) -> dict[str, Path]:
    """{top-level key: the Hydra file that sets it} for one experiment (from its defaults)."""
    hydra_dir = Path(hydra_dir)
    exp_file = hydra_dir / "experiment" / f"{experiment}.yaml"
    doc = yaml.safe_load(exp_file.read_text()) or {}
    files = {"data": hydra_dir / "data" / "default.yaml"}
    for entry in doc.get("defaults", []):
        if isinstance(entry, dict):
            for group, name in entry.items():
                group, _, package = group.strip("/").partition("@")
                if not package:  # a packaged entry (attribution@attribution.method_options)
                    files[group] = hydra_dir / group / f"{name}.yaml"  # sits inside another
    return {**files, "_experiment": exp_file}


def _where(error: jsonschema.ValidationError) -> list[str]:
    return [str(p) for p in error.absolute_path][1:]  # drop the experiment name


def _message(error: jsonschema.ValidationError) -> tuple[list[str], str]:
    path = _where(error)
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return path + extra[:1], f"unknown key{'s' if len(extra) > 1 else ''} " + ", ".join(
            repr(k) for k in extra)
    if error.validator == "required":
        return path, error.message.replace("is a required property", "is missing")
    return path, f"{error.instance!r} is not valid: {error.message}"


def _shown(path: Path, root) -> Path:
    return path.relative_to(root) if root is not None and path.is_relative_to(root) else path


def merged_schema(schema_path, sections=()) -> dict:
    """The shared schema (its $defs) with each section's schema file merged in: their
    top-level `properties` (experiment names) and `$defs`, each name defined once."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    for path in sections:
        part = yaml.safe_load(Path(path).read_text()) or {}
        for key in ("$defs", "properties"):
            for name, value in (part.get(key) or {}).items():
                if name in schema.setdefault(key, {}):
                    raise ConfigError(f"{path}: {key} {name!r} is already defined")
                schema[key][name] = value
    return schema


def validate_hyperparameters(configs: dict[str, dict], schema_path, hydra_dir,
                             root=None, sections=()) -> None:
    """Raise ConfigError listing every problem in the composed configs, by file and key:
    checked against the shared schema merged with the sections' (merged_schema); an
    experiment that no schema describes is a problem too."""
    schema = merged_schema(schema_path, sections)
    validator = jsonschema.Draft202012Validator(schema)
    described = schema.get("properties", {})
    lines = [f"{_shown(group_files(hydra_dir, e)['_experiment'], root)}: experiment {e!r} has "
             f"no schema (a top-level property of workflow/schemas/sections/<section>.schema.yaml)"
             for e in configs if e not in described]
    for experiment, cfg in configs.items():
        files = group_files(hydra_dir, experiment)
        errors = sorted(validator.iter_errors({experiment: cfg}), key=lambda e: list(e.path))
        for err in errors:
            path, text = _message(err)
            source = _shown(files.get(path[0] if path else "", files["_experiment"]), root)
            key = ".".join(path) or "<top level>"
            lines.append(f"{source}: {text} (experiment {experiment}, key {key})")
    if lines:
        raise ConfigError("invalid hyperparameters:\n  " + "\n  ".join(lines))
