"""Train jobs of S1 (width threshold) and S2 (W_Q-only kernel comparison), spec Sec. 7.

Every seed is one run of a batched ensemble (leading run dim R), trained by the batched full-batch trainer
(train.train) in the cell's dtype; S1 batches every D of its grid, S2 every sigma_Q, beside the seeds. A batched
cell (an experiment's `batch` keys: data values such as S1's init_std, or the Gaussian kernel's options) adds its
members to the same ensemble: each member's step sizes are computed on its own runs and the kernel options are
per-run tensors, so every run gets the numbers of its own cell; Softmax members that differ only in the Gaussian
options train once.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import torch

from ....optim.spec import run_length
from ....train import TrainResult, train
from ..runs import finish, members, stack, tensors, unique_members
from ..settings import KernelOptions
from .model import forward, per_run_options, run_options, wv_floor
from .probes import SYNTH_VARS
from .problem import TRAINED, step_sizes, synthetic_problem

if TYPE_CHECKING:                                  # xarray: imported once training is done (start-up)
    import xarray as xr


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


def _axis(name: str, values) -> xr.DataArray:
    """A new stacking dimension `name` with coordinate `values`."""
    import xarray as xr

    return xr.DataArray(list(values), dims=name, name=name)


def _step_size_var(eta: np.ndarray) -> tuple:
    return ("seed", eta, {"long_name": "GD step size (lr_rule)"})


def _s1_part(result: TrainResult, eta: np.ndarray, floor: np.ndarray, D: int, Nn: int, seeds, coords: dict,
             kernel: str, ctx) -> xr.Dataset:
    """One D of one kernel: its runs' curves; sigma_Nn = 0 exactly below the threshold (rank < Nn)."""
    from ....results import cell_dataset

    ds = cell_dataset(result, SYNTH_VARS, seeds, {**coords, "kernel": kernel}, ctx.provenance)
    if D < Nn:
        ds["feat_sigma_min"] = ds["feat_sigma_min"] * 0.0
        ds["feat_cond"] = ds["feat_cond"] * np.inf
    ds["step_size"] = _step_size_var(eta)
    ds["wv_floor"] = ("seed", floor, {"long_name": "least-squares floor of W_V-only training at the initial "
                                                   "features: min over W_V of the loss (exact for train wv)"})
    return ds


def _ensemble(groups: list[tuple], trained: tuple[str, ...], kernel: str, spec, heads: int, d: int):
    """Groups (W, X, y, options) of runs as one ensemble: every group's step sizes computed on its own runs (the
    numbers of its own cell), then weights, tokens, targets and per-run kernel options concatenated."""
    eta = torch.cat([step_sizes(W, X, y, trained, kernel, o, spec) for W, X, y, o in groups]).detach()
    W = {k: torch.cat([g[0][k] for g in groups]).detach() for k in groups[0][0]}
    X, y = torch.cat([g[1] for g in groups]), torch.cat([g[2] for g in groups])
    return W, X, y, per_run_options([(g[3], len(g[1])) for g in groups], heads, d, X), eta


def _s1_group(member, Ds, ctx) -> tuple:
    """One member's S1 runs (D-major, then seed), zero-padded to the largest D: (W, X, y, options)."""
    T = {k: torch.as_tensor(v, dtype=ctx.dtype, device=ctx.device) for k, v in s1_padded(member.data, Ds).items()}
    X, y = T.pop("X"), T.pop("y")
    return T, X, y, run_options(member.settings.attention, T, X)


def _s1_kernel(group: list, kernel: str, coords: dict, ctx) -> tuple[list[xr.Dataset], float]:
    """One kernel for every (distinct) member: all members x D x seeds in one batch; per member its D parts."""
    s = group[0].settings
    p, steps = s.data.params, run_length(s.optimizer)
    Ds, Nn = p.D_grid, p.N * p.n
    W, X, y, options, eta = _ensemble([_s1_group(m, Ds, ctx) for m in group], TRAINED[s.train], kernel,
                                      s.optimizer, p.heads, p.d)
    with torch.no_grad():
        floor = wv_floor(W, X, y, kernel, options.gaussian_temperature, options.gaussian_rownorm)
    problem, eta = synthetic_problem(W, X, y, TRAINED[s.train], kernel, options, s.optimizer, s.log, steps, eta=eta)
    result = train(problem, ctx.checkpointing(f".{kernel}"))
    blocks = list(zip(split_runs(result, len(group) * len(Ds)), np.split(eta, len(group) * len(Ds)),
                      np.split(floor.cpu().numpy(), len(group) * len(Ds))))
    out = []
    for m in range(len(group)):
        parts = [_s1_part(res, e, f, D, Nn, s.seeds, coords, kernel, ctx)
                 for D, (res, e, f) in zip(Ds, blocks[m * len(Ds):(m + 1) * len(Ds)])]
        out.append(stack(parts, _axis("D", Ds)))
    return out, result.wall_time


def train_s1(cell, data: dict, ctx) -> xr.Dataset:
    """S1: one cell = trained weights (`train`) and optimizer; the kernels and the D grid are inside (all D x
    seeds, and all members of a batched cell, in one batch per kernel), stacked on `kernel` and `D` dims."""
    group = members(cell, data)
    s, per_kernel, seconds = group[0].settings, [], 0.0
    for kernel in s.kernels:
        distinct, index = unique_members(group, kernel)
        parts, wall = _s1_kernel(distinct, kernel, cell.coords, ctx)
        per_kernel.append([parts[i] for i in index])
        seconds += wall
    parts = [stack([k[m] for k in per_kernel], "kernel") for m in range(len(group))]
    for ds in parts:
        ds.attrs["Nn"] = s.data.params.N * s.data.params.n
    return finish(cell, parts, seconds)


def teacher_targets(W: dict, Q_star, X, kernel: str, options: KernelOptions) -> torch.Tensor:
    """y = T(X; W_Q*, W_K, W_V, W_O) under the same kernel (reachable by construction, spec Sec. 7 S2)."""
    with torch.no_grad():
        return forward({**W, "W_Q": Q_star}, X, kernel, options.gaussian_temperature, options.gaussian_rownorm)


def _s2_group(s, data: dict, ctx) -> tuple:
    """Weights, tokens, teacher targets and kernel options of every sigma_Q x seed of one member (sigma-major):
    W_Q = sigma_Q Z; teacher W_Q* = teacher_scale Z* (`teacher_scale_rule: fixed`) or sigma_Q Z*
    (`match_sigma_Q`), its targets under the student's kernel options (a scale-matched temperature: the
    student's at initialization)."""
    p, sigmas = s.data.params, s.data.params.sigma_Q_grid
    W = tensors(data, ("W_K", "W_V", "W_O", "X", "W_Qstar", "Z"), ctx)
    X, Q_star, Z = W.pop("X"), W.pop("W_Qstar"), W.pop("Z")
    rep = lambda t: torch.cat([t] * len(sigmas))
    W, X = {k: rep(v) for k, v in W.items()}, rep(X)
    if p.teacher_scale_rule == "match_sigma_Q":
        Q_star = torch.cat([Q_star * (sg / p.teacher_scale) for sg in sigmas])
    else:
        Q_star = rep(Q_star)
    W["W_Q"] = torch.cat([sg * Z for sg in sigmas]).clone()
    options = run_options(s.attention, W, X)
    return W, X, teacher_targets(W, Q_star, X, s.kernel, options), options


def _s2_parts(result: TrainResult, eta: np.ndarray, y: torch.Tensor, s, coords: dict, ctx) -> list[xr.Dataset]:
    """One member's runs (its block of the ensemble) as per-sigma_Q datasets."""
    from ....results import cell_dataset

    parts, sigmas = [], s.data.params.sigma_Q_grid
    ynorm = np.split(torch.sqrt((y ** 2).sum((1, 2))).cpu().numpy(), len(sigmas))
    for res, e, yn in zip(split_runs(result, len(sigmas)), np.split(eta, len(sigmas)), ynorm):
        ds = cell_dataset(res, SYNTH_VARS, s.seeds, coords, ctx.provenance)
        ds["target_norm"] = ("seed", yn, {"long_name": "||y|| (teacher)"})
        ds["step_size"] = _step_size_var(e)
        parts.append(ds)
    return parts


def train_s2(cell, data: dict, ctx) -> xr.Dataset:
    """S2: one cell = kernel and optimizer; W_Q-only training from W_Q = sigma_Q Z, all sigma_Q x seeds (and
    every distinct member of a batched cell) in one batch, stacked on a `sigma_Q` dim."""
    group = members(cell, data)
    distinct, index = unique_members(group, group[0].settings.kernel)
    s = distinct[0].settings
    groups = [_s2_group(m.settings, m.data, ctx) for m in distinct]
    W, X, y, options, eta = _ensemble(groups, TRAINED["wq"], s.kernel, s.optimizer, s.data.params.heads,
                                      s.data.params.d)
    problem, eta = synthetic_problem(W, X, y, TRAINED["wq"], s.kernel, options, s.optimizer, s.log,
                                     run_length(s.optimizer), eta=eta)
    result = train(problem, ctx.checkpointing(""))
    sigmas = _axis("sigma_Q", s.data.params.sigma_Q_grid)
    blocks = zip(split_runs(result, len(distinct)), np.split(eta, len(distinct)),
                 torch.split(y, len(y) // len(distinct)), distinct)
    parts = [stack(_s2_parts(res, e, yy, m.settings, cell.coords, ctx), sigmas) for res, e, yy, m in blocks]
    return finish(cell, [parts[i] for i in index], result.wall_time)
