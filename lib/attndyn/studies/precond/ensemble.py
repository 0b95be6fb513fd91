"""Batched sweep values of the precond study: the members of a `Batch` cell trained as one ensemble.

Members may differ in the values of their data (Sigma, M: e.g. sigma_cond) and in their optimizer's learning rate
(and, for element-wise rules, any hyperparameter); everything that sets shapes or the loss must agree. Runs stay
independent: every tensor carries the run dimension, Algorithm 1's whitening, regularizer and renormalization are
per run (a per-run step size (R, 1, 1) multiplies each run's step), element-wise rules take per-run
hyperparameters, and minibatch indices are drawn per seed and shared by the members (each member sees what it
would see alone). Members with equal settings and data (e.g. Algorithm 1 along a baseline_lr axis, which does not
change it) are trained once.
"""
from __future__ import annotations

import torch

from ...batching import Batch, per_run, split_result, stacked_cells
from ...errors import ConfigError
from ...optim.build import build, build_members
from ...optim.rules import RULES
from ...optim.spec import run_length
from ...settings import canonical_json
from ...train import train
from ..base import CellSpec, RunContext
from .probes import VARIABLES
from .runner import examples_per_step, load_tensors, problem_for
from .settings import Cell

SHAPE_KEYS = ("d", "p", "n", "context", "prompt_len_L", "self_attend", "n_test_queries")


def unique_members(batch: Batch) -> tuple[list[int], list[int]]:
    """(the first member of each distinct (data file, settings), each member's index into that list)."""
    keys = [(name, canonical_json(m)) for name, m in zip(batch.datasets, batch.members)]
    first = list(dict.fromkeys(keys))
    return [keys.index(k) for k in first], [first.index(k) for k in keys]


def _frame(m: Cell) -> tuple:
    """What batched members must share: shapes, model, init, logging, run length, the rule and its batch size
    (Algorithm 1, not element-wise: every setting but the lr)."""
    spec = m.optimizer
    own = None if RULES[spec.rule].elementwise else spec.settings
    return (m.model, m.init, m.log, m.spectral_reference, m.test_risk, m.dtype, m.data.seeds,
            tuple(getattr(m.data.params, k) for k in SHAPE_KEYS), spec.rule, spec.batch_size,
            run_length(spec, m.data.params.n), canonical_json(own))


def shared(members: list[Cell]) -> Cell:
    """The first member, once every member agrees on what one ensemble needs shared."""
    if any(_frame(m) != _frame(members[0]) for m in members[1:]):
        raise ConfigError("config error: precond batch: members may differ in their data values (Sigma, M, noise) "
                          "and optimizer hyperparameters only (Algorithm 1: its lr only); shapes, model, init, "
                          "steps, logging and the rule must agree")
    return members[0]


def ensemble_optimizer(members: list[Cell], seeds: int):
    """make_optimizer(params, Sigma_hat) for the members' runs (member-major): per-run hyperparameters."""
    specs = [m.optimizer for m in members]
    if RULES[specs[0].rule].elementwise:
        return lambda params, cov: build_members(specs, params, seeds)
    first = members[0].optimizer

    def make(params, cov):
        lr = per_run([s.lr for s in specs], seeds, cov.dtype, cov.device)
        return build(first, params, {"covariance": cov}, lr=lr[:, None, None] if torch.is_tensor(lr) else lr)
    return make


def train_batch(cell: CellSpec, datas: dict, ctx: RunContext):
    """Every distinct member x seed as one ensemble, split back onto the batched axes of the cell."""
    batch: Batch = cell.settings
    firsts, index = unique_members(batch)
    members = [batch.members[i] for i in firsts]
    s, seeds = shared(members), list(batch.members[0].data.seeds)
    parts = [load_tensors(datas[batch.datasets[i]], batch.members[i].data, ctx.dtype, ctx.device) for i in firsts]
    t = {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
    problem = problem_for(s, t, ensemble_optimizer(members, len(seeds)), ctx, members=len(members))
    result = train(problem, ctx.checkpointing())
    from ...results import cell_dataset

    attrs = {**ctx.provenance, "examples_per_step": examples_per_step(s), "batched_runs": len(members) * len(seeds)}
    datasets = [cell_dataset(r, VARIABLES, seeds, {}, attrs) for r in split_result(result, len(members))]
    return stacked_cells([datasets[i] for i in index], batch).assign_coords(cell.coords)
