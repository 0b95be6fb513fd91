"""Optimizers: the one registry (`rules.RULES`, torch-free), typed settings (`spec.OptimizerSpec`) and the
builder (`build.build`, torch). Element-wise rules train a batched ensemble (leading run dimension on every
parameter) exactly like independent runs. This package face stays torch-free: planning imports it.
"""
from .rules import RULES

OPTIMIZERS = RULES     # name -> Rule (the registry's public name)
