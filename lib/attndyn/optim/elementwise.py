"""Element-wise optimizers as `torch.optim.Optimizer` subclasses with a plain `@torch.no_grad()` step.

torch's own SGD and Adam import torch._dynamo inside every `step()` (2.4 s the first time: most of a
small train job). These classes apply the same formulas (the order of operations of torch's
single-tensor CPU path, so iterates agree to rounding; tests compare them) without that import.
Each update is per coordinate, so a batched ensemble trains exactly like independent runs.
Weight decay is written once, in the base class: L2 added to the gradient, or decoupled
(w <- w (1 - lr lambda) before the update) for rules that say so. Arguments are checked as
torch.optim checks them (ValueError naming the argument).

Any hyperparameter may also be a per-run tensor (R,) for parameters with a leading run dimension R: then each
run of a batched ensemble has its own value (a learning-rate or beta sweep trained as one ensemble).
"""
from __future__ import annotations

from typing import ClassVar

import torch

Hyper = float | torch.Tensor          # a number, or one value per run (R,)


def _values(value: Hyper) -> list[float]:
    return value.flatten().tolist() if isinstance(value, torch.Tensor) else [value]


def check_nonnegative(name: str, value: Hyper) -> None:
    if not all(0.0 <= v for v in _values(value)):
        raise ValueError(f"Invalid {name}: {value} (must be >= 0)")


def check_unit(name: str, value: Hyper) -> None:
    if not all(0.0 <= v < 1.0 for v in _values(value)):
        raise ValueError(f"Invalid {name}: {value} (must be in [0, 1))")


def per_run(value: Hyper, p: torch.Tensor) -> Hyper:
    """A hyperparameter as an update uses it: a number as it is, a per-run tensor (R,) shaped (R, 1, ...) like p."""
    if isinstance(value, torch.Tensor):
        return value.to(device=p.device, dtype=p.dtype).reshape(-1, *[1] * (p.dim() - 1))
    return value


def add_scaled_(p: torch.Tensor, x: torch.Tensor, scale: Hyper) -> None:
    """p <- p + scale x, scale a number (one fused op, as torch.optim does) or per run."""
    if isinstance(scale, torch.Tensor):
        p.add_(x * scale)
    else:
        p.add_(x, alpha=scale)


class Elementwise(torch.optim.Optimizer):
    """Base: weight decay, then `update(p, g, state, group)` on every parameter with a gradient."""

    def __init__(self, params, defaults: dict, decoupled: bool = False):
        check_nonnegative("learning rate", defaults["lr"])
        check_nonnegative("weight_decay value", defaults["weight_decay"])
        super().__init__(params, {**defaults, "decoupled": decoupled})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self.update(p, self._decayed(p, p.grad, group), self.state[p], group)
        return loss

    @staticmethod
    def _decayed(p: torch.Tensor, g: torch.Tensor, group: dict) -> torch.Tensor:
        """The gradient after weight decay: g + lambda w, or g itself after w <- w (1 - lr lambda)."""
        wd = per_run(group["weight_decay"], p)
        if not isinstance(wd, torch.Tensor) and not wd:
            return g
        if group["decoupled"]:
            p.mul_(1 - per_run(group["lr"], p) * wd)
            return g
        return g + wd * p if isinstance(wd, torch.Tensor) else g.add(p, alpha=wd)

    def update(self, p: torch.Tensor, g: torch.Tensor, state: dict, group: dict) -> None:
        raise NotImplementedError


class GD(Elementwise):
    """w <- w - lr g."""

    def __init__(self, params, lr: float, weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay))

    def update(self, p, g, state, group):
        add_scaled_(p, g, -per_run(group["lr"], p))


class HeavyBall(Elementwise):
    """v <- beta v + g (v = g at the first step); w <- w - lr v (torch SGD, dampening 0)."""

    def __init__(self, params, lr: float, beta: float = 0.9, weight_decay: float = 0.0):
        check_unit("momentum value", beta)
        super().__init__(params, dict(lr=lr, beta=beta, weight_decay=weight_decay))

    def update(self, p, g, state, group):
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = g.clone()
        else:
            state["momentum_buffer"].mul_(per_run(group["beta"], p)).add_(g)
        add_scaled_(p, state["momentum_buffer"], -per_run(group["lr"], p))


class Adam(Elementwise):
    """Adam (Kingma & Ba) with bias correction; weight decay as L2 (`decoupled=False`) or AdamW.

    State keys are torch.optim.Adam's (`step` a CPU float tensor, `exp_avg`, `exp_avg_sq`), so a
    torch.optim.Adam state dict loads here and training continues step for step; a state dict with
    other keys is rejected with a ValueError at load time."""

    STATE_KEYS: ClassVar[set[str]] = {"step", "exp_avg", "exp_avg_sq"}

    def __init__(self, params, lr: float, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0,
                 decoupled: bool = False):
        for i, beta in enumerate(betas):
            check_unit(f"beta parameter at index {i}", beta)
        check_nonnegative("epsilon value", eps)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay), decoupled)

    def load_state_dict(self, state_dict: dict) -> None:
        for index, state in state_dict["state"].items():
            if state and set(state) != self.STATE_KEYS:
                raise ValueError(f"Adam state of parameter {index} has keys {sorted(state)}; "
                                 f"expected torch.optim.Adam's {sorted(self.STATE_KEYS)}")
        for group in state_dict["param_groups"]:
            for flag in ("amsgrad", "maximize"):
                if group.get(flag):
                    raise ValueError(f"Adam state dict has {flag}=True, which this Adam does not implement")
        super().load_state_dict(state_dict)
        for group in self.param_groups:                      # a torch state dict carries torch's own group keys
            group.setdefault("decoupled", group.get("decoupled_weight_decay", False))

    def update(self, p, g, state, group):
        (b1, b2), lr, eps = (per_run(b, p) for b in group["betas"]), per_run(group["lr"], p), per_run(group["eps"], p)
        if not state:
            state.update(step=torch.tensor(0.0), exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
        state["step"] += 1
        t, m, v = state["step"].item(), state["exp_avg"], state["exp_avg_sq"]
        if not any(isinstance(h, torch.Tensor) for h in (b1, b2, lr, eps)):
            m.lerp_(g, 1 - b1)                                      # m <- b1 m + (1 - b1) g
            v.mul_(b2).addcmul_(g, g, value=1 - b2)                 # v <- b2 v + (1 - b2) g^2
            denom = (v.sqrt() / (1 - b2 ** t) ** 0.5).add_(eps)
            p.addcdiv_(m, denom, value=-lr / (1 - b1 ** t))
            return
        m.mul_(b1).add_((1 - b1) * g)                               # per-run hyperparameters: the same formulas
        v.mul_(b2).add_((1 - b2) * g * g)
        p.sub_(lr / (1 - b1 ** t) * m / (v.sqrt() / (1 - b2 ** t) ** 0.5 + eps))
