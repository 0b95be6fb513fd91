"""Sparse token batches: each token is a few (coordinate, value) pairs in R^d.

The signgd inputs have 1 + s non-zero coordinates out of d (d = 2000, s = 40 by default), so
projecting through index/value pairs costs O(s) per token instead of O(d).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Tokens:
    """A batch of inputs in sparse form, one (index, value) block per token position l:
    token l of sample i of run r is sum_k val_l[r, i, k] * e_{idx_l[r, i, k]} in R^d."""
    idx: list[torch.Tensor]    # L tensors (R, n, K_l) int64
    val: list[torch.Tensor]    # L tensors (R, n, K_l)
    d: int

    def project(self, W: torch.Tensor) -> torch.Tensor:
        """<w_m, x^(l)> for every row w_m of W (R, m, d): returns (R, n, L, m)."""
        return torch.stack([_project_block(W, i, v) for i, v in zip(self.idx, self.val)], dim=2)

    def dense(self) -> torch.Tensor:
        """X (R, n, L, d); for tests and small problems."""
        R, n = self.val[0].shape[:2]
        X = torch.zeros(R, n, len(self.val), self.d, dtype=self.val[0].dtype, device=self.val[0].device)
        for l, (i, v) in enumerate(zip(self.idx, self.val)):
            X[:, :, l].scatter_add_(-1, i, v)
        return X


def _project_block(W: torch.Tensor, idx: torch.Tensor, val: torch.Tensor) -> torch.Tensor:
    """sum_k W[r, m, idx[r, i, k]] * val[r, i, k]: (R, n, m), via a gather on W's last dim."""
    R, n, K = idx.shape
    picked = torch.gather(W, 2, idx.reshape(R, 1, n * K).expand(-1, W.shape[1], -1))   # (R, m, n*K)
    return (picked.reshape(R, -1, n, K) * val[:, None]).sum(-1).transpose(1, 2)        # (R, n, m)


def tokens(data: dict, split: str, dtype: torch.dtype, device) -> tuple[Tokens, torch.Tensor]:
    """Tokens of a split (signal token first on coordinates 0..d_sig-1, noise token second) and y (R, n)."""
    signal = torch.as_tensor(data[f"{split}_signal"], dtype=dtype, device=device)        # (R, n, d_sig)
    noise_idx = torch.as_tensor(data[f"{split}_noise_idx"], device=device)              # (R, n, s)
    noise_val = torch.as_tensor(data[f"{split}_noise_val"], dtype=dtype, device=device)  # (R, n, s)
    signal_idx = torch.arange(signal.shape[-1], device=device).expand(signal.shape)
    y = torch.as_tensor(data[f"{split}_y"], dtype=dtype, device=device)
    return Tokens([signal_idx, noise_idx], [signal, noise_val], int(data["d"])), y
