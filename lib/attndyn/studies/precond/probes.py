"""Quantities logged every grid step for the precond study (spec Sec. 6)."""
from __future__ import annotations

import torch

from ...optim.structure_aware import whitened
from ...variables import Var
from .model import attend_prompts, attend_shared, population_excess, train_loss

VARIABLES = {
    "train_loss": Var("training loss L_n (finite data, with label noise)"),
    "E_inf": Var("excess population loss 1/2 ||(A Sigma B^T - M) Sigma^{1/2}||_F^2 (true Sigma, M)"),
    "test_risk": Var("finite-context test risk 1/2 E||yhat(x) - M x||^2 on fresh queries"),
    "map_error": Var("||A Sigma B^T - M||_F (true Sigma, M)"),
    "balance": Var("||P^T P - Q Q^T||_F in Sigma_hat-whitened coordinates"),
    "B_op": Var("operator norm ||B||_op"),
    "E_inf_spectral_init": Var("E_inf of the spectral initialization of the same training set (constant)"),
}


def test_risk(A, B, data: dict, tau: float):
    """1/2 mean ||yhat(x) - M x||^2 over the test queries (context: training tokens or fresh prompts). (R,)"""
    Xt = data["X_test"]                                              # (R, m, d)
    target = Xt @ data["M"].transpose(1, 2)                          # (R, m, p)
    if "C_test" in data:
        pred = attend_prompts(Xt, data["C_test"], A, B, tau)
    else:
        pred = attend_shared(Xt, data["X"], A, B, tau)
    return 0.5 * ((pred - target) ** 2).sum(-1).mean(-1)


def probes(A, B, data: dict, s_half, tau: float, self_attend: bool, with_test_risk: bool = True
           ) -> dict[str, torch.Tensor]:
    """Every metric of VARIABLES (test_risk only if with_test_risk), each (R,)."""
    Sigma, M = data["Sigma"], data["M"]
    P, Q = whitened(A, B, s_half)
    D = P.transpose(1, 2) @ P - Q @ Q.transpose(1, 2)
    out = {
        "train_loss": train_loss(A, B, data, tau, self_attend),
        "E_inf": population_excess(A, B, Sigma, M),
        "map_error": (A @ Sigma @ B.transpose(1, 2) - M).flatten(1).norm(dim=1),
        "balance": D.flatten(1).norm(dim=1),
        "B_op": operator_norm(B),
    }
    if with_test_risk:
        out["test_risk"] = test_risk(A, B, data, tau)
    return out


def operator_norm(B):
    """||B||_op per run (R,); NaN for a run whose B is not finite (diverged) instead of an SVD error."""
    finite = torch.isfinite(B).flatten(1).all(1)
    norms = torch.linalg.matrix_norm(torch.where(finite[:, None, None], B, torch.zeros_like(B)), ord=2)
    return torch.where(finite, norms, torch.full_like(norms, float("nan")))
