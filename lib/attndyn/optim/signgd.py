"""Sign gradient descent: W <- W - lr * sign(grad W), element-wise, sign(0) = 0 (Li et al. 2024, Sec. 4)."""
from __future__ import annotations

import torch


class SignGD(torch.optim.Optimizer):
    """Full-batch SignGD, usable as any torch optimizer.

    Update (per coordinate): w <- w - lr * (sign(g) + weight_decay * w). No momentum.
    Coordinates whose gradient is exactly zero do not move.
    """

    def __init__(self, params, lr: float = 1e-4, weight_decay: float = 0.0):
        if not lr > 0:
            raise ValueError(f"SignGD: lr must be > 0, got {lr}")
        if weight_decay < 0:
            raise ValueError(f"SignGD: weight_decay must be >= 0, got {weight_decay}")
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                update = torch.sign(p.grad)
                if group["weight_decay"]:
                    update = update + group["weight_decay"] * p
                p.add_(update, alpha=-group["lr"])
        return loss
