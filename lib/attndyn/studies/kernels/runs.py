"""What every trainer of the study shares: input tensors, stacking per-part datasets (kernels, D, sigma_Q) into one
cell dataset, and the members of a batched cell (an experiment's `batch` keys: several sweep points in one job)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import torch

from ...batching import Batch, stacked_cells
from ...settings import canonical_json
from .settings import KernelOptions

if TYPE_CHECKING:
    import xarray as xr

SPEC_KERNEL = KernelOptions(False, None)           # the options a Softmax run ignores


def tensors(data: dict, keys, ctx, suffix: str = "") -> dict:
    """Arrays `key + suffix` of a data file as tensors in the job's dtype and device."""
    return {k: torch.as_tensor(data[k + suffix], dtype=ctx.dtype, device=ctx.device) for k in keys}


def stack(parts: list[xr.Dataset], dim) -> xr.Dataset:
    """Concatenate part datasets along a new dimension (a name or a coordinate DataArray); the scalar
    `final_step` is every part's, kept once."""
    import xarray as xr                                              # after training: ~0.4 s of start-up
    ds = xr.concat(parts, dim=dim, data_vars="all", coords="minimal", compat="override", combine_attrs="override")
    name = dim if isinstance(dim, str) else dim.name
    ds["final_step"] = ds["final_step"].isel({name: 0}, drop=True)
    return ds


@dataclass(frozen=True)
class Member:
    """One sweep point of a cell: its cell settings, its data file (name and arrays), its batched values."""
    settings: Any
    dataset: str
    data: dict
    point: tuple


def members(cell, data: dict) -> list[Member]:
    """A batched cell's members (data: file name -> arrays), or a plain cell as its only member."""
    if isinstance(cell.settings, Batch):
        b = cell.settings
        return [Member(s, name, data[name], p) for s, name, p in zip(b.members, b.datasets, b.points)]
    return [Member(cell.settings, cell.dataset, data, ())]


def unique_members(group: list[Member], kernel: str) -> tuple[list[Member], list[int]]:
    """The members that train differently under `kernel`, and each member's index among them: the Softmax kernel
    ignores the Gaussian options, so Softmax members that differ only in those are trained once."""
    keys: dict[tuple, int] = {}
    index = []
    for m in group:
        s = replace(m.settings, attention=SPEC_KERNEL) if kernel == "softmax" else m.settings
        index.append(keys.setdefault((m.dataset, canonical_json(s)), len(keys)))
    first = {i: m for m, i in zip(reversed(group), reversed(index))}
    return [first[i] for i in range(len(keys))], index


def finish(cell, parts: list[xr.Dataset], seconds: float) -> xr.Dataset:
    """The cell's dataset: a plain cell's only part, or the members' parts on the batched axes; `seconds`: the
    job's training time (every training it ran, each once)."""
    ds = stacked_cells(parts, cell.settings).assign_coords(cell.coords) if isinstance(cell.settings, Batch) \
        else parts[0]
    ds.attrs["wall_time_s"] = float(seconds)
    return ds
