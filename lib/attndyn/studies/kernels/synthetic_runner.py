"""Train jobs of the synthetic checks S1 (width threshold) and S2 (W_Q-only kernel comparison), spec Sec. 7.

Every seed is one run of a batched ensemble (leading run dim R); full-batch GD in the configured dtype.
"""
from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from ...grid import log_step_grid
from ...optim import build_optimizer
from ...results import cell_dataset
from ...train import Checkpointing, Problem, train
from .probes import SYNTH_VARS, per_run_grad_norm
from .synthetic import feature_sigma_min, forward, squared_loss

TRAINED = {"wv": ("W_V",), "attention": ("W_Q", "W_K", "W_V"), "wq": ("W_Q",)}


def _tensors(data: dict, keys, suffix: str, ctx) -> dict:
    return {k: torch.as_tensor(data[k + suffix], dtype=ctx.dtype, device=ctx.device) for k in keys}


def synthetic_problem(W: dict, X, y, trained, kernel: str, model: dict, opt: dict, log: dict) -> Problem:
    """Full-batch GD on the weights named in `trained` (the others stay fixed)."""
    temp, rownorm = model["gaussian_temperature"], model["gaussian_rownorm"]
    for name in trained:
        W[name].requires_grad_(True)
    params = {name: W[name] for name in trained}

    def loss(step=0, gen=None):
        return squared_loss(forward(W, X, kernel, temp, rownorm), y)          # (R,)

    def probe():
        return {"train_loss": loss(), "grad_norm": per_run_grad_norm(loss, list(params.values())),
                "feat_sigma_min": feature_sigma_min(W, X, kernel, temp, rownorm)}

    grid = log_step_grid(opt["steps"], log["points_per_decade"], log["dense_until"])
    optimizer = build_optimizer("gd", params.values(), opt)
    return Problem(params, loss, probe, optimizer, opt["steps"], grid)


def _ckpt(ctx, suffix: str) -> Checkpointing:
    path = ctx.checkpoint_path.with_name(ctx.checkpoint_path.name + suffix) if ctx.checkpoint_path else None
    return Checkpointing(path, ctx.checkpoint_every, ctx.fingerprint + suffix, ctx.stop_after)


def train_s1(cell, data: dict, ctx) -> xr.Dataset:
    """S1: one cell = (trained weights, kernel); the D grid is looped inside and stacked on a `D` dim."""
    s, parts = cell.settings, []
    syn = s["synthetic"]
    for D in syn["D_grid"]:
        W = _tensors(data, ("W_Q", "W_K", "W_V", "W_O"), f"_D{D}", ctx)
        X, y = (_tensors(data, (k,), f"_D{D}", ctx)[k] for k in ("X", "y"))
        problem = synthetic_problem(W, X, y, TRAINED[cell.coords["train"]], cell.coords["kernel"], s["model"],
                                    {"lr": syn["lr"], "steps": syn["steps"]}, s["log"])
        result = train(problem, _ckpt(ctx, f".D{D}"))
        parts.append(cell_dataset(result, SYNTH_VARS, syn["seeds"], cell.coords, ctx.provenance))
    ds = xr.concat(parts, dim=xr.DataArray(syn["D_grid"], dims="D", name="D"), data_vars="all",
                   coords="minimal", compat="override", combine_attrs="override")
    ds["final_step"] = ds["final_step"].isel(D=0, drop=True)
    ds.attrs["Nn"] = syn["N"] * syn["n"]
    return ds


def teacher_targets(W: dict, Q_star, X, kernel: str, model: dict) -> torch.Tensor:
    """y = T(X; W_Q*, W_K, W_V, W_O) under the same kernel (reachable by construction, spec Sec. 7 S2)."""
    with torch.no_grad():
        return forward({**W, "W_Q": Q_star}, X, kernel, model["gaussian_temperature"], model["gaussian_rownorm"])


def train_s2(cell, data: dict, ctx) -> xr.Dataset:
    """S2: one cell = (sigma_Q, kernel); W_Q-only GD from W_Q = sigma_Q Z over all seeds at once."""
    s, s2 = cell.settings, cell.settings["s2"]
    W = _tensors(data, ("W_K", "W_V", "W_O", "X", "W_Qstar", "Z"), "", ctx)
    X, Q_star, Z = W.pop("X"), W.pop("W_Qstar"), W.pop("Z")
    y = teacher_targets(W, Q_star, X, cell.coords["kernel"], s["model"])
    W["W_Q"] = (cell.coords["sigma_Q"] * Z).clone()
    problem = synthetic_problem(W, X, y, TRAINED["wq"], cell.coords["kernel"], s["model"],
                                {"lr": s2["lr"], "steps": s2["steps"]}, s["log"])
    result = train(problem, _ckpt(ctx, ""))
    ds = cell_dataset(result, SYNTH_VARS, list(range(s2["seeds"])), cell.coords, ctx.provenance)
    ds["target_norm"] = ("seed", np.sqrt((y ** 2).sum((1, 2))).cpu().numpy(), {"long_name": "||y|| (teacher)"})
    return ds
