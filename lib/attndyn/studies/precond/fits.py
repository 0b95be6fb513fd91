"""C3's rate models (torch-free): a geometric decay a rho^t + F against power laws a t^-k + F, each with a free floor.

Both are fitted on the same window by least squares in log10 E (a, F > 0; rho or k free within bounds, several
starts) and scored by that residual sum of squares. The rho grid reaches past 1, so a curve that does not fall
gets rho >= 1 (or no decaying term at all) and "rho < 1" can fail; a curve that falls like 1/t is fitted better by
the power law, so "geometric" can fail too.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy.optimize import least_squares

RHO_RANGE, K_RANGE = (0.01, 1.2), (0.01, 8.0)       # the geometric rate may reach past 1, k covers 1/t^8 .. flat
STARTS = (0.3, 0.6, 0.8, 0.9, 0.97, 0.995, 1.05)    # initial rho; k starts at -log10(rho) * 10


@dataclass(frozen=True)
class FloorFit:
    rho: float                 # geometric rate (nan if the best geometric fit has no decaying term, a = 0)
    r2: float                  # R^2 of log10 E under the geometric fit
    rss_geometric: float
    power_k: float
    rss_power: float
    points: int

    @property
    def geometric_wins(self) -> bool:
        return bool(self.rss_geometric < self.rss_power)

    def holds(self, r2_min: float) -> bool:
        """Geometric with rho < 1, R^2 >= r2_min, and better than every power law."""
        return bool(self.rho < 1 and self.r2 >= r2_min and self.geometric_wins)


def _log_model(t: np.ndarray, shape):
    """log10(a shape(t, p) + F) with theta = (log10 a, log10 F, p)."""
    return lambda theta: np.log10(10 ** theta[0] * shape(t, theta[2]) + 10 ** theta[1])


def _best_fit(t: np.ndarray, values: np.ndarray, shape, bounds: tuple[float, float], starts) -> tuple[float, float,
                                                                                                        float]:
    """(p, RSS of log10 E, a) of the best a shape(t, p) + F (a, F > 0) by least squares in log10 E from several
    starts; a at its lower bound means no decaying term."""
    log_e = np.log10(values)
    model = _log_model(t, shape)
    low = float(log_e.min()) - 12                                    # a, F down to 1e-12 of the smallest value
    best = (float("nan"), float("inf"), 0.0)
    for p0 in starts:
        theta0 = np.clip([log_e.max(), log_e.min() - 0.5, p0], [low, low, bounds[0]], [low + 40, low + 40, bounds[1]])
        fit = least_squares(lambda th: model(th) - log_e, theta0, bounds=([low, low, bounds[0]],
                                                                         [low + 40, low + 40, bounds[1]]))
        rss = float(np.sum(fit.fun ** 2))
        if rss < best[1]:
            best = (float(fit.x[2]), rss, 0.0 if fit.x[0] <= low + 1e-6 else float(10 ** fit.x[0]))
    return best


def floor_fit(t: np.ndarray, values: np.ndarray) -> FloorFit:
    """Fit both models to (t, E) over the points with t > 0 and finite E > 0."""
    t, values = np.asarray(t, float), np.asarray(values, float)
    keep = (t > 0) & np.isfinite(values) & (values > 0)
    t, values = t[keep], values[keep]
    if len(t) < 4:
        return FloorFit(float("nan"), float("nan"), float("nan"), float("nan"), float("nan"), len(t))
    scale = t[0]                                      # rho^(t - t0): the same model, better conditioned
    rho, rss_g, a = _best_fit(t, values, lambda x, r: r ** (x - scale), RHO_RANGE, STARTS)
    k, rss_p, _ = _best_fit(t, values, lambda x, k: (x / scale) ** -k, K_RANGE, [-10 * np.log10(r) for r in STARTS
                                                                                 if r < 1])
    log_e = np.log10(values)
    total = float(np.sum((log_e - log_e.mean()) ** 2))
    r2 = 1 - rss_g / total if total > 0 else float("nan")
    return FloorFit(rho if a > 0 else float("nan"), r2, rss_g, k, rss_p, len(t))


def pre_plateau_window(E: xr.DataArray, burn_in: int, floor_factor: float) -> tuple[int, int]:
    """The pre-plateau phase of one curve (dim step), by a rule fixed before looking at any fit
    (checks.C3_burn_in, C3_floor_factor): stop = first logged step with E(t) <= floor_factor x E(T_final)
    (E(T_final) stands for the floor F); start = the first logged step s >= burn_in from which E is non-increasing
    up to stop (this skips the transient rise/hold right after the N(0, 1) start; the geometric phase begins at
    the peak)."""
    E = E.dropna("step")
    steps, values = E.step.values, E.values
    if len(values) == 0:                                      # a diverged run: no window
        return 0, 0
    below = np.nonzero(values <= floor_factor * values[-1])[0]
    i_stop = int(below[0]) if len(below) else len(values) - 1
    i_start = i_stop
    while i_start > 0 and steps[i_start - 1] >= burn_in and values[i_start - 1] >= values[i_start]:
        i_start -= 1
    return int(steps[i_start]), int(steps[i_stop])


def window_fit(E: xr.DataArray, burn_in: int, floor_factor: float) -> tuple[FloorFit, tuple[int, int]]:
    """floor_fit of one curve on its pre-plateau window."""
    start, stop = pre_plateau_window(E, burn_in, floor_factor)
    part = E.dropna("step").sel(step=slice(start, stop))
    return floor_fit(part.step.values, part.values), (start, stop)
