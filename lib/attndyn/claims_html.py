"""The claims table as a page a person reads: one table per study, pass/fail at a glance (the report shows it)."""
from __future__ import annotations

from html import escape
from pathlib import Path

from .checkpoint import atomic_write

STYLE = """
body { font-family: system-ui, sans-serif; font-size: 14px; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #ccc; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.verdict { font-weight: bold; white-space: nowrap; }
tr.pass td.verdict { background: #d9f2e3; color: #0b5d2a; }
tr.fail td.verdict { background: #fadbd8; color: #8a1c12; }
td.small { font-size: 12px; color: #444; }
"""
SHOWN = (("claim", "claim"), ("expected", "criterion (fixed before the run)"), ("measured", "measured"),
         ("fails_if", "fails if"), ("depends_on", "depends on"))


def _row(row: dict) -> str:
    passed = row["passed"] == "True"
    cells = [f'<td class="verdict">{"&#10003; pass" if passed else "&#10007; FAIL"}</td>']
    cells += [f'<td{" class=small" if key in ("fails_if", "depends_on") else ""}>{escape(row.get(key, ""))}</td>'
              for key, _ in SHOWN]
    return f'<tr class="{"pass" if passed else "fail"}">{"".join(cells)}</tr>'


def study_table(study: str, rows: list[dict]) -> str:
    """One study's rows: a heading with the pass count, then the table."""
    passed = sum(r["passed"] == "True" for r in rows)
    scale = rows[0].get("scale", "") if rows else ""
    head = "".join(f"<th>{escape(title)}</th>" for _, title in SHOWN)
    return (f'<h2 id="{escape(study)}">{escape(study)}: {passed} of {len(rows)} rows pass'
            f'{f" ({escape(scale)} scale)" if scale else ""}</h2>\n'
            f"<table><thead><tr><th>verdict</th>{head}</tr></thead><tbody>\n"
            + "\n".join(_row(r) for r in rows) + "\n</tbody></table>")


def claims_page(rows_by_study: dict[str, list[dict]]) -> str:
    """The whole page: a summary line, then one table per study."""
    total = sum(len(rows) for rows in rows_by_study.values())
    passed = sum(r["passed"] == "True" for rows in rows_by_study.values() for r in rows)
    tables = "\n".join(study_table(study, rows) for study, rows in rows_by_study.items())
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Claims checked by numbers</title>'
            f"<style>{STYLE}</style></head><body>\n<h1>Claims checked by numbers: {passed} of {total} rows pass</h1>\n"
            "<p>Each row is one claim of a paper checked by a number: the criterion fixed before the run, the value "
            "measured on this run, what would fail it, and the reconstructed or proposed settings the verdict "
            "depends on. A failing row is a result, not an error. The same rows are in <code>claims.csv</code>.</p>\n"
            f"{tables}\n</body></html>\n")


def write_claims_page(rows_by_study: dict[str, list[dict]], path: str | Path) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_text(claims_page(rows_by_study)))
