"""Plot helpers shared by every study's figures."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from ..checkpoint import atomic_write  # noqa: E402

plt.rcParams.update({"figure.dpi": 110, "axes.grid": True, "grid.alpha": 0.3, "font.size": 9,
                     "legend.fontsize": 8, "axes.titlesize": 10})


def band(ax, values: xr.DataArray, label: str | None = None, color=None, x: str = "step",
         over: str = "seed", kind: str = "std", logy: bool = False, **line_kw):
    """Plot the mean over `over` with a shaded band (±1 std, or min-max with kind='range').

    On a log y-axis the mean and band are taken of log10(values) (a geometric mean), so a band
    never dips below zero.
    """
    v = values.dropna(x, how="all")
    data = np.log10(v.where(v > 0)) if logy else v
    mean = data.mean(over, skipna=True)
    if kind == "range":
        lo, hi = data.min(over, skipna=True), data.max(over, skipna=True)
    else:
        sd = data.std(over, skipna=True).fillna(0.0)
        lo, hi = mean - sd, mean + sd
    if logy:
        mean, lo, hi = 10 ** mean, 10 ** lo, 10 ** hi
    xs = v[x].values
    (line,) = ax.plot(xs, mean.values, label=label, color=color, **line_kw)
    ax.fill_between(xs, lo.values, hi.values, color=line.get_color(), alpha=0.2, linewidth=0)
    return line


def save(fig, png: str | Path, pdf: str | Path, caption: str | None = None) -> None:
    """Write PNG and PDF atomically; the caption is printed below the panels."""
    if caption:   # below the axes; bbox_inches="tight" grows the canvas to hold it
        fig.text(0.01, -0.01, caption, fontsize=7.5, wrap=True, va="top", ha="left")
    for path, fmt in ((png, "png"), (pdf, "pdf")):
        atomic_write(path, lambda tmp, fmt=fmt: fig.savefig(tmp, format=fmt, bbox_inches="tight"))
    plt.close(fig)


def subplots(rows: int, cols: int, width: float = 3.4, height: float = 2.7, **kw):
    kw.setdefault("layout", "constrained")
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False, **kw)
    return fig, axes
