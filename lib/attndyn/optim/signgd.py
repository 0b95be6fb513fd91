"""Sign gradient descent: W <- W - lr * sign(grad W), element-wise, sign(0) = 0 (Li et al. 2024, Sec. 4)."""
from __future__ import annotations

import torch

from .elementwise import Elementwise


class SignGD(Elementwise):
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

    def update(self, p, g, state, group):
        step = torch.sign(g)
        if group["weight_decay"]:
            step = step + group["weight_decay"] * p
        p.add_(step, alpha=-group["lr"])
