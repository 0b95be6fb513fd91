"""Stage `sensitivity`: which settings a claim map sweeps change its verdict, over every study's maps."""
from __future__ import annotations

from pathlib import Path

from ..results import read_netcdf
from ..sensitivity import map_sensitivity, schema_keys, write_sensitivity
from ..studies import get_study


def run_sensitivity(maps: list[str], csv_path: str, html_path: str) -> None:
    """results/sensitivity.csv and .html from results/<study>/maps/<map>.nc (one row per map and axis)."""
    rows, keys = [], {}
    for path in maps:
        study = Path(path).parent.parent.name
        if study not in keys:
            keys[study] = schema_keys(get_study(study).schema())
        rows += map_sensitivity(study, read_netcdf(path), keys[study])
    write_sensitivity(rows, csv_path, html_path)
