"""The train job of the precond study: one cell = one method (Algorithm 1 variant or baseline), all runs batched."""
from __future__ import annotations

import numpy as np
import torch

from ...grid import log_step_grid
from ...optim import build_optimizer
from ...cells import run_cell
from ...runtime import resolve_dtype
from ...train import Problem
from ..base import CellSpec, RunContext
from .algorithm import StructureAwareGD, sample_covariance, spectral_init
from .data import test_prompts
from .model import population_excess, sym_power, train_loss
from .probes import VARIABLES, probes


def load_tensors(data: dict, cfg: dict, dtype, device) -> dict[str, torch.Tensor]:
    """npz arrays -> tensors; for fresh_prompt also draws the test prompts C_test (R, m, L, d)."""
    out = {k: torch.as_tensor(v, dtype=dtype, device=device) for k, v in data.items()}
    if cfg["context"] == "fresh_prompt":
        prompts = [test_prompts(data["Sigma"][r], cfg["n_test"], cfg["prompt_len_L"], i, s)
                   for r, (i, s) in enumerate(zip(cfg["instance_seeds"], cfg["data_seeds"]))]
        out["C_test"] = torch.as_tensor(np.stack(prompts), dtype=dtype, device=device)
    return out


def initial_point(method: dict, t: dict):
    """(A0, B0) as leaf tensors: spectral init from training data, or the stored N(0, 1) point times init_std."""
    if method["init"] == "spectral":
        A0, B0 = spectral_init(t["X"], t["Y"], method.get("spectral_rank_k"))
    else:
        A0, B0 = method["init_std"] * t["A_init"], method["init_std"] * t["B_init"]
    return A0.clone().requires_grad_(True), B0.clone().requires_grad_(True)


def with_spectral_reference(probe, t: dict, method: dict):
    """Add E_inf of the spectral init of this training set (constant over steps; C6) to the probes."""
    A_s, B_s = spectral_init(t["X"], t["Y"], method.get("spectral_rank_k"))
    reference = population_excess(A_s, B_s, t["Sigma"], t["M"])             # (R,)
    return lambda: {**probe(), "E_inf_spectral_init": reference}


def make_optimizer(method: dict, params: list, sigma_hat):
    if method["rule"] == "algorithm1":
        keys = ("lr", "lambda_reg", "reg_form", "preconditioner", "renorm", "renorm_cap_tau")
        return StructureAwareGD(params, sigma_hat, **{k: method[k] for k in keys})
    return build_optimizer(method["rule"], params, method)


def build_problem(cell: CellSpec, data: dict, ctx: RunContext) -> Problem:
    s, method = cell.settings, cell.settings["method"]
    dtype = resolve_dtype(s["dtype"])
    t = load_tensors(data, s["data"], dtype, ctx.device)
    A, B = initial_point(method, t)
    sigma_hat = sample_covariance(t["X"])
    tau, self_attend = s["model"]["temperature"], s["data"]["self_attend"]
    runs, n, batch = t["X"].shape[0], t["X"].shape[1], method.get("batch_size")
    gen = torch.Generator(device=ctx.device).manual_seed(int(s["generator_seed"])) if batch else None

    def loss(step, generator):
        idx = None if not batch else torch.randint(0, n, (runs, batch), generator=generator, device=ctx.device)
        return train_loss(A, B, t, tau, self_attend, idx)                      # (R,)

    s_half = sym_power(sigma_hat, 0.5)
    probe = lambda: probes(A, B, t, s_half, tau, self_attend)
    if s.get("spectral_reference"):
        probe = with_spectral_reference(probe, t, method)
    log = s["log"]
    grid = log_step_grid(method["iters"], log["points_per_decade"], log["dense_until"], tuple(log["extra_steps"]))
    return Problem({"A": A, "B": B}, loss, probe,
                   make_optimizer(method, [A, B], sigma_hat), method["iters"], grid, generator=gen)


def train_cell(cell: CellSpec, data: dict, ctx: RunContext):
    """Train all runs of a cell as one batch; return its xarray Dataset (dims seed, step)."""
    method = cell.settings["method"]
    return run_cell(build_problem(cell, data, ctx), VARIABLES, cell.settings["data"]["data_seeds"], cell, ctx,
                    method_settings=str(method),
                    examples_per_step=int(method.get("batch_size") or cell.settings["data"]["n"]))
