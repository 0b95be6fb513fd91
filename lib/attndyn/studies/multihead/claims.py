"""Claims of Deora et al. checked by numbers (spec Sec. 7; thresholds are config keys `checks`).

Monotonicity in H is checked on trial means with ties within `tie_tolerance_std` standard deviations allowed.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr

from ...claims import Claim, fmt, loglog_slope
from ...results import at, final
from .settings import Checks, Settings


def monotone(mean: np.ndarray, std: np.ndarray, increasing: bool, tol: float) -> bool:
    """Consecutive H: next >= previous (increasing) or <= (decreasing), up to tol * max(std) ties."""
    step = np.diff(mean) if increasing else -np.diff(mean)
    slack = tol * np.maximum(std[1:], std[:-1])
    return bool(np.all(step >= -slack))


def by_heads(values: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std over trials, ordered by H: (H,), (H,)."""
    values = values.sortby("heads")
    return values.mean("seed").values, values.std("seed").values


def series(mean: np.ndarray) -> str:
    return "[" + ", ".join(fmt(m) for m in mean) + "]"


def loss_order(ds: xr.Dataset, opt: str, var: str, t: int, increasing: bool, tol: float) -> tuple[bool, str]:
    mean, std = by_heads(at(ds, var, t).sel(optimizer=opt))
    return monotone(mean, std, increasing, tol), f"{opt} {var} t={t}: {series(mean)}"


def heads_label(ds: xr.Dataset) -> str:
    return "H = " + ", ".join(str(int(h)) for h in sorted(ds.heads.values))


def c1_constant_step_slower(ds: xr.Dataset, c: Checks) -> Claim:
    checks = [loss_order(ds, "gd", "train_loss", t, True, c.tie_tolerance_std) for t in c.C1_times]
    return Claim("C1 DM1 GD constant eta: more heads => slower",
                 f"mean train loss increases in H ({heads_label(ds)}) at t = {list(c.C1_times)} (ties within "
                 f"{c.tie_tolerance_std:g} std)", "; ".join(m for _, m in checks), all(ok for ok, _ in checks))


def c2_scaled_step_faster(ds: xr.Dataset, c: Checks) -> Claim:
    t, tol = c.C2_C6_time, c.tie_tolerance_std
    checks = [loss_order(ds, o, v, t, False, tol) for o in ("gd_sqrtH", "adam") if o in ds.optimizer.values
              for v in ("train_loss", "test_loss")]
    return Claim("C2 DM1 GD eta ~ sqrt(H) and Adam: more heads => faster",
                 f"mean train and test loss decrease in H at t = {t} under both (ties within {tol:g} std)",
                 "; ".join(m for _, m in checks), bool(checks) and all(ok for ok, _ in checks))


def c3_one_over_t(ds: xr.Dataset, c: Checks) -> Claim:
    lo, hi = c.C3_slope_range
    loss = ds.train_loss.sel(optimizer="gd").mean("seed").sortby("heads")
    t_end = int(ds.final_step.sel(optimizer="gd").max())
    late = loss.sel(step=(loss.step >= t_end / 10) & (loss.step <= t_end))
    slopes = [loglog_slope(late.step.values, late.sel(heads=H).values)[0] for H in late.heads.values]
    return Claim("C3 DM1 GD constant eta: late-phase O(1/t)",
                 f"log-log slope of mean train loss over t in [{t_end // 10}, {t_end}] in [{lo:g}, {hi:g}] "
                 f"for every H ({heads_label(ds)})",
                 f"slopes {series(np.array(slopes))}", all(lo <= s <= hi for s in slopes))


def c4_generalization_gap(ds: xr.Dataset, c: Checks) -> Claim:
    gap = abs(final(ds, "test_loss") - final(ds, "train_loss")).mean("seed")       # (heads, optimizer)
    worst = gap.max()
    where = gap.where(gap == worst, drop=True)
    return Claim("C4 DM1 small generalization gap",
                 f"|test - train| loss < {c.C4_gap_max:g} at the final iteration, every H and optimizer (trial mean)",
                 f"max gap {fmt(float(worst))} (H={int(where.heads.values[0])}, {where.optimizer.values[0]})",
                 bool(worst < c.C4_gap_max))


def c5_attention_relevant(ds: xr.Dataset, zeta: float) -> Claim:
    score = final(ds, "attn_score").mean("seed")
    return Claim("C5 DM1 attention learns relevant tokens",
                 f"final attn-score > zeta = {zeta:g} for every H and optimizer (trial mean)",
                 f"min {fmt(float(score.min()))}, max {fmt(float(score.max()))}", bool((score > zeta).all()))


def c6_planted_faster(ds: xr.Dataset, c: Checks) -> Claim:
    t, tol = c.C2_C6_time, c.tie_tolerance_std
    checks = [loss_order(ds, str(o), "train_loss", t, False, tol) for o in ds.optimizer.values]
    return Claim("C6 planted: more heads => faster (GD sqrt(H), momentum sqrt(H), Adam)",
                 f"mean train loss decreases in H at t = {t} for every optimizer (ties within {tol:g} std)",
                 "; ".join(m for _, m in checks), all(ok for ok, _ in checks))


def first_defined(values: xr.DataArray) -> tuple[xr.DataArray, int]:
    """Trial-mean values at the first logged step k >= 1 where every run is defined (W is still 0 at k = 1
    under zero init, since dL/dW = 0 while U = 0)."""
    mean = values.mean("seed")
    for k in values.step.values[values.step.values >= 1]:
        if bool(np.isfinite(mean.sel(step=k)).all()):
            return mean.sel(step=k), int(k)
    return mean.isel(step=-1) * np.nan, -1


def c7_alignment_grows(ds: xr.Dataset) -> Claim:
    parts, ok = [], True
    for var in ("align_W", "align_U"):
        first, k = first_defined(ds[var])                                          # (heads, optimizer)
        last = final(ds, var).mean("seed")
        ok &= bool((last > first).all())
        parts.append(f"{var}: k={k} {fmt(float(first.min()))}..{fmt(float(first.max()))} -> final "
                     f"{fmt(float(last.min()))}..{fmt(float(last.max()))}; min rise {fmt(float((last - first).min()))}")
    return Claim("C7 planted: alignment with the planted head grows",
                 "final align_W and align_U exceed their values at the first iteration k >= 1 where they are "
                 "defined (k = 1 for U, k = 2 for W under zero init), every H and optimizer (trial mean)",
                 "; ".join(parts), ok)


def experiment_zeta(settings: Settings, name: str) -> float:
    """The relevant fraction zeta of a DM1 experiment: the study's data.dm1 with the experiment's `data`."""
    return dataclasses.replace(settings.data.dm1, **settings.experiments[name].data).zeta


def claims(experiments: dict[str, xr.Dataset], settings: Settings) -> list[Claim]:
    """C1-C5 read the `dm1` experiment, C6-C7 the `planted` one (optimizers by name); other experiments
    (e.g. dm1_optimizers) have no claim rows."""
    c, out = settings.checks, []
    if "dm1" in experiments:
        ds = experiments["dm1"]
        if "gd" in ds.optimizer.values:
            out += [c1_constant_step_slower(ds, c), c3_one_over_t(ds, c)]
        out += [c2_scaled_step_faster(ds, c), c4_generalization_gap(ds, c),
                c5_attention_relevant(ds, experiment_zeta(settings, "dm1"))]
    if "planted" in experiments:
        out += [c6_planted_faster(experiments["planted"], c), c7_alignment_grows(experiments["planted"])]
    return out
