"""Typed optimizer settings: one resolved `optimizers:` entry of an experiment (torch-free)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..errors import ConfigError
from .rules import COMMON_KEYS, RULES


@dataclass(frozen=True)
class OptimizerSpec:
    """What a train job needs to build an optimizer: the rule, its step size, run length and settings."""
    name: str                       # the entry's name in the config (the `optimizer` axis value)
    rule: str
    lr: float
    steps: int | None               # optimizer steps; None until a minibatch task converts `epochs`
    epochs: int | None
    batch_size: int | None
    lr_rule: str                    # constant | inverse_smoothness
    lr_scale: float
    power_iters: int
    settings: dict[str, Any]        # the rule's own settings, registry defaults filled in

    def with_steps(self, steps: int) -> "OptimizerSpec":
        return replace(self, steps=int(steps))


def optimizer_spec(name: str, entry: Mapping, where: str) -> OptimizerSpec:
    """Resolve one config entry (schema-validated, defaults filled): rule settings it does not have are errors."""
    rule = entry.get("rule") or name
    if rule not in RULES:
        raise ConfigError(f"config error: {where}.rule: unknown optimizer rule {rule!r}; "
                          f"known: {', '.join(sorted(RULES))} (set 'rule:' for a custom name)")
    known = RULES[rule].settings
    own = {k: v for k, v in entry.items() if k not in COMMON_KEYS}
    for key in own:
        if key not in known:
            allowed = ", ".join(sorted(known)) or "none"
            raise ConfigError(f"config error: {where}.{key}: rule {rule!r} has no setting {key!r}; "
                              f"its settings: {allowed}")
    settings = {k: own.get(k, s.default) for k, s in known.items()}
    problem = RULES[rule].check(settings) if RULES[rule].check else None
    if problem:
        raise ConfigError(f"config error: {where}.{problem[0]}: {problem[1]}")
    common = {k: entry.get(k, default) for k, (_, default, _) in COMMON_KEYS.items() if k not in ("rule", "lr")}
    return OptimizerSpec(name=name, rule=rule, lr=float(entry["lr"]), settings=settings, **common)


def epochs_to_steps(epochs: int, n_examples: int, batch_size: int) -> int:
    """The one conversion of a minibatch run length: epochs x (whole batches per epoch)."""
    per_epoch = n_examples // batch_size
    if per_epoch < 1:
        raise ConfigError(f"config error: batch_size {batch_size} exceeds the {n_examples} training examples")
    return epochs * per_epoch


def run_length(spec: OptimizerSpec, n_examples: int | None = None) -> int:
    """Steps of a run: `steps`, or `epochs` converted with the training-set size (minibatch tasks)."""
    if spec.steps is not None:
        return spec.steps
    if spec.epochs is None or n_examples is None or spec.batch_size is None:
        raise ConfigError(f"config error: optimizer {spec.name!r}: set `steps` (or `epochs` with batch_size "
                          "on a minibatch task)")
    return epochs_to_steps(spec.epochs, n_examples, spec.batch_size)
