"""Figures of the precond study (spec Sec. 7): mean +- 1 sd over seeds (geometric on log axes)."""
from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.ticker import NullFormatter

from ...figures.common import band, save, sequential, subplots
from ...results import final
from .settings import CONDITIONING, FIG1, FIG2, TUNING, Settings
from .styles import ABLATION_COLORS, ABLATION_LABELS, COLORS, label, ordered, palette
from .tuning import preconditioner_runs, trivial_errors, tune, tuned_runs

METRICS = {"E_inf": "E_inf (Theorem 1)", "train_loss": "training loss L_n", "test_risk": "test risk (finite context)"}


def _metric_order(settings: Settings) -> list[str]:
    first = settings.figures.y_metric
    return [first] + [m for m in METRICS if m != first]


def _references(experiments: dict, settings: Settings, name: str) -> dict:
    """What Figs. 1-2 draw beside the pair (the C1/C2 baselines): SGD at its best rate of sgd_tuning (chosen at
    the step matched in compute to Algorithm 1 `name` at checks.C1_C2_time) and the trivial predictor A = B = 0."""
    refs = {"trivial": float(np.exp(np.log(trivial_errors(settings, "compare")).mean()))}
    if TUNING in experiments:
        step = settings.matched_sgd_step(name)
        runs = experiments[TUNING].sel(optimizer=settings.experiments[TUNING].optimizers[0])
        tuned = tune(runs, step)
        if tuned.found:
            refs.update(tuned=tuned_runs(runs, tuned), step=step,
                        label=f"SGD, best rate of {TUNING} (lr {tuned.lr:g}); o: compute of Alg. 1 at "
                              f"t={settings.checks.C1_C2_time}")
    return refs


def _draw_references(ax, metric: str, refs: dict) -> None:
    tuned = refs.get("tuned")
    if tuned is not None and metric in tuned:
        band(ax, tuned[metric], label=refs["label"], color="#332288", logy=True, ls=":")
        at_step = tuned[metric].sel(step=refs["step"])
        ax.plot([refs["step"]], [float(10 ** np.log10(at_step).mean())], "o", color="#332288")
    if metric in ("E_inf", "test_risk"):                    # 1/2 tr(M Sigma M^T): both, for yhat = 0
        ax.axhline(refs["trivial"], color="gray", ls="-.", lw=1, label="trivial predictor A = B = 0")


def _compare(ds: xr.Dataset, settings: Settings, pair: tuple[str, ...], extras: list[str], refs: dict, png, pdf,
             caption) -> None:
    """Three panels (the y_metric first), one band per optimizer: the figure's pair solid, extras dashed; the
    tuned SGD dotted and the trivial predictor dash-dotted (C1/C2's baselines)."""
    names = ordered(list(pair) + extras, ds.optimizer.values)
    colors = palette(names, COLORS)
    fig, ax = subplots(1, 3, width=3.8)
    for k, metric in enumerate(_metric_order(settings)):
        for name in names:
            band(ax[0, k], ds[metric].sel(optimizer=name), label=label(name), color=colors[name], logy=True,
                 ls="-" if name in pair else "--")
        _draw_references(ax[0, k], metric, refs)
        ax[0, k].set(yscale="log", xscale="symlog", xlabel="iteration t (symlog)", ylabel=METRICS[metric])
        ax[0, k].set_xlim(left=0)
    fig.legend(*ax[0, 0].get_legend_handles_labels(), loc="outside upper center", ncol=2, fontsize=8)  # off the curves
    save(fig, png, pdf, caption)


def fig1(experiments: dict, settings: Settings, png, pdf, caption) -> None:
    _compare(experiments["compare"], settings, FIG1, [], _references(experiments, settings, FIG1[0]), png, pdf,
             caption)


def fig2(experiments: dict, settings: Settings, png, pdf, caption) -> None:
    """The same-random-point pair and every other optimizer of the experiment except the spectral start."""
    extras = [n for n in settings.experiments["compare"].optimizers if n not in FIG1 + FIG2]
    _compare(experiments["compare"], settings, FIG2, extras, _references(experiments, settings, FIG2[0]), png, pdf,
             caption)


def _floor_panel(ax, ds: xr.Dataset, names: list[str]) -> None:
    """(b) final E_inf vs n (log-log) per optimizer, the spectral init alone, and a slope -1 reference."""
    ns = ds.n.values
    curves = [(np.log10(final(ds.sel(optimizer=n), "E_inf")), f"{label(n)}, final", "o") for n in names]
    if "E_inf_spectral_init" in ds:
        spectral = ds.E_inf_spectral_init.sel(optimizer=names[0]).isel(step=0)
        curves.append((np.log10(spectral), "spectral init alone", "s"))
    for values, name, marker in curves:                                  # values (n, seed)
        mean, sd = values.mean("seed").values, values.std("seed").values
        ax.errorbar(ns, 10 ** mean, yerr=[10 ** mean - 10 ** (mean - sd), 10 ** (mean + sd) - 10 ** mean],
                    marker=marker, capsize=3, label=name)
    ref = 10 ** float(curves[0][0].mean("seed").values[0]) * ns[0] / ns
    ax.plot(ns, ref, "k--", lw=1, label="slope -1 reference")
    ax.set(xscale="log", yscale="log", xlabel="training-set size n", ylabel="E_inf", title="(b) floor vs n")
    ax.set_xticks(ns, [str(n) for n in ns], minor=False)
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.legend()


def figS1(experiments: dict, settings: Settings, png, pdf, caption) -> None:
    """(a) E_inf vs t per n of the experiment's first optimizer; (b) the floors vs n."""
    ds = experiments["scaling"]
    names = ordered(settings.experiments["scaling"].optimizers, ds.optimizer.values)
    fig, ax = subplots(1, 2, width=4.2)
    main = ds.sel(optimizer=names[0])
    for n, color in zip(ds.n.values, sequential(ds.sizes["n"])):
        band(ax[0, 0], main.E_inf.sel(n=n), label=f"n = {n}", color=color, logy=True)
    ax[0, 0].set(yscale="log", xlabel="iteration t", ylabel="E_inf", title=f"(a) {label(names[0])}, E_inf vs t")
    ax[0, 0].legend()
    _floor_panel(ax[0, 1], ds, names)
    save(fig, png, pdf, caption)


def _ablation_row(ax_row, sub: xr.Dataset, names: list[str], spec: str) -> None:
    """E_inf and ||B||_op of one covariance; diverged runs are dropped from the bands (counted in the legend)."""
    colors = palette(names, ABLATION_COLORS)
    for name in names:
        run = sub.sel(optimizer=name)
        bad = int(run.diverged.sum())
        text = label(name, ABLATION_LABELS) + (f" ({bad}/{run.sizes['seed']} diverged)" if bad else "")
        kept = run.sel(seed=~run.diverged.values) if bad < run.sizes["seed"] else run
        for k, var in enumerate(("E_inf", "B_op")):
            band(ax_row[k], kept[var], label=text, color=colors[name], logy=True,
                 lw=2.5 if name == names[0] else 1.2)
    E = sub.E_inf
    limits = (0.3 * float(E.where(~sub.diverged).min()), 10 * float(E.isel(step=0).max()))
    ax_row[0].set(yscale="log", xlabel="iteration t", ylabel="E_inf", title=f"Sigma: {spec}", ylim=limits)
    ax_row[1].set(yscale="log", xlabel="iteration t", ylabel="||B||_op", title=f"Sigma: {spec}", ylim=(0.1, 1e3))
    ax_row[0].legend()


def figS2(experiments: dict, settings: Settings, png, pdf, caption) -> None:
    """One row per covariance; the experiment's first optimizer (the full Algorithm 1) drawn thick."""
    ds = experiments["ablations"]
    names = ordered(settings.experiments["ablations"].optimizers, ds.optimizer.values)
    if "sigma_spec" in ds.dims:
        rows = [(str(spec), ds.sel(sigma_spec=spec)) for spec in ds.sigma_spec.values]
    else:
        rows = [(settings.data.sigma_spec, ds)]
    fig, ax = subplots(len(rows), 2, width=4.2)
    for i, (spec, sub) in enumerate(rows):
        _ablation_row(ax[i], sub, names, spec)
    save(fig, png, pdf, caption)


def _conditioning_row(ax_row, ds: xr.Dataset, settings: Settings, spec: str) -> None:
    """(a) E_inf vs t of each preconditioner at its best rate; (b) seed-mean final training loss vs lr."""
    roles = preconditioner_runs(settings)
    colors = palette(list(roles.values()), ABLATION_COLORS)
    T = int(ds.final_step.max())
    for role, name in roles.items():
        runs = ds.sel(sigma_spec=spec, optimizer=name)
        tuned = tune(runs, T)
        text = f"{label(name, ABLATION_LABELS)} ({role})"
        if tuned.found:
            band(ax_row[0], tuned_runs(runs, tuned).E_inf, label=f"{text}, lr {tuned.lr:g}", color=colors[name],
                 logy=True)
        lrs = sorted(tuned.scores)
        ax_row[1].plot(lrs, [10 ** tuned.scores[lr] for lr in lrs], "o-", color=colors[name], label=text)
    ax_row[0].set(yscale="log", xlabel="iteration t", ylabel="E_inf", title=f"Sigma: {spec}, best rate each")
    ax_row[1].set(xscale="log", yscale="log", xlabel="lr", ylabel=f"train loss at t={T} (seed geo-mean)",
                  title=f"Sigma: {spec}, lr sweep (gaps: diverged)")
    ax_row[1].xaxis.set_minor_formatter(NullFormatter())
    ax_row[0].legend()
    ax_row[1].legend()


def figS3(experiments: dict, settings: Settings, png, pdf, caption) -> None:
    """C8: the whitening vs the identity preconditioner, one row per covariance."""
    ds = experiments[CONDITIONING]
    specs = [str(s) for s in ds.sigma_spec.values] if "sigma_spec" in ds.dims else []
    fig, ax = subplots(max(len(specs), 1), 2, width=4.2)
    for i, spec in enumerate(specs):
        _conditioning_row(ax[i], ds, settings, spec)
    save(fig, png, pdf, caption)


DRAW = {"fig1_spectral_vs_sgd": fig1, "fig2_same_random_init": fig2, "figS1_scaling": figS1,
        "figS2_ablations": figS2, "figS3_conditioning": figS3}


def make_figure(name: str, experiments: dict[str, xr.Dataset], settings: Settings, png, pdf, caption: str) -> None:
    DRAW[name](experiments, settings, png, pdf, caption)
