"""Claim-map statistics of the multihead study (attndyn.maps.Statistic); the spec predicts no boundary to draw.

- heads_slower (C1) / heads_faster (C2): per trial, the loss at the claim's time(s) at H heads divided by the same
  trial's loss at the map experiment's `reference_heads` (1: a single head) under the same optimizer settings;
  C1 holds where it is >= 1 (more heads slower), C2 where it is <= 1 (faster). The worst case over the claim's
  losses (train and test) and times is the statistic, so a point passes only where the claim's row would read
  the same direction at every listed time. The threshold 1 is the claim's direction itself (the rows have no
  level to compare with, so no `checks` key); their paired margin of `order_margin_se` standard errors across
  trials has no per-trial form: the map shows the seeds' agreement k/S instead.
- late_slope (C3): per trial, the local log-log slope of the train loss over time, a least-squares fit over the
  trailing decade [t / 10, t] of logged steps (t >= 10); at the run's end it is the C3 row's own slope (the last
  decade), judged against checks.C3_slope_max. Drawn against eta t / H, the attention weights' own time: under
  zero init H heads at step eta are one head whose W moves with step eta / H and whose U' = sqrt(H) U moves with
  eta (spec Sec. 1.1).
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ...claims import loglog_slope
from ...errors import ConfigError
from ...maps import Statistic
from ...results import at
from .claims import MUST, SPEC

LOSSES = ("train_loss", "test_loss")


def reference_heads(ds: xr.Dataset, settings) -> int:
    """The head count the map's experiment trains beside its heads axis (experiments' `reference_heads`)."""
    experiment = settings.experiments.get(ds.attrs.get("experiment", ""))
    ref = getattr(experiment, "reference_heads", None)
    if ref is None or ref not in ds.heads.values:
        raise ConfigError(f"config error: multihead map of {ds.attrs.get('experiment')!r}: a statistic relative to a "
                          "reference head count needs `fixed: {reference_heads: <H>}` in the map (H off its axis)")
    return int(ref)


def _sub(ds: xr.Dataset, point: dict) -> xr.Dataset:
    """The map's dataset at a grid point's other axes (every H kept)."""
    return ds.sel({k: v for k, v in point.items() if k != "heads"})


def loss_ratios(ds: xr.Dataset, point: dict, settings, times) -> xr.DataArray:
    """L(H, t) / L(reference H, t) per trial: (loss, time, [optimizer,] seed)."""
    sub, ref = _sub(ds, point), reference_heads(ds, settings)
    rows = [xr.concat([at(sub, v, t).sel(heads=point["heads"]) / at(sub, v, t).sel(heads=ref) for t in times],
                      "time") for v in LOSSES]
    return xr.concat(rows, "loss")


def heads_slower(ds: xr.Dataset, point: dict, settings) -> xr.DataArray:
    """C1: min over the train and test loss and checks.C1_times of L(H) / L(reference) under GD (>= 1: slower)."""
    ratios = loss_ratios(ds.sel(optimizer="gd"), point, settings, settings.checks.C1_times)
    return ratios.min(("loss", "time"), skipna=False)


def heads_faster(ds: xr.Dataset, point: dict, settings) -> xr.DataArray:
    """C2: max over the train and test loss (and every optimizer of the map) of L(H) / L(reference) at
    checks.C2_C6_time (<= 1: faster)."""
    ratios = loss_ratios(ds, point, settings, [settings.checks.C2_C6_time])
    reduce = [d for d in ("loss", "time", "optimizer") if d in ratios.dims]
    return ratios.max(reduce, skipna=False)


def trailing_slopes(steps: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """Local log-log slope at every logged step t >= 10: the fit over the logged steps in [t / 10, t] (NaN before,
    and where fewer than 3 finite points lie in the window)."""
    out = np.full(len(steps), np.nan)
    for i, t in enumerate(steps):
        window = (steps >= t / 10) & (steps <= t) & np.isfinite(loss) & (loss > 0)
        if t >= 10 and window.sum() >= 3:
            out[i] = loglog_slope(steps[window], loss[window])[0]
    return out


def late_slope(ds: xr.Dataset, point: dict, settings) -> xr.DataArray:
    """C3 as a curve: the train loss's trailing-decade log-log slope (seed, step) under GD, up to the run's end."""
    sub = ds.sel(point).sel(optimizer="gd")
    sub = sub.sel(step=sub.step <= int(sub.final_step.max()))
    loss = sub.train_loss.transpose("seed", "step")
    values = np.stack([trailing_slopes(sub.step.values, row) for row in loss.values])
    return xr.DataArray(values, dims=("seed", "step"), coords={"seed": loss.seed, "step": loss.step})


def eta_t_over_heads(point: dict, steps: np.ndarray) -> np.ndarray:
    """x = eta t / H (GD with a constant step eta = the point's optimizer.lr)."""
    if "optimizer.lr" not in point or "heads" not in point:
        raise ConfigError("config error: multihead map late_slope draws against eta t / H: its axes must be heads "
                          "and optimizer.lr")
    return float(point["optimizer.lr"]) * np.asarray(steps, float) / float(point["heads"])


ORDER_NOTE = ("; per trial against the map experiment's reference_heads with the same optimizer settings (the "
              "claim row's paired margin of checks.order_margin_se standard errors: read it off the seeds' agreement "
              "k/S)")
STATISTICS = {
    "heads_slower": Statistic(
        claim="C1 DM1 GD constant eta: more heads => slower (loss at H / at reference H)",
        compute=heads_slower, direction=">=", threshold=lambda s: 1.0, log=True, needs=("gd",),
        source=f"{MUST} 1: 'DM1, GD with constant eta = 1: more heads H => slower convergence (train/test loss at a "
               f"fixed iteration rise with H)'; Sec. 7 C1 at checks.C1_times{ORDER_NOTE}"),
    "heads_faster": Statistic(
        claim="C2 DM1 GD eta ~ sqrt(H) and Adam: more heads => faster (loss at H / at reference H)",
        compute=heads_faster, direction="<=", threshold=lambda s: 1.0, log=True,
        source=f"{MUST} 3: 'DM1, GD with eta ~ sqrt(H) and Adam with constant step: more heads => faster train and "
               f"test loss convergence'; Sec. 7 C2 at checks.C2_C6_time{ORDER_NOTE}"),
    "late_slope": Statistic(
        claim="C3 late-phase O(1/t): local log-log slope",
        compute=late_slope, direction="<=", threshold=lambda s: s.checks.C3_slope_max, needs=("gd",),
        x=eta_t_over_heads, x_label="eta t / H (W's own time: W moves with step eta / H)",
        source=f"{MUST} 2: 'Late-phase losses follow an O(1/t) trend (log-log slope ~ -1), as the bounds "
               f"predict'; slope over the trailing decade [t / 10, t], at the run's end the C3 row's last-decade "
               f"slope ({SPEC} Sec. 7 C3). Curves: seed mean against x = eta t / H (colour: the first axis, line "
               f"style: the second; dotted: the criterion). Under zero init, H heads at step eta are one head whose W "
               f"moves with step eta / H and whose U' = sqrt(H) U moves with eta (Sec. 1.1): curves that coincide in x "
               f"are paced by W"),
}
BOUNDARIES: dict = {}
