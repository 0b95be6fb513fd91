"""Figures of the multihead study (spec Sec. 6), mean over trials with a +-1 std band, iteration on a log axis.

Figs. 2-5 (Deora et al.): one row per optimizer, one curve per H (sequential colours). The cross-study
figure fig_dm1_optimizers: one column per H, one colour per optimizer (any registry optimizer: an unknown
name gets the next free colour and its name as label)."""
from __future__ import annotations

import numpy as np
import xarray as xr

from ...figures.common import band, colors_for, save, sequential, subplots
from .figure_table import FIGURES

OPT_TITLES = {"gd": "GD, eta = lr (constant)", "gd_sqrtH": "GD, eta = lr sqrt(H)",
              "momentum": "GD + momentum, eta = lr sqrt(H)", "adam": "Adam, constant lr",
              "signgd": "SignGD, constant lr"}
OPT_COLORS = {"gd": "#009E73", "gd_sqrtH": "#882255", "momentum": "#AA4499", "adam": "#0072B2",
              "signgd": "#D55E00"}
PANELS = {  # variable -> (y label, log y)
    "train_loss": ("train loss", True), "test_loss": ("test loss", True),
    "avg_W_norm": ("avg ||W|| (1/H)", False), "avg_U_norm": ("avg ||U|| (1/sqrt(H))", False),
    "attn_score": ("attn-score (relevant tokens)", False),
    "align_W": ("alignment W with W*", False), "align_U": ("alignment U with U*", False),
}
DM1_PANELS = ("train_loss", "test_loss", "avg_W_norm", "avg_U_norm", "attn_score")
PLANTED_PANELS = ("train_loss", "test_loss", "avg_W_norm", "avg_U_norm", "align_W", "align_U")
COMPARISON_PANELS = ("train_loss", "test_loss", "attn_score")


def optimizer_colors(names) -> dict[str, str]:
    """Known optimizers keep their colour; others take the palette's unused colours in turn."""
    return colors_for(names, OPT_COLORS)


def reference_line(ax, ds: xr.DataArray, slope: float) -> None:
    """Dashed c * t^slope through the seed-mean of the slowest curve at the last logged step (Fig. 2 circle)."""
    last = ds.isel(step=-1).mean("seed")
    t_end, y_end = float(ds.step[-1]), float(last.max())
    t = np.geomspace(max(t_end / 10, 1), t_end, 20)
    ax.plot(t, y_end * (t / t_end) ** slope, "k--", lw=1.2, label=f"~ t^{slope:g}")


def optimizer_row(axes, ds: xr.Dataset, opt: str, panels: tuple, slope: float | None) -> None:
    """One optimizer: a panel per variable, a curve per H (viridis)."""
    sub = ds.sel(optimizer=opt)
    heads = sub.heads.values
    colors = sequential(len(heads))
    for ax, var in zip(axes, panels):
        ylabel, logy = PANELS[var]
        for H, color in zip(heads, colors):
            values = sub[var].sel(heads=H)
            band(ax, values.where(values.step > 0), label=f"H={int(H)}", color=color, logy=logy)
        ax.set(xscale="log", xlabel="iteration t", ylabel=ylabel)
        if logy:
            ax.set_yscale("log")
    axes[0].set_title(OPT_TITLES.get(opt, opt))
    if slope is not None:
        reference_line(axes[0], sub.train_loss.sel(heads=heads[0]), slope)
    axes[0].legend(fontsize=7, ncol=2)


def paper_figure(name: str, experiments: dict, settings, png, pdf, caption: str) -> None:
    """Figs. 2-5: one row per listed optimizer of the figure's experiment."""
    experiment, opts = FIGURES[name]
    ds = experiments[experiment]
    panels = DM1_PANELS if "attn_score" in ds else PLANTED_PANELS
    fig, ax = subplots(len(opts), len(panels), width=3.0, height=2.6)
    slope = settings.figures.reference_slope if name.startswith("fig2") else None
    for row, opt in enumerate(opts):
        optimizer_row(ax[row], ds, opt, panels, slope)
    save(fig, png, pdf, caption)


def comparison_figure(name: str, experiments: dict, settings, png, pdf, caption: str) -> None:
    """One column per H, a row per variable, a colour per optimizer (every optimizer of the experiment)."""
    ds = experiments[FIGURES[name][0]]
    opts, heads = [str(o) for o in ds.optimizer.values], ds.heads.values
    colors = optimizer_colors(opts)
    fig, ax = subplots(len(COMPARISON_PANELS), len(heads), width=2.8, height=2.4)
    for col, H in enumerate(heads):
        for row, var in enumerate(COMPARISON_PANELS):
            ylabel, logy = PANELS[var]
            for opt in opts:
                values = ds[var].sel(heads=H, optimizer=opt)
                band(ax[row, col], values.where(values.step > 0), label=opt, color=colors[opt], logy=logy)
            ax[row, col].set(xscale="log", xlabel="iteration t", ylabel=ylabel, yscale="log" if logy else "linear")
        ax[0, col].set_title(f"H = {int(H)}")
    ax[0, 0].legend(fontsize=7)
    save(fig, png, pdf, caption)


def make_figure(name: str, experiments: dict, settings, png, pdf, caption: str) -> None:
    draw = comparison_figure if FIGURES[name][1] is None else paper_figure
    draw(name, experiments, settings, png, pdf, caption)
