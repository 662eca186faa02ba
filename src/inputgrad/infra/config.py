"""Config: validate the DAG-level config.yaml, compose hyperparameters with Hydra's compose API."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml
from omegaconf import OmegaConf

from .errors import ConfigError  # noqa: F401  (re-exported: callers import it from here)


def _key_path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "<top level>"


def validate_config(config: dict, schema_path) -> dict:
    """Check `config` against the JSON schema, fill defaults, raise ConfigError naming bad keys."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    _fill_defaults(config, schema)
    _coerce_seeds(config)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        lines = []
        for err in errors:
            if err.validator == "additionalProperties":
                extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
                where = _key_path(err)
                for key in extra:
                    full = key if where == "<top level>" else f"{where}.{key}"
                    lines.append(f"unknown config key '{full}'")
            else:
                lines.append(f"config key '{_key_path(err)}': {err.message}")
        raise ConfigError("invalid config (config/config.yaml or --config):\n  "
                          + "\n  ".join(lines))
    return config


def _coerce_seeds(config: dict) -> None:
    """`--config 'seeds=[0,1]'` reaches us as strings ('0', '1'): take whole numbers as ints."""
    seeds = config.get("seeds")
    if isinstance(seeds, (list, tuple)):
        config["seeds"] = [int(s) if isinstance(s, str) and s.strip().isdigit() else s
                           for s in seeds]


def _fill_defaults(instance, schema) -> None:
    if not isinstance(instance, dict):
        return
    for key, sub in schema.get("properties", {}).items():
        if key not in instance and "default" in sub:
            instance[key] = sub["default"]
        if key in instance:
            _fill_defaults(instance[key], sub)


def compose(config_dir, experiment: str | None = None, profile: str = "full",
            overrides: list[str] | tuple[str, ...] = ()) -> dict:
    """The resolved hyperparameters for one experiment (or the shared ones if None), as a dict."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    if profile not in ("full", "smoke"):
        raise ConfigError(f"config key 'profile': {profile!r} is not one of 'full', 'smoke'")
    all_overrides = list(overrides)
    if experiment:
        all_overrides.insert(0, f"+experiment={experiment}")
    try:
        with initialize_config_dir(config_dir=str(Path(config_dir).resolve()),
                                   version_base=None):
            cfg = hydra_compose(config_name="config", overrides=all_overrides)
        resolved = OmegaConf.to_container(cfg, resolve=True)
    except Exception as err:  # Hydra/OmegaConf/YAML errors: name the experiment and the folder
        raise ConfigError(f"cannot compose the Hydra config of experiment {experiment!r} from "
                          f"{config_dir}: {err}") from err
    smoke = resolved.pop("smoke", None)
    if profile == "smoke" and smoke:
        resolved = _merge(resolved, smoke)
    return resolved


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        if key not in out:
            raise ConfigError(f"smoke override names unknown key '{key}' (the `smoke:` section "
                              "of an experiment file in config/hydra/experiment/)")
        out[key] = _merge(out[key], value) if isinstance(value, dict) else value
    return out


def pick(cfg: dict, *paths: str) -> dict:
    """The sub-config of `cfg` holding only the dotted `paths` ("model", "train.epochs"), nested
    as in `cfg`: what one rule reads, so that no other key can rerun it. A missing key is a
    ConfigError naming it."""
    out: dict = {}
    for path in paths:
        keys = path.split(".")
        node, target = cfg, out
        for depth, key in enumerate(keys):
            if not isinstance(node, dict) or key not in node:
                raise ConfigError(f"config key '{'.'.join(keys[:depth + 1])}' is missing")
            node = node[key]
            if depth < len(keys) - 1:
                target = target.setdefault(key, {})
        target[keys[-1]] = node
    return out


def drop(cfg: dict, *paths: str) -> dict:
    """`cfg` without the dotted `paths` (absent ones are ignored), as a new dict."""
    out = dict(cfg)
    for path in paths:
        head, _, rest = path.partition(".")
        if head in out:
            if rest and isinstance(out[head], dict):
                out[head] = drop(out[head], rest)
            elif not rest:
                del out[head]
    return out
