"""Figures 2-5 of Deora et al. (spec Sec. 6): one row per optimizer, one curve per H (sequential colours),
mean over trials with a +-1 std band, iteration on a log axis."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from ...figures.common import band, save, subplots
from .plan import FIGURE_OPTIMIZERS, FIGURES

OPT_TITLES = {"gd": "GD, eta = lr (constant)", "gd_sqrtH": "GD, eta = lr0 sqrt(H)",
              "momentum": "GD + momentum, eta = lr0 sqrt(H)", "adam": "Adam, constant lr"}
PANELS = {  # variable -> (y label, log y)
    "train_loss": ("train loss", True), "test_loss": ("test loss", True),
    "avg_W_norm": ("avg ||W|| (1/H)", False), "avg_U_norm": ("avg ||U|| (1/sqrt(H))", False),
    "attn_score": ("attn-score (relevant tokens)", False),
    "align_W": ("alignment W with W*", False), "align_U": ("alignment U with U*", False),
}
DM1_PANELS = ("train_loss", "test_loss", "avg_W_norm", "avg_U_norm", "attn_score")
PLANTED_PANELS = ("train_loss", "test_loss", "avg_W_norm", "avg_U_norm", "align_W", "align_U")


def reference_line(ax, ds: xr.DataArray, slope: float) -> None:
    """Dashed c * t^slope through the seed-mean of the slowest curve at the last logged step (Fig. 2 circle)."""
    last = ds.isel(step=-1).mean("seed")
    t_end, y_end = float(ds.step[-1]), float(last.max())
    t = np.geomspace(max(t_end / 10, 1), t_end, 20)
    ax.plot(t, y_end * (t / t_end) ** slope, "k--", lw=1.2, label=f"~ t^{slope:g}")


def optimizer_row(axes, ds: xr.Dataset, opt: str, panels: tuple, slope: float | None) -> None:
    sub = ds.sel(optimizer=opt)
    heads = sub.heads.values
    colors = plt.cm.viridis(np.linspace(0.0, 0.9, len(heads)))
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


def draw(name: str, experiments: dict, section: dict, png, pdf) -> None:
    spec = FIGURES[name][0]
    ds = experiments[spec.experiments[0]]
    panels = DM1_PANELS if spec.experiments[0] == "dm1" else PLANTED_PANELS
    opts = FIGURE_OPTIMIZERS[name]
    fig, ax = subplots(len(opts), len(panels), width=3.0, height=2.6)
    slope = section["plot"].get("reference_slope", -1) if name.startswith("fig2") else None
    for row, opt in enumerate(opts):
        optimizer_row(ax[row], ds, opt, panels, slope)
    save(fig, png, pdf, spec.caption)


def make_figure(name: str, experiments: dict, section: dict, png, pdf) -> None:
    draw(name, experiments, section, png, pdf)
