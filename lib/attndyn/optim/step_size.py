"""Per-run step sizes of a batched ensemble: the `lr_rule` of an `optimizers:` entry.

  constant            eta_r = lr for every run r.
  inverse_smoothness  eta_r = lr_scale / lambda_max(Hessian of f_r at the initial point) [PROPOSED; spec 1.2:
                      eta <= c / smoothness], lambda_max by power iteration on Hessian-vector products. Runs
                      are independent, so the Hessian of sum_r f_r is block diagonal and one batched power
                      iteration finds every run's lambda_max. For a loss quadratic in the trained weights
                      (W_V-only least squares) this is exactly c / L, L the global smoothness constant.

How a run takes its own step: for rules whose update is linear in the gradient and that have no weight decay
(gd, sgd, momentum), stepping with lr 1 on eta_r f_r gives the iterates of step eta_r on f_r (`scales_loss`;
the numbers the kernels study has always produced). Any other element-wise rule (adam, adamw, signgd) takes
eta as a per-run learning-rate tensor (R,). A rule that is not element-wise (algorithm1) runs with
`lr_rule: constant` only (`check_step_rule` says so in one line). Torch is imported inside the functions: the
plan (torch-free) calls the checks.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import ConfigError
from .rules import RULES
from .spec import OptimizerSpec

if TYPE_CHECKING:
    import torch

LINEAR_TARGETS = ("elementwise:GD", "elementwise:HeavyBall")     # updates linear in the gradient


def scales_loss(spec: OptimizerSpec) -> bool:
    """True if run r's step eta_r can be taken as lr 1 on eta_r f_r (linear update, no weight decay)."""
    return RULES[spec.rule].target in LINEAR_TARGETS and not spec.settings.get("weight_decay", 0.0)


def check_step_rule(spec: OptimizerSpec, where: str) -> None:
    """A per-run step (lr_rule inverse_smoothness) needs an element-wise rule: else a one-line ConfigError."""
    if spec.lr_rule == "inverse_smoothness" and not RULES[spec.rule].elementwise:
        raise ConfigError(
            f"config error: {where}.lr_rule: inverse_smoothness gives every run its own step size, which rule "
            f"{spec.rule!r} (not element-wise) cannot take; use lr_rule: constant")


def lambda_max(loss_fn: Callable[[], "torch.Tensor"], trained: list, iters: int) -> "torch.Tensor":
    """Largest Hessian eigenvalue of each run's loss f_r (R,) in the `trained` tensors (R, ...), by `iters`
    power iterations from a fixed random start (seed 0): v <- H v / ||v|| per run, lambda = v^T H v."""
    import torch

    gen = torch.Generator().manual_seed(0)
    vs = [torch.randn(p.shape, generator=gen, dtype=p.dtype).to(p.device) for p in trained]
    lam = None
    with torch.enable_grad():
        for _ in range(int(iters)):
            norm = torch.sqrt(sum((v.flatten(1) ** 2).sum(1) for v in vs)).clamp_min(1e-300)     # (R,)
            vs = [v / norm.view(-1, *[1] * (v.dim() - 1)) for v in vs]
            grads = torch.autograd.grad(loss_fn().sum(), trained, create_graph=True)
            hv = torch.autograd.grad(sum((g * v).sum() for g, v in zip(grads, vs)), trained)
            lam = sum((h * v).flatten(1).sum(1) for h, v in zip(hv, vs)).detach()               # (R,)
            vs = [h.detach() for h in hv]
    return lam


def per_run_step_size(loss_fn: Callable[[], "torch.Tensor"], trained: list, spec: OptimizerSpec) -> "torch.Tensor":
    """Step size eta_r of every run (R,) under the entry's lr_rule (module docstring)."""
    import torch

    if spec.lr_rule == "constant":
        runs = loss_fn().shape[0]
        return torch.full((runs,), float(spec.lr), dtype=trained[0].dtype, device=trained[0].device)
    return float(spec.lr_scale) / lambda_max(loss_fn, trained, spec.power_iters).abs().clamp_min(1e-12)
