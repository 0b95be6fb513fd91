"""Train jobs of S1 (width threshold) and S2 (W_Q-only kernel comparison), spec Sec. 7.

Every seed is one run of a batched ensemble (leading run dim R), trained by the batched full-batch trainer
(train.train) in the cell's dtype; S1 batches every D of its grid, S2 every sigma_Q, beside the seeds.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
import xarray as xr

from ....optim.spec import run_length
from ....results import cell_dataset
from ....train import TrainResult, train
from ..runs import stack, tensors
from ..settings import KernelOptions
from .model import forward, wv_floor
from .probes import SYNTH_VARS
from .problem import TRAINED, synthetic_problem


def _pad(a: np.ndarray, axis_sizes: dict) -> np.ndarray:
    """Zero-pad `a` at the end of the given axes to the given sizes."""
    width = [(0, axis_sizes.get(i, n) - n) for i, n in enumerate(a.shape)]
    return np.pad(a, width)


def s1_padded(data: dict, D_grid) -> dict:
    """All D of the grid as one run batch (D-major, then seed): tokens and weights zero-padded to the largest D.
    Exact: padded token coordinates are 0, so q, k, the attention weights and the features S_i X_i are unchanged,
    and padded rows of W_Q, W_K, W_V and padded entries of W_O (d_v = D) get zero gradient and stay 0."""
    Dmax = max(D_grid)
    dvmax = max(data[f"W_O_D{D}"].shape[-1] for D in D_grid)
    axes = {"X": {3: Dmax}, "y": {}, "W_Q": {2: Dmax}, "W_K": {2: Dmax}, "W_V": {2: Dmax, 3: dvmax}, "W_O": {2: dvmax}}
    return {k: np.concatenate([_pad(data[f"{k}_D{D}"], ax) for D in D_grid]) for k, ax in axes.items()}


def split_runs(result: TrainResult, groups: int) -> list[TrainResult]:
    """Split a TrainResult over G*S runs (group-major) into G results over S runs."""
    S = len(result.diverged) // groups
    return [replace(result, metrics={k: v[:, g * S:(g + 1) * S] for k, v in result.metrics.items()},
                    diverged=result.diverged[g * S:(g + 1) * S], diverged_step=result.diverged_step[g * S:(g + 1) * S])
            for g in range(groups)]


def _step_size_var(eta: np.ndarray) -> tuple:
    return ("seed", eta, {"long_name": "GD step size (lr_rule)"})


def _s1_part(result: TrainResult, eta: np.ndarray, floor: np.ndarray, D: int, Nn: int, cell, kernel: str,
             ctx) -> xr.Dataset:
    """One D of one kernel: its runs' curves; sigma_Nn = 0 exactly below the threshold (rank < Nn)."""
    ds = cell_dataset(result, SYNTH_VARS, cell.settings.seeds, {**cell.coords, "kernel": kernel}, ctx.provenance)
    if D < Nn:
        ds["feat_sigma_min"] = ds["feat_sigma_min"] * 0.0
        ds["feat_cond"] = ds["feat_cond"] * np.inf
    ds["step_size"] = _step_size_var(eta)
    ds["wv_floor"] = ("seed", floor, {"long_name": "least-squares floor of W_V-only training at the initial "
                                                   "features: min over W_V of the loss (exact for train wv)"})
    return ds


def train_s1(cell, data: dict, ctx) -> xr.Dataset:
    """S1: one cell = trained weights (`train`) and optimizer; the kernels and the D grid are inside (all
    D x seeds in one batch per kernel), stacked on `kernel` and `D` dims."""
    s = cell.settings
    Ds, Nn, steps = s.data.params.D_grid, s.data.params.N * s.data.params.n, run_length(s.optimizer)
    per_kernel = []
    for kernel in s.kernels:
        T = {k: torch.as_tensor(v, dtype=ctx.dtype, device=ctx.device) for k, v in s1_padded(data, Ds).items()}
        X, y = T.pop("X"), T.pop("y")
        with torch.no_grad():
            floor = wv_floor(T, X, y, kernel, s.attention.gaussian_temperature, s.attention.gaussian_rownorm)
        problem, eta = synthetic_problem(T, X, y, TRAINED[s.train], kernel, s.attention, s.optimizer, s.log, steps)
        result = train(problem, ctx.checkpointing(f".{kernel}"))
        parts = [_s1_part(res, e, f, D, Nn, cell, kernel, ctx) for D, res, e, f in
                 zip(Ds, split_runs(result, len(Ds)), np.split(eta, len(Ds)), np.split(floor.cpu().numpy(), len(Ds)))]
        per_kernel.append(stack(parts, xr.DataArray(list(Ds), dims="D", name="D")))
    ds = stack(per_kernel, "kernel")
    ds.attrs["Nn"] = Nn
    return ds


def teacher_targets(W: dict, Q_star, X, kernel: str, options: KernelOptions) -> torch.Tensor:
    """y = T(X; W_Q*, W_K, W_V, W_O) under the same kernel (reachable by construction, spec Sec. 7 S2)."""
    with torch.no_grad():
        return forward({**W, "W_Q": Q_star}, X, kernel, options.gaussian_temperature, options.gaussian_rownorm)


def _s2_batch(cell, data: dict, ctx) -> tuple[dict, torch.Tensor, torch.Tensor]:
    """Weights, tokens and teacher targets of every sigma_Q x seed (sigma-major): W_Q = sigma_Q Z; teacher
    W_Q* = teacher_scale Z* (`teacher_scale_rule: fixed`) or sigma_Q Z* (`match_sigma_Q`)."""
    s = cell.settings
    p, sigmas = s.data.params, s.data.params.sigma_Q_grid
    W = tensors(data, ("W_K", "W_V", "W_O", "X", "W_Qstar", "Z"), ctx)
    X, Q_star, Z = W.pop("X"), W.pop("W_Qstar"), W.pop("Z")
    rep = lambda t: torch.cat([t] * len(sigmas))                         # noqa: E731
    W, X = {k: rep(v) for k, v in W.items()}, rep(X)
    if p.teacher_scale_rule == "match_sigma_Q":
        Q_star = torch.cat([Q_star * (sg / p.teacher_scale) for sg in sigmas])
    else:
        Q_star = rep(Q_star)
    y = teacher_targets(W, Q_star, X, s.kernel, s.attention)
    W["W_Q"] = torch.cat([sg * Z for sg in sigmas]).clone()
    return W, X, y


def train_s2(cell, data: dict, ctx) -> xr.Dataset:
    """S2: one cell = kernel and optimizer; W_Q-only training from W_Q = sigma_Q Z, all sigma_Q x seeds in one
    batch, stacked on a `sigma_Q` dim."""
    s = cell.settings
    sigmas = s.data.params.sigma_Q_grid
    W, X, y = _s2_batch(cell, data, ctx)
    problem, eta = synthetic_problem(W, X, y, TRAINED["wq"], s.kernel, s.attention, s.optimizer, s.log,
                                     run_length(s.optimizer))
    result = train(problem, ctx.checkpointing(""))
    parts = []
    ynorm = np.split(torch.sqrt((y ** 2).sum((1, 2))).cpu().numpy(), len(sigmas))
    for res, e, yn in zip(split_runs(result, len(sigmas)), np.split(eta, len(sigmas)), ynorm):
        ds = cell_dataset(res, SYNTH_VARS, s.seeds, cell.coords, ctx.provenance)
        ds["target_norm"] = ("seed", yn, {"long_name": "||y|| (teacher)"})
        ds["step_size"] = _step_size_var(e)
        parts.append(ds)
    return stack(parts, xr.DataArray(list(sigmas), dims="sigma_Q", name="sigma_Q"))
