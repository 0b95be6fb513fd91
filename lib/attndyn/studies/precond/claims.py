"""Claims of Goel et al. (2026) checked by numbers (spec Sec. 10; thresholds are config keys `checks`)."""
from __future__ import annotations

import numpy as np
import xarray as xr

from ...claims import Claim, fmt, linear_fit, loglog_slope
from ...results import at, final


def c1_c2_ratio(ds: xr.Dataset, c: dict, method: str, tag: str, what: str) -> Claim:
    T = c["C1_C2_time"]
    alg = float(at(ds, "E_inf", T).sel(optimizer=method).mean())
    sgd = float(at(ds, "E_inf", T).sel(optimizer="sgd").mean())
    ratio = alg / sgd
    return Claim(f"{tag} {what}", f"mean E_inf of Algorithm 1 at t={T} <= {c['C1_C2_ratio_max']:g} x SGD's",
                 f"Algorithm 1 {fmt(alg)}; SGD {fmt(sgd)}; ratio {fmt(ratio)}", ratio <= c["C1_C2_ratio_max"])


def geometric_fit(E: xr.DataArray) -> tuple[float, float, int]:
    """Fit E(t) ~ a rho^t + F on the pre-plateau phase (E - F > F), F = final value. -> (rho, R^2, points)."""
    E = E.dropna("step")
    values, steps = E.values, E.step.values
    F = values[-1]
    end = np.flatnonzero(values - F <= F)
    stop = end[0] if len(end) else len(values)
    slope, _, r2 = linear_fit(steps[:stop], np.log10(values[:stop] - F))
    return 10 ** slope, r2, int(stop)


def _seed_geomean(E: xr.DataArray) -> xr.DataArray:
    return 10 ** np.log10(E).mean("seed")


def c3_geometric(experiments: dict, c: dict) -> Claim:
    fits = {}
    if "compare" in experiments:
        fits["Fig. 2 run"] = geometric_fit(_seed_geomean(experiments["compare"].E_inf.sel(optimizer="alg_random")))
    if "scaling" in experiments:
        ds = experiments["scaling"]
        fits.update({f"S1 n={n}": geometric_fit(_seed_geomean(ds.E_inf.sel(n=n))) for n in ds.n.values})
    ok = all(rho < 1 and r2 >= c["C3_r2_min"] for rho, r2, _ in fits.values())
    measured = "; ".join(f"{k}: rho {fmt(rho)}, R^2 {fmt(r2)} ({m} pts)" for k, (rho, r2, m) in fits.items())
    return Claim("C3 Algorithm 1 converges geometrically (from N(0,1) init) to a floor",
                 f"fit E(t) ~ a rho^t + F on the pre-plateau phase: rho < 1, R^2 >= {c['C3_r2_min']:g}",
                 measured, ok)


def _slope_with_seeds(values: xr.DataArray) -> tuple[float, float, float]:
    """Log-log slope vs n of the seed geometric mean, and the min/max of per-seed slopes."""
    ns = values.n.values
    mean = 10 ** np.log10(values).mean("seed")
    per_seed = [loglog_slope(ns, values.isel(seed=i).values)[0] for i in range(values.sizes["seed"])]
    return loglog_slope(ns, mean.values)[0], min(per_seed), max(per_seed)


def c4_floor(ds: xr.Dataset, c: dict) -> Claim:
    lo, hi = c["slope_range"]
    slope, s_min, s_max = _slope_with_seeds(final(ds, "E_inf"))
    return Claim("C4 error floor of Algorithm 1 falls like 1/n (Theorem 2)",
                 f"log-log slope of final E_inf vs n in [{lo:g}, {hi:g}]",
                 f"slope {fmt(slope)} (per-seed range {fmt(s_min)} .. {fmt(s_max)})", lo <= slope <= hi)


def c6_spectral(ds: xr.Dataset, c: dict) -> Claim:
    slope, s_min, s_max = _slope_with_seeds(ds.E_inf_spectral_init.isel(step=0))
    return Claim("C6 spectral init lands near the global-minimum manifold",
                 f"log-log slope of E_inf at the spectral init vs n <= {c['C6_slope_max']:g}",
                 f"slope {fmt(slope)} (per-seed range {fmt(s_min)} .. {fmt(s_max)})", slope <= c["C6_slope_max"])


def c7_bounded(ds: xr.Dataset, c: dict) -> Claim:
    growth = {}
    for method in ("alg_spectral", "alg_random"):
        B = ds.B_op.sel(optimizer=method).dropna("step", how="all")
        growth[method] = (float((B.max("step") / B.isel(step=0)).max()), float(B.max()))
    ok = all(g <= c["C7_B_growth_max"] for g, _ in growth.values())
    measured = "; ".join(f"{m}: max_t ||B_t||/||B_0|| {fmt(g)}, max ||B||_op {fmt(b)}" for m, (g, b) in growth.items())
    return Claim("C7 renormalization keeps the parameters bounded",
                 f"max_t ||B_t||_op <= {c['C7_B_growth_max']:g} x ||B_0||_op in every seed, both inits", measured, ok)


def claims(experiments: dict[str, xr.Dataset], section: dict) -> list[Claim]:
    c = section["checks"]
    out = []
    if "compare" in experiments:
        ds = experiments["compare"]
        out += [c1_c2_ratio(ds, c, "alg_spectral", "C1", "Fig. 1: Algorithm 1 (spectral init) << SGD (N(0,1) init)"),
                c1_c2_ratio(ds, c, "alg_random", "C2", "Fig. 2: from the same N(0,1) point Algorithm 1 still wins")]
    out.append(c3_geometric(experiments, c))
    if "scaling" in experiments:
        out += [c4_floor(experiments["scaling"], c), c6_spectral(experiments["scaling"], c)]
    if "compare" in experiments:
        out.append(c7_bounded(experiments["compare"], c))
    return out
