"""Stage `claims`: each study's claims checked by numbers, then one joined table."""
from __future__ import annotations

from pathlib import Path

from ..claims import concat_claims, write_claims
from ..studies import get_study
from ..results import read_experiments
from .common import record_imports


def run_claims(config: dict, study: str, inputs: list[str], out: str) -> None:
    handle = get_study(study)
    rows = handle.claims(read_experiments(inputs), handle.settings(config[study], config))
    write_claims(rows, out, scale=config["scale"])
    record_imports("claims", study)


def run_join_claims(inputs: list[str], out: str) -> None:
    concat_claims({Path(p).parent.name: p for p in inputs}, out)
