"""Two-layer transformer of Li et al. (2024), spec Sec. 3, batched over a leading run dimension R.

    f(W, X) = F_{+1}(W, X) - F_{-1}(W, X)
    F_j(W, X) = (1/m_v) sum_l 1^T W_{V,j} X softmax(X^T W_K^T W_Q x^(l))
            = sum_l sum_a s_{la} <vbar, x^(a)>,   vbar = mean_rows(W_{V,+1}) - mean_rows(W_{V,-1})

No 1/sqrt(m_k) scaling (temperature 1), no bias, LayerNorm, residual or positional encoding.
All of W_Q, W_K, W_{V,+1}, W_{V,-1} are trained.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .tokens import Tokens

PARAM_NAMES = ("WQ", "WK", "WV_plus", "WV_minus")


def init_params(runs: int, d: int, m_k: int, m_v: int, sigma_0: float, seeds: list[int],
                dtype: torch.dtype, device) -> dict[str, torch.Tensor]:
    """Every entry i.i.d. N(0, sigma_0^2); run r uses its own seed so a batch equals separate runs."""
    shapes = {"WQ": (m_k, d), "WK": (m_k, d), "WV_plus": (m_v, d), "WV_minus": (m_v, d)}
    out = {name: torch.empty((runs,) + shape, dtype=dtype) for name, shape in shapes.items()}
    for r, seed in enumerate(seeds):
        gen = torch.Generator().manual_seed(int(seed) * 7919 + 17)
        for name, shape in shapes.items():
            out[name][r] = torch.randn(shape, generator=gen, dtype=dtype) * sigma_0
    return {k: v.to(device).requires_grad_(True) for k, v in out.items()}


def attention(params: dict, X: Tokens, temperature: float = 1.0) -> torch.Tensor:
    """Softmax outputs S (R, n, L, L), S[..., l, a] = s_{la} = softmax_a(<W_Q x^(l), W_K x^(a)>)."""
    QK = X.project(torch.cat([params["WQ"], params["WK"]], 1))      # (R, n, L, 2 m_k): one sparse product
    Q, K = QK.split(params["WQ"].shape[1], dim=-1)                  # (R, n, L, m_k) each
    scores = torch.einsum("rnlk,rnak->rnla", Q, K) / temperature    # (R, n, L, L)
    return torch.softmax(scores, dim=-1)


def mean_value(params: dict) -> torch.Tensor:
    """vbar = mean_r w_{V,+1,r} - mean_r w_{V,-1,r}   (R, d)."""
    return params["WV_plus"].mean(1) - params["WV_minus"].mean(1)


def forward(params: dict, X: Tokens, temperature: float = 1.0) -> torch.Tensor:
    """f(W, X) for every run and sample: (R, n)."""
    S = attention(params, X, temperature)                           # (R, n, L, L)
    values = X.project(mean_value(params)[:, None, :])[..., 0]      # (R, n, L): <vbar, x^(a)>
    return torch.einsum("rnla,rna->rn", S, values)


def logistic_loss(f: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """L_S = (1/n) sum_i log(1 + exp(-y_i f_i)) per run: (R,)."""
    return F.softplus(-y * f).mean(-1)
