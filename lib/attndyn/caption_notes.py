"""The two sentences every figure caption ends with: the claim rows the figure supports, and the reconstructed or
proposed values it depends on (each with its value in this run and its tag from the schema)."""
from __future__ import annotations

import json
import re
from typing import Any

TAG = re.compile(r"\[(PAPER|RECONSTRUCTED|PROPOSED|DERIVED)\b")


def _schema_at(schema: dict, path: list[str]) -> dict:
    """The schema of the key at `path` (through properties, tables' entries and $refs)."""
    from .config import _object_branch, resolve

    node = schema
    for part in path:
        node = resolve(node, schema)
        node = _object_branch(node, schema) or node
        properties = node.get("properties", {})
        if part in properties:
            node = properties[part]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            raise KeyError(f"no key {'.'.join(path)!r} in the schema (at {part!r})")
    return resolve(node, schema)


def _value_at(section: dict, path: list[str]) -> Any:
    value: Any = section
    for part in path:
        if not isinstance(value, dict) or part not in value:
            raise KeyError(f"no key {'.'.join(path)!r} in the study's config")
        value = value[part]
    return value


def tag_of(schema: dict, key: str) -> str:
    """'RECONSTRUCTED', 'PROPOSED', 'PAPER', 'DERIVED' or '' for a key of the study's section."""
    found = TAG.search(str(_schema_at(schema, key.split(".")).get("description", "")))
    return found.group(1) if found else ""


def claims_sentence(claims: list[str]) -> str:
    return f"Supports claim rows: {', '.join(claims)}." if claims else "Supports no claim row (context only)."


def depends_sentence(schema: dict, section: dict, keys: list[str]) -> str:
    """'Depends on: key = value [TAG]; ...' for each key (a dotted path in the study's config section)."""
    if not keys:
        return "Depends on no reconstructed or proposed value."
    parts = []
    for key in keys:
        value = json.dumps(_value_at(section, key.split(".")), separators=(", ", ": "))
        tag = tag_of(schema, key)
        parts.append(f"{key} = {value}{f' [{tag}]' if tag else ''}")
    return "Depends on: " + "; ".join(parts) + " (config/README.md explains each key)."
