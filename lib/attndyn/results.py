"""Per-cell and per-experiment xarray datasets: dims, CF attributes, provenance, atomic netCDF I/O."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from .checkpoint import atomic_write
from .errors import DataError
from .variables import Var  # re-exported: results.Var


# TrainResult is train.TrainResult: not imported, not even under TYPE_CHECKING, because codegraph reads every
# import statement and would add train.py to the code digest of the aggregate, figure, map and claims stages.
def cell_dataset(result: "TrainResult", variables: dict[str, Var], seeds: Sequence[int],  # noqa: F821
                 coords: dict, attrs: dict) -> xr.Dataset:
    """Turn a TrainResult (G, R, ...) into a Dataset with dims (seed, step, ...) and scalar sweep coords."""
    data_vars = {}
    for name, values in result.metrics.items():
        spec = variables.get(name)
        if spec is None:
            raise KeyError(f"metric {name!r} has no Var entry in the study's variable table")
        array = np.moveaxis(values, 1, 0)                            # (R, G, ...)
        data_vars[name] = (("seed", "step") + spec.dims, array,
                           {"long_name": spec.long_name, "units": spec.units})
    data_vars["diverged"] = (("seed",), result.diverged.astype(bool),
                             {"long_name": "run produced a non-finite loss (later values are NaN)",
                              "flag_meanings": "finite diverged"})
    data_vars["diverged_step"] = (("seed",), result.diverged_step.astype(np.int64),
                                  {"long_name": "first step with a non-finite loss", "units": "1",
                                   "comment": "-1: the run never diverged"})
    data_vars["final_step"] = ((), int(result.grid[-1]), {"long_name": "last step of this cell's runs", "units": "1"})
    ds = xr.Dataset(data_vars, coords={"seed": list(seeds), "step": result.grid})
    ds["step"].attrs.update(long_name="optimizer step (number of updates applied)", units="1")
    ds["seed"].attrs.update(long_name="seed (data and initialization)")
    ds = ds.assign_coords({axis: value for axis, value in coords.items()})
    ds.attrs.update(attrs)
    ds.attrs["wall_time_s"] = float(result.wall_time)
    ds.attrs["resumed_from_step"] = int(result.resumed_from)
    return ds


def write_netcdf(ds: xr.Dataset, path: str | Path, study: str | None = None, title: str = "") -> None:
    """Write atomically (temp file + rename); with `study`, in the CF form (attndyn.cf) with the paper's reference
    and `title` (what the file holds)."""
    if study is not None:
        from .cf import encode
        from .descriptions import key_description
        from .studies import get_study

        ds = encode(ds, get_study(study).meta(), study, title, lambda key: key_description(study, key))
    atomic_write(path, lambda tmp: ds.to_netcdf(tmp, engine="netcdf4"))


def read_netcdf(path: str | Path) -> xr.Dataset:
    """Load a netCDF file fully into memory; a missing or corrupt file is a one-line DataError."""
    from .cf import decode

    try:
        with xr.open_dataset(path, engine="netcdf4") as ds:
            return decode(ds.load())
    except Exception as exc:  # netCDF4 raises OSError/RuntimeError/ValueError variants
        raise DataError(f"cannot read results file {path}: {type(exc).__name__}: {exc}") from None


def read_experiments(paths: Sequence[str | Path]) -> dict[str, xr.Dataset]:
    """Experiment datasets keyed by experiment name (the file stem)."""
    return {Path(p).stem: read_netcdf(p) for p in paths}


def aggregate(cell_paths: Sequence[str | Path], axes: Sequence[str], attrs: dict) -> xr.Dataset:
    """Stack per-cell datasets along the experiment's sweep axes (outer join on step); each cell's resolved
    settings (JSON) become the variable `cell_settings` over those axes."""
    parts, wall = [], 0.0
    for path in cell_paths:
        ds = read_netcdf(path)
        wall += float(ds.attrs.get("wall_time_s", 0.0))
        ds["cell_settings"] = ((), ds.attrs.pop("cell_settings", ""),
                               {"long_name": "the cell's resolved settings (JSON)"})
        ds = ds.expand_dims(list(axes))
        # object dtype: combining fixed-width numpy strings would truncate ('signgd' -> 'sign')
        parts.append(ds.assign_coords({a: ds[a].values.astype(object) for a in axes if ds[a].dtype.kind in "US"}))
    combined = xr.combine_by_coords(parts, combine_attrs="drop_conflicts", join="outer", data_vars="minimal",
                                   coords="minimal", compat="override")
    if isinstance(combined, xr.DataArray):  # pragma: no cover - defensive
        combined = combined.to_dataset()
    combined["cell_settings"] = combined["cell_settings"].fillna("")     # grid points no cell ran
    combined.attrs.update(attrs)
    combined.attrs["wall_time_s"] = wall
    combined.attrs["sweep_axes"] = ",".join(axes)
    return combined


def final(ds: xr.Dataset, name: str) -> xr.DataArray:
    """Each run's value at its own last step (NaN for a diverged run); steps may differ across cells."""
    return ds[name].sel(step=ds["final_step"]).drop_vars("step")


def at(ds: xr.Dataset, name: str, step: int) -> xr.DataArray:
    """Values at a logged step (NaN for cells that stopped earlier or never logged it)."""
    if step not in ds.step.values:
        raise KeyError(f"step {step} is not on the logging grid; add it to log.extra_steps")
    return ds[name].sel(step=step, drop=True)
