"""Fast checks of the precond study (spec Secs. 2-4): model limit, Algorithm 1 pieces, batching, config errors."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch

from attndyn.config import deep_merge, load_yaml, validate
from attndyn.errors import ConfigError
from attndyn.studies.precond.algorithm import (StructureAwareGD, regularizer, regularizer_grad, renormalize,
                                               spectral_init)
from attndyn.studies.precond.data import gaussian_tokens, target_map, token_covariance
from attndyn.studies.precond.model import (attend_shared, population_excess, sym_power, train_loss, unwhitened,
                                           whitened)

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]
F64 = torch.float64


def instance(d=4, p=4, c=0.3, seed=0):
    rng = np.random.default_rng(seed)
    sigma = token_covariance(rng, d, "wishart_plus_0.3I")
    return rng, torch.tensor(sigma), torch.tensor(target_map(rng, p, d, c))


def small_params(R, p, d, scale=0.3, seed=1):
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(R, p, d, generator=g, dtype=F64), scale * torch.randn(R, d, d, generator=g, dtype=F64)


def test_finite_n_attention_tends_to_linear_map():
    """Spec Sec. 2.1 [DERIVED]: sum_j softmax(x^T B x_j) A x_j -> A Sigma B^T x as n grows (C5's identity)."""
    rng, sigma, _ = instance()
    A, B = small_params(1, 4, 4)
    queries = torch.tensor(gaussian_tokens(rng, sigma.numpy(), (200,)))[None]          # (1, 200, d)
    limit = queries @ (A @ sigma @ B.transpose(1, 2)).transpose(1, 2)                   # (1, 200, p)
    errors = []
    for n in (100, 1000, 20000):
        keys = torch.tensor(gaussian_tokens(rng, sigma.numpy(), (n,)))[None]
        out = attend_shared(queries, keys, A, B, 1.0)
        errors.append(float(((out - limit) ** 2).sum() / (limit ** 2).sum()))
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.02


def exact_moment_data(sigma, M, n=64, seed=0):
    """X with X^T X / n = Sigma exactly and noise-free Y = X M^T: the infinite-data statistics."""
    Z, _ = torch.linalg.qr(torch.randn(n, sigma.shape[0], generator=torch.Generator().manual_seed(seed), dtype=F64))
    X = np.sqrt(n) * Z @ sym_power(sigma[None], 0.5)[0]                                # (n, d)
    return X[None], (X @ M.T)[None]


def test_spectral_init_lands_on_balanced_global_minimum():
    """Spec Sec. 4 step 1: with the true Sigma, M statistics the init has E_inf = 0 and P^T P = Q Q^T."""
    _, sigma, M = instance()
    X, Y = exact_moment_data(sigma, M)
    A0, B0 = spectral_init(X, Y)
    assert float(population_excess(A0, B0, sigma[None], M[None])) < 1e-20
    P, Q = whitened(A0, B0, sym_power(sigma[None], 0.5))
    assert torch.allclose(P.transpose(1, 2) @ P, Q @ Q.transpose(1, 2), atol=1e-10)


def test_renormalization_keeps_product_and_balances_norms():
    """Step e: (P, Q) -> (cP, Q/c) leaves P Q, hence A Sigma B^T, unchanged and equalizes ||P||_F, ||Q||_F."""
    _, sigma, _ = instance()
    A, B = small_params(3, 4, 4, scale=1.0)
    B = 5 * B
    S = sigma.expand(3, -1, -1)
    P, Q = whitened(A, B, sym_power(S, 0.5))
    P2, Q2 = renormalize(P, Q, "rebalance")
    A2, B2 = unwhitened(P2, Q2, sym_power(S, -0.5))
    assert torch.allclose(A2 @ S @ B2.transpose(1, 2), A @ S @ B.transpose(1, 2), atol=1e-10)
    assert torch.allclose(P2.flatten(1).norm(dim=1), Q2.flatten(1).norm(dim=1))
    P3, Q3 = renormalize(P, Q, "cap_op", tau=1.0)
    assert torch.allclose(P3 @ Q3, P @ Q, atol=1e-10)
    assert float(torch.linalg.matrix_norm(Q3, ord=2).max()) <= 1.0 + 1e-12


def test_balancing_regularizer_gradient_invariance_and_descent():
    """Step c: grad = ((lam/2) P D, -(lam/2) D Q); R is zero at balanced points; a step on R reduces imbalance."""
    P, Q = small_params(2, 4, 4, scale=1.0, seed=3)
    lam = 0.7
    D = P.transpose(1, 2) @ P - Q @ Q.transpose(1, 2)
    gP, gQ = regularizer_grad(P, Q, lam)
    assert torch.allclose(gP, lam / 2 * P @ D) and torch.allclose(gQ, -lam / 2 * D @ Q)
    before = float(regularizer(P, Q, lam).sum())
    after = float(regularizer(P - 0.01 * gP, Q - 0.01 * gQ, lam).sum())
    assert after < before
    U, s, Vh = torch.linalg.svd(P @ Q)                                                   # balanced factorization
    Pb, Qb = U * s.sqrt()[:, None, :], s.sqrt()[..., None] * Vh
    assert float(regularizer(Pb, Qb, lam).max()) < 1e-20
    assert torch.allclose(regularizer_grad(P, Q, lam, "balance_normalized")[0].isfinite(), torch.tensor(True))


@pytest.mark.parametrize("context,self_attend", [("train_set", True), ("train_set", False), ("fresh_prompt", True)])
def test_loss_gradient_matches_finite_differences(context, self_attend):
    rng, sigma, M = instance(d=3, p=2)
    X = torch.tensor(gaussian_tokens(rng, sigma.numpy(), (1, 20)))                      # (1, n, d)
    data = {"X": X, "Y": X @ M.T.unsqueeze(0) + 0.1 * torch.randn(1, 20, 2, dtype=F64)}
    if context == "fresh_prompt":
        data["C"] = torch.tensor(gaussian_tokens(rng, sigma.numpy(), (1, 20, 7)))
    A, B = small_params(1, 2, 3)
    A.requires_grad_(True), B.requires_grad_(True)
    train_loss(A, B, data, 1.0, self_attend).sum().backward()
    eps = 1e-6
    for param in (A, B):
        for index in [(0, 0, 0), (0, 1, 2), (0, -1, 1)]:
            with torch.no_grad():
                param[index] += eps
                up = float(train_loss(A, B, data, 1.0, self_attend))
                param[index] -= 2 * eps
                down = float(train_loss(A, B, data, 1.0, self_attend))
                param[index] += eps
            assert abs((up - down) / (2 * eps) - float(param.grad[index])) < 1e-8


def run_algorithm(X, Y, A0, B0, steps=5, **kw):
    A, B = A0.clone().requires_grad_(True), B0.clone().requires_grad_(True)
    opt = StructureAwareGD([A, B], X.transpose(1, 2) @ X / X.shape[1], **kw)
    for _ in range(steps):
        opt.zero_grad()
        train_loss(A, B, {"X": X, "Y": Y}, 1.0, True).sum().backward()
        opt.step()
    return A.detach(), B.detach()


@pytest.mark.parametrize("kw", [dict(lr=0.2), dict(lr=0.01, preconditioner="scaledgd", reg_form="balance_normalized"),
                                dict(lr=0.2, preconditioner="identity", renorm="cap_op", renorm_cap_tau=1.0)])
def test_batched_equals_looped(kw):
    """Every norm is per run, so R runs in one batch equal R single runs (DESIGN: batched == looped)."""
    rng, sigma, M = instance(d=3, p=3)
    X = torch.tensor(gaussian_tokens(rng, sigma.numpy(), (3, 40)))
    Y = X @ M.T + 0.1 * torch.randn(3, 40, 3, dtype=F64, generator=torch.Generator().manual_seed(0))
    A0, B0 = small_params(3, 3, 3, scale=1.0)
    A, B = run_algorithm(X, Y, A0, B0, **kw)
    assert torch.isfinite(A).all() and torch.isfinite(B).all()      # a diverged run would compare NaN to NaN
    for r in range(3):
        Ar, Br = run_algorithm(X[r:r + 1], Y[r:r + 1], A0[r:r + 1], B0[r:r + 1], **kw)
        assert torch.allclose(A[r:r + 1], Ar, atol=1e-10, rtol=0) and torch.allclose(B[r:r + 1], Br, atol=1e-10, rtol=0)


def default_config() -> dict:
    return load_yaml(ROOT / "config" / "config.yaml")


@pytest.mark.parametrize("override,key", [({"alg": {"renorm": "bogus"}}, "precond.alg.renorm"),
                                          ({"seeds": {"instance": [0, 1]}}, "precond.seeds"),
                                          ({"data": {"sigma_spec": "iso"}}, "precond.data.sigma_spec"),
                                          ({"alg": {"renorm": "cap_op"}}, "precond.alg.renorm_cap_tau")])
def test_bad_config_is_one_line_naming_the_key(override, key):
    config = default_config()
    config["precond"] = deep_merge(config["precond"], override)
    with pytest.raises(ConfigError) as err:
        validate(config)
    assert key in str(err.value) and "\n" not in str(err.value)


def test_default_and_smoke_configs_validate_and_plan():
    from attndyn.workflow import Plan

    for extra in (None, "smoke.yaml", "paper.yaml"):
        config = default_config()
        if extra:
            config = deep_merge(config, load_yaml(ROOT / "config" / extra))
        validate(copy.deepcopy(config))
        plan = Plan({**config, "studies": ["precond"]}).studies["precond"]
        assert set(plan.experiments) == {"compare", "scaling", "ablations"}


def test_c3_pre_plateau_window_skips_transient_and_stops_near_floor():
    """Rise at t=1, burn-in 2, geometric fall rho=0.8 to floor 1e-3: window [2, first t with E <= 3 floor]."""
    import numpy as np
    import xarray as xr
    from attndyn.studies.precond.claims import geometric_fit, pre_plateau_window
    t = np.arange(0, 101)
    E = 10.0 * 0.8 ** t + 1e-3
    E[0], E[1] = 50.0, 80.0
    curve = xr.DataArray(E, coords={"step": t}, dims="step")
    start, stop = pre_plateau_window(curve, burn_in=2, floor_factor=3.0)
    assert start == 2 and E[stop] <= 3 * E[-1] < E[stop - 1]
    rho, r2, points = geometric_fit(curve, start, stop)
    assert abs(rho - 0.8) < 0.01 and r2 > 0.99 and points == stop - start + 1
