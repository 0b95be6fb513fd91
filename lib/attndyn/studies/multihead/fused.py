"""The multihead training loss as one fused operation with its exact hand-written backward (the train step's engine).

With H_s stored heads W (R, H_s, d, d), U (R, H_s, d) and tokens X (R, n, T, d) (spec Sec. 1):

    Z_{h,ts} = x_t^T W_h x_s / temperature;  A_h = softmax_s(Z_h)
    a_{h,s}  = mean_t A_{h,ts} (mean pooling) or A_{h,0s} (first query);   v_{h,s} = <x_s, U_h>
    Phi = kappa sum_h sum_s a_{h,s} v_{h,s},  kappa = c(H) H / H_s  (each stored head stands for H / H_s heads;
                                           a number, or one per run (R, 1) when runs have their own H)
    loss = mean_i softplus(-y_i Phi_i)

The backward is the chain rule written out (softmax: dZ = A (dA - sum_s A dA)); both products keep the layout of
`model.attention` (query, head, key), so the forward and the backward are two batched matmuls each (the transposed
token copies they read are built once per problem, `prepare`), the value and U products are per-run GEMMs, and the
softmax over the T keys is `softmax.short_softmax` (half of torch's CPU time on a short last dimension; equal to
rounding). Tests check it against autograd through `model.forward` and finite differences.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ...softmax import short_softmax
from .model import Heads, head_factor


def _pool(A: torch.Tensor, pooling: str) -> torch.Tensor:
    """(R, n, T, H, T) -> (R, n, H, T): attention each key receives after pooling over queries."""
    return A.mean(2) if pooling == "mean" else A[:, :, 0]


def _unpool(da: torch.Tensor, T: int, pooling: str) -> torch.Tensor:
    """The backward of `_pool`: (R, n, H, T) -> (R, n, T, H, T)."""
    if pooling == "mean":
        return (da / T)[:, :, None].expand(-1, -1, T, -1, -1)
    dA = da.new_zeros(da.shape[:2] + (T,) + da.shape[2:])
    dA[:, :, 0] = da
    return dA


@dataclass(frozen=True)
class Inputs:
    """Tokens X (R, n, T, d) and the transposed copies the products read, built once per problem (data are fixed)."""
    X: torch.Tensor
    keys: torch.Tensor         # (R n, d, T): X_i^T of every sample
    columns: torch.Tensor      # (R, d, n T): X^T of every run


def prepare(X: torch.Tensor) -> Inputs:
    """Inputs of tokens X (R, n, T, d)."""
    R, n, T, d = X.shape
    return Inputs(X, X.reshape(R * n, T, d).transpose(1, 2).contiguous(),
                  X.reshape(R, n * T, d).transpose(1, 2).contiguous())


class FusedLoss(torch.autograd.Function):
    """losses (R,) of the logistic risk; gradients w.r.t. W and U (X, y are data)."""

    @staticmethod
    def forward(ctx, W, U, inputs: Inputs, y, kappa, pooling: str, temperature: float):  # kappa: float or (R, 1)
        X = inputs.X
        R, n, T, d = X.shape
        H = W.shape[1]
        XW = X.reshape(R, n * T, d) @ W.permute(0, 2, 1, 3).reshape(R, d, H * d)       # (R, nT, H d)
        Z = XW.reshape(R * n, T * H, d) @ inputs.keys                                # (R n, T H, T)
        if temperature != 1.0:
            Z = Z / temperature
        A = short_softmax(Z.reshape(R, n, T, H, T))
        a = _pool(A, pooling)                                                          # (R, n, H, T)
        v = (X.reshape(R, n * T, d) @ U.transpose(1, 2)).reshape(R, n, T, H).transpose(-1, -2)   # (R, n, H, T)
        phi = kappa * (a * v).sum((-1, -2))                                            # (R, n)
        ctx.save_for_backward(X, y, A, a, v, phi)
        ctx.kappa, ctx.pooling, ctx.temperature, ctx.columns = kappa, pooling, temperature, inputs.columns
        return F.softplus(-y * phi).mean(-1)

    @staticmethod
    def backward(ctx, grad):
        X, y, A, a, v, phi = ctx.saved_tensors
        R, n, T, d = X.shape
        H = A.shape[3]
        g = ctx.kappa * grad[:, None] * (-y * torch.sigmoid(-y * phi)) / n             # dL/df (R, n)
        ga = (g[..., None, None] * a).permute(0, 2, 1, 3).reshape(R, H, n * T)            # dv = g a
        dU = ga @ X.reshape(R, n * T, d)                                               # (R, H, d)
        AdA = A * _unpool(g[..., None, None] * v, T, ctx.pooling)                      # (R, n, T, H, T)
        dZ = torch.addcmul(AdA, A, AdA.sum(-1, keepdim=True), value=-1.0)              # A (dA - sum_s A dA)
        if ctx.temperature != 1.0:
            dZ = dZ / ctx.temperature
        Y = dZ.reshape(R * n, T * H, T) @ X.reshape(R * n, T, d)                      # (R n, T H, d)
        dW = ctx.columns @ Y.reshape(R, n * T, H * d)                                 # (R, d, H d)
        return dW.reshape(R, d, H, d).permute(0, 2, 1, 3), dU, None, None, None, None, None


def fused_loss(W: torch.Tensor, U: torch.Tensor, X: torch.Tensor | Inputs, y: torch.Tensor, heads: Heads,
               pooling: str = "mean", head_scaling: str = "1/sqrt(H)", temperature: float = 1.0) -> torch.Tensor:
    """Training losses (R,) for stored heads W (R, H_s, d, d), U (R, H_s, d) standing for `heads` heads (H, or
    one H per run (R,)); X (R, n, T, d) or its `prepare`d Inputs (what a train step passes)."""
    inputs = X if isinstance(X, Inputs) else prepare(X)
    kappa = head_factor(head_scaling, heads, W.shape[1])
    if isinstance(kappa, torch.Tensor):
        kappa = kappa.to(W.dtype)[:, None]                                             # (R, 1) against (R, n)
    return FusedLoss.apply(W, U, inputs, y, kappa, pooling, temperature)
