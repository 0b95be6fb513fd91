"""Algorithm 1 of Goel et al. (structure-aware GD), registry rule `algorithm1`, usable outside the pipeline.

    opt = StructureAwareGD([A, B], sigma_hat, lr=0.5, lambda_reg=1.0)   # A (R, p, d), B (R, d, d)
    loss(A, B).sum().backward(); opt.step()

Each step works in whitened coordinates P = A S^{1/2}, Q = S^{1/2} B^T S^{1/2} (S = Sigma_hat):
  b. preconditioner  'whiten':  G_P = grad_A S^{-1/2}, G_Q = S^{-1/2} grad_B^T S^{-1/2} (plain GD in (P, Q));
                     'identity': plain GD in (A, B), i.e. G_P S, S G_Q S (the no-preconditioner ablation);
                     'scaledgd': G_P (Q Q^T)^{-1}, (P^T P)^{-1} G_Q (Tong-Ma-Chi factor preconditioning).
  c. regularizer     'balance': R = (lambda/8) ||P^T P - Q Q^T||_F^2; 'balance_normalized': R / ||P Q||_F.
  d. step            P <- P - lr G_P, Q <- Q - lr G_Q.
  e. renormalization 'rebalance': c = (||Q||_F/||P||_F)^{1/2}, P <- cP, Q <- Q/c (P Q unchanged);
                     'cap_op': if ||Q||_op > tau rescale Q to tau (P up by the same factor); 'none'.
  f. map back        A = P S^{-1/2}, B = (S^{-1/2} Q S^{-1/2})^T.
All norms are per run, so a batch of runs equals the runs done one by one.
"""
from __future__ import annotations

import torch

PRECONDITIONERS = ("whiten", "identity", "scaledgd")
REG_FORMS = ("balance", "balance_normalized")
RENORMS = ("rebalance", "cap_op", "none")


def sym_power(S, power: float):
    """S^power for symmetric positive definite S (R, d, d) via eigh."""
    evals, evecs = torch.linalg.eigh(S)
    return (evecs * evals.clamp_min(1e-300).pow(power)[..., None, :]) @ evecs.transpose(-1, -2)


def whitened(A, B, S_half):
    """P = A S^{1/2} (R, p, d), Q = S^{1/2} B^T S^{1/2} (R, d, d)  (spec Sec. 3)."""
    return A @ S_half, S_half @ B.transpose(1, 2) @ S_half


def unwhitened(P, Q, S_mhalf):
    """Inverse of `whitened`: A = P S^{-1/2}, B = (S^{-1/2} Q S^{-1/2})^T."""
    return P @ S_mhalf, (S_mhalf @ Q @ S_mhalf).transpose(1, 2)


def regularizer(P, Q, lambda_reg: float, form: str = "balance"):
    """Scale-invariant balancing regularizer (spec Sec. 4c) per run: (R,)."""
    D = P.transpose(1, 2) @ P - Q @ Q.transpose(1, 2)                # (R, d, d)
    value = lambda_reg / 8 * (D ** 2).sum((1, 2))
    if form == "balance_normalized":
        value = value / (P @ Q).flatten(1).norm(dim=1)
    return value


def regularizer_grad(P, Q, lambda_reg: float, form: str = "balance"):
    """(dR/dP, dR/dQ); for 'balance' the closed form is ((lambda/2) P D, -(lambda/2) D Q)."""
    with torch.enable_grad():
        P_, Q_ = P.detach().requires_grad_(True), Q.detach().requires_grad_(True)
        gP, gQ = torch.autograd.grad(regularizer(P_, Q_, lambda_reg, form).sum(), (P_, Q_))
    return gP, gQ


def precondition(GP, GQ, P, Q, S, kind: str):
    """Step-b direction in (P, Q) coordinates from the whitened gradients (GP, GQ)."""
    if kind == "whiten":
        return GP, GQ
    if kind == "identity":                                           # GD in (A, B) coordinates
        return GP @ S, S @ GQ @ S
    QQt, PtP = Q @ Q.transpose(1, 2), P.transpose(1, 2) @ P          # scaledgd
    return (torch.linalg.solve_ex(QQt, GP.transpose(1, 2))[0].transpose(1, 2),
            torch.linalg.solve_ex(PtP, GQ)[0])


def renormalize(P, Q, kind: str, tau: float | None = None):
    """Step e: rescale (P, Q) -> (cP, Q/c) per run, so P Q (hence A Sigma B^T) is unchanged."""
    if kind == "none":
        return P, Q
    if kind == "rebalance":
        c = (Q.flatten(1).norm(dim=1) / P.flatten(1).norm(dim=1)).sqrt()
    else:                                                             # cap_op
        q_op = torch.linalg.matrix_norm(Q, ord=2)
        c = torch.where(q_op > tau, q_op / tau, torch.ones_like(q_op))
    c = c[:, None, None]
    return P * c, Q / c


class StructureAwareGD(torch.optim.Optimizer):
    """Algorithm 1 steps b-f for params [A (R, p, d), B (R, d, d)] given Sigma_hat (R, d, d)."""

    def __init__(self, params, sigma_hat, lr: float = 0.5, lambda_reg: float = 1.0, reg_form: str = "balance",
                 preconditioner: str = "whiten", renorm: str = "rebalance", renorm_cap_tau: float | None = None):
        for name, value, allowed in (("reg_form", reg_form, REG_FORMS), ("renorm", renorm, RENORMS),
                                     ("preconditioner", preconditioner, PRECONDITIONERS)):
            if value not in allowed:
                raise ValueError(f"{name}: {value!r} is not one of {allowed}")
        super().__init__(params, dict(lr=lr, lambda_reg=lambda_reg, reg_form=reg_form,
                                      preconditioner=preconditioner, renorm=renorm, renorm_cap_tau=renorm_cap_tau))
        self.sigma_hat = sigma_hat
        self.s_half, self.s_mhalf = sym_power(sigma_hat, 0.5), sym_power(sigma_hat, -0.5)

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            A, B = group["params"]
            P, Q = whitened(A, B, self.s_half)
            GP = A.grad @ self.s_mhalf                                # chain rule of A = P S^{-1/2}
            GQ = self.s_mhalf @ B.grad.transpose(1, 2) @ self.s_mhalf  # chain rule of B^T = S^{-1/2} Q S^{-1/2}
            if group["lambda_reg"] > 0:
                rP, rQ = regularizer_grad(P, Q, group["lambda_reg"], group["reg_form"])
                GP, GQ = GP + rP, GQ + rQ
            GP, GQ = precondition(GP, GQ, P, Q, self.sigma_hat, group["preconditioner"])
            P, Q = renormalize(P - group["lr"] * GP, Q - group["lr"] * GQ, group["renorm"], group["renorm_cap_tau"])
            A_new, B_new = unwhitened(P, Q, self.s_mhalf)
            A.copy_(A_new)
            B.copy_(B_new)
