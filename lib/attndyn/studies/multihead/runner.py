"""The train job of the multihead study: the batched problem of one (data, H, optimizer) cell."""
from __future__ import annotations

import torch

from ...cells import run_cell
from ...grid import step_grid
from ...optim.build import build
from ...optim.spec import run_length
from ...train import Problem
from ..base import CellSpec, RunContext
from .fused import fused_loss
from .model import random_params, zero_params
from .probes import COMMON_VARS, DM1_VARS, PLANTED_VARS, make_probe
from .settings import Cell


def to_torch(data: dict, ctx: RunContext) -> dict[str, torch.Tensor]:
    """npz arrays -> tensors on the run's device; floats in the run's dtype, masks stay bool."""
    return {k: torch.as_tensor(v, device=ctx.device, dtype=None if v.dtype == bool else ctx.dtype)
            for k, v in data.items()}


def stored_heads(s: Cell) -> int:
    """1 when the H heads are tied (zero init keeps them identical, spec Sec. 1.1), else H."""
    return 1 if s.model.init == "zero" and s.model.tied_heads else s.heads


def tie_gradients(params: dict, copies: int) -> None:
    """A stored head standing for `copies` heads receives the sum of their (equal) gradients;
    dividing by `copies` gives each head's own gradient, so any element-wise optimizer updates the
    stored head exactly as it would update every one of the H heads."""
    if copies > 1:
        for p in params.values():
            p.register_hook(lambda g: g / copies)


def one_gd_step(params: dict, loss_fn, lr: float) -> None:
    """theta <- theta - lr grad L(theta), full batch (the one_step init, spec Sec. 1.1)."""
    grads = torch.autograd.grad(loss_fn(params).sum(), list(params.values()))
    with torch.no_grad():
        for p, g in zip(params.values(), grads):
            p -= lr * g


def init_params(s: Cell, d: int, loss_fn, ctx: RunContext) -> dict[str, torch.Tensor]:
    """zero [PAPER], random (U_h ~ N(0, std^2)), or one_step: random then one GD step (spec Sec. 1.1).
    W (R, H_s, d, d), U (R, H_s, d)."""
    model, seeds = s.model, list(s.data.seeds)
    if model.init == "zero":
        params = zero_params(len(seeds), stored_heads(s), d, ctx.dtype, ctx.device)
        tie_gradients(params, s.heads // stored_heads(s))
        return params
    std = model.init_random_std if model.init_random_std is not None else d ** -0.5
    params = random_params(seeds, s.heads, d, std, ctx.dtype, ctx.device)
    if model.init == "one_step":
        one_gd_step(params, loss_fn, model.init_one_step_lr)
    return params


def build_problem(cell: CellSpec, data: dict, ctx: RunContext) -> tuple[Problem, dict]:
    """Parameters W (R, H, d, d), U (R, H, d), full-batch logistic loss, probes and optimizer."""
    s: Cell = cell.settings
    model, t = s.model, to_torch(data, ctx)
    splits = {"train": (t["X_train"], t["y_train"]), "test": (t["X_test"], t["y_test"])}   # (R, n, T, d), (R, n)
    X, y = splits["train"]

    def full_loss(params):                                            # the fused engine (fused.py), exact
        return fused_loss(params["W"], params["U"], X, y, s.heads, model.pooling, model.head_scaling,
                          model.temperature)

    params = init_params(s, X.shape[-1], full_loss, ctx)
    extra = {k: t[k] for k in ("relevant_train", "relevant_test", "W_star", "U_star") if k in t}
    steps = run_length(s.optimizer)
    optimizer = build(s.optimizer, params.values(), lr=s.step_size)       # eta = lr, or lr sqrt(H)
    problem = Problem(params, lambda step, gen: full_loss(params), make_probe(params, splits, model, extra, s.heads),
                      optimizer, steps, step_grid(s.log, steps))
    variables = {**COMMON_VARS, **(DM1_VARS if s.data.kind == "dm1" else PLANTED_VARS)}
    return problem, variables


def train_cell(cell: CellSpec, data: dict, ctx: RunContext):
    """Train all seeds of a cell as one batch; return its xarray Dataset."""
    problem, variables = build_problem(cell, data, ctx)
    return run_cell(problem, variables, list(cell.settings.data.seeds), cell, ctx)
