"""The batched full-batch problem of the synthetic checks: GD-like training of some attention weights.

Any registry optimizer runs the problem (optim.build); run r takes its own step eta_r when the optimizer
entry says `lr_rule: inverse_smoothness` (optim.step_size). For rules whose update is linear in the gradient
(gd, sgd, momentum; no weight decay) the step is taken as lr 1 on eta_r f_r, the same iterates as step eta_r
on f_r (and the numbers this study has always produced); any other element-wise rule gets eta as a per-run
learning rate. The logged loss and gradient norm are the unscaled f_r's."""
from __future__ import annotations

import numpy as np
import torch

from ....grid import step_grid
from ....optim.build import build
from ....optim.spec import OptimizerSpec
from ....optim.step_size import per_run_step_size, scales_loss
from ....train import Problem
from ..settings import KernelOptions
from .probes import regression_loss, synthetic_probe

TRAINED = {"wv": ("W_V",), "attention": ("W_Q", "W_K", "W_V"), "wq": ("W_Q",)}


def step_sizes(W: dict, X: torch.Tensor, y: torch.Tensor, trained: tuple[str, ...], kernel: str,
               options: KernelOptions, spec: OptimizerSpec) -> torch.Tensor:
    """eta (R,) of the runs of W, X, y under the entry's lr_rule (the weights in `trained` start requiring grad).
    A batched ensemble computes it per member, so that every member's runs get the numbers of its own cell."""
    for name in trained:
        W[name].requires_grad_(True)
    return per_run_step_size(regression_loss(W, X, y, kernel, options), [W[name] for name in trained], spec)


def synthetic_problem(W: dict, X: torch.Tensor, y: torch.Tensor, trained: tuple[str, ...], kernel: str,
                      options: KernelOptions, spec: OptimizerSpec, log, steps: int,
                      eta: torch.Tensor | None = None) -> tuple[Problem, np.ndarray]:
    """Train the weights named in `trained` (the others stay fixed) for `steps` steps: (Problem, eta (R,)).
    W holds tensors (R, H, ...), X (R, N, n, D), y (R, N, n); eta: the runs' step sizes, else `step_sizes`."""
    eta = step_sizes(W, X, y, trained, kernel, options, spec) if eta is None else eta
    for name in trained:
        W[name].requires_grad_(True)
    params = {name: W[name] for name in trained}
    raw_loss = regression_loss(W, X, y, kernel, options)
    if scales_loss(spec):
        def loss(step=0, gen=None):
            return raw_loss() * eta
        optimizer = build(spec, params.values(), lr=1.0)
    else:
        def loss(step=0, gen=None):
            return raw_loss()
        optimizer = build(spec, params.values(), lr=eta if spec.lr_rule != "constant" else None)
    probe = synthetic_probe(W, X, kernel, options, raw_loss, list(params.values()))
    return Problem(params, loss, probe, optimizer, steps, step_grid(log, steps)), eta.detach().cpu().numpy()
