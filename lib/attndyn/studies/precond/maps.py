"""Claim-map statistics of this study (attndyn.maps.Statistic): the claims' own numbers per grid point and seed.

A statistic reads the map's aggregated experiment (its `experiment` attribute names it, so the statistic can
resolve that experiment's data and optimizers at a grid point). No boundary: the spec predicts none for these
maps (Theorem 2's constants and its n requirement are unknown, spec Sec. 8).
  floor_local_slope (C4): the local log-log slope of Algorithm 1's final E_inf vs n at one d, judged by its
    distance from the middle of checks.slope_range (inside the range <=> distance <= its half-width).
  c1_ratio / c2_ratio (C1, C2): Algorithm 1's E_inf at checks.C1_C2_time over that of the better of SGD at its
    best rate of the baseline_lr sweep (at matched compute) and the trivial predictor A = B = 0.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr

from ...maps import Statistic
from ...results import at, final
from .data import trivial_error
from .settings import BASELINE_LR, FIG1, FIG2, Data, Settings, dataset_for, matched_step
from .tuning import tune, tuned_runs

SPEC = "docs/papers/precond.md"


def _experiment(ds: xr.Dataset, settings: Settings):
    return settings.experiments[ds.attrs["experiment"]]


def _one_optimizer(ds: xr.Dataset, name: str) -> xr.Dataset:
    return ds.sel(optimizer=name, drop=True) if "optimizer" in ds.dims else ds


# ---- C4 over n x d ---------------------------------------------------------------------------------------------

def local_slopes(ds: xr.Dataset, point: dict, settings: Settings) -> xr.DataArray:
    """Per seed: the log-log slope of the final E_inf vs n by least squares over the point's n and its neighbours
    on the grid (the other axes fixed); NaN for a seed that diverged or is not at its floor (C4's rule:
    E(T/2)/E(T) <= checks.C4_converged_max) at any of those n."""
    runs = _one_optimizer(ds.sel({k: v for k, v in point.items() if k != "n"}),
                          _experiment(ds, settings).optimizers[0])
    ns = list(runs.n.values)
    i = ns.index(point["n"])
    window = runs.sel(n=ns[max(i - 1, 0):i + 2])
    last = final(window, "E_inf")                                              # (n, seed)
    T = int(window.final_step.max())
    ratio = window.E_inf.sel(step=T // 2, method="nearest", drop=True) / last
    usable = (ratio <= settings.checks.C4_converged_max).all("n") & np.isfinite(last).all("n")
    log_n = np.log10(window.n.values.astype(float))
    slopes = [np.polyfit(log_n, np.log10(last.isel(seed=j).values), 1)[0] if bool(usable[j]) else np.nan
              for j in range(last.sizes["seed"])]                           # two points at the grid's ends
    return xr.DataArray(slopes, coords={"seed": last.seed.values}, dims="seed")


def floor_local_slope(ds: xr.Dataset, point: dict, settings: Settings) -> xr.DataArray:
    """|local slope - middle of checks.slope_range| per seed (C4 holds locally where it is <= the half-width)."""
    lo, hi = settings.checks.slope_range
    return abs(local_slopes(ds, point, settings) - (lo + hi) / 2)


# ---- C1, C2 over cond(Sigma) -----------------------------------------------------------------------------------

def _trivial(settings: Settings, experiment, point: dict) -> xr.DataArray:
    """Per seed: E_inf of A = B = 0 on the point's data (its Sigma, M)."""
    data = dataset_for(settings, experiment, {k: v for k, v in point.items() if k in _data_keys()})
    values = [trivial_error(data.params, inst) for inst, _ in data.runs()]
    return xr.DataArray(values, coords={"seed": list(data.seeds)}, dims="seed")


def _data_keys() -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(Data))


def baseline_step(settings: Settings, experiment, alg: str, baseline: str, point: dict) -> int:
    """The baseline's step matched in compute to Algorithm 1 `alg` at checks.C1_C2_time on the point's data."""
    n = dataset_for(settings, experiment, {k: v for k, v in point.items() if k in _data_keys()}).params.n
    per_step = [settings.optimizer(experiment.name, name)[0].batch_size or n for name in (alg, baseline)]
    return matched_step(settings.checks.C1_C2_time, *per_step)


def ratio_to_tuned(ds: xr.Dataset, point: dict, settings: Settings, alg: str) -> xr.DataArray:
    """Per seed: E_inf of Algorithm 1 `alg` at checks.C1_C2_time / min(E_inf of the baseline at its best rate of
    baseline_lr at matched compute, E_inf of the trivial predictor); NaN if no rate is stable in every seed."""
    experiment = _experiment(ds, settings)
    baseline = next(n for n in experiment.optimizers if settings.rule(n) != "algorithm1")
    sub = ds.sel(point)
    step = baseline_step(settings, experiment, alg, baseline, point)
    runs = sub.sel(optimizer=baseline, drop=True)
    tuned = tune(runs, step, BASELINE_LR)
    alg_error = at(sub.sel(optimizer=alg, drop=True).isel({BASELINE_LR: 0}, drop=True), "E_inf",
                   settings.checks.C1_C2_time)                                # Algorithm 1 ignores baseline_lr
    if not tuned.found:
        return alg_error * np.nan
    sgd = tuned_runs(runs, tuned, BASELINE_LR).E_inf.sel(step=step, drop=True)
    return alg_error / np.minimum(sgd, _trivial(settings, experiment, point))


C1_C2_SOURCE = (f"{SPEC} 'What the study must show' 2-3 (Figs. 1-2: Algorithm 1 converges much faster than SGD from "
                "N(0, 1), also from the same N(0, 1) point); Sec. 10 C1/C2: 'at t = 200, E_inf of Algorithm 1 <= 0.1 x "
                "SGD's'; Sec. 2.3: the ill-conditioned Sigma 'to show what the preconditioner buys'")
STATISTICS = {
    "floor_local_slope": Statistic(
        claim="C4 Algorithm 1's floor ~ 1/n: |local slope of log E_inf(T) vs log n + 1| (blank: diverged or no "
              "floor)",
        compute=floor_local_slope, direction="<=",
        threshold=lambda s: (s.checks.slope_range[1] - s.checks.slope_range[0]) / 2,
        source=f"{SPEC} 'What the study must show' 5: 'error <~ C1 rho^t + C2/n, so the floor scales as 1/n "
               "(log-log slope ~ -1)'; Sec. 10 C4: 'log-log slope of F(n) vs n in [-1.3, -0.7]' (local slope: least "
               "squares over n and its grid neighbours)"),
    "c1_ratio": Statistic(
        claim=f"C1 E_inf of Algorithm 1 ({FIG1[0]}) / min(tuned SGD from N(0,1), A=B=0)",
        compute=lambda ds, point, s: ratio_to_tuned(ds, point, s, FIG1[0]), direction="<=",
        threshold=lambda s: s.checks.C1_C2_ratio_max, log=True, source=C1_C2_SOURCE, needs=(FIG1[0],)),
    "c2_ratio": Statistic(
        claim=f"C2 E_inf of Algorithm 1 ({FIG2[0]}, same N(0,1) point) / min(tuned SGD, A=B=0)",
        compute=lambda ds, point, s: ratio_to_tuned(ds, point, s, FIG2[0]), direction="<=",
        threshold=lambda s: s.checks.C1_C2_ratio_max, log=True, source=C1_C2_SOURCE, needs=(FIG2[0],)),
}
BOUNDARIES: dict = {}
