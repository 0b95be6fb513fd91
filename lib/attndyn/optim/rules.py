"""The one optimizer registry, torch-free: rule name -> class, its settings (default, schema, meaning).

A config entry under any study's `optimizers:` names a rule and sets `lr`, the run length and any of the
rule's settings; every rule here can be used by every study that provides what the rule `needs`. The
registry is also where each rule's setting defaults live (the entry schema is generated from it).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Setting:
    """One hyperparameter of a rule: its default, its JSON schema and what it means."""
    default: Any
    schema: dict
    description: str


@dataclass(frozen=True)
class Rule:
    """An update rule: `target` is 'module:Class' of attndyn.optim (imported only when a job builds it)."""
    target: str
    description: str
    settings: dict[str, Setting] = field(default_factory=dict)
    needs: tuple[str, ...] = ()           # what the study must provide, e.g. ("covariance",)
    elementwise: bool = True              # exact as a batched ensemble (per-run hyperparameters allowed)
    fixed: dict[str, Any] = field(default_factory=dict)   # constructor arguments the rule fixes (AdamW: decoupled)
    check: Callable[[dict], tuple[str, str] | None] | None = None   # settings -> (key, what is wrong) or None


UNIT = {"type": "number", "minimum": 0, "exclusiveMaximum": 1}
WEIGHT_DECAY = Setting(0.0, {"type": "number", "minimum": 0},
                       "weight decay lambda (element-wise rules: L2 added to the gradient, or decoupled where the "
                       "rule says so)")
ADAM = {
    "betas": Setting([0.9, 0.999], {"type": "array", "items": UNIT, "minItems": 2, "maxItems": 2},
                     "Adam (beta1, beta2): decay rates of the first and second moment"),
    "eps": Setting(1e-8, {"type": "number", "minimum": 0}, "Adam epsilon added to the root second moment"),
    "weight_decay": WEIGHT_DECAY,
}

RULES: dict[str, Rule] = {
    "signgd": Rule("signgd:SignGD", "sign gradient descent w <- w - lr sign(g), sign(0) = 0 "
                   "(weight decay decoupled)", {"weight_decay": WEIGHT_DECAY}),
    "gd": Rule("elementwise:GD", "gradient descent w <- w - lr g (full batch, or minibatch with batch_size)",
               {"weight_decay": WEIGHT_DECAY}),
    "sgd": Rule("elementwise:GD", "alias of gd, for minibatch runs", {"weight_decay": WEIGHT_DECAY}),
    "momentum": Rule("elementwise:HeavyBall", "heavy ball v <- beta v + g, w <- w - lr v (torch SGD, dampening 0)",
                     {"beta": Setting(0.9, UNIT, "heavy-ball momentum beta"), "weight_decay": WEIGHT_DECAY}),
    "adam": Rule("elementwise:Adam", "Adam with bias correction (weight decay as L2)", ADAM),
    "adamw": Rule("elementwise:Adam", "Adam with decoupled weight decay (AdamW)",
                  {**ADAM, "weight_decay": Setting(0.01, WEIGHT_DECAY.schema, "decoupled weight decay")},
                  fixed={"decoupled": True}),
    "algorithm1": Rule(
        "structure_aware:StructureAwareGD",
        "structure-aware preconditioned GD on a factor pair (A, B) with a token covariance (Goel et al., "
        "Algorithm 1): whitened step, balancing regularizer, renormalization", {
            "lambda_reg": Setting(1.0, {"type": "number", "minimum": 0}, "regularizer weight lambda [PROPOSED]"),
            "reg_form": Setting("balance", {"enum": ["balance", "balance_normalized"]},
                                "(lambda/8)||P^T P - Q Q^T||_F^2, or that divided by ||P Q||_F [PROPOSED]"),
            "preconditioner": Setting("whiten", {"enum": ["whiten", "identity", "scaledgd"]},
                                      "whitening by the sample covariance, none (GD in (A, B)), or ScaledGD "
                                      "factor preconditioning [PROPOSED]"),
            "renorm": Setting("rebalance", {"enum": ["rebalance", "cap_op", "none"]},
                              "rescale (P, Q) -> (cP, Q/c) to equal Frobenius norms, cap ||Q||_op, or nothing "
                              "[PROPOSED]"),
            "renorm_cap_tau": Setting(None, {"oneOf": [{"type": "null"}, {"type": "number", "exclusiveMinimum": 0}]},
                                      "cap tau of renorm: cap_op [PROPOSED]"),
        }, needs=("covariance",), elementwise=False,
        check=lambda s: ("renorm_cap_tau", "must be a positive number when renorm is cap_op")
        if s["renorm"] == "cap_op" and s["renorm_cap_tau"] is None else None),
}

COMMON_KEYS = {
    "rule": ({"type": "string"}, None, "registered update rule (default: the entry's own name)"),
    "lr": ({"type": "number", "exclusiveMinimum": 0}, None, "step size (learning rate)"),
    "steps": ({"oneOf": [{"type": "null"}, {"type": "integer", "minimum": 0}]}, None,
              "optimizer steps of a run (an experiment's `steps` or `overrides` may set it)"),
    "epochs": ({"oneOf": [{"type": "null"}, {"type": "integer", "minimum": 1}]}, None,
               "minibatch tasks only: passes over the training set, converted to steps in one place "
               "(attndyn.optim.spec.epochs_to_steps)"),
    "batch_size": ({"oneOf": [{"type": "null"}, {"type": "integer", "minimum": 1}]}, None,
                   "minibatch size (null = full batch)"),
    "lr_rule": ({"enum": ["constant", "inverse_smoothness"]}, "constant",
                "constant = lr; inverse_smoothness = lr_scale / lambda_max(Hessian of each run's loss at init), "
                "per run"),
    "lr_scale": ({"type": "number", "exclusiveMinimum": 0}, 1.0,
                 "c in eta = c / lambda_max (lr_rule inverse_smoothness)"),
    "power_iters": ({"type": "integer", "minimum": 1}, 30,
                    "power iterations for lambda_max (lr_rule inverse_smoothness)"),
}


def rule_setting_names() -> dict[str, Setting]:
    """Every rule setting by name (settings shared by several rules are one Setting)."""
    out: dict[str, Setting] = {}
    for rule in RULES.values():
        for name, setting in rule.settings.items():
            out.setdefault(name, setting)
    return out


def entry_schema(extra: dict | None = None) -> dict:
    """JSON schema of one `optimizers:` entry: common keys, every rule's settings, and a study's extra keys."""
    props = {k: {**schema, "description": text, **({} if k in ("rule", "lr") else {"default": default})}
             for k, (schema, default, text) in COMMON_KEYS.items()}
    props["rule"] = {**props["rule"], "enum": sorted(RULES)}
    for name, setting in rule_setting_names().items():
        props[name] = {**setting.schema, "description": f"{setting.description} (default: per rule)"}
    props.update(extra or {})
    return {"type": "object", "additionalProperties": False, "required": ["lr"], "properties": props,
            "description": "an optimizer: rule, lr, run length and the rule's settings"}
