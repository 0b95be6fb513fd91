"""The README's claims table from a run's results/claims.csv:

    python -m attndyn.claims_table results/claims.csv > table.md

One row per claim: study, claim, the criterion fixed before the run, what was measured (shortened) and the verdict."""
from __future__ import annotations

import sys

from .claims import read_claims


def _cell(text: str, limit: int) -> str:
    text = " ".join(text.replace("|", "/").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def markdown(rows: list[dict], limit: int = 220) -> str:
    passed = sum(r["passed"] == "True" for r in rows)
    lines = [f"{passed} of {len(rows)} rows pass (scale: {rows[0].get('scale', '?') if rows else '?'}).", "",
             "| study | claim | criterion (fixed before the run) | measured | passed |", "|---|---|---|---|---|"]
    lines += [f"| {r['study']} | {_cell(r['claim'], 120)} | {_cell(r['expected'], limit)} | "
              f"{_cell(r['measured'], limit)} | {'yes' if r['passed'] == 'True' else '**no**'} |" for r in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(read_claims(sys.argv[1] if len(sys.argv) > 1 else "results/claims.csv")))
