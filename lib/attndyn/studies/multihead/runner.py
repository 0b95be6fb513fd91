"""The train job of the multihead study: the batched problem of one (data, H, optimizer) cell, or of a batch of
cells (batching.Batch: step sizes, other optimizer settings and, with tied heads, head counts trained as one
ensemble with per-run hyperparameters, per-run logit scale kappa and per-run gradient division)."""
from __future__ import annotations

import dataclasses

import torch

from ...batching import Batch, split_result, stacked_cells, stacked_data
from ...cells import run_cell
from ...errors import ConfigError
from ...grid import step_grid
from ...optim.build import build, build_members
from ...optim.elementwise import per_run
from ...optim.spec import run_length
from ...train import Problem, train
from ..base import CellSpec, RunContext
from .fused import fused_loss, prepare
from .model import Heads, random_params, zero_params
from .probes import COMMON_VARS, DM1_VARS, PLANTED_VARS, make_probe
from .settings import Cell


def to_torch(data: dict, ctx: RunContext) -> dict[str, torch.Tensor]:
    """npz arrays -> tensors on the run's device; floats in the run's dtype, masks stay bool."""
    return {k: torch.as_tensor(v, device=ctx.device, dtype=None if v.dtype == bool else ctx.dtype)
            for k, v in data.items()}


def stored_heads(s: Cell) -> int:
    """1 when the H heads are tied (zero init keeps them identical, spec Sec. 1.1), else H."""
    return 1 if s.model.init == "zero" and s.model.tied_heads else s.heads


def tie_gradients(params: dict, copies: Heads) -> None:
    """A stored head standing for `copies` heads receives the sum of their (equal) gradients;
    dividing by `copies` (a number, or one per run (R,)) gives each head's own gradient, so any element-wise
    optimizer updates the stored head exactly as it would update every one of the H heads."""
    if isinstance(copies, torch.Tensor):
        for p in params.values():
            p.register_hook(lambda g: g / per_run(copies, g))
    elif copies > 1:
        for p in params.values():
            p.register_hook(lambda g: g / copies)


def one_gd_step(params: dict, loss_fn, lr: float) -> None:
    """theta <- theta - lr grad L(theta), full batch (the one_step init, spec Sec. 1.1)."""
    grads = torch.autograd.grad(loss_fn(params).sum(), list(params.values()))
    with torch.no_grad():
        for p, g in zip(params.values(), grads):
            p -= lr * g


def init_params(s: Cell, seeds: list[int], heads: Heads, d: int, loss_fn, ctx: RunContext) -> dict:
    """zero [PAPER], random (U_h ~ N(0, std^2)), or one_step: random then one GD step (spec Sec. 1.1), one run
    per seed in `seeds`, H = `heads` (per run (R,) only with tied heads). W (R, H_s, d, d), U (R, H_s, d)."""
    model = s.model
    if model.init == "zero":
        params = zero_params(len(seeds), stored_heads(s), d, ctx.dtype, ctx.device)
        tie_gradients(params, heads // stored_heads(s))
        return params
    std = model.init_random_std if model.init_random_std is not None else d ** -0.5
    params = random_params(seeds, s.heads, d, std, ctx.dtype, ctx.device)
    if model.init == "one_step":
        one_gd_step(params, loss_fn, model.init_one_step_lr)
    return params


def build_problem(cell: CellSpec, data: dict, ctx: RunContext) -> tuple[Problem, dict]:
    """Parameters W (R, H, d, d), U (R, H, d), full-batch logistic loss, probes and optimizer."""
    s: Cell = cell.settings
    optimizer = lambda params: build(s.optimizer, params.values(), lr=s.step_size)    # eta = lr (sqrt(H))
    return problem_for(s, data, list(s.data.seeds), s.heads, optimizer, ctx)


def problem_for(s: Cell, data: dict, seeds: list[int], heads: Heads, make_optimizer,
                ctx: RunContext) -> tuple[Problem, dict]:
    """The problem of cell settings `s` on `data` (runs = `seeds`, in order), H = `heads` (a number, or one per
    run), optimizer `make_optimizer(params)`."""
    model, t = s.model, to_torch(data, ctx)
    splits = {"train": (t["X_train"], t["y_train"]), "test": (t["X_test"], t["y_test"])}   # (R, n, T, d), (R, n)
    X, y = splits["train"]
    inputs = prepare(X)

    def full_loss(params):                                            # the fused engine (fused.py), exact
        return fused_loss(params["W"], params["U"], inputs, y, heads, model.pooling, model.head_scaling,
                          model.temperature)

    params = init_params(s, seeds, heads, X.shape[-1], full_loss, ctx)
    extra = {k: t[k] for k in ("relevant_train", "relevant_test", "W_star", "U_star") if k in t}
    steps = run_length(s.optimizer)
    problem = Problem(params, lambda step, gen: full_loss(params), make_probe(params, splits, model, extra, heads),
                      make_optimizer(params), steps, step_grid(s.log, steps))
    variables = {**COMMON_VARS, **(DM1_VARS if s.data.kind == "dm1" else PLANTED_VARS)}
    return problem, variables


def train_cell(cell: CellSpec, data: dict, ctx: RunContext):
    """Train all seeds of a cell (all members of a batched cell) as one ensemble; return its xarray Dataset."""
    if isinstance(cell.settings, Batch):
        return train_batch(cell, data, ctx)
    problem, variables = build_problem(cell, data, ctx)
    return run_cell(problem, variables, list(cell.settings.data.seeds), cell, ctx)


def shapes(s: Cell) -> tuple:
    """What batched members must share: everything but data values, optimizer settings and (tied) H."""
    p = s.data.params
    return (s.model, s.log, s.dtype, s.data.kind, s.data.seeds, s.data.teacher_pooling, run_length(s.optimizer),
            s.optimizer.rule, stored_heads(s), p.T, p.d, p.n_train, p.n_test)


def shared(members: tuple[Cell, ...]) -> Cell:
    """The first member, once every member has its shapes (`shapes`): members may differ in data values, optimizer
    settings and step sizes, and in H only where heads are tied (one stored head: the same shapes for every H)."""
    first = members[0]
    if any(shapes(m) != shapes(first) for m in members[1:]):
        raise ConfigError("config error: multihead batch: members may differ in data values, optimizer settings and "
                          "(with tied heads: model.init zero, model.tied_heads) the number of heads only")
    return first


def batch_heads(members: tuple[Cell, ...], runs_per_member: int, device) -> Heads:
    """H of every run (member-major), as a number if all members share it."""
    heads = [m.heads for m in members]
    if len(set(heads)) == 1:
        return heads[0]
    return torch.tensor([h for h in heads for _ in range(runs_per_member)], dtype=torch.int64, device=device)


def train_batch(cell: CellSpec, datas: dict, ctx: RunContext):
    """Every member x seed as one ensemble (per-run step sizes, settings and H), split back onto the batched axes."""
    batch = cell.settings
    first, seeds = shared(batch.members), list(batch.members[0].data.seeds)
    specs = [dataclasses.replace(m.optimizer, lr=m.step_size) for m in batch.members]     # eta = lr (sqrt(H))
    make = lambda params: build_members(specs, params.values(), len(seeds))
    heads = batch_heads(batch.members, len(seeds), ctx.device)
    problem, variables = problem_for(first, stacked_data(batch, datas), seeds * len(batch.members), heads, make, ctx)
    result = train(problem, ctx.checkpointing())
    from ...results import cell_dataset

    parts = [cell_dataset(r, variables, seeds, {}, ctx.provenance) for r in split_result(result, len(batch.members))]
    return stacked_cells(parts, batch).assign_coords(cell.coords)
