"""Data of the precond study (spec Sec. 2): Gaussian tokens x ~ N(0, Sigma), labels y = M x + sigma*eps.

Run r uses instance seed data.instance_seeds[r] (Sigma, M) and data seed seeds[r] (tokens, labels, the
N(0, 1) initial point). Files stack runs on a leading dimension R.
  context = train_set:    X (R, n, d), Y (R, n, p): the training set is one self-attention sequence.
  context = fresh_prompt: also C (R, n, L, d): each of the n queries has its own prompt of L tokens.
Test queries X_test (R, n_test, d) are always stored; fresh test prompts are drawn by `test_prompts`.
"""
from __future__ import annotations

import numpy as np

from ...errors import ConfigError
from ...settings import parse
from .settings import Data, Dataset


def token_covariance(rng: np.random.Generator, d: int, spec: str, cond: float = 100.0) -> np.ndarray:
    """Sigma (d, d) with trace d: 'wishart_plus_0.3I' = GG^T/d + 0.3 I, or diagonal log-spaced with condition
    number 100 ('diag_logspaced_cond100') or `cond` ('diag_logspaced', data.sigma_cond)."""
    if spec == "wishart_plus_0.3I":
        G = rng.standard_normal((d, d))
        sigma = G @ G.T / d + 0.3 * np.eye(d)
    elif spec == "diag_logspaced_cond100":
        sigma = np.diag(np.logspace(0.0, -2.0, d))
    elif spec == "diag_logspaced":
        sigma = np.diag(np.logspace(0.0, -np.log10(cond), d))
    else:
        raise ConfigError(f"config error: precond.data.sigma_spec: unknown {spec!r}")
    return sigma * d / np.trace(sigma)


def target_map(rng: np.random.Generator, p: int, d: int, c: float) -> np.ndarray:
    """M = c G' / sqrt(d), G' (p, d) i.i.d. N(0, 1)  (spec Sec. 2.3)."""
    return c * rng.standard_normal((p, d)) / np.sqrt(d)


def gaussian_tokens(rng: np.random.Generator, sigma: np.ndarray, shape: tuple) -> np.ndarray:
    """Tokens (*shape, d) ~ N(0, Sigma) via the Cholesky factor."""
    L = np.linalg.cholesky(sigma)
    return rng.standard_normal(shape + (sigma.shape[0],)) @ L.T


def instance(cfg: Data, instance_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(Sigma, M) of one instance seed: the same draws as the data files (claims and figures recompute them)."""
    inst = np.random.default_rng([instance_seed, 0])
    sigma = token_covariance(inst, cfg.d, cfg.sigma_spec, cfg.sigma_cond)
    return sigma, target_map(inst, cfg.out_dim, cfg.d, cfg.M_scale_c)


def trivial_error(cfg: Data, instance_seed: int) -> float:
    """E_inf of the trivial predictor A = B = 0: 1/2 ||M Sigma^{1/2}||_F^2 = 1/2 tr(M Sigma M^T) (closed form);
    it is also the expected finite-context test risk of yhat = 0."""
    sigma, M = instance(cfg, instance_seed)
    return 0.5 * float(np.trace(M @ sigma @ M.T))


def one_run(cfg: Data, instance_seed: int, data_seed: int) -> dict[str, np.ndarray]:
    """Every array of one run (no run dimension)."""
    d, p = cfg.d, cfg.out_dim
    sigma, M = instance(cfg, instance_seed)
    rng = np.random.default_rng([instance_seed, data_seed, 1])
    n = cfg.n
    X = gaussian_tokens(rng, sigma, (n,))                                   # (n, d)
    Y = X @ M.T + cfg.noise_sigma * rng.standard_normal((n, p))             # (n, p)
    out = {"Sigma": sigma, "M": M, "X": X, "Y": Y,
           "X_test": gaussian_tokens(rng, sigma, (cfg.n_test_queries,))}
    if cfg.context == "fresh_prompt":
        out["C"] = gaussian_tokens(rng, sigma, (n, cfg.prompt_len_L))       # (n, L, d)
    init = np.random.default_rng([instance_seed, data_seed, 2])             # the shared N(0, 1) point
    out["A_init"], out["B_init"] = init.standard_normal((p, d)), init.standard_normal((d, d))
    return out


def make_dataset(settings: Dataset | str) -> dict[str, np.ndarray]:
    """All runs of one data configuration, stacked on a leading run dimension R."""
    if isinstance(settings, str):
        settings = parse(Dataset, settings)
    runs = [one_run(settings.params, i, s) for i, s in settings.runs()]
    return {k: np.stack([r[k] for r in runs]) for k in runs[0]}


def test_prompts(sigma: np.ndarray, n_test: int, L: int, instance_seed: int, data_seed: int) -> np.ndarray:
    """Fresh prompts (n_test, L, d) for the fresh_prompt test risk (drawn at train time, not stored)."""
    return gaussian_tokens(np.random.default_rng([instance_seed, data_seed, 3]), sigma, (n_test, L))
