"""The train job of the precond study: one cell = one optimizer (any registry rule), all runs batched."""
from __future__ import annotations

import numpy as np
import torch

from ...batching import Batch
from ...cells import run_cell
from ...grid import step_grid
from ...optim.build import build
from ...optim.spec import run_length
from ...optim.structure_aware import sym_power
from ...train import Problem
from ..base import CellSpec, RunContext
from .data import test_prompts
from .init import sample_covariance, spectral_init
from .model import population_excess, train_loss
from .probes import VARIABLES, probes
from .settings import Cell, Dataset, Init

MINIBATCH_SEED = 0            # seed of the minibatch query stream (shared by every minibatch cell)


def load_tensors(data: dict, dataset: Dataset, dtype, device) -> dict[str, torch.Tensor]:
    """npz arrays -> tensors; for fresh_prompt also draws the test prompts C_test (R, m, L, d)."""
    out = {k: torch.as_tensor(v, dtype=dtype, device=device) for k, v in data.items()}
    params = dataset.params
    if params.context == "fresh_prompt":
        prompts = [test_prompts(data["Sigma"][r], params.n_test_queries, params.prompt_len_L, i, s)
                   for r, (i, s) in enumerate(dataset.runs())]
        out["C_test"] = torch.as_tensor(np.stack(prompts), dtype=dtype, device=device)
    return out


def initial_point(init: Init, t: dict):
    """(A0, B0) as leaf tensors: spectral init from training data, or the stored N(0, 1) point times init_std."""
    if init.init == "spectral":
        A0, B0 = spectral_init(t["X"], t["Y"], init.spectral_rank_k)
    else:
        A0, B0 = init.init_std * t["A_init"], init.init_std * t["B_init"]
    return A0.clone().requires_grad_(True), B0.clone().requires_grad_(True)


def with_spectral_reference(probe, t: dict, init: Init):
    """Add E_inf of the spectral init of this training set (constant over steps; C4, C6) to the probes."""
    A_s, B_s = spectral_init(t["X"], t["Y"], init.spectral_rank_k)
    reference = population_excess(A_s, B_s, t["Sigma"], t["M"])             # (R,)
    return lambda: {**probe(), "E_inf_spectral_init": reference}


def minibatch_loss(A, B, t: dict, cell: Cell, device, members: int = 1):
    """Loss (step, generator) -> (R,): full batch, or `batch_size` query indices per seed and step. A batched
    ensemble of `members` (member-major runs) draws the indices of one member's seeds and gives every member the
    same ones, so each member sees the minibatches it would see as a cell of its own."""
    tau, self_attend, batch = cell.model.temperature, cell.data.params.self_attend, cell.optimizer.batch_size
    runs, n = t["X"].shape[0], t["X"].shape[1]

    def loss(step, generator):
        idx = None if not batch else torch.randint(0, n, (runs // members, batch), generator=generator,
                                                   device=device).repeat(members, 1)
        return train_loss(A, B, t, tau, self_attend, idx)                      # (R,)
    return loss


def problem_for(s: Cell, t: dict, make_optimizer, ctx: RunContext, members: int = 1) -> Problem:
    """Parameters A (R, p, d), B (R, d, d), the loss L_n and the probes of cell settings `s` on tensors `t`
    (runs = members x seeds, member-major); `make_optimizer([A, B], Sigma_hat)`."""
    A, B = initial_point(s.init, t)
    sigma_hat = sample_covariance(t["X"])                                     # Algorithm 1 step 0
    gen = torch.Generator(device=ctx.device).manual_seed(MINIBATCH_SEED) if s.optimizer.batch_size else None
    s_half = sym_power(sigma_hat, 0.5)
    probe = lambda: probes(A, B, t, s_half, s.model.temperature, s.data.params.self_attend, s.test_risk)
    if s.spectral_reference:
        probe = with_spectral_reference(probe, t, s.init)
    steps = run_length(s.optimizer, s.data.params.n)
    return Problem({"A": A, "B": B}, minibatch_loss(A, B, t, s, ctx.device, members), probe,
                   make_optimizer([A, B], sigma_hat), steps, step_grid(s.log, steps), generator=gen)


def build_problem(cell: CellSpec, data: dict, ctx: RunContext) -> Problem:
    """The problem of one cell with its registry optimizer."""
    s: Cell = cell.settings
    t = load_tensors(data, s.data, ctx.dtype, ctx.device)
    return problem_for(s, t, lambda params, cov: build(s.optimizer, params, {"covariance": cov}), ctx)


def examples_per_step(s: Cell) -> int:
    return int(s.optimizer.batch_size or s.data.params.n)


def train_cell(cell: CellSpec, data: dict, ctx: RunContext):
    """Train all runs of a cell as one batch (a batched cell: all its members too); its Dataset (dims seed, step)."""
    if isinstance(cell.settings, Batch):
        from .ensemble import train_batch

        return train_batch(cell, data, ctx)
    s: Cell = cell.settings
    return run_cell(build_problem(cell, data, ctx), VARIABLES, list(s.data.seeds), cell, ctx,
                    examples_per_step=examples_per_step(s))
