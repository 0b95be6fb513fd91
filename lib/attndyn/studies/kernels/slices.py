"""2-D loss-landscape slices shared by the synthetic (S3) and the LRA landscapes (spec Sec. 4.2 Fig. 4):
filter-normalized random directions (Li et al. 2018), several direction pairs, the loss on a grid around a
point, and the curvature at that point (top Hessian eigenvalue by power iteration on Hessian-vector products)."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch


def filter_normalized_direction(W: torch.Tensor, gen: torch.Generator, filter_dim: int = -2) -> torch.Tensor:
    """Random direction whose filters (the slices along `filter_dim`, one per output unit) have W's norms
    (Li et al. 2018): W (..., D, d) with filters as columns (filter_dim -2), or an nn.Linear weight
    (out, in) with filters as rows (filter_dim -1). Same shape as W."""
    d = torch.randn(W.shape, generator=gen, dtype=W.dtype).to(W.device)
    return d * W.norm(dim=filter_dim, keepdim=True) / d.norm(dim=filter_dim, keepdim=True).clamp_min(1e-30)


def direction_pairs(weights: Sequence[torch.Tensor], pairs: int, seed: int,
                    filter_dim: int = -2) -> list[tuple[list[torch.Tensor], list[torch.Tensor]]]:
    """`pairs` pairs (d1, d2) of filter-normalized random directions, one tensor per weight, all drawn in order
    from one generator seeded `seed`: pair 0 is the pair a one-pair slice draws (d1 for every weight, then d2)."""
    gen = torch.Generator().manual_seed(seed)
    return [tuple([filter_normalized_direction(w, gen, filter_dim) for w in weights] for _ in range(2))
            for _ in range(pairs)]


def slice_grid(coords: np.ndarray, loss_at: Callable[[float, float], np.ndarray]) -> np.ndarray:
    """loss_at(a, b) -> (...,) evaluated on the grid coords x coords: (..., G, G), a along the first grid axis."""
    return np.stack([np.stack([np.asarray(loss_at(float(a), float(b))) for b in coords], -1) for a in coords], -2)


def slice_coords(value_range, grid: int) -> np.ndarray:
    """The G slice coordinates spanning [low, high]: (G,)."""
    return np.linspace(value_range[0], value_range[1], grid)


def hessian_vector_product(loss_fn: Callable[[], torch.Tensor], params: Sequence[torch.Tensor],
                           v: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """H v of the scalar loss_fn() in `params` (double backward); v shaped like params."""
    with torch.enable_grad():
        grads = torch.autograd.grad(loss_fn(), params, create_graph=True)
        hv = torch.autograd.grad(sum((g * u).sum() for g, u in zip(grads, v)), params)
    return [h.detach() for h in hv]


def top_hessian_eigenvalue(hvp: Callable[[list], list], params: Sequence[torch.Tensor], iters: int,
                           seed: int = 0) -> float:
    """The largest-magnitude eigenvalue (signed) of a Hessian given by hvp(v) -> H v, by `iters` power
    iterations from a fixed random start: v <- H v / ||H v||, lambda = v^T H v."""
    gen = torch.Generator().manual_seed(seed)
    v = [torch.randn(p.shape, generator=gen, dtype=p.dtype).to(p.device) for p in params]
    lam = float("nan")
    for _ in range(int(iters)):
        norm = torch.sqrt(sum((u * u).sum() for u in v)).clamp_min(1e-30)
        v = [u / norm for u in v]
        hv = hvp(v)
        lam = float(sum((h * u).sum() for h, u in zip(hv, v)))
        v = hv
    return lam
