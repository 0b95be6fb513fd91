"""Two-stage loss landscape of the LRA model (spec Sec. 4.2 Fig. 4, recipe Sec. 6 [PROPOSED]), its roughness (C6)
and the curvature at the centre.

Stage 1 trains the whole model with Softmax: it is the Softmax cell of the task's own run (same seeds, read from
that cell's stored final weights, so nothing is trained twice). Stage 2 starts every kernel from those weights
and trains only `stage2_params` (the W_q projections of every layer [RECONSTRUCTED]) with the landscape's
optimizer and the same minibatch order for every kernel. The slice is the mean training cross-entropy on a fixed
subset of `n_examples` training examples at theta* + a d1 + b d2, for `direction_pairs` pairs: d1, d2 are random
directions on the `params` weight matrices, each row (one output unit) scaled to that row's norm in theta* (filter
normalization, Li et al. 2018); biases do not move. The curvature is the top Hessian eigenvalue of the same loss in
the same weights at theta* (power iteration, `hessian_iters`).
"""
from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
import xarray as xr

from ....minibatch import Log, Schedule, SeedRun, run_steps, schedule
from ....optim.build import build
from ....results import cell_dataset, final, read_netcdf
from ....train import TrainResult
from ..metrics import slice_roughness
from ..runs import stack
from ..settings import TaskLandscapeCell
from ..slices import direction_pairs, hessian_vector_product, slice_coords, slice_grid, top_hessian_eigenvalue
from .model import build_model, load_params
from .probes import EVAL_BATCH, PADDING, STAGE2_VARS, evaluate, held_out_metrics, minibatch_loss, rows, split, subset

PROJECTIONS = {"wq": ("W_q",), "attention": ("W_q", "W_k", "W_v")}
STAGE2_SEED_OFFSET = 1_000_003          # stage-2 batch order of seed s: generator seeded s + this, every kernel


def projections(model, which: str) -> list[torch.nn.Linear]:
    """The attention projections named by `which` (wq | attention), every layer, in a fixed order."""
    return [getattr(layer.attn, name) for layer in model.layers for name in PROJECTIONS[which]]


def stage2_schedule(settings: TaskLandscapeCell, n_train: int) -> Schedule:
    """stage2_steps (null: the optimizer's run length) on the landscape's log grid."""
    return schedule(settings.optimizer, n_train, settings.log, settings.landscape.stage2_steps)


def train_stage2(model, settings: TaskLandscapeCell, train_set, landscape_subset, test_set, gen) -> dict:
    """Stage 2: only the stage2_params projections (weight and bias) move; logs (G,) on the grid: the
    subset's cross-entropy (`train_loss`), test loss and accuracy."""
    params = [p for lin in projections(model, settings.landscape.stage2_params) for p in lin.parameters()]
    run = SeedRun(model, build(settings.optimizer, params), lambda idx: minibatch_loss(model, train_set, idx),
                  lambda: {"train_loss": evaluate(model, *landscape_subset)[0], **held_out_metrics(model, test_set)})
    log = Log(tuple(STAGE2_VARS))
    run_steps(run, stage2_schedule(settings, len(train_set[2])), gen, log)
    return log.arrays()


def _restore(weights, base) -> None:
    with torch.no_grad():
        for w, w0 in zip(weights, base):
            w.copy_(w0)


def loss_slices(model, settings: TaskLandscapeCell, landscape_subset) -> np.ndarray:
    """Mean subset cross-entropy on theta* + a d1 + b d2 over the grid, one slice per direction pair:
    (P, G, G). The weights are restored."""
    ls = settings.landscape
    weights = [lin.weight for lin in projections(model, ls.params)]
    base = [w.detach().clone() for w in weights]
    coords, grids = slice_coords(ls.range, ls.grid), []
    for d1, d2 in direction_pairs(base, ls.direction_pairs, ls.direction_seed, filter_dim=-1):
        def loss_at(a: float, b: float, d1=d1, d2=d2) -> float:
            with torch.no_grad():
                for w, w0, u, v in zip(weights, base, d1, d2):
                    w.copy_(w0 + a * u + b * v)
            return evaluate(model, *landscape_subset)[0]
        grids.append(slice_grid(coords, loss_at))
    _restore(weights, base)
    return np.stack(grids)


def centre_curvature(model, settings: TaskLandscapeCell, landscape_subset) -> float:
    """The largest-magnitude Hessian eigenvalue (signed) of the mean subset cross-entropy (eval mode) in the
    `params` weight matrices at the current weights: power iteration on Hessian-vector products, the subset
    taken in evaluation batches (H v summed over them, so memory stays that of one batch)."""
    weights = [lin.weight for lin in projections(model, settings.landscape.params)]
    x, mask, y = landscape_subset
    batches = [slice(i, i + EVAL_BATCH) for i in range(0, len(y), EVAL_BATCH)]

    def batch_loss(b: slice):
        return lambda: F.cross_entropy(model(x[b], rows(mask, b)), y[b], reduction="sum") / len(y)

    def hvp(v):
        parts = [hessian_vector_product(batch_loss(b), weights, v) for b in batches]
        return [sum(p) for p in zip(*parts)]
    model.eval()
    try:
        return top_hessian_eigenvalue(hvp, weights, settings.landscape.hessian_iters)
    finally:
        model.train()


def landscape_one_seed(seed: int, stage1: np.ndarray, settings: TaskLandscapeCell, data: dict, device,
                       dtype) -> dict:
    """Per kernel: stage 2 from the stage-1 weights `stage1` (P,) and the slice around its end point."""
    pad = PADDING[settings.data.kind]
    train_set, test_set = split(data, "train", pad, device), split(data, "test", pad, device)
    landscape_subset = subset(train_set, settings.landscape.n_examples)
    out = {}
    for kernel in settings.kernels:
        model = build_model(kernel, settings.network, settings.attention, train_set[0].shape[1], device, dtype)
        model = load_params(model, stage1)
        gen = torch.Generator().manual_seed(seed + STAGE2_SEED_OFFSET)          # same stage-2 batches per kernel
        curves = train_stage2(model, settings, train_set, landscape_subset, test_set, gen)
        out[kernel] = {"curves": curves, "landscape": loss_slices(model, settings, landscape_subset),
                       "curvature": centre_curvature(model, settings, landscape_subset)}
    return out


def stage1_weights(cell, ctx) -> xr.Dataset:
    """The task's Softmax cell (CellSpec.needs): its final weights and test accuracy per seed."""
    if not cell.needs or cell.needs[0] not in ctx.needed:
        raise ValueError(f"the {cell.experiment} cell reads the weights of the Softmax cell {cell.needs}; "
                         "none was given")
    return read_netcdf(ctx.needed[cell.needs[0]])


def _kernel_dataset(runs: list[dict], kernel: str, grid: np.ndarray, cell, ctx, t0: float) -> xr.Dataset:
    """One kernel's stage-2 curves (seed, step) on `grid` and slices (seed, a, b) with their roughness."""
    s = cell.settings
    R = len(runs)
    metrics = {k: np.stack([r[kernel]["curves"][k] for r in runs], axis=1) for k in STAGE2_VARS}   # (G, R)
    result = TrainResult(grid, metrics, np.zeros(R, bool), np.full(R, -1), time.perf_counter() - t0)
    ds = cell_dataset(result, STAGE2_VARS, s.seeds, {**cell.coords, "kernel": kernel}, ctx.provenance)
    coords = slice_coords(s.landscape.range, s.landscape.grid)
    slices = np.stack([r[kernel]["landscape"] for r in runs])                                    # (R, P, G, G)
    ds = ds.assign_coords(pair=np.arange(slices.shape[1]), a=coords, b=coords)
    ds["landscape"] = (("seed", "pair", "a", "b"), slices,
                       {"long_name": "training cross-entropy on theta* + a d1 + b d2", "units": "nat"})
    ds["roughness"] = (("seed", "pair"), slice_roughness(slices, coords),
                       {"long_name": "RMS residual after the best quadratic / loss range"})
    ds["curvature"] = ("seed", np.array([r[kernel]["curvature"] for r in runs]),
                       {"long_name": "largest-magnitude Hessian eigenvalue of the subset cross-entropy in the "
                                     "`params` weights at the centre"})
    return ds


def train_task_landscape(cell, data: dict, ctx) -> xr.Dataset:
    """All seeds and kernels of one landscape cell; stacked on `kernel`, dims (kernel, seed, step | a, b)."""
    s = cell.settings
    stage1, t0 = stage1_weights(cell, ctx), time.perf_counter()
    runs = [landscape_one_seed(seed, stage1["final_params"].sel(seed=seed).values, s, data, ctx.device, ctx.dtype)
            for seed in s.seeds]
    grid = stage2_schedule(s, len(data["y_train"])).grid
    ds = stack([_kernel_dataset(runs, kernel, grid, cell, ctx, t0) for kernel in s.kernels], "kernel")
    ds["stage1_test_acc"] = ("seed", final(stage1, "test_acc").sel(seed=list(s.seeds)).values,
                             {"long_name": "test accuracy at the end of stage 1 (the softmax arm of the task)"})
    ds["step"].attrs.update(long_name="stage-2 optimizer step (minibatch)", units="1")
    return ds
