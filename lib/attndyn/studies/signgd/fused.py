"""The signgd training loss as one fused operation with its exact hand-written backward (the train step's engine).

All four weight matrices live in one parameter in the layout the sparse product reads, W (R, K, M) with the
columns [W_Q rows | W_K rows | W_{V,+1} rows | W_{V,-1} rows] (M = 2 m_k + 2 m_v), so one sparse product projects
every token on every row, and one product with the transpose returns the gradient. Forward (spec Sec. 3):

    P = X W                          (R, n, L, M)   <w, x^(l)> for every row w and token l
    Z_la = <q_l, k_a> / temperature  (R, n, L, L);  A = softmax_a(Z)
    v_a = <vbar, x^(a)> = P_V c,     c = (+1/m_v, ..., -1/m_v, ...)   (the mean value vector's projection)
    f = sum_l sum_a A_la v_a;        loss = mean_i softplus(-y_i f_i)

The backward is the chain rule written out (softmax: dZ = A (dA - sum_a A dA)); tests check it against autograd
through `model.forward` and finite differences. Element-wise optimizers update W exactly as they would update the
four matrices, so only rounding (the order of the value vector's sum) separates this from `model.forward`.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .model import PARAM_NAMES
from .tokens import Tokens


def pack(params: dict[str, torch.Tensor]) -> torch.Tensor:
    """{WQ, WK, WV_plus, WV_minus} each (R, m, K) -> W (R, K, M), rows side by side (a detached copy)."""
    return torch.cat([params[name].detach() for name in PARAM_NAMES], 1).transpose(1, 2).contiguous()


def unpack(W: torch.Tensor, m_k: int, m_v: int) -> dict[str, torch.Tensor]:
    """W (R, K, M) -> {WQ, WK (R, m_k, K), WV_plus, WV_minus (R, m_v, K)} (views)."""
    rows = W.transpose(1, 2)
    return dict(zip(PARAM_NAMES, rows.split([m_k, m_k, m_v, m_v], 1)))


def value_weights(m_v: int, dtype, device) -> torch.Tensor:
    """c (2 m_v,): <vbar, x> = sum_r c_r <w_{V,r}, x> with vbar = mean(W_{V,+1}) - mean(W_{V,-1})."""
    return torch.tensor([1.0 / m_v] * m_v + [-1.0 / m_v] * m_v, dtype=dtype, device=device)


class FusedLoss(torch.autograd.Function):
    """losses (R,) = mean_i softplus(-y_i f(W, X_i)); gradient w.r.t. W only (X, y are data)."""

    @staticmethod
    def forward(ctx, W, X: Tokens, y, m_k: int, c, temperature: float):
        R, n, L = X.shape
        S, S_T = X.block_matrices()
        P = (S @ W.reshape(-1, W.shape[-1])).reshape(R, n, L, -1)                # (R, n, L, M)
        Q, K = P[..., :m_k], P[..., m_k:2 * m_k]
        values = P[..., 2 * m_k:] @ c                                             # (R, n, L)
        Z = Q @ K.transpose(-1, -2)                                               # (R, n, L, L)
        A = torch.softmax(Z if temperature == 1.0 else Z / temperature, dim=-1)
        weight = A.sum(-2)                                                        # (R, n, L): sum_l A_la
        f = (weight * values).sum(-1)                                             # (R, n)
        ctx.save_for_backward(Q, K, A, weight, values, f, y, c)
        ctx.S_T, ctx.temperature, ctx.shape = S_T, temperature, W.shape
        return F.softplus(-y * f).mean(-1)

    @staticmethod
    def backward(ctx, grad):
        Q, K, A, weight, values, f, y, c = ctx.saved_tensors
        g = grad[:, None] * (-y * torch.sigmoid(-y * f)) / f.shape[-1]            # dL/df (R, n)
        dA = g[..., None, None] * values[..., None, :]                              # dA_la = g v_a
        dZ = A * (dA - (A * dA).sum(-1, keepdim=True))                             # softmax backward
        if ctx.temperature != 1.0:
            dZ = dZ / ctx.temperature
        dP = torch.cat([dZ @ K, dZ.transpose(-1, -2) @ Q, (g[..., None] * weight)[..., None] * c], -1)
        dW = ctx.S_T @ dP.reshape(-1, dP.shape[-1])                                # (R K, M)
        return dW.reshape(ctx.shape), None, None, None, None, None


def fused_loss(W: torch.Tensor, X: Tokens, y: torch.Tensor, m_k: int, c: torch.Tensor,
               temperature: float = 1.0) -> torch.Tensor:
    """Training losses (R,) of the packed parameter W (R, K, M) on tokens X (R, n, L, .) with labels y (R, n)."""
    return FusedLoss.apply(W, X, y, m_k, c, temperature)
