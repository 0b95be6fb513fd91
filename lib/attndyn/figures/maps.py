"""A claim map's heatmap: margin as colour, the pass region outlined, seed agreement written in every cell, a
predicted boundary on top. Grid values sit at equally spaced cells (log-spaced values read as such)."""
from __future__ import annotations

import numpy as np
import xarray as xr

from .common import save, sequential, subplots


def wrapped(text: str, fig, points: float = 9.0) -> str:
    """`text` broken into lines that fit the figure's width (a long claim as a title would squeeze the axes)."""
    import textwrap

    chars = int(fig.get_figwidth() * 72 / (0.55 * points))            # ~0.55 em per character
    return "\n".join(textwrap.wrap(text, max(chars, 20)))


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
            for di, dj, seg in ((-1, 0, [(j - .5, j + .5), (i - .5, i - .5)]),
                                (1, 0, [(j - .5, j + .5), (i + .5, i + .5)]),
                                (0, -1, [(j - .5, j - .5), (i - .5, i + .5)]),
                                (0, 1, [(j + .5, j + .5), (i - .5, i + .5)])):
                ni, nj = i + di, j + dj
                if not (0 <= ni < rows and 0 <= nj < cols and passed[ni, nj]):
                    ax.plot(*seg, color="black", lw=2.2)


def draw_map(result: xr.Dataset, boundary: tuple | None, png, pdf, caption: str) -> None:
    """Heatmap of the seed-mean margin; 'k/S' = seeds passing; outline = every seed passes; boundary =
    (x values, y values, label) in the axes' own units."""
    axes, margin, agree = _grid(result)
    seeds = result.sizes["seed"]
    fig, ax = subplots(1, 1, width=1.1 * margin.shape[1] + 3.2, height=max(0.75 * margin.shape[0] + 2.2, 3.4))
    ax = ax[0, 0]
    finite = np.abs(margin.values[np.isfinite(margin.values)])
    limit = float(finite.max()) if finite.size and finite.max() > 0 else 1.0      # all-NaN: no statistic anywhere
    import matplotlib.pyplot as plt

    cmap = plt.get_cmap("RdBu").with_extremes(bad="#d9d9d9")         # grey: no statistic (e.g. degenerate runs)
    image = ax.imshow(margin.values, cmap=cmap, vmin=-limit, vmax=limit, origin="lower", aspect="auto")
    fig.colorbar(image, ax=ax, label="margin, seed mean (> 0: holds)")
    for (i, j), k in np.ndenumerate(agree.values):
        ax.text(j, i, f"{int(k)}/{seeds}" if np.isfinite(margin.values[i, j]) else "n/a", ha="center", va="center",
                fontsize=8,
                color="white" if abs(margin.values[i, j]) > 0.6 * limit else "black")
    _outline(ax, agree.values == seeds)
    xs, ys = margin[axes[0]].values, margin[axes[1]].values
    ax.set_xticks(range(len(xs)), [f"{v:g}" if isinstance(v, (int, float)) else str(v) for v in xs])
    ax.set_yticks(range(len(ys)), ["" if axes[1] == "_row" else (f"{v:g}" if isinstance(v, (int, float)) else str(v))
                                   for v in ys])
    ax.set(xlabel=axes[0], ylabel="" if axes[1] == "_row" else axes[1])
    ax.set_title(wrapped(result.attrs["claim"], fig), fontsize=9)
    if boundary is not None:
        bx, by, label = boundary
        ax.plot(cell_position(xs, bx), cell_position(ys, by) if axes[1] != "_row" else np.zeros(len(bx)),
                "k--", lw=1.5, label=wrapped(label, fig, 10.0))
        ax.legend(loc="upper left", fontsize=7, framealpha=0.85)
    ax.grid(False)
    save(fig, png, pdf, caption)


LINE_STYLES = ("-", "--", ":", "-.")
MARKERS = ("", "o", "s", "^", "v", "D")


def draw_curves(result: xr.Dataset, x_of, x_label: str, png, pdf, caption: str) -> None:
    """A curve statistic (axes..., seed, step): seed mean per grid point against x = x_of(point, steps); colour =
    the first axis, line style (then marker) = the second; the criterion's threshold dotted; legend outside."""
    import itertools


    axes = result.attrs["axes"].split(",")
    values = result["statistic"].mean("seed")
    fig, ax = subplots(1, 1, width=6.0, height=4.2)
    ax = ax[0, 0]
    firsts, seconds = values[axes[0]].values, (values[axes[1]].values if len(axes) > 1 else [None])
    colors = sequential(len(firsts))
    styles = [(LINE_STYLES[i % len(LINE_STYLES)], MARKERS[(i // len(LINE_STYLES)) % len(MARKERS)])
              for i in range(len(seconds))]                          # every value of the second axis drawn
    for (a, color), (b, (style, marker)) in itertools.product(zip(firsts, colors), zip(seconds, styles)):
        point = {axes[0]: a, **({axes[1]: b} if b is not None else {})}
        curve = values.sel(point).dropna("step")
        label = ", ".join(f"{k}={v:g}" if isinstance(v, (int, float)) else f"{k}={v}" for k, v in point.items())
        ax.plot(x_of(point, curve["step"].values), curve.values, ls=style, marker=marker or None, markersize=3,
                color=color, label=label)
    ax.axhline(float(result.attrs["threshold"]), color="black", lw=1, ls=":", label="criterion")
    ax.set(xscale="log", xlabel=x_label, ylabel=f"statistic '{result.attrs['statistic']}', mean over seeds")
    ax.set_title(wrapped(result.attrs["claim"], fig), fontsize=9)
    ax.legend(fontsize=7, ncol=1 + len(firsts) * len(seconds) // 12, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    save(fig, png, pdf, caption)
