"""Element-wise optimizers as `torch.optim.Optimizer` subclasses with a plain `@torch.no_grad()` step.

torch's own SGD and Adam import torch._dynamo inside every `step()` (2.4 s the first time: most of a
small train job). These classes apply the same formulas (the order of operations of torch's
single-tensor CPU path, so iterates agree to rounding; tests compare them) without that import.
Each update is per coordinate, so a batched ensemble trains exactly like independent runs.
"""
from __future__ import annotations

import torch


class Elementwise(torch.optim.Optimizer):
    """Base: `update(p, g, state, group)` is applied to every parameter with a gradient."""

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self.update(p, p.grad, self.state[p], group)
        return loss

    def update(self, p: torch.Tensor, g: torch.Tensor, state: dict, group: dict) -> None:
        raise NotImplementedError


class GD(Elementwise):
    """w <- w - lr (g + weight_decay w)."""

    def __init__(self, params, lr: float, weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay))

    def update(self, p, g, state, group):
        if group["weight_decay"]:
            g = g.add(p, alpha=group["weight_decay"])
        p.add_(g, alpha=-group["lr"])


class HeavyBall(Elementwise):
    """v <- beta v + g (v = g at the first step); w <- w - lr v (torch SGD, dampening 0)."""

    def __init__(self, params, lr: float, beta: float = 0.9, weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, beta=beta, weight_decay=weight_decay))

    def update(self, p, g, state, group):
        if group["weight_decay"]:
            g = g.add(p, alpha=group["weight_decay"])
        if "velocity" not in state:
            state["velocity"] = g.clone()
        else:
            state["velocity"].mul_(group["beta"]).add_(g)
        p.add_(state["velocity"], alpha=-group["lr"])


class Adam(Elementwise):
    """Adam (Kingma & Ba) with bias correction; weight decay as L2 (`decoupled=False`) or AdamW."""

    def __init__(self, params, lr: float, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0,
                 decoupled: bool = False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      decoupled=decoupled))

    def update(self, p, g, state, group):
        (b1, b2), lr, wd = group["betas"], group["lr"], group["weight_decay"]
        if wd and group["decoupled"]:
            p.mul_(1 - lr * wd)
        elif wd:
            g = g.add(p, alpha=wd)
        if not state:
            state.update(step=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
        state["step"] += 1
        t, m, v = state["step"], state["m"], state["v"]
        m.lerp_(g, 1 - b1)                                          # m <- b1 m + (1 - b1) g
        v.mul_(b2).addcmul_(g, g, value=1 - b2)                     # v <- b2 v + (1 - b2) g^2
        denom = (v.sqrt() / (1 - b2 ** t) ** 0.5).add_(group["eps"])
        p.addcdiv_(m, denom, value=-lr / (1 - b1 ** t))
