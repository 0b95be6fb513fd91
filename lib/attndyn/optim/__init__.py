"""Optimizer registry: name -> builder(params, settings) -> torch.optim.Optimizer.

All registered rules are element-wise, so a batched ensemble (leading run dimension on every
parameter) trains exactly like independent runs. A study picks the learning rate (e.g. lr0*sqrt(H))
and passes the final `lr` in `settings`.
"""
from __future__ import annotations

from typing import Callable

from ..errors import ConfigError

Builder = Callable[..., "torch.optim.Optimizer"]   # torch is imported lazily: planning stays torch-free


def _signgd(params, s: dict):
    from .signgd import SignGD

    return SignGD(params, lr=s["lr"], weight_decay=s.get("weight_decay", 0.0))


def _gd(params, s: dict):
    """Plain (full-batch or minibatch) gradient descent: w <- w - lr * g."""
    from .elementwise import GD

    return GD(params, lr=s["lr"], weight_decay=s.get("weight_decay", 0.0))


def _momentum(params, s: dict):
    """Heavy ball: v <- beta*v + g; w <- w - lr*v."""
    from .elementwise import HeavyBall

    return HeavyBall(params, lr=s["lr"], beta=s.get("beta", 0.9), weight_decay=s.get("weight_decay", 0.0))


def _adam(params, s: dict):
    from .elementwise import Adam

    return Adam(params, lr=s["lr"], betas=s.get("betas", (0.9, 0.999)), eps=s.get("eps", 1e-8),
                weight_decay=s.get("weight_decay", 0.0))


def _adamw(params, s: dict):
    from .elementwise import Adam

    return Adam(params, lr=s["lr"], betas=s.get("betas", (0.9, 0.999)), eps=s.get("eps", 1e-8),
                weight_decay=s.get("weight_decay", 0.01), decoupled=True)


OPTIMIZERS: dict[str, Builder] = {
    "signgd": _signgd,
    "gd": _gd,
    "sgd": _gd,
    "momentum": _momentum,
    "adam": _adam,
    "adamw": _adamw,
}


def build_optimizer(rule: str, params, settings: dict):
    """Build a registered optimizer; unknown names and bad step sizes are ConfigErrors."""
    if rule not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer {rule!r}; known: {', '.join(sorted(OPTIMIZERS))}")
    if not settings.get("lr", 0) > 0:
        raise ConfigError(f"optimizer {rule!r}: lr must be > 0, got {settings.get('lr')!r}")
    return OPTIMIZERS[rule](params, settings)
