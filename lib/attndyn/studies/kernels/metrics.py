"""Per-run summaries shared by figures and claims (spec Sec. 8): relative losses, success/stall, AUC, roughness,
and the per-optimizer view of an experiment."""
from __future__ import annotations

import numpy as np
import xarray as xr

from ...criteria import quadratic_residual
from ...results import final


def relative_final_loss(ds: xr.Dataset) -> xr.DataArray:
    """final / initial training loss per run."""
    return final(ds, "train_loss") / ds["train_loss"].isel(step=0)


def grad_ratio(ds: xr.Dataset) -> xr.DataArray:
    """final / initial gradient norm per run."""
    return final(ds, "grad_norm") / ds["grad_norm"].isel(step=0)


def s2_outcomes(ds: xr.Dataset, success_rel_loss: float, grad_ratio_max: float) -> dict:
    """S2 per (sigma_Q, kernel): success fraction, stall fraction (failed with a small gradient)."""
    rel, gr = relative_final_loss(ds), grad_ratio(ds)
    success = rel < success_rel_loss
    stall = (~success) & (gr <= grad_ratio_max)
    return {"success": success.mean("seed"), "stall": stall.mean("seed"),
            "failed": (~success).sum("seed"), "stalled": stall.sum("seed")}


def accuracy_auc(ds: xr.Dataset, per_seed: bool = False) -> xr.DataArray:
    """Area under the test-accuracy curve normalized by the step span (mean accuracy over time): of the
    seed-mean curve, or of every seed's own curve (`per_seed`, keeping the seed dim)."""
    acc = ds["test_acc"] if per_seed else ds["test_acc"].mean("seed")
    steps = ds["step"].values.astype(float)
    return xr.apply_ufunc(lambda a: np.trapezoid(a, steps) / (steps[-1] - steps[0]), acc,
                          input_core_dims=[["step"]], vectorize=True)


def steps_to_accuracy(ds: xr.Dataset, threshold: float) -> xr.DataArray:
    """First logged step at which a run's test accuracy exceeds `threshold` (NaN if never): (..., seed)."""
    above = ds["test_acc"] > threshold
    first = ds["step"].where(above).min("step")
    return first.where(above.any("step"))


def slice_roughness(grid: np.ndarray, coords: np.ndarray) -> np.ndarray:
    """Roughness of loss slices (..., G, G) (spec C6): RMS residual after the best quadratic in (a, b), divided
    by the slice's loss range (criteria.quadratic_residual): 0 for any quadratic bowl whatever its curvature,
    growing with ripples. (The earlier mean |discrete Laplacian| / range is 2 h^2 for any centred bowl: it scored
    the window's shape, not roughness.)"""
    return quadratic_residual(grid, coords)


def by_optimizer(ds: xr.Dataset, order=()) -> list[tuple[str | None, xr.Dataset]]:
    """(optimizer, its data) for each value of the `optimizer` axis, those named in `order` first in that order
    (the experiment's list; stacking sorts the axis); [(None, ds)] when the data has no such axis."""
    if "optimizer" not in ds.dims:
        return [(None, ds)]
    present = [str(o) for o in ds["optimizer"].values]
    names = [o for o in order if o in present] + [o for o in present if o not in order]
    return [(name, ds.sel(optimizer=name)) for name in names]
