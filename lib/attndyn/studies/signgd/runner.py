"""The train job of the signgd study: build the batched problem of one cell and train it."""
from __future__ import annotations

import torch

from ...batching import Batch, split_result, stacked_cells, stacked_data
from ...cells import run_cell
from ...errors import ConfigError
from ...grid import step_grid
from ...optim.build import build, build_members
from ...optim.spec import run_length
from ...train import Problem, train
from ..base import CellSpec, RunContext
from .active import ActiveCoordinates
from .fused import fused_loss, pack, unpack, value_weights
from .model import init_params
from .probes import FEATURE_VARS, GLOBAL_VARS, feature_probes, global_probes
from .settings import Cell
from .tokens import Tokens, tokens


def _signal_direction(d: int, mu_norm: float, dtype, device) -> torch.Tensor:
    mu = torch.zeros(d, dtype=dtype, device=device)
    mu[0] = mu_norm                                                   # mu = ||mu|| e_1
    return mu


def trained_weights(X: Tokens, init: dict, weight_decay: float) -> tuple[dict, Tokens, object]:
    """(the weights to train (R, m, K), the tokens they see, compact -> full (R, m, d) matrices): the active
    coordinates without weight decay (exact, active.py), every coordinate with it."""
    if weight_decay == 0.0:
        subspace = ActiveCoordinates(X, init)
        return subspace.compact, subspace.X, subspace.full
    return init, X, lambda compact: {k: v.detach() for k, v in compact.items()}


def build_problem(cell: CellSpec, data: dict, ctx: RunContext) -> tuple[Problem, dict]:
    """The packed parameter W (R, K, M), the fused full-batch loss and the probes of one cell."""
    s: Cell = cell.settings
    return problem_for(s, data, list(s.data.seeds), lambda W: build(s.optimizer, [W]), run_length(s.optimizer), ctx)


def problem_for(s: Cell, data: dict, seeds: list[int], make_optimizer, steps: int,
                ctx: RunContext) -> tuple[Problem, dict]:
    """The problem of cell settings `s` on `data` (runs = seeds, in order); `make_optimizer(W)`."""
    model = s.model
    train_set = tokens(data, "train", ctx.dtype, ctx.device)          # X: Tokens (R, n, 2, .), y (R, n)
    test_set = tokens(data, "test", ctx.dtype, ctx.device)
    X, y = train_set
    init = init_params(len(seeds), X.d, model.m_k, model.m_v, model.sigma_0, seeds, ctx.dtype, ctx.device)
    compact, X_train, to_full = trained_weights(X, init, s.optimizer.settings.get("weight_decay", 0.0))
    W = pack(compact).requires_grad_(True)                             # (R, K, M)
    c = value_weights(model.m_v, ctx.dtype, ctx.device)
    mu = _signal_direction(X.d, getattr(s.data.params, "mu_norm", 1.0), ctx.dtype, ctx.device)

    def loss(step, gen):
        return fused_loss(W, X_train, y, model.m_k, c, model.temperature)   # (R,)

    def probe():
        full = to_full(unpack(W.detach(), model.m_k, model.m_v))
        out = global_probes(full, train_set, test_set, model.temperature)
        if s.features:
            out.update(feature_probes(full, X, y, mu, model.temperature))
        return out

    variables = {**GLOBAL_VARS, **(FEATURE_VARS if s.features else {})}
    return Problem({"W": W}, loss, probe, make_optimizer(W), steps, step_grid(s.log, steps)), variables


def train_cell(cell: CellSpec, data: dict, ctx: RunContext):
    """Train all seeds of a cell (all members of a batched cell) as one ensemble; return its xarray Dataset."""
    if isinstance(cell.settings, Batch):
        return train_batch(cell, data, ctx)
    problem, variables = build_problem(cell, data, ctx)
    return run_cell(problem, variables, list(cell.settings.data.seeds), cell, ctx)


def shared(members: tuple[Cell, ...]) -> Cell:
    """The settings batched members share; what may differ: their data files' values and optimizer settings."""
    first = members[0]
    for m in members[1:]:
        same = (m.model, m.log, m.features, m.dtype, m.data.kind, m.data.seeds, run_length(m.optimizer),
                getattr(m.data.params, "mu_norm", None)) == (
            first.model, first.log, first.features, first.dtype, first.data.kind, first.data.seeds,
            run_length(first.optimizer), getattr(first.data.params, "mu_norm", None))
        if not same:
            raise ConfigError("config error: signgd batch: members may differ in data values and optimizer settings "
                              "only (model, log, seeds, steps, mu_norm must agree)")
    return first


def train_batch(cell: CellSpec, datas: dict, ctx: RunContext):
    """Every member x seed as one ensemble (per-run hyperparameters), split back onto the batched axes."""
    batch = cell.settings
    first, seeds = shared(batch.members), list(batch.members[0].data.seeds)
    make = lambda W: build_members([m.optimizer for m in batch.members], [W], len(seeds))
    problem, variables = problem_for(first, stacked_data(batch, datas), seeds * len(batch.members), make,
                                     run_length(first.optimizer), ctx)
    result = train(problem, ctx.checkpointing())
    from ...results import cell_dataset

    parts = [cell_dataset(r, variables, seeds, {}, ctx.provenance) for r in split_result(result, len(batch.members))]
    return stacked_cells(parts, batch).assign_coords(cell.coords)
