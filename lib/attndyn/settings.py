"""Typed, frozen settings: dataclasses built from validated config mappings, and their canonical JSON.

Every study describes its settings as frozen dataclasses without defaults (defaults live in the schemas).
`build(cls, mapping)` turns a validated mapping into an instance (nested dataclasses, tuples for lists,
unions of dataclasses told apart by their field names); `canonical_json(obj)` is the rerun trigger and
`parse(cls, text)` reads it back in a job. Nothing downstream indexes settings by string.
"""
from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any

from .errors import ConfigError

NoneType = type(None)


@cache
def _hints(cls) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _union_members(tp) -> tuple | None:
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        return typing.get_args(tp)
    return None


def _pick_dataclass(members: tuple, value: Mapping, where: str):
    """The dataclass member of a union whose field names are exactly the mapping's keys."""
    for member in members:
        if dataclasses.is_dataclass(member) and {f.name for f in dataclasses.fields(member)} == set(value):
            return member
    names = ", ".join(m.__name__ for m in members if dataclasses.is_dataclass(m))
    raise ConfigError(f"config error: {where}: keys {sorted(value)} match none of {names}")


def convert(tp, value, where: str):
    """`value` (plain config data) as type `tp`: a dataclass, a tuple, a dict, a union of them, or a scalar."""
    members = _union_members(tp)
    if members is not None:
        if value is None and NoneType in members:
            return None
        if isinstance(value, Mapping):
            return convert(_pick_dataclass(members, value, where), value, where)
        return convert(next(m for m in members if m is not NoneType), value, where)
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return build(tp, value, where)
    if origin is tuple:
        args = typing.get_args(tp)
        inner = args[0] if len(args) == 2 and args[1] is Ellipsis else None
        return tuple(convert(inner or args[i], v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        _, inner = typing.get_args(tp)
        return {k: convert(inner, v, f"{where}.{k}") for k, v in value.items()}
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def build(cls, mapping: Mapping, where: str = ""):
    """An instance of dataclass `cls` from a (schema-validated) mapping; unknown or missing keys are ConfigErrors."""
    if isinstance(mapping, cls):
        return mapping
    if not isinstance(mapping, Mapping):
        raise ConfigError(f"config error: {where or cls.__name__}: expected a mapping, got {mapping!r}")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(mapping) - names)
    if unknown:
        raise ConfigError(f"config error: {where or cls.__name__}: unknown key {unknown[0]!r}; "
                          f"allowed keys: {', '.join(sorted(names))}")
    missing = sorted(names - set(mapping))
    if missing:
        raise ConfigError(f"config error: {where or cls.__name__}: missing key {missing[0]!r}")
    hints = _hints(cls)
    return cls(**{k: convert(hints[k], v, f"{where}.{k}" if where else k) for k, v in mapping.items()})


def as_plain(obj) -> Any:
    """Nested plain data (dicts, lists, scalars) of a settings object."""
    if dataclasses.is_dataclass(obj):
        return {f.name: as_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [as_plain(v) for v in obj]
    if isinstance(obj, Mapping):
        return {k: as_plain(v) for k, v in obj.items()}
    return obj


def canonical_json(obj) -> str:
    """Sorted-key compact JSON of settings (or plain data): the rerun trigger and the provenance record."""
    return json.dumps(as_plain(obj), sort_keys=True, separators=(",", ":"))


def parse(tp, text: str):
    """Read back `canonical_json(obj)` as an instance of `tp`, a dataclass or a union of dataclasses
    (what a job receives from its rule params)."""
    return convert(tp, json.loads(text), getattr(tp, "__name__", "settings"))


def replace_path(obj, path: str, value):
    """A copy of a settings object with the field at a dotted path ('data.sigma_p') replaced."""
    head, _, rest = path.partition(".")
    if not rest:
        return dataclasses.replace(obj, **{head: value})
    return dataclasses.replace(obj, **{head: replace_path(getattr(obj, head), rest, value)})


def get_path(obj, path: str):
    """The value at a dotted path of a settings object."""
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def has_path(obj, path: str) -> bool:
    try:
        get_path(obj, path)
    except AttributeError:
        return False
    return True
