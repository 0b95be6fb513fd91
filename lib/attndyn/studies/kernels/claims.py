"""Claims of the kernels study checked by numbers (spec Sec. 8; thresholds under `checks`, fixed in advance).

Each experiment's claims follow its kind (C1-C3 from s1, C4 from s2, C5 from an LRA task, C6 from a landscape);
an experiment with several optimizers is checked once per optimizer (the optimizer named in the claim).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import xarray as xr

from ...claims import Claim, fmt, linear_fit
from ...optim.spec import OptimizerSpec, run_length
from ...results import final
from .metrics import accuracy_auc, by_optimizer, grad_ratio, relative_final_loss, s2_outcomes, steps_to_accuracy
from .settings import (Checks, KernelsExperiment, S1Data, Settings, experiment_data, experiment_model,
                       experiment_optimizer_spec)

DECAY_FLOOR = 1e-12          # the decay phase of C2 ends where the relative loss first drops below this
AT_NN_NOTE = (" (finding: the W_V-only rate [DERIVED] is 1 - c kappa^-2 per step, kappa = sigma_1 / sigma_Nn of the "
              "feature matrix; at D = Nn it is square with kappa ~ Nn and a heavy tail, so a fixed step budget "
              "cannot reach the threshold there and the log-loss curve bends as modes with spread-out rates decay; "
              "joint training: the init condition of Thm 2 [RECONSTRUCTED], sigma_Nn large relative to sqrt(loss), "
              "fails there too)")


def _by_D(values: xr.DataArray, reduce: str) -> str:
    """Per-D summary (worst over train, kernel, seed) for the measured column."""
    red = getattr(values, reduce)
    return ", ".join(f"D={int(D)}: {fmt(float(red([d for d in values.dims if d != 'D']).sel(D=D)))}"
                     for D in values["D"].values)


def wv_steps_needed(cond: xr.DataArray, limit: float, lr_scale: float) -> xr.DataArray:
    """GD steps after which the W_V-only linear-rate bound guarantees final/initial loss <= limit [DERIVED]:
    with step lr_scale / lambda_max the residual contracts by (1 - lr_scale / kappa^2) per step on the slowest
    mode, kappa = sigma_1 / sigma_Nn of the (fixed) feature matrix, so t = ln(limit) / (2 ln(1 - c / kappa^2))."""
    return np.log(limit) / (2 * np.log1p(-min(lr_scale, 1.0) / cond ** 2))


def c1_global_convergence(ds: xr.Dataset, syn: S1Data, spec: OptimizerSpec, limit: float) -> Claim:
    """Every run with D >= Nn reaches final/initial loss <= limit (and, with the 1/L step, how many steps the
    W_V-only rate bound needs)."""
    Nn = syn.N * syn.n
    rel = relative_final_loss(ds).sel(D=ds["D"] >= Nn)
    rel = rel.where(~ds["diverged"].sel(D=ds["D"] >= Nn), np.inf)         # a diverged run did not converge
    worst = rel.max("seed").max("D")                                   # (train, kernel)
    parts = [f"{t}/{k}: {fmt(float(worst.sel(train=t, kernel=k)))}" for t in worst["train"].values
             for k in worst["kernel"].values]
    smin = ds["feat_sigma_min"].isel(step=0).sel(D=ds["D"] >= Nn)
    measured = ("worst " + "; ".join(parts) + " | worst per D: " + _by_D(rel, "max")
                + " | min init sigma_Nn per D: " + _by_D(smin, "min"))
    if "wv" in ds["train"].values and spec.lr_rule == "inverse_smoothness":
        need = wv_steps_needed(ds["feat_cond"].isel(step=0).sel(train="wv", D=ds["D"] >= Nn), limit, spec.lr_scale)
        measured += (f" | W_V-only steps the 1/L rate bound needs (budget {run_length(spec)}): "
                     + _by_D(need, "max"))
    return Claim("C1 global convergence above the width threshold (S1)",
                 f"final/initial loss <= {limit:g} for every seed, D >= Nn = {Nn}, both kernels, W_V-only and joint"
                 f"{AT_NN_NOTE}", measured, bool((worst <= limit).all()))


def _decay_r2(steps: np.ndarray, rel: np.ndarray) -> float:
    """R^2 of log10(relative loss) vs step up to the first step below DECAY_FLOOR (spec C2)."""
    below = np.flatnonzero(~(rel > DECAY_FLOOR))
    end = below[0] + 1 if len(below) else len(rel)
    return linear_fit(steps[:end], np.log10(np.clip(rel[:end], 1e-300, None)))[2]


def c2_linear_rate(ds: xr.Dataset, Nn: int, r2_min: float) -> Claim:
    sub = ds.sel(D=ds["D"] >= Nn)
    rel = (sub["train_loss"] / sub["train_loss"].isel(step=0)).transpose(..., "step")
    steps = sub["step"].values.astype(float)
    r2 = np.apply_along_axis(lambda r: _decay_r2(steps, r), -1, rel.values)
    r2 = xr.DataArray(r2, dims=rel.dims[:-1], coords={d: rel[d] for d in rel.dims[:-1]})
    worst = r2.min(["seed", "D"])
    per_D = _by_D(r2, "min")
    parts = [f"{t}/{k}: {fmt(float(worst.sel(train=t, kernel=k)))}" for t in worst["train"].values
             for k in worst["kernel"].values]
    return Claim("C2 linear rate above the width threshold (S1)",
                 f"R^2 of log(loss) vs step over the decay phase >= {r2_min:g} for every run with D >= Nn{AT_NN_NOTE}",
                 "min R^2 " + "; ".join(parts) + " | min per D: " + per_D, bool((worst >= r2_min).all()))


def c3_plateau(ds: xr.Dataset, Nn: int, limit: float) -> Claim:
    if "wv" not in ds["train"].values or not (ds["D"] <= Nn // 2).any():
        return Claim("C3 plateau below the threshold (S1)", "needs W_V-only runs with D <= Nn/2", "not run", False)
    sel = dict(train="wv", D=ds["D"] <= Nn // 2)
    diverged = ds["diverged"].sel(**sel)
    rel = relative_final_loss(ds).sel(**sel).where(~diverged, -np.inf)   # a diverged run is not a plateau
    least = rel.min(["seed", "D"])
    parts = [f"{k}: {fmt(float(least.sel(kernel=k)))}" for k in least["kernel"].values]
    return Claim("C3 plateau below the threshold (S1, W_V only, random targets)",
                 f"final/initial loss >= {limit:g} for every seed with D <= Nn/2 = {Nn // 2}",
                 "min " + "; ".join(parts) + f"; diverged runs {int(diverged.sum())} (count as failures)",
                 bool((least >= limit).all()))


def c4_softmax_pitfall(ds: xr.Dataset, checks: Checks) -> Claim:
    """Some sigma_Q where Gaussian succeeds more often by a margin and every failed Softmax run stalled."""
    out = s2_outcomes(ds, checks.C4_success_rel_loss, checks.C4_grad_ratio_max)
    gr = grad_ratio(ds).sel(kernel="softmax")
    failed = relative_final_loss(ds).sel(kernel="softmax") >= checks.C4_success_rel_loss
    ynorm = ds["target_norm"].median("seed")                # ~0: vanishing teacher kernel (degenerate targets)
    rows, passed = [], False
    for s in ds["sigma_Q"].values:
        margin = float(out["success"].sel(kernel="gaussian", sigma_Q=s) - out["success"].sel(kernel="softmax", sigma_Q=s))
        f = failed.sel(sigma_Q=s)
        stalled = bool((gr.sel(sigma_Q=s).where(f) <= checks.C4_grad_ratio_max).sum() == f.sum()) and bool(f.any())
        ok = margin >= checks.C4_margin_min and stalled
        passed |= ok
        rows.append(f"sigma_Q={s:g}: success g={fmt(float(out['success'].sel(kernel='gaussian', sigma_Q=s)))} "
                    f"s={fmt(float(out['success'].sel(kernel='softmax', sigma_Q=s)))}, softmax stalled "
                    f"{int(out['stalled'].sel(kernel='softmax', sigma_Q=s))}/{int(f.sum())} failed, median ||y|| "
                    f"g={fmt(float(ynorm.sel(kernel='gaussian', sigma_Q=s)))} "
                    f"s={fmt(float(ynorm.sel(kernel='softmax', sigma_Q=s)))}{' PASS' if ok else ''}")
    vanish = [f"{v:g}" for v in ds["sigma_Q"].values
              if float(ynorm.sel(kernel="gaussian", sigma_Q=v)) < 0.01 * float(ynorm.sel(kernel="softmax", sigma_Q=v))]
    if vanish:
        rows.append("Gaussian kernel vanishes (teacher ||y|| < 1% of Softmax's, degenerate) at sigma_Q = "
                    + ", ".join(vanish))
    return Claim("C4 Softmax pitfall in W_Q-only training (S2)",
                 f"some sigma_Q: Gaussian success fraction - Softmax's >= {checks.C4_margin_min:g} and every failed "
                 f"Softmax run has grad norm <= {checks.C4_grad_ratio_max:g} x initial",
                 "; ".join(rows), passed)


def _seed_steps(steps: xr.DataArray) -> str:
    """'[320, 512, never]' for one kernel's per-seed first steps above the accuracy threshold."""
    return "[" + ", ".join("never" if np.isnan(v) else str(int(v)) for v in steps.values) + "]"


def c5_lra(ds: xr.Dataset, task: str, min_acc: float) -> Claim:
    auc = accuracy_auc(ds)
    loss = final(ds, "test_loss").mean("seed")
    acc = final(ds, "test_acc").mean("seed")
    first = steps_to_accuracy(ds, min_acc)
    g, s = "gaussian", "softmax"
    slow = [k for k in (g, s) if float(acc.sel(kernel=k)) <= min_acc]        # arms that did not learn
    ok = bool(auc.sel(kernel=g) > auc.sel(kernel=s)) and bool(loss.sel(kernel=g) < loss.sel(kernel=s)) and not slow
    measured = (f"acc AUC g={fmt(float(auc.sel(kernel=g)))} s={fmt(float(auc.sel(kernel=s)))}; final test loss "
                f"g={fmt(float(loss.sel(kernel=g)))} s={fmt(float(loss.sel(kernel=s)))}; final acc "
                f"g={fmt(float(acc.sel(kernel=g)))} s={fmt(float(acc.sel(kernel=s)))}; first step with acc > "
                f"{min_acc:g} per seed g={_seed_steps(first.sel(kernel=g))} s={_seed_steps(first.sel(kernel=s))}")
    if slow:
        learned = [k for k in (g, s) if k not in slow]
        measured += (f" | {' and '.join(slow)} ends at mean acc <= {min_acc:g} after {int(ds['step'].values[-1])} "
                     "steps" + (f" while {learned[0]} learned" if learned else
                                " (neither arm learned: the comparison is not informative at this budget)"))
    return Claim(f"C5 Gaussian learns faster than Softmax on {task} (Figs. 2-3)",
                 f"Gaussian: larger mean test-accuracy AUC and lower final test loss; both final acc > {min_acc:g}",
                 measured, ok)


def c6_landscape(ds: xr.Dataset, where: str) -> Claim:
    r = ds["roughness"].mean("seed")
    g, s = float(r.sel(kernel="gaussian")), float(r.sel(kernel="softmax"))
    wins = int((ds["roughness"].sel(kernel="gaussian") < ds["roughness"].sel(kernel="softmax")).sum())
    measured = f"roughness g={fmt(g)} s={fmt(s)} (Gaussian lower in {wins}/{ds.sizes['seed']} seeds)"
    if "stage1_test_acc" in ds:                       # LRA task: how well trained the centre points are
        acc = final(ds, "test_acc").mean("seed")
        measured += (f"; test acc after stage 1 (softmax) {fmt(float(ds['stage1_test_acc'].mean()))}, after stage 2 "
                     f"g={fmt(float(acc.sel(kernel='gaussian')))} s={fmt(float(acc.sel(kernel='softmax')))}")
    return Claim(f"C6 Gaussian landscape smoother ({where})",
                 "mean roughness (mean |discrete Laplacian| / loss range) lower for Gaussian", measured, g < s)


def _s1_claims(ds: xr.Dataset, settings: Settings, experiment: KernelsExperiment, optimizer: str) -> list[Claim]:
    syn, checks = experiment_data(settings, experiment, "s1"), settings.checks
    spec = experiment_optimizer_spec(settings, experiment, optimizer)
    Nn = syn.N * syn.n
    return [c1_global_convergence(ds, syn, spec, checks.C1_rel_loss_max), c2_linear_rate(ds, Nn, checks.C2_r2_min),
            c3_plateau(ds, Nn, checks.C3_rel_loss_min)]


def _s2_claims(ds, settings: Settings, experiment, optimizer) -> list[Claim]:
    return [c4_softmax_pitfall(ds, settings.checks)]


def _task_claims(ds, settings: Settings, experiment, optimizer) -> list[Claim]:
    return [c5_lra(ds, experiment.name, settings.checks.C5_min_acc)]


def _s3_claims(ds, settings, experiment, optimizer) -> list[Claim]:
    return [c6_landscape(ds, "S3 synthetic, Fig. 4 analogue")]


def _landscape_claims(ds, settings, experiment: KernelsExperiment, optimizer) -> list[Claim]:
    return [c6_landscape(ds, f"{experiment.task}, Fig. 4")]


KIND_CLAIMS = {"s1": _s1_claims, "s2": _s2_claims, "pathfinder": _task_claims, "text": _task_claims,
               "s3": _s3_claims, "lra_landscape": _landscape_claims}
ORDER = (("s1",), ("s2",), ("pathfinder", "text"), ("s3",), ("lra_landscape",))   # rows of claims.csv
BOTH_KERNELS = ("s2", "pathfinder", "text", "s3", "lra_landscape")                   # compare the two kernels


def _tag(experiment: KernelsExperiment, optimizer: str | None) -> str:
    """What tells a claim's experiment and optimizer apart when the default names do not."""
    default = {"lra_landscape": f"{experiment.task}_landscape"}.get(experiment.kind, experiment.kind)
    parts = [] if experiment.name == default or experiment.kind in ("pathfinder", "text") else [experiment.name]
    parts += [f"optimizer {optimizer}"] if optimizer is not None else []
    return f" [{', '.join(parts)}]" if parts else ""


def experiment_claims(ds: xr.Dataset, settings: Settings, experiment: KernelsExperiment) -> list[Claim]:
    """The claims of one experiment, per optimizer; the Gaussian-variant note ends every measured text."""
    views, out = by_optimizer(ds, experiment.optimizers), []
    note = experiment_model(settings, experiment).kernel_options().variant_note()
    for optimizer, view in views:
        tag = _tag(experiment, optimizer if len(views) > 1 else None)
        for claim in KIND_CLAIMS[experiment.kind](view, settings, experiment, optimizer or experiment.optimizers[0]):
            out.append(replace(claim, claim=claim.claim + tag, measured=claim.measured + note))
    return out


def claims(experiments: dict, settings: Settings) -> list[Claim]:
    """Every claim of the experiments present, in ORDER of kinds (the experiments' order within a kind)."""
    both, out = set(settings.kernels) == {"softmax", "gaussian"}, []
    for kinds in ORDER:
        for name, experiment in settings.experiments.items():
            if experiment.kind in kinds and name in experiments and (both or experiment.kind not in BOTH_KERNELS):
                out += experiment_claims(experiments[name], settings, experiment)
    return out
