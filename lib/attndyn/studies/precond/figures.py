"""Figures of the precond study (spec Sec. 7): mean +- 1 sd over seeds (geometric on log axes)."""
from __future__ import annotations

import numpy as np
from matplotlib.ticker import NullFormatter
import xarray as xr

from ...figures.common import band, save, subplots
from ...results import final
from .plan import FIGURES

COLORS = {"alg_spectral": "tab:red", "alg_random": "tab:purple", "sgd": "tab:blue", "gd": "tab:green",
          "adam": "tab:orange", "full": "black", "no_precond": "tab:blue", "no_reg": "tab:orange",
          "no_renorm": "tab:green"}
LABELS = {"alg_spectral": "Algorithm 1 (spectral init)", "alg_random": "Algorithm 1 (N(0,1) init)",
          "sgd": "SGD (N(0,1) init)", "gd": "full-batch GD", "adam": "Adam"}
METRICS = {"E_inf": "E_inf (Theorem 1)", "train_loss": "training loss L_n", "test_risk": "test risk (finite context)"}


def _save(fig, png, pdf, caption, rows: int = 1) -> None:
    """PNG + PDF; the shared constrained layout spaces the panels and puts the caption below them."""
    save(fig, png, pdf, caption)


def _metric_order(cfg: dict) -> list[str]:
    first = cfg["plot"]["y_metric"]
    return [first] + [m for m in METRICS if m != first]


def _compare(experiments: dict, cfg: dict, methods: list[str], png, pdf, caption) -> None:
    ds = experiments["compare"]
    fig, ax = subplots(1, 3, width=3.8)
    for k, metric in enumerate(_metric_order(cfg)):
        for method in [m for m in methods if m in ds.optimizer.values]:
            style = "--" if method in ("gd", "adam") else "-"
            band(ax[0, k], ds[metric].sel(optimizer=method), label=LABELS[method], color=COLORS[method],
                 logy=True, ls=style)
        ax[0, k].set(yscale="log", xscale="symlog", xlabel="iteration t (symlog)", ylabel=METRICS[metric])
        ax[0, k].set_xlim(left=0)
    ax[0, 0].legend()
    _save(fig, png, pdf, caption)


def fig1(experiments, cfg, png, pdf, caption) -> None:
    _compare(experiments, cfg, ["alg_spectral", "sgd"], png, pdf, caption)


def fig2(experiments, cfg, png, pdf, caption) -> None:
    _compare(experiments, cfg, ["alg_random", "sgd", "gd", "adam"], png, pdf, caption)


def figS1(experiments, cfg, png, pdf, caption) -> None:
    ds = experiments["scaling"]
    ns = ds.n.values
    fig, ax = subplots(1, 2, width=4.2)
    colors = [f"C{i}" for i in range(len(ns))]
    for n, color in zip(ns, colors):
        band(ax[0, 0], ds.E_inf.sel(n=n), label=f"n = {n}", color=color, logy=True)
    ax[0, 0].set(yscale="log", xlabel="iteration t", ylabel="E_inf", title="(a) Algorithm 1, E_inf vs t")
    ax[0, 0].legend()
    floor = np.log10(final(ds, "E_inf"))                                   # (n, seed)
    spectral = np.log10(ds.E_inf_spectral_init.isel(step=0))
    for values, name, marker in ((floor, "Algorithm 1, final", "o"), (spectral, "spectral init alone", "s")):
        mean, sd = values.mean("seed").values, values.std("seed").values
        ax[0, 1].errorbar(ns, 10 ** mean, yerr=[10 ** mean - 10 ** (mean - sd), 10 ** (mean + sd) - 10 ** mean],
                          marker=marker, capsize=3, label=name)
    ref = 10 ** float(floor.mean("seed").values[0]) * ns[0] / ns
    ax[0, 1].plot(ns, ref, "k--", lw=1, label="slope -1 reference")
    ax[0, 1].set(xscale="log", yscale="log", xlabel="training-set size n", ylabel="E_inf", title="(b) floor vs n")
    ax[0, 1].set_xticks(ns, [str(n) for n in ns], minor=False)
    ax[0, 1].xaxis.set_minor_formatter(NullFormatter())
    ax[0, 1].legend()
    _save(fig, png, pdf, caption)


def figS2(experiments, cfg, png, pdf, caption) -> None:
    """Diverged runs are dropped from the bands (counted in the legend); y-limits follow the converging runs."""
    ds = experiments["ablations"]
    specs = ds.sigma_spec.values
    fig, ax = subplots(len(specs), 2, width=4.2)
    for i, spec in enumerate(specs):
        for method in ds.variant.values:
            sub = ds.sel(sigma_spec=spec, variant=method)
            bad = int(sub.diverged.sum())
            name = f"{method} ({bad}/{sub.sizes['seed']} diverged)" if bad else str(method)
            kept = sub.sel(seed=~sub.diverged.values) if bad < sub.sizes["seed"] else sub
            for k, var in enumerate(("E_inf", "B_op")):
                band(ax[i, k], kept[var], label=name, color=COLORS.get(str(method)), logy=True,
                     lw=2.5 if method == "full" else 1.2)
        E = ds.E_inf.sel(sigma_spec=spec)
        limits = (0.3 * float(E.where(~ds.diverged.sel(sigma_spec=spec)).min()), 10 * float(E.isel(step=0).max()))
        ax[i, 0].set(yscale="log", xlabel="iteration t", ylabel="E_inf", title=f"Sigma: {spec}", ylim=limits)
        ax[i, 1].set(yscale="log", xlabel="iteration t", ylabel="||B||_op", title=f"Sigma: {spec}", ylim=(0.1, 1e3))
        ax[i, 0].legend()
    _save(fig, png, pdf, caption, rows=len(specs))


DRAW = {"fig1_spectral_vs_sgd": fig1, "fig2_same_random_init": fig2, "figS1_scaling": figS1,
        "figS2_ablations": figS2}


def make_figure(name: str, experiments: dict[str, xr.Dataset], section: dict, png, pdf) -> None:
    DRAW[name](experiments, section, png, pdf, FIGURES[name].caption)
