"""Figures of the kernels study (spec Sec. 4.2, 7). Mean over seeds with a band unless said otherwise."""
from __future__ import annotations

import numpy as np

from ...figures.common import band, save, subplots
from .metrics import relative_final_loss, roughness, s2_outcomes
from .plan import FIGURES, gaussian_variant_note

COLORS = {"softmax": "tab:red", "gaussian": "tab:blue"}
TRAIN_LABEL = {"wv": "W_V only", "attention": "W_Q, W_K, W_V"}


def _save(fig, png, pdf, caption: str) -> None:
    """No minor tick labels (they crowd the log axes), then PNG + PDF with the caption below the panels."""
    from matplotlib.ticker import NullFormatter

    for ax in fig.axes:
        ax.xaxis.set_minor_formatter(NullFormatter())
    save(fig, png, pdf, caption)


def fig_s1(experiments: dict, cfg: dict, png, pdf, caption) -> None:
    ds = experiments["s1"]
    Nn = cfg["synthetic"]["N"] * cfg["synthetic"]["n"]
    trains = list(ds["train"].values)
    fig, ax = subplots(1, 1 + len(trains), width=3.6)
    rel = relative_final_loss(ds).clip(min=1e-33)
    for train in trains:
        for kernel in ds["kernel"].values:
            r = rel.sel(train=train, kernel=kernel)
            style = "-" if train == "wv" else "--"
            ax[0, 0].plot(ds["D"] / Nn, r.median("seed"), style + "o", color=COLORS[kernel], ms=3,
                          label=f"{kernel}, {TRAIN_LABEL[train]}")
            ax[0, 0].fill_between(ds["D"] / Nn, r.min("seed"), r.max("seed"), color=COLORS[kernel], alpha=0.12)
    ax[0, 0].axvline(1.0, color="grey", lw=0.8)
    ax[0, 0].axhline(cfg["checks"]["C1_rel_loss_max"], color="k", lw=0.6, ls=":")
    ax[0, 0].set(xscale="log", yscale="log", xlabel="D / (Nn)", ylabel="final / initial loss",
                 title="S1: width threshold (median, min-max)", ylim=(1e-34, 1e4))
    ax[0, 0].legend(fontsize=6)
    for j, train in enumerate(trains, start=1):
        for D, alpha in zip(ds["D"].values, np.linspace(0.3, 1, ds.sizes["D"])):
            for kernel in ds["kernel"].values:
                loss = ds["train_loss"].sel(train=train, kernel=kernel, D=D)
                band(ax[0, j], (loss / loss.isel(step=0)).clip(min=1e-33), color=COLORS[kernel], alpha=alpha,
                     logy=True, label=f"{kernel} D={D}" if kernel == "softmax" or D == ds["D"].values[-1] else None)
        ax[0, j].set(yscale="log", xlabel="GD step", ylabel="loss / initial", title=f"S1 curves: {TRAIN_LABEL[train]}",
                     ylim=(1e-34, 1e4))
        ax[0, j].legend(fontsize=5, ncol=2)
    _save(fig, png, pdf, caption)


def fig_s2(experiments: dict, cfg: dict, png, pdf, caption) -> None:
    ds, s2 = experiments["s2"], cfg["s2"]
    out = s2_outcomes(ds, s2["success_rel_loss"], cfg["checks"]["C4_grad_ratio_max"])
    rel = relative_final_loss(ds).clip(min=1e-33)
    fig, ax = subplots(1, 3, width=3.6)
    sig = ds["sigma_Q"].values
    for kernel in ds["kernel"].values:
        c = COLORS[kernel]
        ax[0, 0].plot(sig, out["success"].sel(kernel=kernel), "o-", color=c, label=f"{kernel} success")
        ax[0, 0].plot(sig, out["stall"].sel(kernel=kernel), "x--", color=c, label=f"{kernel} stall")
        offset = 0.93 if kernel == "softmax" else 1.07
        for s in sig:
            r = rel.sel(kernel=kernel, sigma_Q=s).values
            ax[0, 1].scatter(np.full(len(r), s * offset), r, s=6, color=c, alpha=0.6,
                             label=kernel if s == sig[0] else None)
        band(ax[0, 2], (ds["train_loss"] / ds["train_loss"].isel(step=0)).sel(kernel=kernel, sigma_Q=sig[-1])
             .clip(min=1e-33), color=c, logy=True, kind="range", label=f"{kernel}, sigma_Q={sig[-1]}")
    ax[0, 0].set(xscale="log", xlabel="sigma_Q (init std of W_Q)", ylabel="fraction of seeds",
                 title="S2: W_Q-only outcomes", ylim=(-0.05, 1.05))
    ax[0, 1].axhline(s2["success_rel_loss"], color="k", lw=0.6, ls=":")
    ax[0, 1].set(xscale="log", yscale="log", xlabel="sigma_Q", ylabel="final / initial loss", title="every seed")
    ax[0, 2].set(yscale="log", xlabel="GD step", ylabel="loss / initial", title="curves (geo-mean, min-max)")
    for a in ax[0]:
        a.legend(fontsize=6)
    _save(fig, png, pdf, caption)


def fig_landscape(experiments: dict, cfg: dict, png, pdf, caption, experiment: str) -> None:
    """Contours of the first seed's slice per kernel, roughness per seed (and stage-2 accuracy on a task)."""
    ds = experiments[experiment]
    kernels = list(ds["kernel"].values)
    task = "stage1_test_acc" in ds
    fig, ax = subplots(1, len(kernels) + 1 + task, width=4.0)
    a, b = ds["a"].values, ds["b"].values
    for j, kernel in enumerate(kernels):
        grid = ds["landscape"].sel(kernel=kernel).isel(seed=0).values
        cs = ax[0, j].contourf(b, a, np.log10(grid), levels=30, cmap="viridis")
        fig.colorbar(cs, ax=ax[0, j], label="log10 loss")
        ax[0, j].set(xlabel="d2", ylabel="d1", title=f"stage 2 = {kernel}: rough {roughness(grid):.3g}, "
                                                    f"loss range {np.ptp(grid):.2g}")
    r = ds["roughness"]
    for kernel in kernels:
        ax[0, len(kernels)].scatter(ds["seed"], r.sel(kernel=kernel), color=COLORS[kernel], label=kernel)
    ax[0, len(kernels)].set(xlabel="seed", ylabel="mean |Laplacian| / range", title="roughness per seed")
    ax[0, len(kernels)].legend()
    if task:
        for kernel in kernels:
            band(ax[0, -1], ds["test_acc"].sel(kernel=kernel), label=kernel, color=COLORS[kernel], kind="range")
        ax[0, -1].axhline(float(ds["stage1_test_acc"].mean()), color="grey", lw=0.8, ls="--", label="end of stage 1")
        ax[0, -1].set(xlabel="stage-2 step", ylabel="test accuracy", title="stage 2 (mean, min-max)")
        ax[0, -1].legend()
    _save(fig, png, pdf, caption)


def lra_settings(cfg: dict, task: str, steps: int) -> str:
    """The run's settings in one line, appended to the static caption."""
    lra, t = cfg["lra"], cfg["lra"][task]
    if task == "pathfinder":
        data = (f"{t['size']}x{t['size']} images, path length {t['path_length']}, {t['distractors']} "
                f"distractor(s), {t['n_train']} training images")
    else:
        cap = f"at most {t['subsample']}" if t["subsample"] else "all"
        data = f"max_len {t['max_len']} bytes, {cap} reviews per split, momentum {t['momentum']:g}"
    return (f" This run: {data}, {t['optimizer']} lr {t['lr']:g}, batch {t['batch_size']}, {steps} steps, "
            f"embedding init std {lra['init_std']:g}, dropout {lra['dropout']:g}/{lra['attn_dropout']:g}, "
            f"{len(lra['seeds'])} seeds.")


def landscape_settings(cfg: dict) -> str:
    ls = cfg["lra"]["landscape"]
    return (f" This run: {ls['stage2_steps']} stage-2 steps on {ls['stage2_params']}, directions on {ls['params']}, "
            f"{ls['grid']}x{ls['grid']} grid over {ls['range']}, loss on {ls['n_examples']} training examples.")


def fig_lra(experiments: dict, cfg: dict, png, pdf, caption, task: str) -> None:
    """Test accuracy and loss vs step: mean over seeds, min-max band, one thin line per seed."""
    ds = experiments[task]
    caption += lra_settings(cfg, task, int(ds["step"].values[-1]))
    fig, ax = subplots(1, 2, width=3.8)
    for col, var in enumerate(("test_acc", "test_loss")):
        for kernel in ds["kernel"].values:
            values = ds[var].sel(kernel=kernel)
            band(ax[0, col], values, label=kernel, color=COLORS[kernel], kind="range")
            ax[0, col].plot(ds["step"], values.transpose("step", "seed"), color=COLORS[kernel], lw=0.5, alpha=0.6)
    ax[0, 0].axhline(0.5, color="grey", lw=0.6, ls=":")
    ax[0, 0].set(xlabel="step", ylabel="test accuracy", title=f"{task}: test accuracy")
    ax[0, 1].set(xlabel="step", ylabel="test cross-entropy", title=f"{task}: test loss")
    for a in ax[0]:
        a.legend()
    _save(fig, png, pdf, caption)


DRAW = {
    "fig_s1_width_threshold": fig_s1,
    "fig_s2_wq_only": fig_s2,
    "fig_s3_landscape": lambda e, c, png, pdf, cap: fig_landscape(e, c, png, pdf, cap, "s3"),
    "fig_pathfinder_landscape": lambda e, c, png, pdf, cap: fig_landscape(
        e, c, png, pdf, cap + landscape_settings(c), "pathfinder_landscape"),
    "fig_pathfinder": lambda e, c, png, pdf, cap: fig_lra(e, c, png, pdf, cap, "pathfinder"),
    "fig_text": lambda e, c, png, pdf, cap: fig_lra(e, c, png, pdf, cap, "text"),
}


def make_figure(name: str, experiments: dict, section: dict, png, pdf) -> None:
    DRAW[name](experiments, section, png, pdf, FIGURES[name].caption + gaussian_variant_note(section["model"]))
