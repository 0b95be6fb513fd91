"""Synthetic single-layer attention regression (spec Sec. 2 and 7), batched over runs R.

T(X_i) = sum_h S_ih X_i W_V^h w_O^h  (one scalar per token), loss f = 1/2 sum_i ||T(X_i) - y_i||^2.
"""
from __future__ import annotations

import numpy as np
import torch

from .kernels import attention_weights


def tokens(rng: np.random.Generator, N: int, n: int, D: int) -> np.ndarray:
    """X_i in R^{n x D} with N(0, 1/D) entries (token norms ~ 1); (N, n, D)."""
    return rng.normal(0.0, 1.0 / np.sqrt(D), size=(N, n, D))


def init_weights(rng: np.random.Generator, D: int, d: int, d_v: int, heads: int, qk_std: float,
                 q_std: float | None = None) -> dict:
    """W_Q, W_K entries N(0, qk_std^2) (so q entries have std ~ qk_std, [PROPOSED]);
    W_V N(0, 1/D); W_O N(0, 1/d_v) (fixed)."""
    q_std = qk_std if q_std is None else q_std
    return {"W_Q": rng.normal(0, q_std, (heads, D, d)), "W_K": rng.normal(0, qk_std, (heads, D, d)),
            "W_V": rng.normal(0, 1 / np.sqrt(D), (heads, D, d_v)),
            "W_O": rng.normal(0, 1 / np.sqrt(d_v), (heads, d_v))}


def head_features(W: dict, X: torch.Tensor, kernel: str, temperature=None, rownorm=False) -> torch.Tensor:
    """Attention features S_ih X_i per head: (R, H, N, n, D)."""
    q = torch.einsum("rnkd,rhde->rhnke", X, W["W_Q"])                   # (R, H, N, n, d)
    k = torch.einsum("rnkd,rhde->rhnke", X, W["W_K"])
    S = attention_weights(q, k, kernel, temperature, rownorm)             # (R, H, N, n, n)
    return S @ X[:, None]                                                 # (R, H, N, n, D)


def forward(W: dict, X: torch.Tensor, kernel: str, temperature=None, rownorm=False) -> torch.Tensor:
    """T(X_i) = sum_h S_ih X_i W_V^h w_O^h: (R, N, n)."""
    F = head_features(W, X, kernel, temperature, rownorm)
    v = torch.einsum("rhde,rhe->rhd", W["W_V"], W["W_O"])                 # (R, H, D)
    return torch.einsum("rhnkd,rhd->rnk", F, v)


def squared_loss(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """f = 1/2 sum_i ||T(X_i) - y_i||^2 per run: (R,)."""
    return 0.5 * ((pred - y) ** 2).sum(dim=(1, 2))


def feature_singular_values(W: dict, X: torch.Tensor, kernel: str, temperature=None, rownorm=False):
    """Largest and Nn-th largest singular values (sigma_1, sigma_Nn) of the stacked Nn x (H D) feature matrix
    [S_i X_i] (spec Sec. 7 S1): two (R,) tensors; sigma_Nn = 0 when H D < Nn. Zero-padded feature columns
    (S1 batches all D by zero-padding to the largest D) leave both unchanged."""
    F = head_features(W, X, kernel, temperature, rownorm)                # (R, H, N, n, D)
    R, H, N, n, D = F.shape
    s = torch.linalg.svdvals(F.permute(0, 2, 3, 1, 4).reshape(R, N * n, H * D))   # (R, min(Nn, HD))
    return s[:, 0], (s[:, N * n - 1] if H * D >= N * n else torch.zeros(R, dtype=F.dtype))


def feature_sigma_min(W: dict, X: torch.Tensor, kernel: str, temperature=None, rownorm=False) -> torch.Tensor:
    """sigma_Nn of the stacked feature matrix: (R,)."""
    return feature_singular_values(W, X, kernel, temperature, rownorm)[1]
