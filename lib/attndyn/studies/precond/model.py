"""One softmax self-attention layer (spec Sec. 2), batched over a leading run dimension R.

    yhat(x) = sum_j softmax_j(tau * x^T B x_j) A x_j,   A (p, d) value matrix, B (d, d) key-query matrix.
No residual, no 1/sqrt(d) (tau = model.temperature = 1 by default). As n -> inf with x_j ~ N(0, Sigma),
yhat(x) -> A Sigma B^T x (Gaussian tilting identity), so the loss tends to Theorem 1's
E_inf = 1/2 ||(A Sigma B^T - M) Sigma^{1/2}||_F^2 plus the noise constant. The whitened coordinates
(P, Q) of spec Sec. 3 are attndyn.optim.structure_aware.whitened / unwhitened.
"""
from __future__ import annotations

import torch


def attend_shared(Xq, K, A, B, tau: float, exclude=None):
    """Queries Xq (R, m, d) attend over shared tokens K (R, n, d); exclude (R, m, n) bool masks keys. -> (R, m, p)"""
    scores = tau * (Xq @ B) @ K.transpose(1, 2)                        # (R, m, n): x_i^T B x_j
    if exclude is not None:
        scores = scores.masked_fill(exclude, float("-inf"))
    weights = torch.softmax(scores, dim=-1)                            # (R, m, n)
    return (weights @ K) @ A.transpose(1, 2)                           # (R, m, p)


def attend_prompts(Xq, C, A, B, tau: float):
    """Query i (R, m, d) attends over its own prompt C[:, i] (R, m, L, d). -> (R, m, p)"""
    scores = tau * torch.einsum("rmd,rde,rmle->rml", Xq, B, C)         # (R, m, L)
    weights = torch.softmax(scores, dim=-1)
    return torch.einsum("rml,rmld->rmd", weights, C) @ A.transpose(1, 2)


def self_mask(idx, n: int):
    """(R, m, n) True where key j is query i's own token (idx (R, m) are query indices)."""
    return torch.nn.functional.one_hot(idx, n).bool()


def half_mse(pred, target):
    """(1/2m) sum_i ||pred_i - target_i||^2 per run: (R,)."""
    return 0.5 * ((pred - target) ** 2).sum(-1).mean(-1)


def train_loss(A, B, data: dict, tau: float, self_attend: bool, idx=None):
    """L_n (spec Sec. 2.2) on all queries, or on the query subset idx (R, b) (minibatch). -> (R,)

    `data` holds tensors by array name: X (R, n, d), Y (R, n, p) and, for Option P, C (R, n, L, d)."""
    X, Y = data["X"], data["Y"]
    if idx is not None:
        take = lambda T: torch.gather(T, 1, idx[..., None].expand(-1, -1, T.shape[-1]))
        Xq, Yq = take(X), take(Y)
    else:
        Xq, Yq = X, Y
    if "C" in data:                                                    # Option P: own prompts
        C = data["C"] if idx is None else data["C"][torch.arange(X.shape[0], device=X.device)[:, None], idx]
        return half_mse(attend_prompts(Xq, C, A, B, tau), Yq)
    if idx is None:
        idx = torch.arange(X.shape[1], device=X.device).expand(X.shape[0], -1)
    exclude = None if self_attend else self_mask(idx, X.shape[1])
    return half_mse(attend_shared(Xq, X, A, B, tau, exclude), Yq)


def population_excess(A, B, Sigma, M):
    """Theorem 1: E_inf = 1/2 ||(A Sigma B^T - M) Sigma^{1/2}||_F^2 = 1/2 tr(D Sigma D^T), D = A Sigma B^T - M. (R,)"""
    D = A @ Sigma @ B.transpose(1, 2) - M                              # (R, p, d)
    return 0.5 * torch.einsum("rpd,rde,rpe->r", D, Sigma, D)

