"""Stage `map`: one claim map (netCDF + heatmap) from its experiment's aggregated dataset."""
from __future__ import annotations

from ..results import read_netcdf, write_netcdf
from ..studies import get_study
from .common import record_imports


def run_map(config: dict, study: str, name: str, experiment: str, out: str, png: str, pdf: str, caption: str) -> None:
    from ..figures.maps import draw_map
    from ..mapdata import map_dataset

    handle = get_study(study)
    settings = handle.settings(config[study], config)
    m = settings.maps[name]
    statistics, boundaries = handle.map_registry()
    result = map_dataset(read_netcdf(experiment), m, statistics[m.statistic], settings)
    write_netcdf(result, out)
    boundary = boundaries[m.boundary](settings, m) if m.boundary else None
    draw_map(result, boundary, png, pdf, caption)
    record_imports("maps", study)
