"""Seeded synthetic problems of S1-S3 (the `data` job; numpy only). Every array has a leading run dimension
(one run per seed); each seed's stream is its own (numpy Generator seeded [seed, experiment tag, extra])."""
from __future__ import annotations

import numpy as np

from ..settings import Dataset

TAGS = {"s1": 1, "s2": 2, "s3": 3}


def tokens(rng: np.random.Generator, N: int, n: int, D: int) -> np.ndarray:
    """X_i in R^{n x D} with N(0, 1/D) entries (token norms ~ 1); (N, n, D)."""
    return rng.normal(0.0, 1.0 / np.sqrt(D), size=(N, n, D))


def init_weights(rng: np.random.Generator, D: int, d: int, d_v: int, heads: int, qk_std: float,
                 q_std: float | None = None) -> dict:
    """W_Q, W_K entries N(0, qk_std^2) (so q entries have std ~ qk_std, [PROPOSED]);
    W_V N(0, 1/D); W_O N(0, 1/d_v) (fixed). Shapes (H, D, d), (H, D, d), (H, D, d_v), (H, d_v)."""
    q_std = qk_std if q_std is None else q_std
    return {"W_Q": rng.normal(0, q_std, (heads, D, d)), "W_K": rng.normal(0, qk_std, (heads, D, d)),
            "W_V": rng.normal(0, 1 / np.sqrt(D), (heads, D, d_v)),
            "W_O": rng.normal(0, 1 / np.sqrt(d_v), (heads, d_v))}


def _rng(seed: int, tag: str, extra: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, TAGS[tag], extra])


def _stacked(per_seed: list[dict]) -> dict:
    return {k: np.stack([p[k] for p in per_seed]) for k in per_seed[0]}


def s1_data(dataset: Dataset) -> dict:
    """S1: per D of the grid, tokens X (R, N, n, D), random targets y (R, N, n) and initial weights (R, H, ...),
    keys '<name>_D<D>'."""
    s, out = dataset.params, {}
    for D in s.D_grid:
        per_seed = []
        for seed in dataset.seeds:
            rng = _rng(seed, "s1", D)
            X = tokens(rng, s.N, s.n, D)
            y = rng.normal(0.0, 1.0, (s.N, s.n))
            W = init_weights(rng, D, s.d, s.d_v or D, s.heads, s.init_std)
            if s.tie_qk_init:
                W["W_K"] = W["W_Q"].copy()        # diagonally dominant S_i at init ("appropriate init", Sec. 1.2)
            per_seed.append({"X": X, "y": y, **W})
        out.update({f"{key}_D{D}": value for key, value in _stacked(per_seed).items()})
    return out


def s2_data(dataset: Dataset) -> dict:
    """S2: X, fixed W_K, W_V, W_O, a teacher W_Q* (std teacher_scale) and a unit-std student direction Z."""
    s, per_seed = dataset.params, []
    for seed in dataset.seeds:
        rng = _rng(seed, "s2")
        X = tokens(rng, s.N, s.n, s.D)
        W = init_weights(rng, s.D, s.d, s.d_v or s.D, s.heads, s.qk_std, q_std=s.teacher_scale)
        W["W_V"] = W["W_V"] * s.value_std                 # output scale (so W_Q-only GD is not starved)
        Z = rng.normal(0.0, 1.0, W["W_Q"].shape)
        per_seed.append({"X": X, "W_Qstar": W.pop("W_Q"), "Z": Z, **W})
    return _stacked(per_seed)


def s3_data(dataset: Dataset) -> dict:
    """S3: X, random targets and initial weights (one head) for the two-stage landscape runs."""
    s, per_seed = dataset.params, []
    for seed in dataset.seeds:
        rng = _rng(seed, "s3")
        X = tokens(rng, s.N, s.n, s.D)
        y = rng.normal(0.0, 1.0, (s.N, s.n))
        per_seed.append({"X": X, "y": y, **init_weights(rng, s.D, s.d, s.d_v or s.D, 1, s.init_std)})
    return _stacked(per_seed)
