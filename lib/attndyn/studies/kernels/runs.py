"""What every trainer of the study shares: input tensors, and stacking per-part datasets (kernels, D, sigma_Q)
into one cell dataset."""
from __future__ import annotations

import torch
import xarray as xr



def tensors(data: dict, keys, ctx, suffix: str = "") -> dict:
    """Arrays `key + suffix` of a data file as tensors in the job's dtype and device."""
    return {k: torch.as_tensor(data[k + suffix], dtype=ctx.dtype, device=ctx.device) for k in keys}


def stack(parts: list[xr.Dataset], dim) -> xr.Dataset:
    """Concatenate part datasets along a new dimension (a name or a coordinate DataArray); the scalar
    `final_step` is every part's, kept once."""
    ds = xr.concat(parts, dim=dim, data_vars="all", coords="minimal", compat="override", combine_attrs="override")
    name = dim if isinstance(dim, str) else dim.name
    ds["final_step"] = ds["final_step"].isel({name: 0}, drop=True)
    return ds
