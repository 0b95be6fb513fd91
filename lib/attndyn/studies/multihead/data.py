"""Data of the multihead study (spec Sec. 3), numpy only; arrays stacked over seeds (leading run dim R).

DM1, tokenized mixture (Sec. 3.1): orthogonal cluster means of norm S, mu_+ = S e_1, mu_- = S e_2,
nu_j = S e_{2+j}; round(zeta T) relevant positions carry mu_y + z, the others nu_{j_t} + z, z ~ N(0, sigma^2 I).
Planted (Sec. 3.2): x_t ~ N(0, I_d); one teacher head W* = beta G / d, U* ~ N(0, U_star_std^2 I);
y = sign(Phi(theta*; X)), each label flipped with probability label_flip_prob.
"""
from __future__ import annotations

import numpy as np

from ...errors import ConfigError
from ...settings import parse
from .settings import Dataset, DM1Data, PlantedData

KIND_OFFSET = {"dm1": 0, "planted": 1_000_003}    # distinct streams for the two data models


def dm1_split(rng: np.random.Generator, n: int, c: DM1Data) -> dict[str, np.ndarray]:
    """One DM1 split: X (n, T, d), y (n,), relevant-token mask (n, T)."""
    T, d, M, S = c.T, c.d, c.M, c.S
    n_rel = max(1, round(c.zeta * T))
    y = rng.choice([-1.0, 1.0], size=n)                                      # (n,)
    relevant = np.zeros((n, T), dtype=bool)
    for i in range(n):
        relevant[i, rng.choice(T, size=n_rel, replace=False)] = True
    cluster = np.where(relevant, np.where(y[:, None] > 0, 0, 1), 2 + rng.integers(0, M, size=(n, T)))
    means = S * np.eye(d)[cluster]                                           # (n, T, d): mu_y or nu_j
    X = means + c.sigma * rng.standard_normal((n, T, d))
    return {"X": X, "y": y, "relevant": relevant}


def teacher(rng: np.random.Generator, c: PlantedData) -> tuple[np.ndarray, np.ndarray]:
    """Planted head: W* = beta G / d (d, d), U* ~ N(0, U_star_std^2 I_d) (d,); U_star_std None = 1/sqrt(d)."""
    d = c.d
    std = c.U_star_std if c.U_star_std is not None else 1.0 / np.sqrt(d)
    return c.beta * rng.standard_normal((d, d)) / d, std * rng.standard_normal(d)


def teacher_logit(X: np.ndarray, W: np.ndarray, U: np.ndarray, pooling: str) -> np.ndarray:
    """Phi(theta*; X) of one head (spec Sec. 1): X (n, T, d) -> (n,)."""
    scores = X @ W @ X.transpose(0, 2, 1)                                    # (n, T, T)
    A = np.exp(scores - scores.max(-1, keepdims=True))
    A /= A.sum(-1, keepdims=True)
    a = A.mean(1) if pooling == "mean" else A[:, 0]                          # (n, T)
    return (a * (X @ U)).sum(-1)


def planted_split(rng: np.random.Generator, n: int, c: PlantedData, pooling: str,
                  W: np.ndarray, U: np.ndarray) -> dict[str, np.ndarray]:
    """One planted split: X (n, T, d), teacher labels y (n,) with label noise."""
    X = rng.standard_normal((n, c.T, c.d))                                    # (n, T, d)
    y = np.where(teacher_logit(X, W, U, pooling) >= 0, 1.0, -1.0)
    flip = rng.random(n) < c.label_flip_prob
    return {"X": X, "y": np.where(flip, -y, y)}


def one_trial(settings: Dataset, seed: int) -> dict[str, np.ndarray]:
    """Train and test splits of one seed (and the teacher, planted)."""
    kind, c = settings.kind, settings.params
    rng = np.random.default_rng(seed + KIND_OFFSET[kind])
    if kind == "dm1":
        if c.d < c.M + 2:
            raise ConfigError(f"config error: multihead.data.dm1.d={c.d} must be >= M + 2 = {c.M + 2}")
        train, test = dm1_split(rng, c.n_train, c), dm1_split(rng, c.n_test, c)
        extra = {}
    else:
        W, U = teacher(rng, c)
        pooling = settings.teacher_pooling
        train, test = planted_split(rng, c.n_train, c, pooling, W, U), planted_split(rng, c.n_test, c, pooling, W, U)
        extra = {"W_star": W, "U_star": U}
    out = {f"{k}_train": v for k, v in train.items()}
    out.update({f"{k}_test": v for k, v in test.items()})
    return {**out, **extra}


def make_dataset(settings: Dataset | str) -> dict[str, np.ndarray]:
    """All seeds of one data configuration, stacked: X_train (R, n, T, d), y_train (R, n), ..."""
    if isinstance(settings, str):
        settings = parse(Dataset, settings)
    trials = [one_trial(settings, seed) for seed in settings.seeds]
    return {key: np.stack([t[key] for t in trials]) for key in trials[0]}
