"""Figures of the kernels study (spec Sec. 4.2, 7): one per experiment, drawn by its kind. Colours are the
kernels'; an experiment with several optimizers gets one row of panels per optimizer (named in the titles)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import xarray as xr

from ...figures.common import band, save, subplots
from .metrics import by_optimizer, relative_final_loss, s2_outcomes
from .settings import KernelsExperiment, Settings, experiment_data

COLORS = {"softmax": "#D55E00", "gaussian": "#0072B2"}
TRAIN_LABEL = {"wv": "W_V only", "attention": "W_Q, W_K, W_V"}


def _save(fig, png, pdf, caption: str) -> None:
    """No minor tick labels (they crowd the log axes), then PNG + PDF with the caption below the panels."""
    from matplotlib.ticker import NullFormatter

    for ax in fig.axes:
        ax.xaxis.set_minor_formatter(NullFormatter())
    save(fig, png, pdf, caption)


def _s1_threshold_panel(ax, ds: xr.Dataset, Nn: int, settings: Settings) -> None:
    """Final/initial loss vs D/(Nn): geometric mean over seeds ×/÷ geometric std, per trained set and kernel."""
    rel = relative_final_loss(ds).clip(min=settings.figures.loss_floor)
    for train in ds["train"].values:
        for kernel in ds["kernel"].values:
            r = rel.sel(train=train, kernel=kernel).assign_coords(x=ds["D"] / Nn).swap_dims(D="x")
            band(ax, r, x="x", logy=True, color=COLORS[kernel], ls="-" if train == "wv" else "--", marker="o",
                 ms=3, label=f"{kernel}, {TRAIN_LABEL[train]}")
    ax.axvline(1.0, color="grey", lw=0.8)
    ax.axhline(settings.checks.C1_rel_loss_max, color="k", lw=0.6, ls=":")
    ax.set(xscale="log", yscale="log", xlabel="D / (Nn)", ylabel="final / initial loss",
           title="S1: width threshold", ylim=(settings.figures.loss_floor / 10, 1e4))
    ax.legend(fontsize=6)


def _s1_curves_panel(ax, ds: xr.Dataset, train: str, settings: Settings) -> None:
    """Loss / initial loss vs step for every D (darker = larger) and kernel."""
    floor = settings.figures.loss_floor
    for D, alpha in zip(ds["D"].values, np.linspace(0.3, 1, ds.sizes["D"])):
        for kernel in ds["kernel"].values:
            loss = ds["train_loss"].sel(train=train, kernel=kernel, D=D)
            band(ax, (loss / loss.isel(step=0)).clip(min=floor), color=COLORS[kernel], alpha=alpha, logy=True,
                 label=f"{kernel} D={D}" if kernel == "softmax" or D == ds["D"].values[-1] else None)
    ax.set(yscale="log", xlabel="step", ylabel="loss / initial", title=f"S1 curves: {TRAIN_LABEL[train]}",
           ylim=(floor / 10, 1e4))
    ax.legend(fontsize=5, ncol=2)


def draw_s1(fig, row, ds: xr.Dataset, settings: Settings, experiment: KernelsExperiment) -> None:
    syn = experiment_data(settings, experiment, "s1")
    _s1_threshold_panel(row[0], ds, syn.N * syn.n, settings)
    for j, train in enumerate(ds["train"].values, start=1):
        _s1_curves_panel(row[j], ds, train, settings)


def draw_s2(fig, row, ds: xr.Dataset, settings: Settings, experiment: KernelsExperiment) -> None:
    """Success/stall fractions per sigma_Q, every seed's final relative loss, curves at the largest sigma_Q."""
    checks, floor = settings.checks, settings.figures.loss_floor
    out = s2_outcomes(ds, checks.C4_success_rel_loss, checks.C4_grad_ratio_max)
    rel = relative_final_loss(ds).clip(min=floor)
    sig = ds["sigma_Q"].values
    for kernel in ds["kernel"].values:
        c = COLORS[kernel]
        row[0].plot(sig, out["success"].sel(kernel=kernel), "o-", color=c, label=f"{kernel} success")
        row[0].plot(sig, out["stall"].sel(kernel=kernel), "x--", color=c, label=f"{kernel} stall")
        offset = 0.93 if kernel == "softmax" else 1.07
        for s in sig:
            r = rel.sel(kernel=kernel, sigma_Q=s).values
            row[1].scatter(np.full(len(r), s * offset), r, s=6, color=c, alpha=0.6,
                           label=kernel if s == sig[0] else None)
        band(row[2], (ds["train_loss"] / ds["train_loss"].isel(step=0)).sel(kernel=kernel, sigma_Q=sig[-1])
             .clip(min=floor), color=c, logy=True, label=f"{kernel}, sigma_Q={sig[-1]}")
    row[0].set(xscale="log", xlabel="sigma_Q (init std of W_Q)", ylabel="fraction of seeds",
               title="S2: W_Q-only outcomes", ylim=(-0.05, 1.05))
    row[1].axhline(checks.C4_success_rel_loss, color="k", lw=0.6, ls=":")
    row[1].set(xscale="log", yscale="log", xlabel="sigma_Q", ylabel="final / initial loss", title="every seed")
    row[2].set(yscale="log", xlabel="step", ylabel="loss / initial", title="curves")
    for a in row:
        a.legend(fontsize=6)


def _roughness_panel(ax, ds: xr.Dataset, kernels: list) -> None:
    """Per seed: the roughness of every direction pair (small) and their mean (large), per kernel."""
    seeds = ds["seed"].values
    for kernel in kernels:
        r = ds["roughness"].sel(kernel=kernel).transpose("seed", "pair")
        for p in r["pair"].values:
            ax.scatter(seeds, r.sel(pair=p), color=COLORS[kernel], s=8, alpha=0.35)
        ax.scatter(seeds, r.mean("pair"), color=COLORS[kernel], s=40, label=f"{kernel} (mean of pairs)")
    ax.set(xlabel="seed", ylabel="quadratic residual / loss range", xticks=seeds,
           title=f"roughness per seed ({ds.sizes['pair']} direction pairs)")
    ax.legend(fontsize=6)


def _curvature_panel(ax, ds: xr.Dataset, kernels: list) -> None:
    """Per seed: the largest-magnitude Hessian eigenvalue at the centre (log axis; symlog if one is <= 0)."""
    for kernel in kernels:
        ax.scatter(ds["seed"], ds["curvature"].sel(kernel=kernel), color=COLORS[kernel], label=kernel)
    scale = "log" if bool((ds["curvature"] > 0).all()) else "symlog"
    ax.set(xlabel="seed", ylabel="top Hessian eigenvalue", yscale=scale, xticks=ds["seed"].values,
           title="curvature at the centre")
    ax.legend(fontsize=6)


def draw_landscape(fig, row, ds: xr.Dataset, settings: Settings, experiment: KernelsExperiment) -> None:
    """Contours of one seed's first slice per kernel, roughness and curvature per seed (and stage-2 accuracy on
    an LRA task)."""
    kernels = list(ds["kernel"].values)
    seed = min(settings.figures.contour_seed, ds.sizes["seed"] - 1)
    a, b = ds["a"].values, ds["b"].values
    for j, kernel in enumerate(kernels):
        grid = ds["landscape"].sel(kernel=kernel).isel(seed=seed, pair=0).values
        cs = row[j].contourf(b, a, np.log10(grid), levels=30, cmap="viridis")
        fig.colorbar(cs, ax=row[j], label="log10 loss")
        rough = float(ds["roughness"].sel(kernel=kernel).isel(seed=seed, pair=0))
        row[j].set(xlabel="d2", ylabel="d1", title=f"stage 2 = {kernel}, seed {int(ds['seed'][seed])}, pair 0: rough "
                                                   f"{rough:.3g}, loss range {np.ptp(grid):.2g}")
    _roughness_panel(row[len(kernels)], ds, kernels)
    _curvature_panel(row[len(kernels) + 1], ds, kernels)
    if "stage1_test_acc" in ds:
        for kernel in kernels:
            band(row[-1], ds["test_acc"].sel(kernel=kernel), label=kernel, color=COLORS[kernel])
        row[-1].axhline(float(ds["stage1_test_acc"].mean()), color="grey", lw=0.8, ls="--", label="end of stage 1")
        row[-1].set(xlabel="stage-2 step", ylabel="test accuracy", title="stage 2")
        row[-1].legend()


def draw_task(fig, row, ds: xr.Dataset, settings: Settings, experiment: KernelsExperiment) -> None:
    """Test accuracy and loss vs step: mean over seeds ± 1 std, one thin line per seed."""
    for col, var in enumerate(("test_acc", "test_loss")):
        for kernel in ds["kernel"].values:
            values = ds[var].sel(kernel=kernel)
            band(row[col], values, label=kernel, color=COLORS[kernel])
            row[col].plot(ds["step"], values.transpose("step", "seed"), color=COLORS[kernel], lw=0.5, alpha=0.6)
    row[0].axhline(0.5, color="grey", lw=0.6, ls=":")
    row[0].set(xlabel="step", ylabel="test accuracy", title=f"{experiment.name}: test accuracy")
    row[1].set(xlabel="step", ylabel="test cross-entropy", title=f"{experiment.name}: test loss")
    for a in row:
        a.legend()


@dataclass(frozen=True)
class Panels:
    """How a kind's figure is laid out: panel columns (from its data), panel width, the drawing function."""
    columns: Callable[[xr.Dataset], int]
    width: float
    draw: Callable


PANELS = {
    "s1": Panels(lambda ds: 1 + ds.sizes["train"], 3.6, draw_s1),
    "s2": Panels(lambda ds: 3, 3.6, draw_s2),
    "s3": Panels(lambda ds: ds.sizes["kernel"] + 2, 4.0, draw_landscape),
    "lra_landscape": Panels(lambda ds: ds.sizes["kernel"] + 3, 4.0, draw_landscape),
    "pathfinder": Panels(lambda ds: 2, 3.8, draw_task),
    "text": Panels(lambda ds: 2, 3.8, draw_task),
}


def make_figure(name: str, experiments: dict, settings: Settings, png, pdf, caption: str) -> None:
    """The figure of the one experiment in `experiments`: a row of panels per optimizer."""
    (experiment_name, ds), = experiments.items()
    experiment = settings.experiments[experiment_name]
    panels, views = PANELS[experiment.kind], by_optimizer(ds, experiment.optimizers)
    fig, ax = subplots(len(views), panels.columns(ds), width=panels.width)
    for row, (optimizer, view) in zip(ax, views):
        panels.draw(fig, row, view, settings, experiment)
        for a in row if len(views) > 1 else ():
            a.set_title(f"{optimizer}: {a.get_title()}")
    _save(fig, png, pdf, caption)
