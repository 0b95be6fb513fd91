"""Stage `data`: one seeded data file per data configuration."""
from __future__ import annotations

from ..studies import get_study
from .common import record_imports, write_npz


def run_data(study: str, settings_json: str, out: str) -> None:
    write_npz(get_study(study).make_dataset(settings_json), out)
    record_imports("data", study)
