"""Load, merge, normalize and validate the pipeline config (one clear line per problem).

Defaults live in the schemas (each key has a `default` and a `description`), so a user's YAML lists only
what it changes: mappings merge key by key over the defaults, lists and scalars replace. `key: null` on a
mapping empties it; `name: null` inside a table (optimizers, experiments, overrides) removes that entry.
Keys from earlier versions of the vocabulary stop the run with one line naming their replacement.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError

if TYPE_CHECKING:
    import jsonschema

PACKAGE = Path(__file__).parent
TOP_SCHEMA = PACKAGE / "schema.yaml"
VOCABULARY = PACKAGE / "vocabulary.yaml"


def load_yaml(path: str | Path) -> dict:
    """Read a YAML mapping; a missing or malformed file is a ConfigError."""
    import yaml

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


# ---- schema walking: $ref, defaults, null -> {} ---------------------------------------------------------------
def resolve(schema: dict, root: dict) -> dict:
    """Follow local `$ref`s ('#/$defs/name'), keeping sibling keys (e.g. a `default` beside the `$ref`)."""
    while "$ref" in schema:
        target = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _object_branch(schema: dict, root: dict) -> dict | None:
    """The schema a mapping value is checked against (the object branch of a oneOf, if any)."""
    if "oneOf" in schema:
        objects = [resolve(s, root) for s in schema["oneOf"] if resolve(s, root).get("type") == "object"]
        return objects[0] if len(objects) == 1 else None
    return schema if schema.get("type") == "object" or "properties" in schema else None


def normalize(schema: dict, value: Any, root: dict) -> Any:
    """Fill defaults of absent keys and turn `null` on a mapping-only key into {} (recursively)."""
    schema = resolve(schema, root)
    if value is None and schema.get("type") == "object":
        value = {}
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [normalize(schema["items"], v, root) for v in value]
    branch = _object_branch(schema, root) if isinstance(value, dict) else None
    if branch is None:
        return value
    out = dict(value)
    props = branch.get("properties", {})
    for key, sub in props.items():
        default = resolve(sub, root).get("default")
        if key not in out and "default" in resolve(sub, root):
            out[key] = copy.deepcopy(default)
        elif isinstance(out.get(key), dict) and isinstance(default, dict):
            out[key] = deep_merge(default, out[key])          # the user's keys over the defaults, key by key
    extra = branch.get("additionalProperties")
    if isinstance(extra, dict):                               # a table (name -> entry): a null entry is removed
        out = {k: v for k, v in out.items() if k in props or v is not None}
    for key in out:
        sub = props.get(key, extra if isinstance(extra, dict) else None)
        if sub is not None:
            out[key] = normalize(sub, out[key], root)
    return out


# ---- one-line errors -----------------------------------------------------------------------------------------
def _one_line(error: "jsonschema.ValidationError", prefix: str = "") -> str:
    """'<dotted key>: <what is wrong>' for the most relevant schema error."""
    key = (prefix + ".".join(str(p) for p in error.absolute_path)).rstrip(".") or "top level"
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        return f"{key}: unknown key {extra[0]!r}; allowed keys: {', '.join(allowed)}"
    if error.validator == "enum":
        return f"{key}: {error.instance!r} is not one of {error.validator_value}"
    return f"{key}: {error.message}"


def validate_schema(config: Any, schema: dict, prefix: str = "") -> None:
    """Validate against a JSON schema; raise ConfigError with one line naming the key."""
    import jsonschema

    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(config))
    if errors:
        raise ConfigError(f"config error: {_one_line(jsonschema.exceptions.best_match(errors), prefix)}")


def _matches(config: Any, parts: list[str]) -> list[str]:
    """Dotted paths in `config` matching a legacy pattern ('*' matches any key)."""
    if not parts:
        return [""]
    if not isinstance(config, dict):
        return []
    head, rest = parts[0], parts[1:]
    keys = list(config) if head == "*" else [head] if head in config else []
    return [f"{k}.{tail}".rstrip(".") for k in keys for tail in _matches(config[k], rest)]


def check_legacy(section: dict, legacy: dict[str, str], prefix: str) -> None:
    """A key of an earlier vocabulary stops the run with one line naming its replacement."""
    for pattern, replacement in legacy.items():
        found = _matches(section, pattern.split("."))
        if found:
            raise ConfigError(f"config error: {prefix}{found[0]} is no longer a key: {replacement}")


# ---- schemas ---------------------------------------------------------------------------------------------------
def top_schema(study_names: list[str]) -> dict:
    """The top-level schema with the registered study names filled in."""
    schema = load_yaml(TOP_SCHEMA)
    schema["properties"]["studies"]["items"] = {"enum": list(study_names)}
    schema["properties"]["studies"]["default"] = list(study_names)
    for name in study_names:
        schema["properties"][name] = {"oneOf": [{"type": "null"}, {"type": "object"}],
                                      "description": f"the {name} study's section"}
    return schema


def study_schema(schema: dict) -> dict:
    """A study's schema with the shared vocabulary ($defs), the optimizer entry and the experiment entry filled in."""
    from .optim.rules import entry_schema

    defs = {**load_yaml(VOCABULARY)["$defs"], **schema.get("$defs", {})}
    defs["optimizer"] = entry_schema(defs.get("optimizer_extra", {}).get("properties"))
    experiment = copy.deepcopy(defs["experiment"])
    experiment["properties"].update(defs.get("experiment_extra", {}).get("properties", {}))
    experiment["additionalProperties"] = False
    defs["experiment"] = experiment
    properties = {"maps": {"type": "object", "additionalProperties": {"$ref": "#/$defs/map"}, "default": {},
                           "description": "claim maps: name -> where a claim holds over one or two settings"},
                  **schema.get("properties", {})}
    return {**schema, "$defs": defs, "properties": properties}


def normalize_section(section: Any, schema: dict, prefix: str) -> dict:
    """Legacy keys, then defaults and null-emptying, then validation: the study section as jobs see it."""
    section = {} if section is None else section
    check_legacy(section, schema.get("x-legacy", {}), prefix)
    section = normalize(schema, section, schema)
    validate_schema(section, schema, prefix)
    return section


def validate(config: dict, cross_checks: bool = True) -> dict:
    """The normalized config: top level, then every registered study's section (defaults filled, checked).

    With `cross_checks`, each study also builds its typed settings and plan (unknown optimizer names, ...);
    workflow.validated_plan skips them here because building its Plan runs them."""
    from .studies import get_study, known_studies

    top = top_schema(known_studies())
    config = normalize(top, dict(config), top)
    validate_schema(config, top)
    for name in known_studies():                       # listed studies, and any other section the user wrote
        if name in config["studies"] or config.get(name):
            config[name] = normalize_section(config.get(name), get_study(name).schema(), f"{name}.")
    for name in config["studies"] if cross_checks else ():
        get_study(name).check_config(config[name], config)
    return config
