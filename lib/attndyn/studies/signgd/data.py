"""Data for the signgd study (Li et al. 2024, Sec. 2 of the spec).

Synthetic: y ~ Rademacher, signal patch x1 = y*mu with mu = ||mu|| e_1, noise patch x2 = xi with an
s-sparse support drawn from {2..d} and N(0, sigma_p^2) entries. Digits: scikit-learn's bundled 8x8
handwritten digits as the signal token, a sparse Gaussian noise token (the noisy-MNIST stand-in).

Files store a compact form (labels, dense signal block, sparse noise as index/value pairs), stacked
over seeds with a leading run dimension; `tokens.tokens` turns a split into sparse `Tokens`.
"""
from __future__ import annotations

import numpy as np

from ...errors import ConfigError
from ...settings import parse
from .settings import Dataset, DigitsData, SyntheticData


def sparse_noise(rng: np.random.Generator, n: int, d: int, s: int, sigma_p: float,
                 first: int) -> tuple[np.ndarray, np.ndarray]:
    """Supports of s coordinates drawn uniformly without replacement from {first..d-1}; N(0, sigma_p^2) values."""
    pool = d - first
    if s > pool:
        raise ConfigError(f"signgd data: sparsity s={s} exceeds the {pool} available noise coordinates")
    idx = np.stack([rng.choice(pool, size=s, replace=False) for _ in range(n)]) + first   # (n, s)
    val = rng.normal(0.0, sigma_p, size=(n, s))                                            # (n, s)
    return idx.astype(np.int64), val


def synthetic_split(rng: np.random.Generator, n: int, cfg: SyntheticData) -> dict[str, np.ndarray]:
    """One split of the signal + sparse-noise model; signal block is (n, 1): y*||mu|| on e_1."""
    y = rng.choice([-1.0, 1.0], size=n)                                                    # (n,)
    first = 1 if cfg.noise_support_excludes_signal else 0
    idx, val = sparse_noise(rng, n, cfg.d, cfg.s, cfg.sigma_p, first)
    y_obs = np.where(rng.random(n) < cfg.label_flip_prob, -y, y)
    signal = (y * cfg.mu_norm)[:, None]                                                    # (n, 1)
    return {"y": y_obs, "signal": signal, "noise_idx": idx, "noise_val": val}


def digits_split_pool(classes_pos: tuple[int, ...], classes_neg: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Bundled 8x8 digits (no download): unit-norm flattened images and +-1 labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    keep = np.isin(digits.target, list(classes_pos) + list(classes_neg))
    images = digits.data[keep].astype(np.float64)
    images /= np.linalg.norm(images, axis=1, keepdims=True)
    labels = np.where(np.isin(digits.target[keep], classes_pos), 1.0, -1.0)
    return images, labels


def digits_splits(rng: np.random.Generator, cfg: DigitsData) -> dict[str, dict[str, np.ndarray]]:
    images, labels = digits_split_pool(cfg.classes_pos, cfg.classes_neg)
    n_train = cfg.n_train
    if n_train >= len(labels):
        raise ConfigError(f"signgd.data.digits: n_train={n_train} must be below the {len(labels)} images "
                          f"of classes {list(cfg.classes_pos + cfg.classes_neg)}")
    order = rng.permutation(len(labels))
    d_sig = images.shape[1]
    d = d_sig + cfg.noise_dim
    first = d_sig if cfg.noise_dim > 0 else 0
    s = cfg.noise_sparsity_s or (d - first)
    out = {}
    for split, rows in (("train", order[:n_train]), ("test", order[n_train:])):
        idx, val = sparse_noise(rng, len(rows), d, s, cfg.sigma_p, first)
        out[split] = {"y": labels[rows], "signal": images[rows], "noise_idx": idx, "noise_val": val}
    return out


def make_dataset(settings: Dataset | str) -> dict[str, np.ndarray]:
    """All seeds of one data configuration, stacked: keys '<split>_<field>' with a leading run dim."""
    if isinstance(settings, str):
        settings = parse(Dataset, settings)
    cfg, per_seed = settings.params, []
    for seed in settings.seeds:
        rng = np.random.default_rng([seed, 20241007])
        if settings.kind == "synthetic":
            splits = {"train": synthetic_split(rng, cfg.n, cfg), "test": synthetic_split(rng, cfg.n_test, cfg)}
        else:
            splits = digits_splits(rng, cfg)
        per_seed.append({f"{split}_{k}": v for split, fields in splits.items() for k, v in fields.items()})
    data = {k: np.stack([p[k] for p in per_seed]) for k in per_seed[0]}
    data["d"] = np.array(cfg.d if settings.kind == "synthetic" else 64 + cfg.noise_dim)
    return data
