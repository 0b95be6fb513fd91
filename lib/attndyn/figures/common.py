"""Plot helpers shared by every study's figures."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from ..checkpoint import atomic_write

# Colour-blind-safe (Okabe-Ito / Tol hues), each at least 3:1 contrast on white (WCAG graphics), in cycle order.
PALETTE = {"blue": "#0072B2", "vermillion": "#D55E00", "green": "#009E73", "purple": "#AA4499", "black": "#000000",
           "ochre": "#997700", "wine": "#882255", "grey": "#666666", "indigo": "#332288"}
SEQUENTIAL = ("plasma", 0.0, 0.62)            # ordered values (H, n, ...): the part of plasma >= 3:1 on white
CAPTION_POINTS = 8.0

plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 150, "axes.grid": True, "grid.alpha": 0.3, "font.size": 9,
                     "legend.fontsize": 8, "axes.titlesize": 10,
                     "axes.prop_cycle": matplotlib.cycler(color=list(PALETTE.values()))})

BAND_TEXT = {False: "Lines: mean over seeds; bands: mean ± 1 standard deviation.",
             True: "Lines (log axis): geometric mean over seeds; bands: ×/÷ one geometric standard deviation."}


def band(ax, values: xr.DataArray, label: str | None = None, color=None, x: str = "step",
         over: str = "seed", logy: bool = False, **line_kw):
    """Plot the mean over `over` with a ±1 standard deviation band: the one band convention of every figure,
    which `save` states in the caption.

    On a log y-axis the mean and band are taken of log10(values) (a geometric mean ×/÷ the geometric standard
    deviation), so a band never dips below zero.
    """
    v = values.dropna(x, how="all")
    data = np.log10(v.where(v > 0)) if logy else v
    mean = data.mean(over, skipna=True)
    sd = data.std(over, skipna=True).fillna(0.0)
    lo, hi = mean - sd, mean + sd
    if logy:
        mean, lo, hi = 10 ** mean, 10 ** lo, 10 ** hi
    xs = v[x].values
    (line,) = ax.plot(xs, mean.values, label=label, color=color, **line_kw)
    ax.fill_between(xs, lo.values, hi.values, color=line.get_color(), alpha=0.2, linewidth=0)
    conventions = getattr(ax.figure, "_attndyn_bands", set())
    ax.figure._attndyn_bands = conventions | {bool(logy)}
    ax._attndyn_bands = getattr(ax, "_attndyn_bands", set()) | {bool(logy)}
    return line


def check_bands(fig) -> None:
    """One convention per panel: a log y-axis shows geometric bands only, a linear one arithmetic bands only."""
    for ax in fig.axes:
        kinds = getattr(ax, "_attndyn_bands", set())
        if kinds and kinds != {ax.get_yscale() == "log"}:
            raise ValueError(f"figure bug: panel {ax.get_title()!r} has a {ax.get_yscale()} y-axis but "
                             f"{'geometric' if True in kinds else 'arithmetic'} bands (band(..., logy=...))")


def sequential(count: int) -> list:
    """`count` colours for ordered values (H, n, lr, ...), dark to light, each readable on white."""
    name, low, high = SEQUENTIAL
    return [plt.get_cmap(name)(x) for x in np.linspace(low, high, count)]


def colors_for(names, known: dict[str, str]) -> dict[str, str]:
    """A colour per name: its known colour, else the next palette colour no drawn known name uses (so any
    optimizer added by YAML is drawn in a colour of its own)."""
    from matplotlib.colors import to_hex

    taken = {to_hex(known[n]) for n in names if n in known}
    spare = [c for c in PALETTE.values() if to_hex(c) not in taken] or list(PALETTE.values())
    unknown = [n for n in names if n not in known]
    return {n: known[n] if n in known else spare[unknown.index(n) % len(spare)] for n in names}


def _log_label(value, _pos=None) -> str:
    """A log-axis tick: plain where short (0.001 ... 1000), m x 10^k otherwise."""
    if value <= 0:
        return ""
    exponent = int(np.floor(np.log10(value) + 1e-9))
    mantissa = value / 10.0 ** exponent
    if -3 <= exponent <= 3:
        return f"{value:g}"
    return f"$10^{{{exponent}}}$" if abs(mantissa - 1) < 1e-6 else f"${mantissa:g}\\times10^{{{exponent}}}$"


def _readable_log_ticks(fig) -> None:
    """Log axes get labelled decades, and labelled 1-2-5 ticks where the axis spans less than two decades (so a
    short log axis never shows a single label)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    for ax in fig.axes:
        for axis, scale, limits in ((ax.xaxis, ax.get_xscale(), ax.get_xlim()), (ax.yaxis, ax.get_yscale(),
                                                                                  ax.get_ylim())):
            if scale != "log" or min(limits) <= 0:
                continue
            decades = abs(np.log10(limits[1]) - np.log10(limits[0]))
            subs = (1.0, 2.0, 5.0) if decades < 2 else (1.0,)
            axis.set_major_locator(LogLocator(base=10, subs=subs, numticks=12))
            axis.set_major_formatter(FuncFormatter(_log_label))
            axis.set_minor_formatter(NullFormatter())


def figure_caption(fig, caption: str | None) -> str:
    """The caption with the band convention the figure used (if any) appended."""
    notes = [BAND_TEXT[kind] for kind in sorted(getattr(fig, "_attndyn_bands", set()))]
    return " ".join([caption or "", *notes]).strip()


def save(fig, png: str | Path, pdf: str | Path, caption: str | None = None) -> None:
    """Write PNG (150 dpi) and PDF atomically; the caption (with the band convention) is printed below the panels
    at 8 pt, log axes get readable decade labels."""
    check_bands(fig)
    _readable_log_ticks(fig)
    text = figure_caption(fig, caption)
    if text:   # below the axes; bbox_inches="tight" grows the canvas to hold it
        fig.text(0.01, -0.03, text, fontsize=CAPTION_POINTS, wrap=True, va="top", ha="left")
    for path, fmt in ((png, "png"), (pdf, "pdf")):
        atomic_write(path, lambda tmp, fmt=fmt: fig.savefig(tmp, format=fmt, bbox_inches="tight"))
    plt.close(fig)


def subplots(rows: int, cols: int, width: float = 3.4, height: float = 2.7, **kw):
    kw.setdefault("layout", "constrained")
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False, **kw)
    return fig, axes
