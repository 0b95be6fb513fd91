"""Figures of the signgd study (spec Sec. 8). Bands: the project's one convention (figures.common.band)."""
from __future__ import annotations

import numpy as np
import xarray as xr

from ...figures.common import band, save, subplots
from ...results import final as last

OPT_COLORS = {"signgd": "#D55E00", "adam": "#0072B2", "gd": "#009E73"}


def shown_neuron(ds: xr.Dataset, fig_cfg) -> int:
    """`neuron_index`, or with 'auto' the first neuron whose final SignGD query signal is positive
    (so, as in the paper's Fig. 1d, noise features flip from negative to positive)."""
    if fig_cfg.neuron_index != "auto":
        return int(fig_cfg.neuron_index)
    run = ds.sel(optimizer="signgd").isel(seed=fig_cfg.seed_index).dropna("step", subset=["query_signal"])
    positive = np.flatnonzero(run.query_signal.isel(step=-1).values > 0)
    return int(positive[0]) if len(positive) else 0


def _neuron_panel(ax, ds: xr.Dataset, opt: str, fig_cfg, horizon: int) -> None:
    """Query noise, key noise and query signal of one neuron of one seed (Fig. 1d / 2a-b)."""
    neuron = shown_neuron(ds, fig_cfg)
    run = ds.sel(optimizer=opt).isel(seed=fig_cfg.seed_index, neuron=neuron)
    run = run.sel(step=run.step <= horizon).dropna("step", subset=["query_noise"], how="all")
    sign_at_split = np.sign(run.query_noise.sel(step=fig_cfg.split_time, method="nearest").values)
    t = run.step.values
    for i, positive in enumerate(sign_at_split > 0):
        style = ":" if positive else "-"
        ax.plot(t, run.query_noise.isel(sample=i), style, color="#AA4499", lw=0.8,
                label="query noise" if i == 0 else None)
        ax.plot(t, run.key_noise.isel(sample=i), style, color="#997700", lw=0.8,
                label="key noise" if i == 0 else None)
    ax.plot(t, run.query_signal, color="black", lw=1.8, label="query signal")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set(xlabel="step t", ylabel="inner product",
           title=f"{opt}: neuron {neuron}, seed {int(run.seed)}")
    ax.legend(loc="best")


def fig1(experiments: dict, cfg: dict, png, pdf, caption) -> None:
    ds, f = experiments["dynamics"].sel(optimizer="signgd"), cfg.figures
    run = ds.isel(seed=f.seed_index)
    early = run.sel(step=run.step <= f.early_horizon)
    fig, ax = subplots(1, 4, width=3.6)
    neuron = shown_neuron(experiments["dynamics"], f)
    key_noise = early.key_noise.isel(neuron=neuron)                                         # (step, sample)
    ends_positive = key_noise.isel(step=-1).values > 0
    counts = {True: int(ends_positive.sum()), False: int((~ends_positive).sum())}
    labelled = set()
    for i in range(early.sizes["sample"]):
        sign = bool(ends_positive[i])
        label = None if sign in labelled else f"sample ending {'> 0' if sign else '< 0'} ({counts[sign]})"
        labelled.add(sign)
        ax[0, 0].plot(early.step, key_noise.isel(sample=i), "o-", lw=0.8, ms=2,
                      color=OPT_COLORS["adam"] if sign else OPT_COLORS["signgd"], label=label)
        ax[0, 1].plot(early.step, early.mean_value_noise.isel(sample=i), "o-", lw=0.8, ms=2, color="#666666",
                      label=f"one line per training sample ({early.sizes['sample']})" if i == 0 else None)
    ax[0, 0].legend(fontsize=7)
    ax[0, 1].legend(fontsize=7)
    ax[0, 0].set(xlabel="step t", ylabel="key noise <w_K,s, y_i xi_i>", title=f"(a) key noise, neuron {neuron}")
    ax[0, 1].set(xlabel="step t", ylabel="mean value noise <vbar, y_i xi_i>", title="(b) mean value noise")
    for a in ax[0, :2]:
        a.set_xticks(range(f.early_horizon + 1))
    late = ds.sel(step=ds.step <= f.late_horizon)
    band(ax[0, 2], late.s11.mean("sample"), label="s11 (signal->signal)", color="#0072B2", logy=True)
    band(ax[0, 2], late.s21.mean("sample"), label="s21 (noise->signal)", color="#D55E00", logy=True)
    ax[0, 2].set(yscale="log", xlabel="step t", ylabel="softmax output (sample mean)", title="(c) softmax outputs")
    ax[0, 2].legend()
    _neuron_panel(ax[0, 3], experiments["dynamics"], "signgd", f, f.late_horizon)
    ax[0, 3].set_title("(d) " + ax[0, 3].get_title())
    save(fig, png, pdf, caption)


def fig2(experiments: dict, cfg: dict, png, pdf, caption) -> None:
    ds, f = experiments["dynamics"], cfg.figures
    fig, ax = subplots(1, 3, width=3.8)
    horizon = int(ds.step.max())
    for k, opt in enumerate(("signgd", "adam")):
        _neuron_panel(ax[0, k], ds, opt, f, horizon)
        ax[0, k].set_title(f"({'ab'[k]}) " + ax[0, k].get_title())
    for opt in ("signgd", "adam"):
        band(ax[0, 2], ds.train_loss.sel(optimizer=opt), label=opt, color=OPT_COLORS.get(opt), logy=True)
    ax[0, 2].set(yscale="log", xlabel="step t", ylabel="training loss", title="(c) training loss")
    ax[0, 2].legend()
    save(fig, png, pdf, caption)


def fig2d(experiments: dict, cfg: dict, png, pdf, caption) -> None:
    ds = experiments["snr"]
    snrs = ds.snr.values
    fig, ax = subplots(2, len(snrs), width=3.8)
    for j, snr in enumerate(snrs):
        for opt in ds.optimizer.values:
            sub = ds.sel(snr=snr, optimizer=opt)
            band(ax[0, j], sub.test_loss, label=str(opt), color=OPT_COLORS.get(str(opt)), logy=True)
            band(ax[1, j], sub.test_acc, label=str(opt), color=OPT_COLORS.get(str(opt)))
        ax[0, j].set(xscale="log", yscale="log", xlabel="step t", ylabel="test loss", title=f"SNR = {snr:g}")
        ax[1, j].set(xscale="log", xlabel="step t", ylabel="test accuracy", ylim=(0.4, 1.02))
        ax[0, j].legend()
    save(fig, png, pdf, caption)


def fig_digits(experiments: dict, cfg: dict, png, pdf, caption) -> None:
    ds = experiments["digits"]
    sig = ds.sigma_p.values
    fig, ax = subplots(1, 4, width=3.4)
    for opt in ds.optimizer.values:
        color = OPT_COLORS.get(str(opt))
        for k, (var, name) in enumerate((("train_loss", "final train loss"), ("test_loss", "final test loss"),
                                         ("test_acc", "final test accuracy"))):
            final = last(ds, var).sel(optimizer=opt)
            ax[0, k].errorbar(sig, final.mean("seed"), yerr=final.std("seed"), marker="o", capsize=3,
                              color=color, label=str(opt))
            ax[0, k].set(xlabel="noise std sigma_p", ylabel=name)
        band(ax[0, 3], ds.test_acc.sel(optimizer=opt, sigma_p=sig.max()), label=str(opt), color=color)
    ax[0, 0].set_yscale("log")
    ax[0, 3].set(xscale="log", xlabel="step t", ylabel="test accuracy", title=f"sigma_p = {sig.max():g}")
    for a in ax[0]:
        a.legend()
    save(fig, png, pdf, caption)


DRAW = {"fig1_signgd_dynamics": fig1, "fig2_signgd_vs_adam": fig2, "fig2d_snr_test_loss": fig2d,
        "fig_noisy_digits": fig_digits}


def make_figure(name: str, experiments: dict, settings, png, pdf, caption: str) -> None:
    DRAW[name](experiments, settings, png, pdf, caption)
