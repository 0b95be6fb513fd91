"""Two-stage loss-landscape slices on synthetic data (spec Sec. 4.2 Fig. 4, Sec. 7 S3) and their roughness (C6).

Stage 1 trains W_Q, W_K, W_V with Softmax; stage 2 continues from that point training the `stage2_params`
(W_Q) with the cell's kernel; then the training loss is evaluated on theta* + a d1 + b d2 over a grid, with
d1, d2 random Gaussian directions on the `params` weights, filter-normalized (Li et al. 2018: each column of a
direction scaled to the norm of that column of theta*).
"""
from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from ....optim.spec import run_length
from ....results import cell_dataset
from ....train import train
from ..metrics import roughness
from ..runs import checkpointing, stack, tensors
from ..settings import KernelOptions
from ..slices import filter_normalized_direction, slice_coords, slice_grid
from .model import forward, squared_loss
from .probes import SYNTH_VARS
from .problem import TRAINED, synthetic_problem


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


def _slice(ds: xr.Dataset, W: dict, X, y, kernel: str, cell) -> xr.Dataset:
    """Add the 2-D slice around the stage-2 end point and its roughness to one kernel's dataset."""
    s = cell.settings
    ls = s.landscape
    gen = torch.Generator().manual_seed(ls.direction_seed)
    d1, d2 = ({name: filter_normalized_direction(W[name].detach(), gen) for name in TRAINED[ls.params]}
              for _ in range(2))
    coords = slice_coords(ls.range, ls.grid)
    grid = loss_grid(W, X, y, kernel, s.attention, d1, d2, coords)
    ds = ds.assign_coords(a=coords, b=coords)
    ds["landscape"] = (("seed", "a", "b"), grid, {"long_name": "training loss on theta* + a d1 + b d2"})
    ds["roughness"] = ("seed", roughness(grid), {"long_name": "mean |Laplacian| / loss range"})
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
    train(stage1, checkpointing(ctx, ".stage1"))
    start, parts = _detached(W), []
    for kernel in s.kernels:
        W = _detached(start)
        stage2, _ = synthetic_problem(W, X, y, TRAINED[ls.stage2_params], kernel, s.attention, s.optimizer, s.log,
                                      ls.stage2_steps or run_length(s.optimizer))
        result = train(stage2, checkpointing(ctx, f".stage2.{kernel}"))
        ds = cell_dataset(result, SYNTH_VARS, s.seeds, {**cell.coords, "kernel": kernel}, ctx.provenance)
        parts.append(_slice(ds, W, X, y, kernel, cell))
    return stack(parts, "kernel")
