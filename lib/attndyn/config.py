"""Load, merge and validate the pipeline config (one clear line per problem)."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .errors import ConfigError

TOP_SCHEMA = Path(__file__).parent / "schema.yaml"


def load_yaml(path: str | Path) -> dict:
    """Read a YAML mapping; a missing or malformed file is a ConfigError."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read config file {path}: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping at the top level")
    return data


def deep_merge(base: dict, override: dict) -> dict:
    """Recursive dict update (lists and scalars are replaced), as Snakemake merges --configfile."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _key_path(error: jsonschema.ValidationError, prefix: str) -> str:
    return prefix + ".".join(str(p) for p in error.absolute_path)


def _one_line(error: jsonschema.ValidationError, prefix: str = "") -> str:
    """'<dotted key>: <what is wrong>' for the most relevant schema error."""
    key = _key_path(error, prefix).rstrip(".") or "top level"
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        return f"{key}: unknown key {extra[0]!r}; allowed keys: {', '.join(allowed)}"
    if error.validator == "enum":
        return f"{key}: {error.instance!r} is not one of {error.validator_value}"
    return f"{key}: {error.message}"


def _best_error(errors: list[jsonschema.ValidationError]) -> jsonschema.ValidationError:
    return jsonschema.exceptions.best_match(errors)


def validate_schema(config: dict, schema: dict, prefix: str = "") -> None:
    """Validate against a JSON schema; raise ConfigError with one line naming the key."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = list(validator.iter_errors(config))
    if errors:
        raise ConfigError(f"config error: {_one_line(_best_error(errors), prefix)}")


def top_schema(study_names: list[str]) -> dict:
    """The top-level schema with the registered study names filled in."""
    schema = load_yaml(TOP_SCHEMA)
    schema["properties"]["studies"]["items"] = {"enum": list(study_names)}
    for name in study_names:
        schema["properties"][name] = {"type": "object"}
    return schema


def validate(config: dict) -> dict:
    """Validate the whole config: top-level schema, then each study's own schema and checks."""
    from .studies import get_study, known_studies

    validate_schema(config, top_schema(known_studies()))
    for name in config["studies"]:
        if name not in config:
            raise ConfigError(f"config error: study {name!r} is listed in 'studies' but has no '{name}:' section")
    for name in known_studies():
        if name in config:
            study = get_study(name)
            validate_schema(config[name], study.schema(), prefix=f"{name}.")
            study.check_config(config[name])
    return config


def resolved_json(config: Any) -> str:
    """Canonical JSON text of a config fragment (sorted keys), used for hashing and provenance."""
    return json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
