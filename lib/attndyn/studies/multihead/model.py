"""Single-layer multi-head self-attention classifier (spec Sec. 1; Deora et al. 2023).

    S_h = X W_h X^T / temperature          scores, query t x key s
    A_h = softmax_rows(S_h)                attention over keys
    f_h = (1/T) 1^T A_h X U_h              mean pooling over queries (or the first query only)
    Phi = (1/sqrt(H)) sum_h f_h            NTK-style head scaling
    loss = mean_i log(1 + exp(-y_i Phi_i))

Parameters carry a leading run dimension R (one run per seed): W (R, H_s, d, d), U (R, H_s, d).
Usually H_s = H. Under zero init every head stays identical (spec Sec. 1.1), so the H heads can be
stored as H_s = 1 head standing for H copies (`heads=H`): exact, at 1/H of the cost. Then every H has the
same shapes, and `heads` may also be one head count per run (a (R,) integer tensor): runs with different H
train as one ensemble (a batched sweep of H).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ...optim.elementwise import per_run

HEAD_SCALINGS = {"1/sqrt(H)": lambda H: 1.0 / math.sqrt(H), "1/H": lambda H: 1.0 / H, "1": lambda H: 1.0}
Heads = int | torch.Tensor              # H, or one H per run (R,) (int64): tied heads, a batch of head counts


def head_factor(head_scaling: str, heads: Heads, stored: int) -> float | torch.Tensor:
    """kappa = c(H) H / H_s, the factor of the stored heads' sum in Phi (each stands for H / H_s heads): a number,
    or per run (R,) float64, each value computed exactly as the number would be."""
    if isinstance(heads, torch.Tensor):
        return torch.tensor([head_factor(head_scaling, h, stored) for h in heads.tolist()], dtype=torch.float64,
                            device=heads.device)
    return HEAD_SCALINGS[head_scaling](heads) * (heads // stored)


def root(value: Heads, like: torch.Tensor) -> float | torch.Tensor:
    """sqrt of a number (math.sqrt) or of a per-run tensor (in the dtype of `like`)."""
    return value.to(like.dtype).sqrt() if isinstance(value, torch.Tensor) else math.sqrt(value)


def zero_params(runs: int, heads: int, d: int, dtype, device) -> dict[str, torch.Tensor]:
    """theta(0) = 0, the paper's initialization (spec Sec. 1.1)."""
    W = torch.zeros(runs, heads, d, d, dtype=dtype, device=device)          # (R, H, d, d)
    U = torch.zeros(runs, heads, d, dtype=dtype, device=device)             # (R, H, d)
    return {"W": W.requires_grad_(), "U": U.requires_grad_()}


def random_params(seeds: list[int], heads: int, d: int, std: float, dtype, device) -> dict[str, torch.Tensor]:
    """W_h = 0, U_h ~ N(0, std^2 I_d), one generator per seed (spec Sec. 1.1 'random' [PROPOSED])."""
    U = torch.stack([torch.randn(heads, d, generator=torch.Generator().manual_seed(s), dtype=torch.float64)
                     for s in seeds]) * std                                 # (R, H, d)
    params = zero_params(len(seeds), heads, d, dtype, device)
    with torch.no_grad():
        params["U"].copy_(U)
    return params


def attention(W: torch.Tensor, X: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """A_h = softmax_rows(X W_h X^T / temperature). W (R, H, d, d), X (R, n, T, d) -> (R, n, T, H, T).

    Layout (query t, head h, key s) lets both products run as two large batched matmuls.
    """
    R, n, T, d = X.shape
    H = W.shape[1]
    XW = X.reshape(R, n * T, d) @ W.permute(0, 2, 1, 3).reshape(R, d, H * d)   # (R, n*T, H*d): x_t^T W_h
    XW = XW.reshape(R * n, T * H, d)                                            # (R*n, T*H, d)
    scores = XW @ X.reshape(R * n, T, d).transpose(1, 2)                       # (R*n, T*H, T): x_t^T W_h x_s
    return torch.softmax(scores.reshape(R, n, T, H, T) / temperature, dim=-1)


def query_weights(A: torch.Tensor, pooling: str) -> torch.Tensor:
    """Attention each key receives after pooling over queries: (R, n, T, H, T) -> (R, n, H, T)."""
    return A.mean(2) if pooling == "mean" else A[:, :, 0]


def head_outputs(A: torch.Tensor, X: torch.Tensor, U: torch.Tensor, pooling: str = "mean") -> torch.Tensor:
    """f_h(X) = sum_s a_{h,s} <x_s, U_h> with query-pooled attention a: A (R, n, T, H, T) -> (R, n, H)."""
    a = query_weights(A, pooling)                                           # (R, n, H, T)
    values = X @ U.transpose(1, 2)[:, None]                                 # (R, n, T, H): <x_s, U_h>
    return (a * values.transpose(-1, -2)).sum(-1)                           # (R, n, H)


def logit(A: torch.Tensor, X: torch.Tensor, U: torch.Tensor, pooling: str = "mean",
          head_scaling: str = "1/sqrt(H)", heads: Heads | None = None) -> torch.Tensor:
    """Phi = c(H) sum_h f_h(X), c(H) = 1/sqrt(H) by default: -> (R, n).

    With `heads` = H > H_s stored heads, each stored head stands for H / H_s identical heads (H per run: (R,))."""
    f = head_outputs(A, X, U, pooling)                                      # (R, n, H_s)
    heads = f.shape[-1] if heads is None else heads
    total = f.sum(-1)                                                       # (R, n)
    return per_run(head_factor(head_scaling, heads, f.shape[-1]), total) * total


def forward(params: dict, X: torch.Tensor, pooling: str = "mean", head_scaling: str = "1/sqrt(H)",
            temperature: float = 1.0, heads: Heads | None = None) -> torch.Tensor:
    """Phi(theta; X) for X (R, n, T, d): -> (R, n)."""
    return logit(attention(params["W"], X, temperature), X, params["U"], pooling, head_scaling, heads)


def logistic_loss(phi: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Empirical logistic risk (1/n) sum_i log(1 + exp(-y_i Phi_i)): (R, n) -> (R,)."""
    return F.softplus(-y * phi).mean(-1)
