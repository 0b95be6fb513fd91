"""Two-stage loss-landscape slices on synthetic data (spec Sec. 4.2 Fig. 4, Sec. 7 S3), their roughness (C6)
and the curvature at their centre.

Stage 1 trains W_Q, W_K, W_V with Softmax; stage 2 continues from that point training the `stage2_params`
(W_Q) with the cell's kernel; then the training loss is evaluated on theta* + a d1 + b d2 over a grid, for
`direction_pairs` pairs d1, d2 of random Gaussian directions on the `params` weights, filter-normalized (Li et
al. 2018: each column of a direction scaled to the norm of that column of theta*).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from ....optim.spec import run_length
from ....optim.step_size import lambda_max
from ....train import train
from ..runs import stack, tensors
from ..settings import KernelOptions
from ..slices import direction_pairs, slice_coords, slice_grid
from .model import forward, squared_loss
from .probes import SYNTH_VARS, regression_loss
from .problem import TRAINED, synthetic_problem

if TYPE_CHECKING:                                  # xarray: imported once training is done (start-up)
    import xarray as xr


def loss_grid(W: dict, X, y, kernel: str, options: KernelOptions, d1: dict, d2: dict,
              coords: np.ndarray) -> np.ndarray:
    """Loss on W + a d1 + b d2 (d1, d2: weight name -> direction) for a, b in coords: (R, G, G)."""
    base = {name: W[name].detach() for name in d1}

    def loss_at(a: float, b: float) -> np.ndarray:
        with torch.no_grad():
            moved = {**W, **{name: base[name] + a * d1[name] + b * d2[name] for name in d1}}
            return squared_loss(forward(moved, X, kernel, options.gaussian_temperature, options.gaussian_rownorm),
                                y).cpu().numpy()                                         # (R,)
    return slice_grid(coords, loss_at)


def _detached(W: dict) -> dict:
    return {k: v.detach().clone() for k, v in W.items()}


def centre_curvature(W: dict, X, y, kernel: str, options: KernelOptions, names, iters: int) -> np.ndarray:
    """Per run, the largest-magnitude Hessian eigenvalue (signed) of the training loss in the weights `names`
    at W (power iteration on Hessian-vector products, optim.step_size.lambda_max): (R,)."""
    centre = _detached(W)
    for name in names:
        centre[name].requires_grad_(True)
    loss = regression_loss(centre, X, y, kernel, options)
    return lambda_max(loss, [centre[name] for name in names], iters).cpu().numpy()


def _slice(ds: xr.Dataset, W: dict, X, y, kernel: str, cell) -> xr.Dataset:
    """Add to one kernel's dataset the 2-D slices around the stage-2 end point (one per direction pair), their
    roughness and the curvature at the centre."""
    from ..metrics import slice_roughness

    s = cell.settings
    ls, names = s.landscape, TRAINED[s.landscape.params]
    coords = slice_coords(ls.range, ls.grid)
    pairs = direction_pairs([W[name].detach() for name in names], ls.direction_pairs, ls.direction_seed)
    grid = np.stack([loss_grid(W, X, y, kernel, s.attention, dict(zip(names, d1)), dict(zip(names, d2)), coords)
                     for d1, d2 in pairs], 1)                                          # (R, P, G, G)
    ds = ds.assign_coords(pair=np.arange(len(pairs)), a=coords, b=coords)
    ds["landscape"] = (("seed", "pair", "a", "b"), grid, {"long_name": "training loss on theta* + a d1 + b d2"})
    ds["roughness"] = (("seed", "pair"), slice_roughness(grid, coords),
                       {"long_name": "RMS residual after the best quadratic / loss range"})
    ds["curvature"] = ("seed", centre_curvature(W, X, y, kernel, s.attention, names, ls.hessian_iters),
                       {"long_name": f"largest-magnitude Hessian eigenvalue in {'/'.join(names)} at the centre"})
    return ds


def train_s3(cell, data: dict, ctx) -> xr.Dataset:
    """Stage 1 (softmax, W_Q, W_K, W_V) once, then per kernel: stage 2 from the same stage-1 point and the
    2-D slice; stacked on a `kernel` dim."""
    s = cell.settings
    ls = s.landscape
    W = tensors(data, ("W_Q", "W_K", "W_V", "W_O", "X", "y"), ctx)
    X, y = W.pop("X"), W.pop("y")
    stage1, _ = synthetic_problem(W, X, y, TRAINED["attention"], "softmax", s.attention, s.optimizer, s.log,
                                  ls.stage1_steps or run_length(s.optimizer))
    train(stage1, ctx.checkpointing(".stage1"))
    from ....results import cell_dataset                           # xarray: once training has started (start-up)

    start, parts = _detached(W), []
    for kernel in s.kernels:
        W = _detached(start)
        stage2, _ = synthetic_problem(W, X, y, TRAINED[ls.stage2_params], kernel, s.attention, s.optimizer, s.log,
                                      ls.stage2_steps or run_length(s.optimizer))
        result = train(stage2, ctx.checkpointing(f".stage2.{kernel}"))
        ds = cell_dataset(result, SYNTH_VARS, s.seeds, {**cell.coords, "kernel": kernel}, ctx.provenance)
        parts.append(_slice(ds, W, X, y, kernel, cell))
    return stack(parts, "kernel")
