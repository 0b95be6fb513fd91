"""Algorithm 1's data-dependent pieces (spec Sec. 4, steps 0-1): the sample covariance and the spectral init.

The update itself (steps b-f) is the registry rule `algorithm1`, attndyn.optim.structure_aware.StructureAwareGD.
"""
from __future__ import annotations

import torch

from ...optim.structure_aware import sym_power, unwhitened


def sample_covariance(X):
    """Step 0: Sigma_hat = X^T X / n per run (R, d, d) from the training tokens X (R, n, d)."""
    return X.transpose(1, 2) @ X / X.shape[1]


def spectral_init(X, Y, rank_k: int | None = None):
    """Step 1: T_hat = C_hat S^{-1/2} = U S V^T; P0 = U S^{1/2}, Q0 = S^{1/2} V^T (zero-padded to d). -> A0, B0

    X (R, n, d), Y (R, n, p); C_hat = Y^T X / n estimates M Sigma, so T_hat estimates T = M Sigma^{1/2}.
    """
    n, d = X.shape[1], X.shape[2]
    S = X.transpose(1, 2) @ X / n                                     # (R, d, d)
    C = Y.transpose(1, 2) @ X / n                                     # (R, p, d)
    s_mhalf = sym_power(S, -0.5)
    U, sv, Vh = torch.linalg.svd(C @ s_mhalf, full_matrices=False)    # U (R, p, k), sv (R, k), Vh (R, k, d)
    k = sv.shape[1] if rank_k is None else min(rank_k, sv.shape[1])
    root = sv[:, :k].sqrt()
    P0 = torch.zeros(X.shape[0], C.shape[1], d, dtype=X.dtype, device=X.device)
    Q0 = torch.zeros(X.shape[0], d, d, dtype=X.dtype, device=X.device)
    P0[:, :, :k] = U[:, :, :k] * root[:, None, :]
    Q0[:, :k, :] = root[..., None] * Vh[:, :k, :]
    return unwhitened(P0, Q0, s_mhalf)
