"""Reconstruction sensitivity: for every claim map and every axis it sweeps, does the claim's verdict change with
that setting? Each axis carries its tag from the study's schema ([RECONSTRUCTED], [PROPOSED], [PAPER], ...), so the
table answers "does the paper's claim hold, or does our reading of the paper decide it?" (issue #15)."""
from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from html import escape
from pathlib import Path

import xarray as xr

from .caption_notes import TAG
from .checkpoint import atomic_write
from .mapdata import grid_label

COLUMNS = ("study", "map", "claim", "axis", "tag", "verdict_by_value", "verdict_changes")


@dataclass(frozen=True)
class SensitivityRow:
    study: str
    map: str
    claim: str
    axis: str
    tag: str                  # the axis' tag in the study's schema ('' if it has none, e.g. an optimizer's lr)
    verdict_by_value: str     # 'value: holds at k of K points of the other axis; ...'
    verdict_changes: bool     # some point of the other axis passes at one value of this axis and fails at another


def schema_keys(schema: dict) -> dict[str, str]:
    """Every key path of a study's schema (dotted) -> its description."""
    from .config import _object_branch, resolve

    out: dict[str, str] = {}

    def walk(node: dict, prefix: str) -> None:
        node = resolve(node, schema)
        branch = _object_branch(node, schema) or node
        for key, sub in branch.get("properties", {}).items():
            sub = resolve(sub, schema)
            out[prefix + key] = str(sub.get("description", ""))
            walk(sub, f"{prefix}{key}.")

    walk(schema, "")
    return out


def axis_tag(keys: dict[str, str], axis: str) -> str:
    """The tag of the schema key a map axis names (the key itself, or the keys ending in it): the strongest of
    RECONSTRUCTED > PROPOSED > DERIVED > PAPER found, '' if none."""
    found = {m.group(1) for path, text in keys.items() if path == axis or path.endswith("." + axis)
             for m in [TAG.search(text)] if m}
    for tag in ("RECONSTRUCTED", "PROPOSED", "DERIVED", "PAPER"):
        if tag in found:
            return tag
    return ""


def map_sensitivity(study: str, result: xr.Dataset, keys: dict[str, str]) -> list[SensitivityRow]:
    """One row per axis of a map dataset (axes..., seed[, ...]): where every seed passes, per value of the axis."""
    axes = result.attrs["axes"].split(",")
    holds = result["passed"].astype(bool).all([d for d in result["passed"].dims if d not in axes])   # (axes...)
    rows = []
    for axis in axes:
        others = [a for a in axes if a != axis]
        per_value = holds.transpose(axis, *others).values.reshape(holds.sizes[axis], -1)             # (values, points)
        text = "; ".join(f"{axis}={grid_label(v)}: holds at {int(row.sum())} of {row.size}"
                         for v, row in zip(holds[axis].values, per_value))
        changes = bool((per_value.any(axis=0) & ~per_value.all(axis=0)).any())
        rows.append(SensitivityRow(study, result.attrs["map"], result.attrs["claim"], axis, axis_tag(keys, axis),
                                   text, changes))
    return rows


def write_sensitivity(rows: list[SensitivityRow], csv_path: str | Path, html_path: str | Path) -> None:
    """The table as CSV (for notebooks) and as an HTML page (the report shows it)."""
    def write_csv(tmp):
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(asdict(r) for r in rows)

    atomic_write(csv_path, write_csv)
    atomic_write(html_path, lambda tmp: Path(tmp).write_text(sensitivity_page(rows)))


def sensitivity_page(rows: list[SensitivityRow]) -> str:
    from .claims_html import STYLE

    body = "\n".join(
        f'<tr class="{"fail" if r.verdict_changes else "pass"}"><td>{escape(r.study)}</td><td>{escape(r.map)}</td>'
        f"<td>{escape(r.claim)}</td><td>{escape(r.axis)}</td><td>{escape(r.tag or '-')}</td>"
        f'<td class="verdict">{"yes" if r.verdict_changes else "no"}</td><td>{escape(r.verdict_by_value)}</td></tr>'
        for r in rows)
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Reconstruction sensitivity</title>'
            f"<style>{STYLE}</style></head><body>\n<h1>Reconstruction sensitivity</h1>\n"
            "<p>For each claim map and each setting it sweeps (tag from the study's schema: RECONSTRUCTED = our "
            "reading of a paper detail, PROPOSED = a pipeline default), whether the claim's verdict (every seed "
            "passes) changes with that setting at some point of the other axis. 'yes' on a RECONSTRUCTED axis means "
            "our reading of the paper, not the paper, decides the verdict there.</p>\n"
            "<table><thead><tr><th>study</th><th>map</th><th>claim</th><th>axis</th><th>tag</th>"
            f"<th>verdict changes</th><th>where the claim holds, per value</th></tr></thead><tbody>\n{body}\n"
            "</tbody></table>\n</body></html>\n")


def markdown_table(rows: list[SensitivityRow]) -> str:
    """The same table for the README."""
    lines = ["| study | map | axis (tag) | verdict changes | where the claim holds, per value |",
             "|---|---|---|---|---|"]
    lines += [f"| {r.study} | {r.map} | {r.axis} ({r.tag or '-'}) | {'**yes**' if r.verdict_changes else 'no'} | "
              f"{r.verdict_by_value} |" for r in rows]
    return "\n".join(lines)
