"""A claim map's dataset: per grid point and seed, the statistic, its margin against the criterion, pass/fail.

Dims are the map's axes (x first) and `seed`; a statistic that is a curve (e.g. a local slope over time) adds its
own dimension, and its margin and verdict are read at the curve's last point.
"""
from __future__ import annotations

import itertools
import json

import numpy as np
import xarray as xr

from .maps import MapSettings, Statistic, margin


def _point_values(ds: xr.Dataset, m: MapSettings, statistic: Statistic, settings) -> xr.DataArray:
    """The statistic at every grid point, stacked: (axes..., seed[, curve dim])."""
    axes = list(m.axes)
    grid = [list(m.axes[a]) for a in axes]
    rows = []
    for point in itertools.product(*grid):
        value = statistic.compute(ds, dict(zip(axes, point)), settings)                  # (seed[, curve dim])
        rows.append(value.expand_dims({a: [v] for a, v in zip(axes, point)}))
    return xr.combine_by_coords([r.to_dataset(name="statistic") for r in rows], data_vars="minimal",
                                coords="minimal", compat="override", join="outer")["statistic"]


def criterion_text(m: MapSettings, statistic: Statistic, threshold: float) -> str:
    scale = " (compared in log10)" if statistic.log else ""
    return f"{statistic.claim}: statistic {statistic.direction} {threshold:g}{scale}"


def map_dataset(ds: xr.Dataset, m: MapSettings, statistic: Statistic, settings) -> xr.Dataset:
    """The map of claim `statistic` over the aggregated experiment `ds` (dims: the map's axes, seed, ...)."""
    values = _point_values(ds, m, statistic, settings)
    threshold = m.threshold if m.threshold is not None else float(statistic.threshold(settings))
    last = values.isel({d: -1 for d in values.dims if d not in (*m.axes, "seed")})
    over = xr.apply_ufunc(margin, last, kwargs={"statistic": statistic, "threshold": threshold})
    criterion = criterion_text(m, statistic, threshold)
    out = xr.Dataset({
        "statistic": values.assign_attrs(long_name=f"statistic of {statistic.claim}", units="1"),
        "margin": over.assign_attrs(long_name=f"margin of the criterion '{criterion}' (> 0: the claim holds)",
                                    units="1"),
        "passed": (over > 0).assign_attrs(long_name="the seed's run passes the criterion here",
                                          flag_meanings="fail pass")})
    out.attrs.update(claim=statistic.claim, criterion=criterion, threshold=threshold,
                     map=m.name, statistic=m.statistic, axes=",".join(m.axes),
                     fixed=json.dumps(m.fixed, sort_keys=True), boundary=m.boundary or "",
                     claim_source=statistic.source)
    return out


def summary(result: xr.Dataset) -> tuple[int, int, int, list[str]]:
    """(grid points where every seed passes, where some do, where none does, the failing points as text)."""
    axes = result.attrs["axes"].split(",")
    passes = result["passed"].sum("seed")
    seeds = result.sizes["seed"]
    flat = passes.stack(point=axes)
    failing = [", ".join(f"{a}={grid_label(bool(v) if result[a].dtype == bool else v)}"
                         for a, v in zip(axes, np.atleast_1d(idx)))
               for idx, k in zip(flat["point"].values, flat.values) if k < seeds]
    return int((flat == seeds).sum()), int(((flat > 0) & (flat < seeds)).sum()), int((flat == 0).sum()), failing


def grid_label(value) -> str:
    """A grid value as text: numbers with :g, everything else (booleans, labels) as str."""
    return f"{value:g}" if isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool) \
        else str(value)
