"""Stage `map`: one claim map (netCDF + heatmap) from its experiment's aggregated dataset."""
from __future__ import annotations

from ..results import read_netcdf, write_netcdf
from ..studies import get_study
from .common import record_imports

PROVENANCE = ("attndyn_version", "git_commit", "torch_version", "device", "dtype", "config")


def run_map(config: dict, study: str, name: str, experiment: str, out: str, png: str, pdf: str, caption: str) -> None:
    from ..figures.maps import draw_curves, draw_map
    from ..mapdata import map_dataset

    handle = get_study(study)
    settings = handle.settings(config[study], config)
    m = settings.maps[name]
    statistics, boundaries = handle.map_registry()
    statistic = statistics[m.statistic]
    data = read_netcdf(experiment)
    result = map_dataset(data, m, statistic, settings)
    result.attrs.update({k: data.attrs[k] for k in PROVENANCE if k in data.attrs})
    write_netcdf(result, out, study, f"claim map {name}")
    if statistic.x is not None:                                    # a curve per grid point
        draw_curves(result, statistic.x, statistic.x_label, png, pdf, caption)
    else:
        draw_map(result, boundaries[m.boundary](settings, m) if m.boundary else None, png, pdf, caption)
    record_imports("maps", study)
