"""Stage `aggregate`: one xarray Dataset per experiment, sweep axes as dimensions."""
from __future__ import annotations

import time

from ..settings import canonical_json
from ..results import aggregate, read_netcdf, write_netcdf
from .common import record_imports


def run_aggregate(config: dict, study: str, experiment: str, axes: list[str], cells: list[str], out: str) -> None:
    attrs = {"study": study, "experiment": experiment, "config": canonical_json(config[study]),
             "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    first = read_netcdf(cells[0])
    for key in ("attndyn_version", "git_commit", "torch_version", "device", "dtype"):
        attrs[key] = first.attrs.get(key, "unknown")
    write_netcdf(aggregate(cells, axes, attrs), out, study, f"experiment {experiment} (every cell)")
    record_imports("aggregate", study)
