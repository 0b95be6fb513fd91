"""2-D loss-landscape slices shared by the synthetic (S3) and the LRA landscapes (spec Sec. 4.2 Fig. 4):
filter-normalized random directions (Li et al. 2018) and the loss on a grid around a point."""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch


def filter_normalized_direction(W: torch.Tensor, gen: torch.Generator, filter_dim: int = -2) -> torch.Tensor:
    """Random direction whose filters (the slices along `filter_dim`, one per output unit) have W's norms
    (Li et al. 2018): W (..., D, d) with filters as columns (filter_dim -2), or an nn.Linear weight
    (out, in) with filters as rows (filter_dim -1). Same shape as W."""
    d = torch.randn(W.shape, generator=gen, dtype=W.dtype).to(W.device)
    return d * W.norm(dim=filter_dim, keepdim=True) / d.norm(dim=filter_dim, keepdim=True).clamp_min(1e-30)


def slice_grid(coords: np.ndarray, loss_at: Callable[[float, float], np.ndarray]) -> np.ndarray:
    """loss_at(a, b) -> (...,) evaluated on the grid coords x coords: (..., G, G), a along the first grid axis."""
    return np.stack([np.stack([np.asarray(loss_at(float(a), float(b))) for b in coords], -1) for a in coords], -2)


def slice_coords(value_range, grid: int) -> np.ndarray:
    """The G slice coordinates spanning [low, high]: (G,)."""
    return np.linspace(value_range[0], value_range[1], grid)
