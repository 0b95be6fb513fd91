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

    def __post_init__(self):
        self._idx, self._val = torch.cat(self.idx, -1), torch.cat(self.val, -1)    # (R, n, sum K_l)
        bounds = torch.tensor([0] + [i.shape[-1] for i in self.idx]).cumsum(0).tolist()
        self._segments = list(zip(bounds[:-1], bounds[1:]))

    def project(self, W: torch.Tensor) -> torch.Tensor:
        """<w_m, x^(l)> for every row w_m of W (R, m, d): returns (R, n, L, m).

        One gather over all tokens' pairs: its backward fills one (R, m, d) buffer per call."""
        R, n, K = self._idx.shape
        picked = torch.gather(W, 2, self._idx.reshape(R, 1, n * K).expand(-1, W.shape[1], -1))
        terms = picked.reshape(R, -1, n, K) * self._val[:, None]                   # (R, m, n, K)
        per_token = [terms[..., a:b].sum(-1) for a, b in self._segments]            # L x (R, m, n)
        return torch.stack(per_token, dim=-1).permute(0, 2, 3, 1)                  # (R, n, L, m)

    def chunks(self, size: int) -> list["Tokens"]:
        """The same batch split along samples (bounded temporaries when evaluating large test sets)."""
        n = self.idx[0].shape[1]
        return [Tokens([i[:, a:a + size] for i in self.idx], [v[:, a:a + size] for v in self.val], self.d)
                for a in range(0, n, size)]

    def dense(self) -> torch.Tensor:
        """X (R, n, L, d); for tests and small problems."""
        R, n = self.val[0].shape[:2]
        X = torch.zeros(R, n, len(self.val), self.d, dtype=self.val[0].dtype, device=self.val[0].device)
        for l, (i, v) in enumerate(zip(self.idx, self.val)):
            X[:, :, l].scatter_add_(-1, i, v)
        return X


def tokens(data: dict, split: str, dtype: torch.dtype, device) -> tuple[Tokens, torch.Tensor]:
    """Tokens of a split (signal token first on coordinates 0..d_sig-1, noise token second) and y (R, n)."""
    signal = torch.as_tensor(data[f"{split}_signal"], dtype=dtype, device=device)        # (R, n, d_sig)
    noise_idx = torch.as_tensor(data[f"{split}_noise_idx"], device=device)              # (R, n, s)
    noise_val = torch.as_tensor(data[f"{split}_noise_val"], dtype=dtype, device=device)  # (R, n, s)
    signal_idx = torch.arange(signal.shape[-1], device=device).expand(signal.shape)
    y = torch.as_tensor(data[f"{split}_y"], dtype=dtype, device=device)
    return Tokens([signal_idx, noise_idx], [signal, noise_val], int(data["d"])), y
