"""Two-stage loss-landscape slices (spec Sec. 4.2 Fig. 4, Sec. 7 S3) and their roughness (spec C6).

Stage 1 trains all attention weights with Softmax; stage 2 continues from that point training W_Q only
with the cell's kernel; then the training loss is evaluated on W_Q* + a d1 + b d2 over a grid, with d1, d2
random Gaussian directions filter-normalized (Li et al. 2018: each row of d scaled to the norm of W_Q*'s row).
"""
from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from ...results import cell_dataset
from ...train import train
from .metrics import roughness
from .probes import SYNTH_VARS
from .synthetic import forward, squared_loss
from .synthetic_runner import TRAINED, _ckpt, _tensors, synthetic_problem


def filter_normalized_direction(W: torch.Tensor, gen: torch.Generator, filter_dim: int = -2) -> torch.Tensor:
    """Random direction whose filters (the slices along `filter_dim`, one per output unit) have W's norms
    (Li et al. 2018): W (..., D, d) with filters as columns (filter_dim -2), or an nn.Linear weight
    (out, in) with filters as rows (filter_dim -1). Same shape as W."""
    d = torch.randn(W.shape, generator=gen, dtype=W.dtype).to(W.device)
    return d * W.norm(dim=filter_dim, keepdim=True) / d.norm(dim=filter_dim, keepdim=True).clamp_min(1e-30)


def slice_grid(coords: np.ndarray, loss_at) -> np.ndarray:
    """loss_at(a, b) -> (...,) evaluated on the grid coords x coords: (..., G, G), a along the first grid axis."""
    return np.stack([np.stack([np.asarray(loss_at(float(a), float(b))) for b in coords], -1) for a in coords], -2)


def loss_grid(W: dict, X, y, kernel: str, model: dict, d1, d2, coords: np.ndarray) -> np.ndarray:
    """Loss on W_Q + a d1 + b d2 for a, b in coords: (R, G, G)."""
    temp, rownorm = model["gaussian_temperature"], model["gaussian_rownorm"]
    base = W["W_Q"].detach()

    def loss_at(a: float, b: float) -> np.ndarray:
        with torch.no_grad():
            Wq = {**W, "W_Q": base + a * d1 + b * d2}
            return squared_loss(forward(Wq, X, kernel, temp, rownorm), y).cpu().numpy()       # (R,)
    return slice_grid(coords, loss_at)


def _detached(W: dict) -> dict:
    return {k: v.detach().clone() for k, v in W.items()}


def train_s3(cell, data: dict, ctx) -> xr.Dataset:
    """Stage 1 (softmax, all attention weights) once, then per kernel: stage 2 (W_Q only) from the same
    stage-1 point and the 2-D slice; stacked on a `kernel` dim."""
    s, ls = cell.settings, cell.settings["landscape"]
    W = _tensors(data, ("W_Q", "W_K", "W_V", "W_O", "X", "y"), "", ctx)
    X, y = W.pop("X"), W.pop("y")
    stage1 = synthetic_problem(W, X, y, TRAINED["attention"], "softmax", s["model"],
                               {"lr": ls["lr"], "steps": ls["stage1_steps"]}, s["log"])
    train(stage1, _ckpt(ctx, ".stage1"))
    start, parts = _detached(W), []
    for kernel in s["kernels"]:
        W = _detached(start)
        stage2 = synthetic_problem(W, X, y, TRAINED[ls["stage2_params"]], kernel, s["model"],
                                   {"lr": ls["lr"], "steps": ls["stage2_steps"]}, s["log"])
        result = train(stage2, _ckpt(ctx, f".stage2.{kernel}"))
        ds = cell_dataset(result, SYNTH_VARS, ls["seeds"], {**cell.coords, "kernel": kernel}, ctx.provenance)
        gen = torch.Generator().manual_seed(ls["direction_seed"])
        d1, d2 = (filter_normalized_direction(W["W_Q"].detach(), gen) for _ in range(2))
        coords = np.linspace(ls["range"][0], ls["range"][1], ls["grid"])
        grid = loss_grid(W, X, y, kernel, s["model"], d1, d2, coords)
        ds = ds.assign_coords(a=coords, b=coords)
        ds["landscape"] = (("seed", "a", "b"), grid, {"long_name": "training loss on W_Q* + a d1 + b d2"})
        ds["roughness"] = ("seed", roughness(grid), {"long_name": "mean |Laplacian| / loss range"})
        parts.append(ds)
    ds = xr.concat(parts, dim="kernel", data_vars="all", coords="minimal", compat="override",
                   combine_attrs="override")
    ds["final_step"] = ds["final_step"].isel(kernel=0, drop=True)
    return ds
