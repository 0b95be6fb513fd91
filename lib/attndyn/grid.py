"""Log-spaced logging grids (DESIGN: log metrics on a log-spaced step grid plus step 0)."""
from __future__ import annotations

import numpy as np


def log_step_grid(steps: int, points_per_decade: int = 60, dense_until: int = 10,
                  extra: tuple[int, ...] = ()) -> np.ndarray:
    """Sorted unique integer steps in [0, steps]: every step up to `dense_until`, then log-spaced.

    The log-spaced points are round(10**(k / points_per_decade)), independent of `steps`, so runs
    of different lengths share their grid points and stack cleanly. Step 0 (the initialization),
    the final step and any `extra` steps (e.g. the times a claim is checked at) are included.
    """
    if steps < 0:
        raise ValueError("steps must be >= 0")
    dense = np.arange(0, min(dense_until, steps) + 1)
    k = np.arange(0, int(np.ceil(np.log10(max(steps, 1)) * points_per_decade)) + 1)
    logspaced = np.round(10.0 ** (k / points_per_decade)).astype(np.int64)
    extra = np.asarray([e for e in extra if 0 <= e <= steps], dtype=np.int64)
    grid = np.unique(np.concatenate([dense, logspaced[logspaced <= steps], extra, [steps]]))
    return grid.astype(np.int64)


def linear_step_grid(steps: int, every: int) -> np.ndarray:
    """Steps 0, every, 2 every, ... and the last step (minibatch tasks evaluate on this grid)."""
    return np.unique(np.r_[np.arange(0, steps, every), steps]).astype(np.int64)


def step_grid(log, steps: int) -> np.ndarray:
    """The grid of a `log` block (experiments.LogSettings): linear with `every`, else log-spaced."""
    if log.every:
        return linear_step_grid(steps, log.every)
    return log_step_grid(steps, log.points_per_decade, log.dense_until, tuple(log.extra_steps))
