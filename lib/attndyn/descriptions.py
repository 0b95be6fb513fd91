"""What a sweep key means, read from the study's schema (the `description` of the key it names): the long_name of
a sweep coordinate in the netCDF files."""
from __future__ import annotations

from collections.abc import Iterator
from functools import cache

SPECIAL = {"optimizer": "optimizer (an entry of the study's `optimizers` table)",
           "seed": "seed (data and initialization)",
           "optimizer.beta1": "optimizer.beta1: decay rate beta_1 of the first-moment average (Adam)",
           "optimizer.beta2": "optimizer.beta2: decay rate beta_2 of the second-moment average (Adam)"}


def _described(schema: dict, root: dict, seen: frozenset = frozenset()) -> Iterator[tuple[str, str]]:
    """(property name, description) of every property anywhere in the schema, depth first."""
    from .config import resolve

    ref = schema.get("$ref")
    if ref in seen:
        return
    schema = resolve(schema, root)
    seen = seen | {ref} if ref else seen
    for name, sub in schema.get("properties", {}).items():
        text = resolve(sub, root).get("description")
        if text:
            yield name, " ".join(str(text).split())
        yield from _described(sub, root, seen)
    for key in ("additionalProperties", "items"):
        if isinstance(schema.get(key), dict):
            yield from _described(schema[key], root, seen)
    for branch in schema.get("oneOf", []) + schema.get("anyOf", []):
        yield from _described(branch, root, seen)


@cache
def _table(study: str) -> dict[str, str]:
    from .studies import get_study

    schema = get_study(study).schema()
    table: dict[str, str] = {}
    for root in [schema, *schema.get("$defs", {}).values()]:
        for name, text in _described(root, schema):
            table.setdefault(name, text)
    return table


def key_description(study: str, key: str) -> str:
    """`key` (a sweep axis such as 'heads' or 'optimizer.lr') explained: the study's own words for it (meta.AXES),
    its schema description, or its name."""
    from .studies import get_study

    axes = get_study(study).meta().AXES
    if key in axes:
        return axes[key]
    if key in SPECIAL:
        return SPECIAL[key]
    text = _table(study).get(key.rpartition(".")[2])
    return f"{key}: {text}" if text else f"sweep key {key}"
