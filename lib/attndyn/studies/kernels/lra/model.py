"""Two-layer LRA Transformer (spec Sec. 6, Skyformer layout): embeddings, pre-LN layers, mean-pool head.

Only the attention kernel differs between arms (softmax | gaussian, in every layer).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..attention import attention_weights
from ..settings import KernelOptions, LRAModel


class KernelAttention(nn.Module):
    """Multi-head attention with W_q, W_k, W_v (with bias), kernel weights S, output W_O."""

    def __init__(self, dim: int, heads: int, head_dim: int, kernel: str, attn_dropout: float,
                 temperature: float | None = None, rownorm: bool = False):
        super().__init__()
        self.heads, self.head_dim, self.kernel = heads, head_dim, kernel
        self.temperature, self.rownorm = temperature, rownorm
        self.W_q, self.W_k, self.W_v = (nn.Linear(dim, heads * head_dim) for _ in range(3))
        self.W_o = nn.Linear(heads * head_dim, dim)
        self.drop = nn.Dropout(attn_dropout)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        return x.view(B, T, self.heads, self.head_dim).transpose(1, 2)           # (B, H, T, d)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        q, k, v = self._split(self.W_q(x)), self._split(self.W_k(x)), self._split(self.W_v(x))
        key_mask = None if mask is None else mask[:, None, :]
        S = attention_weights(q, k, self.kernel, self.temperature, self.rownorm, key_mask)  # (B, H, T, T)
        out = self.drop(S) @ v                                                     # (B, H, T, d)
        return self.W_o(out.transpose(1, 2).flatten(2))                            # (B, T, dim)


class Layer(nn.Module):
    """Pre-LN block: X + MHA(LN X); X + MLP(LN X), MLP = Linear -> GELU -> Dropout -> Linear -> Dropout."""

    def __init__(self, cfg: LRAModel, kernel: str, options: KernelOptions):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(cfg.dim), nn.LayerNorm(cfg.dim)
        self.attn = KernelAttention(cfg.dim, cfg.heads, cfg.head_dim, kernel, cfg.attn_dropout,
                                    options.gaussian_temperature, options.gaussian_rownorm)
        self.mlp = nn.Sequential(nn.Linear(cfg.dim, cfg.ffn_dim), nn.GELU(), nn.Dropout(cfg.dropout),
                                 nn.Linear(cfg.ffn_dim, cfg.dim), nn.Dropout(cfg.dropout))
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, mask):
        x = x + self.drop(self.attn(self.ln1(x), mask))
        return x + self.mlp(self.ln2(x))


class LRAClassifier(nn.Module):
    """Token + learned position embeddings (N(0, init_std^2)) -> layers -> LN -> masked mean pool -> MLP head."""

    def __init__(self, cfg: LRAModel, kernel: str, options: KernelOptions, seq_len: int, classes: int = 2):
        super().__init__()
        self.tok = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.pos = nn.Embedding(seq_len, cfg.dim)
        nn.init.normal_(self.tok.weight, std=cfg.init_std)
        nn.init.normal_(self.pos.weight, std=cfg.init_std)
        self.drop = nn.Dropout(cfg.dropout)
        self.layers = nn.ModuleList(Layer(cfg, kernel, options) for _ in range(cfg.num_layers))
        self.ln = nn.LayerNorm(cfg.dim)
        self.head = nn.Sequential(nn.Linear(cfg.dim, cfg.ffn_dim), nn.ReLU(), nn.Linear(cfg.ffn_dim, classes))

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """tokens (B, T) int64, mask (B, T) bool (False = padding; None = no padding) -> logits (B, classes)."""
        x = self.drop(self.tok(tokens) + self.pos.weight[: tokens.shape[1]])       # (B, T, dim)
        for layer in self.layers:
            x = layer(x, mask)
        if mask is None:
            return self.head(self.ln(x).mean(1))                                    # (B, classes)
        x = self.ln(x) * mask[..., None]
        pooled = x.sum(1) / mask.sum(1, keepdim=True).clamp_min(1)                  # (B, dim)
        return self.head(pooled)


def build_model(kernel: str, network: LRAModel, options: KernelOptions, seq_len: int, device,
                dtype: torch.dtype) -> LRAClassifier:
    """The LRA classifier with the given kernel in every layer, initialized from the global torch RNG, in `dtype`
    (the cell's dtype: float32 for the LRA experiments)."""
    return LRAClassifier(network, kernel, options, seq_len).to(device, dtype)


def load_params(model: LRAClassifier, flat: np.ndarray) -> LRAClassifier:
    """Set the model's weights from a `final_params` vector (P,) of a model with the same settings."""
    n = sum(p.numel() for p in model.parameters())
    if flat.shape != (n,):
        raise ValueError(f"stored weights have shape {flat.shape}, the model has {n} parameters "
                         "(the stage-1 run was made with other model settings)")
    dtype = next(model.parameters()).dtype
    torch.nn.utils.vector_to_parameters(torch.as_tensor(flat, dtype=dtype), model.parameters())
    return model
