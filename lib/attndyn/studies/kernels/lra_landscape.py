"""Two-stage loss landscape of the LRA model (spec Sec. 4.2 Fig. 4, recipe Sec. 6 [PROPOSED]) and its roughness (C6).

Stage 1 trains the whole model with Softmax: it is the Softmax arm of the task's own run (same seeds, read from
that cell's stored final weights, so nothing is trained twice). Stage 2 starts every kernel from those weights
and trains only `stage2_params` (the W_q projections of every layer [RECONSTRUCTED]) with the task's optimizer
and the same minibatch order. The slice is the mean training cross-entropy on a fixed subset of `n_examples` training
examples at theta* + a d1 + b d2: d1, d2 are random directions on the `params` weight matrices, each row (one
output unit) scaled to that row's norm in theta* (filter normalization, Li et al. 2018); biases do not move.
"""
from __future__ import annotations

import time

import numpy as np
import torch
import xarray as xr

from ...results import Var, cell_dataset, final, read_netcdf
from ...train import TrainResult
from .landscape import filter_normalized_direction, slice_grid
from .lra_train import (LRA_DTYPE, _rows, _split, batch_indices, build_model, evaluate, load_params, log_grid,
                        minibatch_step, task_optimizer)
from .metrics import roughness

PROJECTIONS = {"wq": ("W_q",), "attention": ("W_q", "W_k", "W_v")}
STAGE2_VARS = {
    "train_loss": Var("training cross-entropy on the landscape subset", "nat"),
    "test_loss": Var("test cross-entropy", "nat"),
    "test_acc": Var("test accuracy"),
}


def projections(model, which: str) -> list[torch.nn.Linear]:
    """The attention projections named by `which` (wq | attention), every layer, in a fixed order."""
    return [getattr(layer.attn, name) for layer in model.layers for name in PROJECTIONS[which]]


def train_stage2(model, task: dict, ls: dict, train_set, subset, test_set, gen) -> dict:
    """Stage 2: only the stage2_params projections (weight and bias) move; metrics (G,) every eval_every steps."""
    params = [p for lin in projections(model, ls["stage2_params"]) for p in lin.parameters()]
    opt = task_optimizer(task, params)
    log_at = set(log_grid(task["eval_every"], ls["stage2_steps"]).tolist())
    logs = {k: [] for k in STAGE2_VARS}
    batches = batch_indices(len(train_set[2]), task["batch_size"], ls["stage2_steps"], gen)
    for step in range(ls["stage2_steps"] + 1):
        if step in log_at:
            logs["train_loss"].append(evaluate(model, *subset, 256)[0])
            tl, ta = evaluate(model, *test_set, 256)
            logs["test_loss"].append(tl)
            logs["test_acc"].append(ta)
        if step < ls["stage2_steps"]:
            minibatch_step(model, opt, *train_set, next(batches))
    return {k: np.asarray(v) for k, v in logs.items()}


def loss_slice(model, ls: dict, subset) -> np.ndarray:
    """Mean subset cross-entropy on theta* + a d1 + b d2 over the grid: (G, G). The weights are restored."""
    weights = [lin.weight for lin in projections(model, ls["params"])]
    base = [w.detach().clone() for w in weights]
    gen = torch.Generator().manual_seed(ls["direction_seed"])
    d1, d2 = ([filter_normalized_direction(w, gen, filter_dim=-1) for w in base] for _ in range(2))

    def loss_at(a: float, b: float) -> float:
        with torch.no_grad():
            for w, w0, u, v in zip(weights, base, d1, d2):
                w.copy_(w0 + a * u + b * v)
        return evaluate(model, *subset, 256)[0]

    coords = np.linspace(ls["range"][0], ls["range"][1], ls["grid"])
    grid = slice_grid(coords, loss_at)
    with torch.no_grad():
        for w, w0 in zip(weights, base):
            w.copy_(w0)
    return grid


def landscape_one_seed(seed: int, stage1: np.ndarray, kernels: list, task: dict, s: dict, data: dict,
                       device) -> dict:
    """Per kernel: stage 2 from the stage-1 weights `stage1` (P,) and the slice around its end point."""
    ls = s["landscape"]
    train_set = _split(data, "train", task.get("pad"), device)
    test_set = _split(data, "test", task.get("pad"), device)
    x, mask, y = train_set
    sub = torch.arange(min(ls["n_examples"], len(y)))
    subset = (x[sub], _rows(mask, sub), y[sub])
    out = {}
    for kernel in kernels:
        model = load_params(build_model(kernel, s, x.shape[1], device), stage1)
        gen = torch.Generator().manual_seed(seed + 1_000_003)          # same stage-2 batches for every kernel
        curves = train_stage2(model, task, ls, train_set, subset, test_set, gen)
        out[kernel] = {"curves": curves, "landscape": loss_slice(model, ls, subset)}
    return out


def stage1_weights(cell, ctx, task_name: str) -> xr.Dataset:
    """The Softmax arm of the task's run (CellSpec.needs): its final weights and test accuracy per seed."""
    if not cell.needs or cell.needs[0] not in ctx.needed:
        raise ValueError(f"the {cell.experiment} cell reads the {task_name} softmax cell's weights; none was given")
    return read_netcdf(ctx.needed[cell.needs[0]])


def train_lra_landscape(cell, data: dict, ctx, task_name: str) -> xr.Dataset:
    """All seeds and kernels of one task's landscape; stacked on `kernel`, dims (kernel, seed, step | a, b)."""
    s, ls = cell.settings, cell.settings["landscape"]
    task = {**s[task_name], "pad": 0 if task_name == "text" else None}
    stage1, seeds = stage1_weights(cell, ctx, task_name), s["lra"]["seeds"]
    t0 = time.perf_counter()
    runs = [landscape_one_seed(seed, stage1["final_params"].sel(seed=seed).values, s["kernels"], task, s, data,
                               ctx.device) for seed in seeds]
    coords = np.linspace(ls["range"][0], ls["range"][1], ls["grid"])
    provenance = {**ctx.provenance, "dtype": str(LRA_DTYPE).removeprefix("torch.")}
    parts = []
    for kernel in s["kernels"]:
        metrics = {k: np.stack([r[kernel]["curves"][k] for r in runs], axis=1) for k in STAGE2_VARS}   # (G, R)
        R = len(runs)
        result = TrainResult(log_grid(task["eval_every"], ls["stage2_steps"]), metrics, np.zeros(R, bool),
                             np.full(R, -1), time.perf_counter() - t0)
        ds = cell_dataset(result, STAGE2_VARS, seeds, {**cell.coords, "kernel": kernel}, provenance)
        grid = np.stack([r[kernel]["landscape"] for r in runs])                                      # (R, G, G)
        ds = ds.assign_coords(a=coords, b=coords)
        ds["landscape"] = (("seed", "a", "b"), grid, {"long_name": "training cross-entropy on theta* + a d1 + b d2",
                                                      "units": "nat"})
        ds["roughness"] = ("seed", roughness(grid), {"long_name": "mean |Laplacian| / loss range"})
        parts.append(ds)
    ds = xr.concat(parts, dim="kernel", data_vars="all", coords="minimal", compat="override",
                   combine_attrs="override")
    ds["final_step"] = ds["final_step"].isel(kernel=0, drop=True)
    ds["stage1_test_acc"] = ("seed", final(stage1, "test_acc").sel(seed=seeds).values,
                             {"long_name": "test accuracy at the end of stage 1 (the softmax arm of the task)"})
    ds["step"].attrs.update(long_name="stage-2 optimizer step (minibatch)", units="step")
    return ds
