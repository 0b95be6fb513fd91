"""Synthetic single-layer attention regression (spec Sec. 2 and 7), batched over runs R.

T(X_i) = sum_h S_ih X_i W_V^h w_O^h  (one scalar per token), loss f = 1/2 sum_i ||T(X_i) - y_i||^2.
"""
from __future__ import annotations

import torch

from ..attention import attention_weights, gaussian_temperature
from ..settings import KernelOptions


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



def wv_floor(W: dict, X: torch.Tensor, y: torch.Tensor, kernel: str, temperature=None, rownorm=False):
    """The least-squares floor of W_V-only training at the current attention features (spec Sec. 7 S1
    [DERIVED]): the output sum_h F_h v_h is linear in v_h = W_V^h w_O^h, and any v_h is reachable when
    w_O^h != 0 (W_V^h = v_h w_O^h^T / ||w_O^h||^2), so min over W_V of f is 1/2 ||y - P y||^2, P the projector
    onto the column space of the stacked Nn x HD feature matrix [S_i X_i]: (R,). It is > 0 for generic y once
    rank < Nn (D < Nn: D unknowns for Nn targets). Zero-padded feature columns add nothing to the column space."""
    F = head_features(W, X, kernel, temperature, rownorm)                # (R, H, N, n, D)
    R, H, N, n, D = F.shape
    M = F.permute(0, 2, 3, 1, 4).reshape(R, N * n, H * D)
    U, s, _ = torch.linalg.svd(M, full_matrices=False)                  # U (R, Nn, k)
    U = U * (s > s[:, :1] * max(N * n, H * D) * torch.finfo(M.dtype).eps)[:, None, :]   # the column space
    r = y.reshape(R, N * n)
    residual = r - torch.einsum("rik,rk->ri", U, torch.einsum("rik,ri->rk", U, r))
    return 0.5 * (residual ** 2).sum(1)


def scale_matched_temperature(W: dict, X: torch.Tensor) -> torch.Tensor:
    """[PROPOSED] model.gaussian_temperature 'scale_matched': per run and head, the mean ||q - k||^2 over samples and
    token pairs at these (initial) weights, divided by sqrt(d): (R, H, 1, 1, 1). The Gaussian kernel's mean exponent
    is then sqrt(d), that of the 2 sqrt(d) kernel at unit-variance q and k entries, whatever the init scale."""
    q = torch.einsum("rnkd,rhde->rhnke", X, W["W_Q"])                   # (R, H, N, n, d)
    k = torch.einsum("rnkd,rhde->rhnke", X, W["W_K"])
    sq = (q * q).sum(-1)[..., :, None] + (k * k).sum(-1)[..., None, :] - 2.0 * q @ k.transpose(-1, -2)
    return (sq.clamp_min(0.0).mean((2, 3, 4), keepdim=True) / q.shape[-1] ** 0.5).detach()


def run_options(options: KernelOptions, W: dict, X: torch.Tensor) -> KernelOptions:
    """The options a group of runs trains with: 'scale_matched' resolved from the weights W at initialization
    (per run and head, then fixed); any other options unchanged."""
    if isinstance(options.gaussian_temperature, str) and options.gaussian_temperature == "scale_matched":
        return KernelOptions(options.gaussian_rownorm, scale_matched_temperature(W, X))
    return options


def _plain(options: KernelOptions) -> bool:
    return not isinstance(options.gaussian_temperature, torch.Tensor)


def per_run_options(groups: list[tuple[KernelOptions, int]], heads: int, d: int, like: torch.Tensor) -> KernelOptions:
    """One KernelOptions for groups of runs trained as one ensemble (group after group; (options, runs) each):
    the groups' own if they all agree (plain values), else per-run tensors that the kernel broadcasts:
    rownorm (R, 1, 1, 1, 1) bool, temperature (R, H, 1, 1, 1) (a group's value repeated over its runs)."""
    first = groups[0][0]
    if all(_plain(o) and o == first for o, _ in groups):
        return first
    rownorm = torch.cat([torch.full((n,), bool(o.gaussian_rownorm), device=like.device) for o, n in groups])
    temps = [o.gaussian_temperature if not _plain(o) else
             torch.full((n, heads, 1, 1, 1), float(gaussian_temperature(o.gaussian_temperature, d)),
                        dtype=like.dtype, device=like.device) for o, n in groups]
    return KernelOptions(rownorm.view(-1, 1, 1, 1, 1), torch.cat(temps))
