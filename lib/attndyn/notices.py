"""One-time notices of the plan (e.g. "the text task is off"): collected while the plan is built, printed once per
run by the main Snakemake process (job processes re-parse the Snakefile and stay quiet)."""
from __future__ import annotations

_PENDING: list[str] = []


def notice(text: str) -> None:
    """Record a notice for the user (each text once)."""
    if text not in _PENDING:
        _PENDING.append(text)


def pending() -> list[str]:
    return list(_PENDING)
