"""Train jobs of the synthetic checks S1 (width threshold) and S2 (W_Q-only kernel comparison), spec Sec. 7.

Every seed is one run of a batched ensemble (leading run dim R); full-batch GD in the configured dtype.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
import xarray as xr

from ...grid import log_step_grid
from ...optim import build_optimizer
from ...results import cell_dataset
from ...train import Checkpointing, Problem, train
from .probes import SYNTH_VARS, per_run_grad_norm
from .synthetic import feature_singular_values, forward, squared_loss

TRAINED = {"wv": ("W_V",), "attention": ("W_Q", "W_K", "W_V"), "wq": ("W_Q",)}


def _tensors(data: dict, keys, suffix: str, ctx) -> dict:
    return {k: torch.as_tensor(data[k + suffix], dtype=ctx.dtype, device=ctx.device) for k in keys}


def per_run_step_size(loss_fn, trained: list, opt: dict) -> torch.Tensor:
    """Per-run GD step size (R,). `constant`: opt["lr"] for every run. `inverse_smoothness` [PROPOSED]:
    eta_r = lr_scale / lambda_max(Hessian of f_r at the initial point), lambda_max by power iteration on
    Hessian-vector products (runs are independent, so the Hessian of sum_r f_r is block diagonal). For the
    W_V-only least squares this is exactly c / L with L = ||J||^2 the global smoothness constant."""
    if opt.get("lr_rule", "constant") == "constant":
        R = loss_fn().shape[0]
        return torch.full((R,), float(opt["lr"]), dtype=trained[0].dtype, device=trained[0].device)
    gen = torch.Generator().manual_seed(0)
    vs = [torch.randn(p.shape, generator=gen, dtype=p.dtype).to(p.device) for p in trained]
    lam = None
    with torch.enable_grad():
        for _ in range(int(opt.get("power_iters", 30))):
            norm = torch.sqrt(sum((v.flatten(1) ** 2).sum(1) for v in vs)).clamp_min(1e-300)
            vs = [v / norm.view(-1, *[1] * (v.dim() - 1)) for v in vs]
            grads = torch.autograd.grad(loss_fn().sum(), trained, create_graph=True)
            hv = torch.autograd.grad(sum((g * v).sum() for g, v in zip(grads, vs)), trained)
            lam = sum((h * v).flatten(1).sum(1) for h, v in zip(hv, vs)).detach()
            vs = [h.detach() for h in hv]
    return float(opt["lr_scale"]) / lam.abs().clamp_min(1e-12)


def synthetic_problem(W: dict, X, y, trained, kernel: str, model: dict, opt: dict, log: dict) -> Problem:
    """Full-batch GD on the weights named in `trained` (the others stay fixed), step eta_r per run.

    GD with step eta_r on f_r is run as GD with step 1 on eta_r f_r (runs are independent); the logged
    loss and gradient norm are those of the unscaled f_r. The step sizes are stored on the problem (`eta`)."""
    temp, rownorm = model["gaussian_temperature"], model["gaussian_rownorm"]
    for name in trained:
        W[name].requires_grad_(True)
    params = {name: W[name] for name in trained}

    def raw_loss():
        return squared_loss(forward(W, X, kernel, temp, rownorm), y)          # (R,)

    eta = per_run_step_size(raw_loss, list(params.values()), opt)

    def loss(step=0, gen=None):
        return raw_loss() * eta

    def probe():
        smax, smin = feature_singular_values(W, X, kernel, temp, rownorm)
        return {"train_loss": raw_loss(), "grad_norm": per_run_grad_norm(raw_loss, list(params.values())),
                "feat_sigma_min": smin, "feat_cond": smax / smin}

    grid = log_step_grid(opt["steps"], log["points_per_decade"], log["dense_until"])
    optimizer = build_optimizer("gd", params.values(), {"lr": 1.0})
    problem = Problem(params, loss, probe, optimizer, opt["steps"], grid)
    problem.eta = eta.detach().cpu().numpy()
    return problem


def _ckpt(ctx, suffix: str) -> Checkpointing:
    path = ctx.checkpoint_path.with_name(ctx.checkpoint_path.name + suffix) if ctx.checkpoint_path else None
    return Checkpointing(path, ctx.checkpoint_every, ctx.fingerprint + suffix, ctx.stop_after)


def _pad(a: np.ndarray, axis_sizes: dict) -> np.ndarray:
    """Zero-pad `a` at the end of the given axes to the given sizes."""
    width = [(0, axis_sizes.get(i, n) - n) for i, n in enumerate(a.shape)]
    return np.pad(a, width)


def _s1_padded(data: dict, syn: dict) -> dict:
    """All D of the grid as one run batch (D-major, then seed): tokens and weights zero-padded to the largest D.
    Exact: padded token coordinates are 0, so q, k, the attention weights and the features S_i X_i are unchanged,
    and padded rows of W_Q, W_K, W_V and padded entries of W_O (d_v = D) get zero gradient and stay 0."""
    Dmax = max(syn["D_grid"])
    dv = {D: data[f"W_O_D{D}"].shape[-1] for D in syn["D_grid"]}
    dvmax = max(dv.values())
    axes = {"X": {3: Dmax}, "y": {}, "W_Q": {2: Dmax}, "W_K": {2: Dmax}, "W_V": {2: Dmax, 3: dvmax}, "W_O": {2: dvmax}}
    return {k: np.concatenate([_pad(data[f"{k}_D{D}"], ax) for D in syn["D_grid"]]) for k, ax in axes.items()}


def _split_runs(result, groups: int):
    """Split a TrainResult over G*S runs (group-major) into G results over S runs."""
    S = len(result.diverged) // groups
    return [replace(result, metrics={k: v[:, g * S:(g + 1) * S] for k, v in result.metrics.items()},
                    diverged=result.diverged[g * S:(g + 1) * S], diverged_step=result.diverged_step[g * S:(g + 1) * S])
            for g in range(groups)]


def _step_size_var(eta: np.ndarray):
    return ("seed", eta, {"long_name": "GD step size (lr_rule)"})


def train_s1(cell, data: dict, ctx) -> xr.Dataset:
    """S1: one cell = trained weights; kernels and the D grid are inside (all D x seeds in one batch per kernel),
    stacked on `kernel` and `D` dims."""
    s, syn = cell.settings, cell.settings["synthetic"]
    Ds, Nn = syn["D_grid"], syn["N"] * syn["n"]
    opt = {k: syn[k] for k in ("lr", "lr_rule", "lr_scale", "power_iters", "steps")}
    per_kernel = []
    for kernel in s["kernels"]:
        T = {k: torch.as_tensor(v, dtype=ctx.dtype, device=ctx.device) for k, v in _s1_padded(data, syn).items()}
        X, y = T.pop("X"), T.pop("y")
        problem = synthetic_problem(T, X, y, TRAINED[cell.coords["train"]], kernel, s["model"], opt, s["log"])
        result = train(problem, _ckpt(ctx, f".{kernel}"))
        parts = []
        for D, res, eta in zip(Ds, _split_runs(result, len(Ds)), np.split(problem.eta, len(Ds))):
            ds = cell_dataset(res, SYNTH_VARS, syn["seeds"], {**cell.coords, "kernel": kernel}, ctx.provenance)
            if D < Nn:
                ds["feat_sigma_min"] = ds["feat_sigma_min"] * 0.0     # rank < Nn: sigma_Nn = 0 exactly
                ds["feat_cond"] = ds["feat_cond"] * np.inf
            ds["step_size"] = _step_size_var(eta)
            parts.append(ds)
        per_kernel.append(xr.concat(parts, dim=xr.DataArray(Ds, dims="D", name="D"), data_vars="all",
                                    coords="minimal", compat="override", combine_attrs="override"))
    ds = xr.concat(per_kernel, dim="kernel", data_vars="all", coords="minimal", compat="override",
                   combine_attrs="override")
    ds["final_step"] = ds["final_step"].isel(D=0, kernel=0, drop=True)
    ds.attrs["Nn"] = Nn
    return ds


def teacher_targets(W: dict, Q_star, X, kernel: str, model: dict) -> torch.Tensor:
    """y = T(X; W_Q*, W_K, W_V, W_O) under the same kernel (reachable by construction, spec Sec. 7 S2)."""
    with torch.no_grad():
        return forward({**W, "W_Q": Q_star}, X, kernel, model["gaussian_temperature"], model["gaussian_rownorm"])


def train_s2(cell, data: dict, ctx) -> xr.Dataset:
    """S2: one cell = kernel; W_Q-only GD from W_Q = sigma_Q Z, all sigma_Q x seeds in one batch (sigma-major),
    stacked on a `sigma_Q` dim. Teacher W_Q* = teacher_scale Z* (`teacher_scale_rule: fixed`) or sigma_Q Z*
    (`match_sigma_Q`: teacher and student at the same scale, the spec's reference simulation)."""
    s, s2 = cell.settings, cell.settings["s2"]
    kernel, sigmas = cell.coords["kernel"], s2["sigma_Q_grid"]
    W = _tensors(data, ("W_K", "W_V", "W_O", "X", "W_Qstar", "Z"), "", ctx)
    X, Q_star, Z = W.pop("X"), W.pop("W_Qstar"), W.pop("Z")
    rep = lambda t: torch.cat([t] * len(sigmas))                         # noqa: E731
    W, X = {k: rep(v) for k, v in W.items()}, rep(X)
    if s2.get("teacher_scale_rule", "fixed") == "match_sigma_Q":
        Q_star = torch.cat([Q_star * (sg / s2["teacher_scale"]) for sg in sigmas])
    else:
        Q_star = rep(Q_star)
    y = teacher_targets(W, Q_star, X, kernel, s["model"])
    W["W_Q"] = torch.cat([sg * Z for sg in sigmas]).clone()
    opt = {k: s2[k] for k in ("lr", "lr_rule", "lr_scale", "power_iters", "steps") if k in s2}
    problem = synthetic_problem(W, X, y, TRAINED["wq"], kernel, s["model"], opt, s["log"])
    result = train(problem, _ckpt(ctx, ""))
    parts, seeds = [], list(range(s2["seeds"]))
    ynorm = np.split(torch.sqrt((y ** 2).sum((1, 2))).cpu().numpy(), len(sigmas))
    for res, eta, yn in zip(_split_runs(result, len(sigmas)), np.split(problem.eta, len(sigmas)), ynorm):
        ds = cell_dataset(res, SYNTH_VARS, seeds, cell.coords, ctx.provenance)
        ds["target_norm"] = ("seed", yn, {"long_name": "||y|| (teacher)"})
        ds["step_size"] = _step_size_var(eta)
        parts.append(ds)
    ds = xr.concat(parts, dim=xr.DataArray(sigmas, dims="sigma_Q", name="sigma_Q"), data_vars="all",
                   coords="minimal", compat="override", combine_attrs="override")
    ds["final_step"] = ds["final_step"].isel(sigma_Q=0, drop=True)
    return ds
