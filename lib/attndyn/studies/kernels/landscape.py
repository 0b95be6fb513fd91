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


def filter_normalized_direction(W: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random direction whose filters (columns W[..., :, j], one per output unit) have W's norms:
    W (R, H, D, d) -> (R, H, D, d)."""
    d = torch.randn(W.shape, generator=gen, dtype=W.dtype).to(W.device)
    return d * W.norm(dim=-2, keepdim=True) / d.norm(dim=-2, keepdim=True).clamp_min(1e-30)


def loss_grid(W: dict, X, y, kernel: str, model: dict, d1, d2, coords: np.ndarray) -> np.ndarray:
    """Loss on W_Q + a d1 + b d2 for a, b in coords: (R, G, G)."""
    temp, rownorm = model["gaussian_temperature"], model["gaussian_rownorm"]
    base, out = W["W_Q"].detach(), np.zeros((X.shape[0], len(coords), len(coords)))
    with torch.no_grad():
        for i, a in enumerate(coords):
            for j, b in enumerate(coords):
                Wq = {**W, "W_Q": base + float(a) * d1 + float(b) * d2}
                out[:, i, j] = squared_loss(forward(Wq, X, kernel, temp, rownorm), y).cpu().numpy()
    return out


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
