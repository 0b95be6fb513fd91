"""Statistical criteria shared by the claims: each can fail when the paper's statement is false in a run.

- `rate_models`: a geometric (linear-rate) decay against a power law, by their fits in log space.
- `ordered`: an ordering across a sweep (e.g. more heads => slower) with a margin beyond seed noise.
- `onset`: when a statistic has covered a fraction of its way to where it ends (stage onsets).
- `quadratic_residual`: what is left of a 2-D loss slice after the best quadratic (roughness, 0 for any bowl).
All work on plain numpy arrays, so their negative controls are quick unit tests.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RateFit:
    """Least-squares fits of log10(y): geometric a + b t, and power law a - k log10 t (optionally over a floor)."""
    rss_geometric: float
    rss_power: float
    decades_per_step: float          # -b of the geometric fit
    power_k: float                   # k of the power-law fit
    points: int

    @property
    def geometric_wins(self) -> bool:
        """The linear-rate (geometric) model explains the curve better than any power law t^-k."""
        return bool(self.rss_geometric < self.rss_power)


def rate_models(t: np.ndarray, y: np.ndarray) -> RateFit:
    """Fit log10 y against t (geometric decay = a linear rate) and against log10 t (power law) over positive,
    finite points with t > 0. A power-law curve is fitted exactly by the second model, an exponential by the first."""
    t, y = np.asarray(t, float), np.asarray(y, float)
    keep = np.isfinite(y) & (y > 0) & (t > 0)
    t, logy = t[keep], np.log10(y[keep])
    if len(t) < 4:
        return RateFit(np.nan, np.nan, np.nan, np.nan, len(t))
    geo = np.polyfit(t, logy, 1)
    pow_ = np.polyfit(np.log10(t), logy, 1)
    rss = lambda fit, x: float(np.sum((np.polyval(fit, x) - logy) ** 2))
    return RateFit(rss(geo, t), rss(pow_, np.log10(t)), float(-geo[0]), float(-pow_[0]), len(t))


def floor_rate_models(t: np.ndarray, y: np.ndarray, floor: float) -> RateFit:
    """`rate_models` of y - floor: the decay towards a known floor (e.g. the plateau a run ends on)."""
    y = np.asarray(y, float) - floor
    return rate_models(t, np.where(y > 0, y, np.nan))


@dataclass(frozen=True)
class Ordering:
    """An ordering of paired values (seeds x groups, e.g. loss per seed at each H)."""
    steps: np.ndarray                # (groups - 1,) mean paired step in the claimed direction
    step_se: np.ndarray              # (groups - 1,) its standard error over seeds
    total: float                     # mean paired change from the first group to the last
    total_se: float
    margin: float                    # standard errors a change must exceed

    @property
    def no_reversal(self) -> bool:
        """No consecutive step goes against the claimed direction by more than `margin` standard errors."""
        return bool(np.all(self.steps >= -self.margin * self.step_se))

    @property
    def trend(self) -> bool:
        """The first-to-last change goes the claimed way by more than `margin` standard errors (a flat
        curve fails)."""
        return bool(self.total > self.margin * self.total_se and self.total > 0)

    @property
    def holds(self) -> bool:
        return self.no_reversal and self.trend


def ordered(values: np.ndarray, increasing: bool, margin: float = 2.0) -> Ordering:
    """Check that values (seeds, groups) rise (or fall) across groups; differences are paired per seed, so
    what must exceed the noise is the seed-to-seed spread of the *difference*."""
    values = np.asarray(values, float) * (1.0 if increasing else -1.0)
    seeds = values.shape[0]
    diffs = np.diff(values, axis=1)                                      # (seeds, groups - 1)
    total = values[:, -1] - values[:, 0]
    se = lambda x: np.std(x, axis=0, ddof=1) / np.sqrt(seeds) if seeds > 1 else np.zeros_like(x[0])
    return Ordering(diffs.mean(0), se(diffs), float(total.mean()), float(se(total[:, None])[0]), margin)


def onset(steps: np.ndarray, values: np.ndarray, end: float, fraction: float) -> float:
    """First step at which `values` have covered `fraction` of the way from their first value to `end`
    (either direction); nan if never."""
    values = np.asarray(values, float)
    target = values[0] + fraction * (end - values[0])
    hit = values >= target if end >= values[0] else values <= target
    idx = np.flatnonzero(hit & (np.arange(len(values)) > 0))
    return float(steps[idx[0]]) if len(idx) else float("nan")


def quadratic_residual(grid: np.ndarray, coords: np.ndarray) -> np.ndarray:
    """Roughness of loss slices (..., G, G) on coords x coords: RMS of what is left after the least-squares
    quadratic c0 + c1 a + c2 b + c3 a^2 + c4 a b + c5 b^2, divided by the slice's loss range. Exactly 0 for any
    quadratic (a smooth bowl scores 0 whatever its curvature); grows with ripples."""
    a, b = np.meshgrid(coords, coords, indexing="ij")
    design = np.stack([np.ones_like(a), a, b, a * a, a * b, b * b], -1).reshape(-1, 6)      # (G*G, 6)
    flat = grid.reshape(*grid.shape[:-2], -1)                                                 # (..., G*G)
    coef, *_ = np.linalg.lstsq(design, flat.reshape(-1, flat.shape[-1]).T, rcond=None)      # (6, N)
    residual = flat - (design @ coef).T.reshape(flat.shape)
    span = flat.max(-1) - flat.min(-1)
    return np.sqrt((residual ** 2).mean(-1)) / np.where(span > 0, span, np.nan)
