"""Build a registry optimizer (torch): the rule's class over a study's parameters, from typed settings."""
from __future__ import annotations

from collections.abc import Mapping

from ..errors import ConfigError
from . import elementwise, signgd, structure_aware
from .rules import RULES
from .spec import OptimizerSpec, optimizer_spec

MODULES = {"elementwise": elementwise, "signgd": signgd, "structure_aware": structure_aware}


def rule_class(rule: str):
    module, _, name = RULES[rule].target.partition(":")
    return getattr(MODULES[module], name)


def build(spec: OptimizerSpec, params, context: Mapping | None = None, lr=None):
    """The optimizer of `spec` over `params`; `context` holds what the rule needs (e.g. the covariance).

    `lr` replaces spec.lr (e.g. a step size computed per run)."""
    rule = RULES[spec.rule]
    missing = [need for need in rule.needs if need not in (context or {})]
    if missing:
        raise ConfigError(f"config error: optimizer {spec.name!r}: rule {spec.rule!r} needs a {missing[0]}, "
                          "which this experiment does not provide")
    needed = [context[need] for need in rule.needs]
    return rule_class(spec.rule)(params, *needed, lr=spec.lr if lr is None else lr, **spec.settings, **rule.fixed)


def build_optimizer(rule: str, params, settings: Mapping, context: Mapping | None = None):
    """Build a registered optimizer from a plain mapping (lr and the rule's settings), as outside the pipeline."""
    if rule not in RULES:
        raise ConfigError(f"unknown optimizer {rule!r}; known: {', '.join(sorted(RULES))}")
    if not settings.get("lr", 0) > 0:
        raise ConfigError(f"optimizer {rule!r}: lr must be > 0, got {settings.get('lr')!r}")
    return build(optimizer_spec(rule, {"rule": rule, **settings}, f"optimizer {rule}"), params, context)


def build_members(specs, params, runs_per_member: int):
    """One optimizer for batched members (member-major runs): the members' rule with per-run hyperparameters
    where they differ (batching.per_run_optimizer)."""
    from ..batching import per_run_optimizer

    first = next(iter(params))
    lr, settings = per_run_optimizer(specs, runs_per_member, first.dtype, first.device)
    return rule_class(specs[0].rule)(params, lr=lr, **settings, **RULES[specs[0].rule].fixed)
