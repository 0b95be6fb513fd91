"""config/README.md, rendered from the schemas: every key with its default and its meaning.

    python -m attndyn.config_docs > config/README.md      (a test checks the file is current)
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .config import resolve, top_schema
from .optim.rules import RULES
from .studies import get_study, known_studies

INTRO = """# Configuration reference

Generated from the schemas by `python -m attndyn.config_docs > config/README.md`; do not edit by hand.

A run reads `config/config.yaml`, then every `--configfile` given (later files win), then the defaults below fill
every key not written. Mappings merge key by key (over the defaults too), lists and scalars replace.
`key: null` on a mapping empties it (e.g. `overrides: null`); `name: null` inside a table (`optimizers`,
`experiments`, `overrides`, `maps`) removes that entry. A key of an earlier version of this vocabulary stops the run
with one line naming its replacement. Tags: [PAPER] from the paper, [RECONSTRUCTED] best reconstruction of an unknown
paper detail, [PROPOSED] a default chosen by this pipeline, [DERIVED] follows from the definitions.

Every study section speaks the same vocabulary: `seeds` (a list), `dtype` (null = the top-level one),
`optimizers` (name -> {rule, lr, steps, ...}: any rule of the registry below, in any study), `log` (the step grid),
`experiments` (name -> {kind, optimizers, sweep, steps, overrides, seeds, dtype, data, model, log, ...}),
`figures`, `checks`.
"""


def _value(value: Any) -> str:
    text = json.dumps(value)
    return f"`{text}`" if len(text) <= 60 else "(see below)"


def _rows(schema: dict, root: dict, prefix: str, defaults: dict | None = None) -> Iterator[str]:
    """One table row per key (depth first); a mapping's own default overrides its keys' defaults.
    Tables (name -> entry) are one row; their default entries are listed after the table (`tables`)."""
    schema = resolve(schema, root)
    for key, sub in schema.get("properties", {}).items():
        sub = resolve(sub, root)
        path = f"{prefix}{key}"
        has_default = (defaults is not None and key in defaults) or "default" in sub
        value = defaults[key] if defaults is not None and key in defaults else sub.get("default")
        text = " ".join(str(sub.get("description", "")).split()).replace("|", "\\|")
        yield f"| `{path}` | {_value(value) if has_default else 'required'} | {text} |"
        if "properties" in sub and not isinstance(sub.get("additionalProperties"), dict):
            yield from _rows(sub, root, path + ".", value if isinstance(value, dict) else None)


def _tables(schema: dict, prefix: str) -> list[str]:
    """The default entries of the section's tables (optimizers, experiments, ...) as YAML."""
    import yaml

    out = []
    for key, sub in schema.get("properties", {}).items():
        sub = resolve(sub, schema)
        if isinstance(sub.get("additionalProperties"), dict) and sub.get("default"):
            text = yaml.safe_dump({key: sub["default"]}, sort_keys=False, default_flow_style=None, width=110)
            out += ["", f"Default `{prefix}{key}`:", "", "```yaml", text.rstrip(), "```"]
    return out


def study_section(name: str) -> str:
    schema = get_study(name).schema()
    lines = [f"## `{name}`", "", schema.get("description", ""), "", "| key | default | meaning |", "|---|---|---|"]
    lines += list(_rows(schema, schema, f"{name}."))
    lines += _tables(schema, f"{name}.")
    experiment = resolve(schema["$defs"]["experiment"], schema)
    lines += ["", f"An entry of `{name}.experiments`:", "", "| key | default | meaning |", "|---|---|---|"]
    lines += list(_rows(experiment, schema, "experiments.<name>."))
    return "\n".join(lines)


def optimizer_section() -> str:
    lines = ["## Optimizer registry (`<study>.optimizers.<name>`)", "",
             "| rule | what it does | settings (default) |", "|---|---|---|"]
    for name, rule in RULES.items():
        settings = ", ".join(f"`{k}` ({json.dumps(s.default)})" for k, s in rule.settings.items()) or "-"
        needs = f" Needs a {', '.join(rule.needs)} (only studies that provide it)." if rule.needs else ""
        lines.append(f"| `{name}` | {rule.description}.{needs} | {settings} |")
    entry = get_study(known_studies()[0]).schema()["$defs"]["optimizer"]
    lines += ["", "Keys of every entry:", "", "| key | default | meaning |", "|---|---|---|"]
    common = {k: v for k, v in entry["properties"].items() if k in ("rule", "lr", "steps", "epochs", "batch_size",
                                                                    "lr_rule", "lr_scale", "power_iters")}
    lines += list(_rows({"properties": common}, entry, ""))
    return "\n".join(lines)


def render() -> str:
    top = top_schema(known_studies())
    rows = [r for r in _rows({"properties": {k: v for k, v in top["properties"].items() if k not in known_studies()}},
                             top, "")]
    parts = [INTRO, "## Top level", "", "| key | default | meaning |", "|---|---|---|", *rows, "",
             optimizer_section()]
    parts += ["", *[study_section(name) + "\n" for name in known_studies()]]
    return "\n".join(parts).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
