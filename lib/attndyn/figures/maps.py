"""A claim map's heatmap: margin as colour, the pass region outlined, seed agreement written in every cell, a
predicted boundary on top. Grid values sit at equally spaced cells (log-spaced values read as such)."""
from __future__ import annotations

import numpy as np
import xarray as xr

from .common import save, subplots


def cell_position(values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Where values `at` fall between the grid's cells (0, 1, ...): linear in the value, or in its log if the grid
    is positive and spans more than a factor 3."""
    values, at = np.asarray(values, float), np.asarray(at, float)
    log = bool((values > 0).all() and values.max() / values.min() > 3)
    x, y = (np.log(values), np.log(np.where(at > 0, at, np.nan))) if log else (values, at)
    return np.interp(y, x, np.arange(len(values)), left=np.nan, right=np.nan)


def _grid(result: xr.Dataset) -> tuple[list[str], xr.DataArray, xr.DataArray]:
    axes = result.attrs["axes"].split(",")
    margin = result["margin"].mean("seed")
    agree = result["passed"].sum("seed")
    if len(axes) == 1:                                                  # one row
        margin, agree = margin.expand_dims(_row=[0]), agree.expand_dims(_row=[0])
        axes = axes + ["_row"]
    return axes, margin.transpose(axes[1], axes[0]), agree.transpose(axes[1], axes[0])


def _outline(ax, passed: np.ndarray) -> None:
    """A thick line around the cells where every seed passes."""
    rows, cols = passed.shape
    for i in range(rows):
        for j in range(cols):
            if not passed[i, j]:
                continue
            for di, dj, seg in ((-1, 0, [(j - .5, j + .5), (i - .5, i - .5)]), (1, 0, [(j - .5, j + .5), (i + .5, i + .5)]),
                                (0, -1, [(j - .5, j - .5), (i - .5, i + .5)]), (0, 1, [(j + .5, j + .5), (i - .5, i + .5)])):
                ni, nj = i + di, j + dj
                if not (0 <= ni < rows and 0 <= nj < cols and passed[ni, nj]):
                    ax.plot(*seg, color="black", lw=2.2)


def draw_map(result: xr.Dataset, boundary: tuple | None, png, pdf, caption: str) -> None:
    """Heatmap of the seed-mean margin; 'k/S' = seeds passing; outline = every seed passes; boundary =
    (x values, y values, label) in the axes' own units."""
    axes, margin, agree = _grid(result)
    seeds = result.sizes["seed"]
    fig, ax = subplots(1, 1, width=1.1 * margin.shape[1] + 3.2, height=0.75 * margin.shape[0] + 2.2)
    ax = ax[0, 0]
    limit = float(np.nanmax(np.abs(margin.values))) or 1.0
    image = ax.imshow(margin.values, cmap="RdBu", vmin=-limit, vmax=limit, origin="lower", aspect="auto")
    fig.colorbar(image, ax=ax, label="margin (> 0: the claim holds), mean over seeds")
    for (i, j), k in np.ndenumerate(agree.values):
        ax.text(j, i, f"{int(k)}/{seeds}", ha="center", va="center", fontsize=8,
                color="white" if abs(margin.values[i, j]) > 0.6 * limit else "black")
    _outline(ax, agree.values == seeds)
    xs, ys = margin[axes[0]].values, margin[axes[1]].values
    ax.set_xticks(range(len(xs)), [f"{v:g}" if isinstance(v, (int, float)) else str(v) for v in xs])
    ax.set_yticks(range(len(ys)), ["" if axes[1] == "_row" else (f"{v:g}" if isinstance(v, (int, float)) else str(v))
                                   for v in ys])
    ax.set(xlabel=axes[0], ylabel="" if axes[1] == "_row" else axes[1], title=result.attrs["claim"])
    if boundary is not None:
        bx, by, label = boundary
        ax.plot(cell_position(xs, bx), cell_position(ys, by) if axes[1] != "_row" else np.zeros(len(bx)),
                "k--", lw=1.5, label=label)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), fontsize=8, frameon=False)
    ax.grid(False)
    save(fig, png, pdf, caption)


def draw_curves(result: xr.Dataset, x_of, x_label: str, png, pdf, caption: str) -> None:
    """A curve statistic (axes..., seed, step): seed mean per grid point against x = x_of(point, steps); colour =
    the first axis, line style = the second; the criterion's threshold dashed."""
    import itertools

    import matplotlib.pyplot as plt

    axes = result.attrs["axes"].split(",")
    values = result["statistic"].mean("seed")
    fig, ax = subplots(1, 1, width=6.0, height=4.2)
    ax = ax[0, 0]
    firsts, seconds = values[axes[0]].values, (values[axes[1]].values if len(axes) > 1 else [None])
    colors = plt.cm.viridis(np.linspace(0.0, 0.85, len(firsts)))
    for (a, color), (b, style) in itertools.product(zip(firsts, colors), zip(seconds, ("-", "--", ":", "-."))):
        point = {axes[0]: a, **({axes[1]: b} if b is not None else {})}
        curve = values.sel(point).dropna("step")
        label = ", ".join(f"{k}={v:g}" if isinstance(v, (int, float)) else f"{k}={v}" for k, v in point.items())
        ax.plot(x_of(point, curve["step"].values), curve.values, style, color=color, label=label)
    ax.axhline(float(result.attrs["threshold"]), color="black", lw=1, ls=":", label="criterion")
    ax.set(xscale="log", xlabel=x_label, ylabel=result.attrs["claim"], title=result.attrs["claim"])
    ax.legend(fontsize=7, ncol=2)
    save(fig, png, pdf, caption)
