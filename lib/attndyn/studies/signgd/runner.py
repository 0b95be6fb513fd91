"""The train job of the signgd study: build the batched problem of one cell and train it."""
from __future__ import annotations

import torch

from ...grid import log_step_grid
from ...optim import build_optimizer
from ...cells import run_cell
from ...train import Problem
from ..base import CellSpec, RunContext
from .active import ActiveCoordinates
from .tokens import tokens
from .model import forward, init_params, logistic_loss
from .probes import FEATURE_VARS, GLOBAL_VARS, feature_probes, global_probes


def _signal_direction(d: int, mu_norm: float, dtype, device) -> torch.Tensor:
    mu = torch.zeros(d, dtype=dtype, device=device)
    mu[0] = mu_norm                                                   # mu = ||mu|| e_1
    return mu


def build_problem(cell: CellSpec, data: dict, ctx: RunContext) -> tuple[Problem, dict]:
    """Parameters (R, ...), full-batch loss and probes for one cell."""
    s, model = cell.settings, cell.settings["model"]
    train_set = tokens(data, "train", ctx.dtype, ctx.device)          # X: Tokens (R, n, 2, .), y (R, n)
    test_set = tokens(data, "test", ctx.dtype, ctx.device)
    X, y = train_set
    runs, d = y.shape[0], X.d
    init = init_params(runs, d, model["m_k"], model["m_v"], model["sigma_0"], s["data"]["seeds"],
                       ctx.dtype, ctx.device)
    opt = s["optimizer"]
    if opt.get("weight_decay", 0.0) == 0.0:                           # exact: see active.py
        subspace = ActiveCoordinates(X, init)
        params, X_train, full_params = subspace.params, subspace.X, subspace.full
    else:
        params, X_train, full_params = init, X, lambda: init
    temperature = model["temperature"]
    mu = _signal_direction(d, s["data"].get("mu_norm", 1.0), ctx.dtype, ctx.device)

    def loss(step, gen):
        return logistic_loss(forward(params, X_train, temperature), y)   # (R,)

    def probe():
        full = full_params()
        out = global_probes(full, train_set, test_set, temperature)
        if s["features"]:
            out.update(feature_probes(full, X, y, mu, temperature))
        return out

    log = s["log"]
    grid = log_step_grid(opt["steps"], log["points_per_decade"], log["dense_until"], tuple(log["extra_steps"]))
    optimizer = build_optimizer(opt["rule"], params.values(), opt)
    variables = {**GLOBAL_VARS, **(FEATURE_VARS if s["features"] else {})}
    return Problem(params, loss, probe, optimizer, opt["steps"], grid), variables


def train_cell(cell: CellSpec, data: dict, ctx: RunContext):
    """Train all seeds of a cell as one batch; return its xarray Dataset."""
    problem, variables = build_problem(cell, data, ctx)
    return run_cell(problem, variables, cell.settings["data"]["seeds"], cell, ctx,
                    optimizer_settings=str(cell.settings["optimizer"]))
