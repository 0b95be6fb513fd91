"""CF-1.8 conventions for every netCDF file the pipeline writes (`encode`), and their inverse on reading (`decode`).

In memory a dataset keeps string labels as dimension coordinates (`ds.sel(optimizer="adam")`), booleans as bool and
sweep keys under their config names ('optimizer.lr'). CF wants numeric coordinate variables, flags with
`flag_values`/`flag_meanings`, and names of letters, digits and underscores, so on disk:
  - a string dimension coordinate `x` becomes an index coordinate `x` (0..n-1) plus the label variable `x_label`
    (an auxiliary coordinate, CF 6.1);
  - a boolean variable becomes int8 flags 0/1 with `flag_meanings` (CF 3.5);
  - a name with other characters is spelled with '_' and keeps its config name in `attndyn_name`;
  - every dimension gets a coordinate variable with a long_name (the study's `meta.DIMS`, or the index 0..n-1);
  - per-step variables name in `comment` and `ancillary_variables` what a NaN means (diverged or not run so far).
Global attributes: Conventions, title, source, history, references (the paper's arXiv id), comment.
"""
from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import xarray as xr

from .history import history

CONVENTIONS = "CF-1.8"                    # the newest version the cfchecker package checks
VALID_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
LABEL = "_label"
FLAGS = np.array([0, 1], dtype=np.int8)
STEP_COMMENT = ("NaN after a run's diverged_step (diverged = 1), or after the final_step of its cell where cells "
                "of this file ran different numbers of steps")


def global_attrs(attrs: dict, meta, study: str, title: str) -> dict:
    """CF global attributes in front of the pipeline's own (provenance, config, ...)."""
    source = (f"attndyn {attrs.get('attndyn_version', '?')} (git {attrs.get('git_commit', 'unknown')}), "
              f"torch {attrs.get('torch_version', '?')}, device {attrs.get('device', '?')}, "
              f"dtype {attrs.get('dtype', '?')}")
    cf = {"Conventions": CONVENTIONS, "title": f"attndyn {study}: {title}", "source": source,
          "history": history(), "references": f"{meta.AUTHORS}, {meta.TITLE}, arXiv:{meta.ARXIV}, "
                                              f"https://arxiv.org/abs/{meta.ARXIV}",
          "comment": "read with attndyn.results.read_netcdf to get string labels back as dimension coordinates "
                     "and flags as booleans"}
    return {**cf, **{k: v for k, v in attrs.items() if k not in cf}}


def _index_missing(ds: xr.Dataset, dims: dict) -> xr.Dataset:
    """A coordinate variable for every dimension without one: the study's declared values, else 0..n-1."""
    for dim, size in ds.sizes.items():
        if dim in ds.coords:
            continue
        spec = dims.get(dim)
        values = np.asarray(spec.values) if spec is not None and spec.values is not None else np.arange(size)
        if len(values) != size:
            raise ValueError(f"dimension {dim!r} has {size} entries but its declared values are {list(values)}")
        long_name = spec.long_name if spec is not None else f"index along {dim}"
        ds = ds.assign_coords({dim: (dim, values, {"long_name": long_name,
                                                   "units": spec.units if spec is not None else "1"})})
    return ds


def _describe(ds: xr.Dataset, dims: dict, describe: Callable[[str], str]) -> xr.Dataset:
    """long_name (and units "1" on numbers) for every coordinate that lacks them."""
    for name, coord in ds.coords.items():
        if "long_name" not in coord.attrs:
            coord.attrs["long_name"] = dims[name].long_name if name in dims else describe(str(name))
        if coord.dtype.kind in "iuf" and "units" not in coord.attrs:
            coord.attrs["units"] = "1"
    return ds


def _sorted(ds: xr.Dataset) -> xr.Dataset:
    """Numeric dimension coordinates strictly monotonic (CF 5.1), sorting the data with them if needed."""
    for dim in ds.dims:
        if dim in ds.coords and ds[dim].dtype.kind in "iuf" and ds.sizes[dim] > 1:
            step = np.diff(ds[dim].values)
            if not (np.all(step > 0) or np.all(step < 0)):
                ds = ds.sortby(dim)
    return ds


def _labels(ds: xr.Dataset) -> xr.Dataset:
    """String dimension coordinates -> index coordinate + label auxiliary coordinate (CF 6.1)."""
    for dim in list(ds.dims):
        if dim not in ds.coords or ds[dim].dtype.kind not in "OUS":
            continue
        label = f"{dim}{LABEL}"
        attrs = dict(ds[dim].attrs)
        values = ds[dim].values.astype(str).astype(object)
        ds = ds.drop_vars(dim).assign_coords(
            {dim: (dim, np.arange(ds.sizes[dim]), {"long_name": f"index of {attrs.get('long_name', dim)} "
                                                                 f"(its label: {label})", "units": "1",
                                                   "attndyn_labels": label}),
             label: (dim, values, attrs)})
    return ds


def _flags(ds: xr.Dataset) -> xr.Dataset:
    """Booleans -> int8 flags 0/1 with flag_values and flag_meanings (the variable's own, else 'false true')."""
    for name in [n for n, v in ds.variables.items() if v.dtype == bool]:
        var = ds[name].variable
        flags = var.astype(np.int8)
        flags.attrs = {**var.attrs, "flag_values": FLAGS, "flag_meanings": var.attrs.get("flag_meanings", "false true"),
                       "units": "1"}                               # the checker wants units on a coordinate
        ds = ds.assign_coords({name: flags}) if name in ds.coords else ds.assign({name: flags})
    return ds


def _step_comments(ds: xr.Dataset) -> xr.Dataset:
    """Per-step variables: what a NaN means and which variables tell (CF ancillary_variables)."""
    ancillary = " ".join(n for n in ("diverged", "diverged_step", "final_step") if n in ds.variables)
    for _name, var in ds.data_vars.items():
        if "step" in var.dims and var.dtype.kind == "f":
            var.attrs["comment"] = STEP_COMMENT
            if ancillary:
                var.attrs["ancillary_variables"] = ancillary
    return ds


def _valid_names(ds: xr.Dataset) -> xr.Dataset:
    """Names of letters, digits and '_' (CF 2.3); the config name is kept in `attndyn_name`."""
    rename = {}
    for name in [*ds.variables, *ds.dims]:
        if not VALID_NAME.match(str(name)) and name not in rename:
            new = re.sub(r"[^A-Za-z0-9_]", "_", str(name))
            new = new if new[0].isalpha() else f"v_{new}"
            if new in ds.variables or new in ds.dims:
                raise ValueError(f"cannot give {name!r} a CF name: {new!r} is taken")
            rename[name] = new
    for old in rename:
        if old in ds.variables:
            ds[old].attrs["attndyn_name"] = str(old)
    return ds.rename(rename) if rename else ds


def _char_strings(ds: xr.Dataset) -> xr.Dataset:
    """Text variables as char arrays (CF 2.2: the classic types; variable-length strings are not CF-1.8)."""
    for var in ds.variables.values():
        if var.dtype.kind in "OUS":
            var.encoding["dtype"] = "S1"
    return ds


def encode(ds: xr.Dataset, meta, study: str, title: str, describe: Callable[[str], str]) -> xr.Dataset:
    """The CF form of a pipeline dataset (a copy); `meta`: the study's meta module; `describe(key)`: a sweep key's
    long_name."""
    ds = ds.copy()
    for var in ds.variables.values():
        var.attrs = dict(var.attrs)
    ds = _index_missing(_sorted(ds), meta.DIMS)
    ds = _labels(_describe(ds, meta.DIMS, describe))
    ds = _char_strings(_valid_names(_step_comments(_flags(ds))))
    ds.attrs = global_attrs(dict(ds.attrs), meta, study, title)
    return ds


def decode(ds: xr.Dataset) -> xr.Dataset:
    """The in-memory form of a file `encode` wrote (files without CF markers pass through unchanged)."""
    rename = {name: var.attrs["attndyn_name"] for name, var in ds.variables.items() if "attndyn_name" in var.attrs}
    for name, var in list(ds.variables.items()):
        flags = var.attrs.get("flag_values")
        if flags is not None and np.array_equal(np.asarray(flags), FLAGS) and var.dtype.kind in "iu":
            converted = var.astype(bool)
            converted.attrs = {k: v for k, v in var.attrs.items() if k != "flag_values"}
            ds = ds.assign_coords({name: converted}) if name in ds.coords else ds.assign({name: converted})
    for dim in list(ds.dims):
        label = ds[dim].attrs.get("attndyn_labels") if dim in ds.coords else None
        if label in ds.variables:
            ds = ds.assign_coords({dim: (dim, ds[label].values.astype(object), ds[label].attrs)}).drop_vars(label)
    return ds.rename({k: v for k, v in rename.items() if k in ds.variables or k in ds.dims})
