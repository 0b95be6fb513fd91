"""Attention kernels (spec Sec. 1.1), shared by the synthetic and the LRA models: Softmax and (unnormalized)
Gaussian, interchangeable.

Both map queries (..., n, d) and keys (..., m, d) to attention weights (..., n, m).
"""
from __future__ import annotations

import math

import torch

KERNELS = ("softmax", "gaussian")


def softmax_kernel(q: torch.Tensor, k: torch.Tensor, key_mask: torch.Tensor | None = None) -> torch.Tensor:
    """S = softmax_row(q k^T / sqrt(d))  [PAPER kind, RECONSTRUCTED scaling]."""
    logits = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])           # (..., n, m)
    if key_mask is not None:
        logits = logits.masked_fill(~key_mask[..., None, :], -1e9)
    return torch.softmax(logits, dim=-1)


def gaussian_temperature(temperature, d: int):
    """The temperature a Gaussian kernel divides by: null or 'two_sqrt_d' = 2 sqrt(d) [RECONSTRUCTED], a number, or
    a per-run tensor (broadcastable to the weights; 'scale_matched' is resolved per run by the trainer)."""
    if temperature is None or (isinstance(temperature, str) and temperature == "two_sqrt_d"):
        return 2.0 * math.sqrt(d)
    if isinstance(temperature, str):
        raise ValueError(f"gaussian temperature {temperature!r} must be resolved to numbers before the kernel")
    return temperature


def gaussian_kernel(q: torch.Tensor, k: torch.Tensor, temperature=None, rownorm=False,
                    key_mask: torch.Tensor | None = None) -> torch.Tensor:
    """S_kj = exp(-||q_k - k_j||^2 / temperature), temperature = 2 sqrt(d)  [RECONSTRUCTED];
    unnormalized unless `rownorm` (ablation, [PROPOSED]). A batched ensemble may pass per-run values: a
    temperature tensor and a boolean rownorm tensor, each broadcastable to the weights (..., n, m)."""
    temperature = gaussian_temperature(temperature, q.shape[-1])
    sq_dist = (q * q).sum(-1)[..., :, None] + (k * k).sum(-1)[..., None, :] - 2.0 * q @ k.transpose(-1, -2)
    weights = torch.exp(-sq_dist.clamp_min(0.0) / temperature)           # (..., n, m)
    if key_mask is not None:
        weights = weights * key_mask[..., None, :].to(weights.dtype)
    if isinstance(rownorm, torch.Tensor):                                 # per run: divide where the flag is set
        sums = weights.sum(-1, keepdim=True).clamp_min(1e-30)
        weights = weights / torch.where(rownorm, sums, torch.ones_like(sums))
    elif rownorm:
        weights = weights / weights.sum(-1, keepdim=True).clamp_min(1e-30)
    return weights


def attention_weights(q, k, kernel: str, temperature: float | None = None, rownorm: bool = False,
                      key_mask=None) -> torch.Tensor:
    """Dispatch on the kernel name (config key `kernels`)."""
    if kernel == "softmax":
        return softmax_kernel(q, k, key_mask)
    if kernel == "gaussian":
        return gaussian_kernel(q, k, temperature, rownorm, key_mask)
    raise ValueError(f"unknown kernel {kernel!r}; known: {', '.join(KERNELS)}")
