"""Sign gradient descent: W <- W - lr * sign(grad W), element-wise, sign(0) = 0 (Li et al. 2024, Sec. 4)."""
from __future__ import annotations

import torch

from .elementwise import Elementwise, add_scaled_, per_run


class SignGD(Elementwise):
    """Full-batch SignGD, usable as any torch optimizer.

    Update (per coordinate): w <- w (1 - lr weight_decay) - lr sign(g). No momentum.
    Coordinates whose gradient is exactly zero do not move.
    """

    def __init__(self, params, lr: float = 1e-4, weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay), decoupled=True)

    def update(self, p, g, state, group):
        add_scaled_(p, torch.sign(g), -per_run(group["lr"], p))
