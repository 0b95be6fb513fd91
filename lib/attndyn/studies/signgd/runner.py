"""The train job of the signgd study: build the batched problem of one cell and train it."""
from __future__ import annotations

import torch

from ...cells import run_cell
from ...grid import step_grid
from ...optim.build import build
from ...optim.spec import run_length
from ...train import Problem
from ..base import CellSpec, RunContext
from .active import ActiveCoordinates
from .model import forward, init_params, logistic_loss
from .probes import FEATURE_VARS, GLOBAL_VARS, feature_probes, global_probes
from .settings import Cell
from .tokens import tokens


def _signal_direction(d: int, mu_norm: float, dtype, device) -> torch.Tensor:
    mu = torch.zeros(d, dtype=dtype, device=device)
    mu[0] = mu_norm                                                   # mu = ||mu|| e_1
    return mu


def build_problem(cell: CellSpec, data: dict, ctx: RunContext) -> tuple[Problem, dict]:
    """Parameters (R, ...), full-batch loss and probes for one cell."""
    s: Cell = cell.settings
    model, opt = s.model, s.optimizer
    train_set = tokens(data, "train", ctx.dtype, ctx.device)          # X: Tokens (R, n, 2, .), y (R, n)
    test_set = tokens(data, "test", ctx.dtype, ctx.device)
    X, y = train_set
    runs, d = y.shape[0], X.d
    init = init_params(runs, d, model.m_k, model.m_v, model.sigma_0, list(s.data.seeds), ctx.dtype, ctx.device)
    if opt.settings.get("weight_decay", 0.0) == 0.0:                  # exact: see active.py
        subspace = ActiveCoordinates(X, init)
        params, X_train, full_params = subspace.params, subspace.X, subspace.full
    else:
        params, X_train, full_params = init, X, lambda: init
    temperature = model.temperature
    mu = _signal_direction(d, getattr(s.data.params, "mu_norm", 1.0), ctx.dtype, ctx.device)

    def loss(step, gen):
        return logistic_loss(forward(params, X_train, temperature), y)   # (R,)

    def probe():
        full = full_params()
        out = global_probes(full, train_set, test_set, temperature)
        if s.features:
            out.update(feature_probes(full, X, y, mu, temperature))
        return out

    steps = run_length(opt)
    optimizer = build(opt, params.values())
    variables = {**GLOBAL_VARS, **(FEATURE_VARS if s.features else {})}
    return Problem(params, loss, probe, optimizer, steps, step_grid(s.log, steps)), variables


def train_cell(cell: CellSpec, data: dict, ctx: RunContext):
    """Train all seeds of a cell as one batch; return its xarray Dataset."""
    problem, variables = build_problem(cell, data, ctx)
    return run_cell(problem, variables, list(cell.settings.data.seeds), cell, ctx)
