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
    model, opt = s.model, s.optimizer
    train_set = tokens(data, "train", ctx.dtype, ctx.device)          # X: Tokens (R, n, 2, .), y (R, n)
    test_set = tokens(data, "test", ctx.dtype, ctx.device)
    X, y = train_set
    runs, d = y.shape[0], X.d
    init = init_params(runs, d, model.m_k, model.m_v, model.sigma_0, list(s.data.seeds), ctx.dtype, ctx.device)
    compact, X_train, to_full = trained_weights(X, init, opt.settings.get("weight_decay", 0.0))
    W = pack(compact).requires_grad_(True)                             # (R, K, M)
    c = value_weights(model.m_v, ctx.dtype, ctx.device)
    mu = _signal_direction(d, getattr(s.data.params, "mu_norm", 1.0), ctx.dtype, ctx.device)

    def loss(step, gen):
        return fused_loss(W, X_train, y, model.m_k, c, model.temperature)   # (R,)

    def probe():
        full = to_full(unpack(W.detach(), model.m_k, model.m_v))
        out = global_probes(full, train_set, test_set, model.temperature)
        if s.features:
            out.update(feature_probes(full, X, y, mu, model.temperature))
        return out

    steps = run_length(opt)
    variables = {**GLOBAL_VARS, **(FEATURE_VARS if s.features else {})}
    return Problem({"W": W}, loss, probe, build(opt, [W]), steps, step_grid(s.log, steps)), variables


def train_cell(cell: CellSpec, data: dict, ctx: RunContext):
    """Train all seeds of a cell as one batch; return its xarray Dataset."""
    problem, variables = build_problem(cell, data, ctx)
    return run_cell(problem, variables, list(cell.settings.data.seeds), cell, ctx)
