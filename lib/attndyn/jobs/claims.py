"""Stage `claims`: each study's claims checked by numbers, then one joined table."""
from __future__ import annotations

from pathlib import Path

from ..claims import concat_claims, write_claims
from ..studies import get_study
from .common import read_experiments


def run_claims(config: dict, study: str, inputs: list[str], out: str) -> None:
    handle = get_study(study)
    write_claims(handle.claims(read_experiments(inputs), handle.settings(config[study], config)), out)


def run_join_claims(inputs: list[str], out: str) -> None:
    concat_claims({Path(p).parent.name: p for p in inputs}, out)
