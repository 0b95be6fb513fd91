"""Fast checks of the precond study (spec Secs. 2-4): model limit, Algorithm 1 pieces, batching, config errors."""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr

from attndyn.config import deep_merge, load_yaml, normalize_section, validate
from attndyn.errors import ConfigError
from attndyn.grid import step_grid
from attndyn.optim.structure_aware import (StructureAwareGD, regularizer, regularizer_grad, renormalize, sym_power,
                                           unwhitened, whitened)
from attndyn.studies import get_study
from attndyn.studies.base import RunContext
from attndyn.studies.precond.data import gaussian_tokens, make_dataset, target_map, token_covariance
from attndyn.studies.precond.init import spectral_init
from attndyn.studies.precond.model import attend_shared, population_excess, train_loss

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]
F64 = torch.float64
STUDY = get_study("precond")


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


def default_config(extra: str | None = None) -> dict:
    """config.yaml (+ the precond section of `extra`), precond the only study (the others validate elsewhere)."""
    config = {**load_yaml(ROOT / "config" / "config.yaml"), "studies": ["precond"]}
    if extra:
        config["precond"] = load_yaml(ROOT / "config" / extra)["precond"]
    return config


@pytest.mark.parametrize("override,key", [
    ({"optimizers": {"alg_random": {"renorm": "bogus"}}}, "precond.optimizers.alg_random.renorm"),
    ({"data": {"instance_seeds": [0, 1]}}, "precond.data.instance_seeds"),
    ({"data": {"sigma_spec": "iso"}}, "precond.data.sigma_spec"),
    ({"optimizers": {"alg_random": {"renorm": "cap_op"}}}, "precond.optimizers.alg_random.renorm_cap_tau"),
    ({"experiments": {"ablations": {"overrides": {"alg_no_reg": {"renorm": "cap_op"}}}}},
     "precond.experiments.ablations.overrides.alg_no_reg.renorm_cap_tau"),
    ({"experiments": {"compare": {"overrides": {"sgd": {"init": "zeros"}}}}},
     "precond.experiments.compare.overrides.sgd.init"),
    ({"optimizers": {"alg_spectral": {"spectral_rank_k": 9}}}, "precond.experiments.compare.optimizers.alg_spectral"
                                                                ".spectral_rank_k"),
    ({"checks": {"C1_C2_time": 150}}, "precond.checks.C1_C2_time"),
    ({"experiments": {"compare": {"optimizers": ["alg_spectral", "lion"]}}}, "unknown optimizer 'lion'"),
    ({"experiments": {"scaling": {"sweep": {"n": [1]}}}}, "data.n"),
])
def test_bad_config_is_one_line_naming_the_key(override, key):
    config = default_config()
    config["precond"] = deep_merge(config.get("precond") or {}, override)
    with pytest.raises(ConfigError) as err:
        validate(config)
    assert key in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("old,replacement", [
    ({"seeds": {"instance": [0, 1], "data": [0, 1]}}, "precond.data.instance_seeds"),
    ({"alg": {"iters": 30}}, "precond.optimizers"),
    ({"sgd": {"iters": 100}}, "precond.optimizers.sgd"),
    ({"extra_baselines": ["gd"]}, "precond.experiments.compare.optimizers"),
    ({"ablations": ["no_reg"]}, "precond.experiments.ablations.optimizers"),
    ({"ablation_sigma_specs": ["wishart_plus_0.3I"]}, "precond.experiments.ablations.sweep.sigma_spec"),
    ({"eval": {"n_test_queries": 10}}, "precond.data.n_test_queries"),
    ({"plot": {"y_metric": "E_inf"}}, "precond.figures"),
    ({"data": {"n_grid": [10, 20]}}, "precond.experiments.scaling.sweep.n"),
    ({"optimizers": {"sgd": {"iters": 5}}}, "steps"),
])
def test_legacy_keys_name_their_replacement(old, replacement):
    with pytest.raises(ConfigError) as err:
        normalize_section(old, STUDY.schema(), "precond.")
    message = str(err.value)
    assert "is no longer a key" in message and replacement in message and "\n" not in message


def test_default_and_smoke_configs_validate_and_plan():
    from attndyn.workflow import Plan

    for extra in (None, "smoke.yaml", "paper.yaml"):
        config = validate(default_config(extra))
        plan = Plan({**config, "studies": ["precond"]}).studies["precond"]
        assert set(plan.experiments) == {"compare", "scaling", "ablations", "sgd_tuning", "conditioning",
                                         "map_floor_n_d", "map_c1_cond", "map_c2_cond"}
        settings = plan.settings
        matched = settings.matched_sgd_step("alg_random")
        assert all(matched in step_grid(c.settings.log, c.settings.optimizer.steps)     # C1/C2 read SGD there
                   for c in plan.experiments["sgd_tuning"])
        assert {c.dataset for c in plan.experiments["sgd_tuning"]} == {c.dataset for c in plan.experiments["compare"]}


def _settings(section: dict, top_dtype: str = "float64"):
    """Typed settings through the pipeline's own constructors (schema defaults, then the given keys)."""
    return STUDY.settings(normalize_section(copy.deepcopy(section), STUDY.schema(), "precond."), {"dtype": top_dtype})


def test_default_plan_reproduces_the_old_runs():
    """The old default: compare (alg_spectral lr 0.5, alg_random lr 0.2, SGD lr 1e-2 batch 64), S1 over
    n = 125..1000 for 1200 steps with the spectral reference, S2 = full + 3 ablations from N(0, 1)."""
    plan = STUDY.plan(_settings({}))
    compare = {c.coords["optimizer"]: c.settings for c in plan.experiments["compare"]}
    assert [(s.optimizer.lr, s.init.init, s.optimizer.steps) for s in compare.values()] == [
        (0.5, "spectral", 100), (0.2, "normal", 100), (0.01, "normal", 2000)]
    assert compare["sgd"].optimizer.batch_size == 64 and compare["sgd"].optimizer.rule == "sgd"
    scaling = plan.experiments["scaling"]
    assert [c.coords["n"] for c in scaling] == [125, 250, 500, 1000]
    assert all(c.settings.spectral_reference and c.settings.optimizer.steps == 1200 for c in scaling)
    ablations = {c.coords["optimizer"]: c.settings.optimizer.settings for c in plan.experiments["ablations"]}
    assert ablations["alg_no_precond"]["preconditioner"] == "identity" and ablations["alg_no_reg"]["lambda_reg"] == 0
    assert ablations["alg_no_renorm"]["renorm"] == "none" and ablations["alg_random"]["renorm"] == "rebalance"
    data = compare["sgd"].data
    assert data.seeds == (0, 1, 2) and data.runs() == [(0, 0), (1, 1), (2, 2)] and compare["sgd"].dtype == "float64"


def test_instance_seeds_pair_with_data_seeds_and_top_level_dtype_is_honoured():
    """Run r: Sigma, M from instance_seeds[r], tokens from seeds[r] (the old two seed lists)."""
    settings = _settings({"seeds": [5, 6], "data": {"d": 2, "n": 10, "n_test_queries": 3, "instance_seeds": [1, 1]}},
                         top_dtype="float32")
    cell = STUDY.plan(settings).experiments["compare"][0]
    assert cell.settings.data.runs() == [(1, 5), (1, 6)] and cell.settings.dtype == "float32"
    data = make_dataset(cell.settings.data)
    assert np.array_equal(data["Sigma"][0], data["Sigma"][1]) and not np.array_equal(data["X"][0], data["X"][1])


@pytest.mark.parametrize("rule", ["adam", "signgd", "momentum"])
def test_any_registry_optimizer_runs_in_compare_by_yaml_alone(rule):
    from attndyn.train import train
    from attndyn.studies.precond.runner import build_problem

    section = {"seeds": [0], "data": {"d": 2, "n": 12, "n_test_queries": 5},
               "optimizers": {"extra": {"rule": rule, "lr": 1e-3, "steps": 3}},
               "experiments": {"compare": {"optimizers": ["alg_random", "extra"]}}, "checks": {"C1_C2_time": 3},
               "log": {"extra_steps": []}}
    section["optimizers"]["alg_random"] = {"steps": 3}
    cell = next(c for c in STUDY.plan(_settings(section)).experiments["compare"] if c.coords["optimizer"] == "extra")
    result = train(build_problem(cell, make_dataset(cell.settings.data), RunContext(torch.device("cpu"), F64)))
    assert list(result.grid) == [0, 1, 2, 3] and np.isfinite(result.metrics["E_inf"]).all()


def test_unknown_optimizers_get_an_automatic_colour_and_their_name():
    from attndyn.studies.precond.styles import COLORS, label, palette

    colors = palette(["alg_random", "sgd", "lion_like", "other"], COLORS)
    assert colors["sgd"] == COLORS["sgd"] and len(set(colors.values())) == 4
    assert label("lion_like") == "lion_like" and label("sgd") == "SGD (N(0,1) init)"


def test_c3_pre_plateau_window_skips_transient_and_stops_near_floor():
    """Rise at t=1, burn-in 2, geometric fall rho=0.8 to floor 1e-3: window [2, first t with E <= 3 floor]."""
    from attndyn.studies.precond.fits import pre_plateau_window, window_fit
    t = np.arange(0, 101)
    E = 10.0 * 0.8 ** t + 1e-3
    E[0], E[1] = 50.0, 80.0
    curve = xr.DataArray(E, coords={"step": t}, dims="step")
    start, stop = pre_plateau_window(curve, burn_in=2, floor_factor=3.0)
    assert start == 2 and E[stop] <= 3 * E[-1] < E[stop - 1]
    fit, window = window_fit(curve, 2, 3.0)
    assert window == (start, stop) and abs(fit.rho - 0.8) < 0.01 and fit.r2 > 0.99 and fit.points == stop - start + 1


def test_fig2_and_claims_take_an_optimizer_added_by_yaml(tmp_path):
    """An `adam` entry added to compare: trained through the registry, drawn dashed with an automatic colour and
    its name as label in Fig. 2, ignored by the Algorithm 1 claims (C7 reads the algorithm1 runs only)."""
    import xarray as xr

    from attndyn.cells import run_cell
    from attndyn.studies.precond.claims import claims
    from attndyn.studies.precond.figures import make_figure
    from attndyn.studies.precond.probes import VARIABLES
    from attndyn.studies.precond.runner import build_problem

    section = {"seeds": [0, 1], "data": {"d": 2, "n": 12, "n_test_queries": 5},
               "optimizers": {"my_adam": {"rule": "adam", "lr": 1e-2, "steps": 4}, "alg_spectral": {"steps": 4},
                              "alg_random": {"steps": 4}, "sgd": {"steps": 4, "batch_size": 4}},
               "experiments": {"compare": {"optimizers": ["alg_spectral", "alg_random", "sgd", "my_adam"]}},
               "checks": {"C1_C2_time": 4, "C5_n_grid": []}, "log": {"extra_steps": []}}
    settings = _settings(section)
    plan = STUDY.plan(settings)
    ctx = RunContext(torch.device("cpu"), F64)
    cells = [run_cell(build_problem(c, make_dataset(c.settings.data), ctx), VARIABLES, [0, 1], c, ctx)
             for c in plan.experiments["compare"]]
    compare = xr.concat([c.expand_dims("optimizer") for c in cells], "optimizer")
    make_figure("fig2_same_random_init", {"compare": compare}, settings, tmp_path / "f.png", tmp_path / "f.pdf", "")
    assert (tmp_path / "f.png").stat().st_size > 0
    rows = claims({"compare": compare}, settings)
    c7 = next(r for r in rows if r.claim.startswith("C7"))
    assert "alg_spectral" in c7.measured and "alg_random" in c7.measured and "my_adam" not in c7.measured


# ---- negative controls of the claim functions (synthetic inputs, no training) ----------------------------------
# Each claim function gets an input where the paper's statement is false (the row must fail) and one where it is
# true (the row must pass). Default settings: seeds [0, 1, 2], d = 5, n = 500, C1_C2_time 100 (SGD step 782).

SEEDS = [0, 1, 2]


def _cell(steps, coords: dict, diverged=None, **variables) -> xr.Dataset:
    """One cell: variables (seed, step) as the aggregate stores them, with the cell's sweep coordinates."""
    steps = np.asarray(steps)
    ds = xr.Dataset({k: (("seed", "step"), np.broadcast_to(np.asarray(v, float), (len(SEEDS), len(steps))).copy())
                     for k, v in variables.items()}, coords={"seed": SEEDS, "step": steps})
    div = np.zeros(len(SEEDS), bool) if diverged is None else np.asarray(diverged)
    ds["diverged"] = (("seed",), div)
    ds["final_step"] = ((), int(steps[-1]))
    return ds.expand_dims({k: [v] for k, v in coords.items()})


def _combine(cells) -> xr.Dataset:
    return xr.combine_by_coords(cells, join="outer", data_vars="minimal", coords="minimal", compat="override",
                                combine_attrs="drop_conflicts")


def _compare(alg_spectral: float, alg_random: float, B_growth: float = 1.0) -> xr.Dataset:
    steps = np.arange(0, 101)
    cells = []
    for name, level in (("alg_spectral", alg_spectral), ("alg_random", alg_random)):
        E = np.where(steps == 0, 50.0, level)
        cells.append(_cell(steps, {"optimizer": name}, E_inf=E, train_loss=E,
                           B_op=np.where(steps == 50, 2.0 * B_growth, 2.0)))
    return _combine(cells)


def _tuning(E_by_lr: dict[float, float], diverged_lrs=()) -> xr.Dataset:
    """SGD over an lr sweep; E_inf = train loss = the given level from step 1 on (NaN once diverged)."""
    steps = np.array([0, 1, 10, 100, 782, 800])
    cells = []
    for lr, level in E_by_lr.items():
        bad = lr in diverged_lrs
        E = np.where(steps == 0, 50.0, np.nan if bad else level)
        cells.append(_cell(steps, {"optimizer.lr": lr, "optimizer": "sgd"}, diverged=[bad] * 3, E_inf=E,
                           train_loss=E))
    return _combine(cells)


def _rows(experiments, tags=("C1", "C2")):
    from attndyn.studies.precond.claims import claims

    settings = _settings({"checks": {"C5_n_grid": []}})
    return {r.claim.split()[0]: r for r in claims(experiments, settings) if r.claim.split()[0] in tags}


def test_tune_picks_the_best_stable_rate_and_refuses_when_none_is_stable():
    from attndyn.studies.precond.tuning import tune

    sweep = _tuning({1e-3: 1.0, 1e-2: 0.1, 1e-1: 0.01, 3e-1: 1e-3}, diverged_lrs=(3e-1,))
    tuned = tune(sweep.sel(optimizer="sgd"), 782)
    assert tuned.lr == 1e-1 and tuned.largest_stable == 1e-1 and not tuned.at_edge
    assert tune(_tuning({1e-3: 1.0, 1e-2: 0.1}).sel(optimizer="sgd"), 782).at_edge     # best = top of the grid
    assert not tune(_tuning({1e-2: 0.1}, diverged_lrs=(1e-2,)).sel(optimizer="sgd"), 782).found


def test_c1_c2_fail_against_a_tuned_sgd_that_is_as_good_and_pass_against_a_slow_one():
    """Trivial predictor here ~0.16-0.21. Statement true: Algorithm 1 1e-3, SGD at its best rate 0.05 -> pass.
    False: SGD's best rate reaches 2e-3 (a bad rate of the grid, 1.0, would have made the row pass) -> fail."""
    slow = _rows({"compare": _compare(1e-3, 1e-3), "sgd_tuning": _tuning({1e-3: 1.0, 1e-2: 0.05})})
    assert slow["C1"].passed and slow["C2"].passed
    tuned = _rows({"compare": _compare(1e-3, 1e-3), "sgd_tuning": _tuning({1e-3: 1.0, 1e-2: 2e-3})})
    assert not tuned["C1"].passed and not tuned["C2"].passed and "best lr 0.01" in tuned["C1"].measured
    untuned = _rows({"compare": _compare(1e-3, 1e-3), "sgd_tuning": _tuning({1e-3: 1.0})})
    assert untuned["C1"].passed                                   # the same Algorithm 1 vs a bad SGD rate alone


def test_c1_c2_fail_when_sgd_is_worse_than_the_trivial_predictor_and_in_a_single_seed():
    """Algorithm 1 at 0.05 is 20x below an SGD stuck at 1.0 but not 10x below predicting 0 -> meaningless, fails."""
    rows = _rows({"compare": _compare(0.05, 0.05), "sgd_tuning": _tuning({1e-2: 1.0})})
    assert not rows["C1"].passed and "trivial" in rows["C1"].fails_if
    one_bad = _compare(1e-3, 1e-3)
    one_bad["E_inf"].loc[{"optimizer": "alg_random", "seed": 2}] = 0.02      # seed 2: ratio 0.4 to SGD's 0.05
    rows = _rows({"compare": one_bad, "sgd_tuning": _tuning({1e-2: 0.05})})
    assert rows["C1"].passed and not rows["C2"].passed
    assert not _rows({"compare": _compare(1e-3, 1e-3)})["C1"].passed           # no SGD sweep: not checked


def _scaling(floor_by_n, spectral_by_n, late_drift=1.0) -> xr.Dataset:
    """S1: geometric fall (rho 0.8) to a floor per n; E(T/2) = late_drift x E(T)."""
    steps = np.arange(0, 1201)
    cells = []
    for n in floor_by_n:
        E = 5.0 * 0.8 ** steps + np.asarray(floor_by_n[n])[:, None]                    # (seed, step)
        E = np.where(steps == 600, E * late_drift, E)
        cells.append(_cell(steps, {"n": n, "optimizer": "alg_random"}, E_inf=E, train_loss=E, B_op=np.ones_like(E),
                           E_inf_spectral_init=np.broadcast_to(np.asarray(spectral_by_n[n])[:, None], E.shape)))
    return _combine(cells)


NS = (125, 250, 500, 1000)


def test_c3_fails_for_a_power_law_or_a_curve_that_does_not_fall_and_passes_geometric():
    from attndyn.studies.precond.claims import c3_geometric

    settings = _settings({})
    steps = np.arange(0, 101)

    def verdict(curve):
        E = np.concatenate([[50.0, 80.0], curve[2:]])                          # the N(0, 1) start: rise, then fall
        return c3_geometric({"compare": _combine([_cell(steps, {"optimizer": "alg_random"}, E_inf=E)])},
                            settings).passed
    t = np.maximum(steps, 1).astype(float)
    assert verdict(10.0 * 0.8 ** t + 1e-3)
    assert not verdict(10.0 / t + 1e-2)                                        # 1/t + floor: R^2 ~0.98 of a rho^t fit
    assert not verdict(10.0 / t ** 2 + 1e-3)
    assert not verdict(np.full_like(t, 0.5))                                   # flat: rho = 1
    assert not verdict(0.5 * 1.01 ** t)                                        # grows after the start


def test_c3_fit_is_per_seed():
    from attndyn.studies.precond.fits import floor_fit

    t = np.arange(2, 60, dtype=float)
    assert floor_fit(t, 10 * 0.85 ** t + 1e-3).holds(0.9)
    assert not floor_fit(t, 10 / t + 1e-3).holds(0.9)
    assert not floor_fit(t, 0.1 * 1.01 ** t).holds(0.9)                        # rho >= 1 is reachable


def test_c4_c6_fail_for_a_flat_floor_or_an_unconverged_seed_and_pass_for_1_over_n():
    from attndyn.studies.precond.claims import c4_floor, c6_spectral

    settings = _settings({})
    one_over_n = {n: [1.0 / n] * 3 for n in NS}
    ok = _scaling(one_over_n, one_over_n).sel(optimizer="alg_random")
    assert c4_floor(ok, settings).passed and c6_spectral(ok, settings).passed
    flat = _scaling({n: [1e-3] * 3 for n in NS}, {n: [1.0 / n, 1.0 / n, 1e-3] for n in NS}).sel(optimizer="alg_random")
    assert not c4_floor(flat, settings).passed and not c6_spectral(flat, settings).passed   # C6: seed 2 is flat
    drifting = _scaling(one_over_n, one_over_n, late_drift=1.3).sel(optimizer="alg_random")
    assert not c4_floor(drifting, settings).passed                              # E(T/2)/E(T) = 1.3: no floor yet


def test_c5_fails_where_the_softmax_output_does_not_approach_its_limit_like_1_over_n():
    """||M|| small (c = 0.1): a soft softmax at the optimum, error ~ 1/n -> pass. ||M|| large (c = 3): a large B,
    near-argmax weights over heavy-tailed scores (spec Sec. 2.3), the output barely approaches A Sigma B^T x over
    n = 1e2..1e4 -> fail. The temperature cancels at the optimum (B absorbs it)."""
    from attndyn.studies.precond.claims import c5_identity

    grid = {"C5_n_grid": [100, 1000, 10000], "C5_key_draws": 2}
    assert c5_identity(_settings({"data": {"M_scale_c": 0.1}, "checks": grid})).passed
    assert not c5_identity(_settings({"data": {"M_scale_c": 3.0}, "checks": grid})).passed
    hot = c5_identity(_settings({"data": {"M_scale_c": 0.1}, "model": {"temperature": 5.0}, "checks": grid}))
    assert hot.measured == c5_identity(_settings({"data": {"M_scale_c": 0.1}, "checks": grid})).measured


def _ablations(no_renorm_growth: float, diverged: bool = False) -> xr.Dataset:
    steps = np.arange(0, 101)
    B = lambda g: np.where(steps == 50, 2.0 * g, 2.0)
    cells = [_cell(steps, {"sigma_spec": "wishart_plus_0.3I", "optimizer": name}, E_inf=np.ones(101), B_op=B(g),
                   diverged=[d, False, False])
             for name, g, d in (("alg_random", 1.0, False), ("alg_no_renorm", no_renorm_growth, diverged))]
    return _combine(cells)


def test_c7_fails_when_renormalization_makes_no_difference_or_b_grows_and_passes_otherwise():
    rows = lambda compare, abl: _rows({"compare": compare, "ablations": abl}, ("C7",))["C7"].passed
    assert rows(_compare(1e-3, 1e-3), _ablations(no_renorm_growth=50.0))       # without it B grows 50x
    assert rows(_compare(1e-3, 1e-3), _ablations(no_renorm_growth=1.0, diverged=True))
    assert not rows(_compare(1e-3, 1e-3), _ablations(no_renorm_growth=1.0))    # the same without it: no evidence
    assert not rows(_compare(1e-3, 1e-3, B_growth=20.0), _ablations(no_renorm_growth=50.0))   # 20x > 10x bound


def _conditioning(E: dict, diverged: dict | None = None) -> xr.Dataset:
    """(sigma_spec, preconditioner) -> {lr: final E_inf (train loss the same)}; diverged (spec, name) -> lrs."""
    steps = np.arange(0, 101)
    names = {"whiten": "alg_random", "identity": "alg_no_precond"}
    cells = []
    for (spec, role), by_lr in E.items():
        for lr, level in by_lr.items():
            bad = lr in (diverged or {}).get((spec, role), ())
            curve = np.where(steps == 0, 50.0, np.nan if bad else level)
            cells.append(_cell(steps, {"sigma_spec": spec, "optimizer.lr": lr, "optimizer": names[role]},
                               diverged=[bad] * 3, E_inf=curve, train_loss=curve))
    return _combine(cells)


def test_c8_fails_when_the_preconditioner_buys_little_or_not_more_on_the_ill_conditioned_sigma():
    from attndyn.studies.precond.claims import c8_gain_grows, c8_ill_conditioned, conditioning_errors

    settings = _settings({})
    def rows(well_gain, ill_gain, **kw):
        E = {("wishart_plus_0.3I", "whiten"): {0.2: 1e-3, 0.02: 1e-2},
             ("wishart_plus_0.3I", "identity"): {0.2: 1e-3 * well_gain, 0.02: 2e-3 * well_gain},
             ("diag_logspaced_cond100", "whiten"): {0.2: 1e-3, 0.02: 1e-2},
             ("diag_logspaced_cond100", "identity"): {0.2: 1e-3 * ill_gain, 0.02: 2e-3 * ill_gain}}
        errors = conditioning_errors(_conditioning(E, kw.get("diverged")), settings)
        return c8_ill_conditioned(errors, settings).passed, c8_gain_grows(errors, settings).passed
    assert rows(well_gain=3.0, ill_gain=100.0) == (True, True)
    assert rows(well_gain=3.0, ill_gain=5.0) == (False, True)           # whitening only 5x better on cond 100
    assert rows(well_gain=200.0, ill_gain=100.0) == (True, False)       # buys more on the well-conditioned Sigma
    no_stable = rows(3.0, 100.0, diverged={("diag_logspaced_cond100", "identity"): (0.2, 0.02)})
    assert no_stable[0] is False                                         # no fair comparison: fails


# ---- claim maps (issue #15): batched sweep values, the map statistics, their config -------------------------------

def _batching_settings():
    """Two experiments with the same cells, batched ("together") and not ("apart"): SGD (minibatch) and Algorithm 1
    over sigma_cond x baseline_lr, Algorithm 1 over sigma_cond x its own lr."""
    grid = {"sigma_cond": [1.0, 30.0], "baseline_lr": [1e-2, 3e-1]}
    alg_grid = {"sigma_cond": [1.0, 30.0], "optimizer.lr": [0.05, 0.2]}
    both = {"data": {"sigma_spec": "diag_logspaced"}, "test_risk": False, "spectral_reference": True}
    section = {"seeds": [0, 1], "data": {"d": 3, "n": 20, "n_test_queries": 10},
               "optimizers": {"sgd": {"steps": 12, "batch_size": 4}, "alg_random": {"steps": 8}},
               "log": {"points_per_decade": 5, "dense_until": 3, "extra_steps": []}, "checks": {"C1_C2_time": 2},
               "experiments": {"together": {**both, "optimizers": ["alg_random", "sgd"], "sweep": grid,
                                            "batch": list(grid)},
                               "apart": {**both, "optimizers": ["alg_random", "sgd"], "sweep": grid},
                               "alg_together": {**both, "optimizers": ["alg_random"], "sweep": alg_grid,
                                                "batch": list(alg_grid)},
                               "alg_apart": {**both, "optimizers": ["alg_random"], "sweep": alg_grid}},
               "maps": None}
    return _settings(section)


@pytest.mark.parametrize("together,apart", [("together", "apart"), ("alg_together", "alg_apart")])
def test_batched_sweep_values_equal_separate_cells(together, apart):
    """Sigma values (sigma_cond: the data files stacked on the run dimension), SGD's lr (baseline_lr: per-run rates,
    one minibatch stream per seed shared by the members) and Algorithm 1's lr (a per-run step (R, 1, 1)) trained as
    one ensemble give the separate cells' numbers to 1e-10, a diverging run included (it leaves the others alone);
    Algorithm 1, which baseline_lr leaves alone, is trained once per Sigma (duplicate members)."""
    from attndyn.studies.precond.runner import train_cell
    from attndyn.workflow import batched

    study_plan = batched(STUDY.plan(_batching_settings()), "precond")
    datas = {name: make_dataset(spec.settings) for name, spec in study_plan.datasets.items()}
    ctx = RunContext(torch.device("cpu"), F64)
    diverged = compared = 0
    for cell in study_plan.experiments[together]:
        joint = train_cell(cell, datas, ctx)
        axes = cell.settings.axes
        assert len(axes) == 2 and all(joint.sizes[a] == 2 for a in axes)
        if cell.coords["optimizer"] == "alg_random" and together == "together":
            assert joint.attrs["batched_runs"] == 4                      # 2 Sigmas x 2 seeds, not x 2 baseline rates
        alones = [c for c in study_plan.experiments[apart] if c.coords["optimizer"] == cell.coords["optimizer"]]
        for alone_cell in alones:
            alone = train_cell(alone_cell, datas[alone_cell.dataset], ctx)
            point = joint.sel({a: alone_cell.coords[a] for a in axes})
            diverged += int(alone.diverged.sum())
            assert np.array_equal(point.diverged.values, alone.diverged.values)
            for var in ("train_loss", "E_inf", "balance", "B_op", "E_inf_spectral_init"):
                np.testing.assert_allclose(point[var].values, alone[var].values, rtol=1e-10, atol=1e-12)
        compared += len(alones)
    assert compared == len(study_plan.experiments[apart]) and diverged > 0   # Algorithm 1 diverges at cond 30, lr 0.2


def test_sigma_cond_sets_a_log_spaced_spectrum_and_baseline_lr_leaves_algorithm1_alone():
    from attndyn.studies.precond.data import token_covariance

    rng = np.random.default_rng(0)
    assert np.array_equal(token_covariance(rng, 5, "diag_logspaced", 100.0),
                          token_covariance(rng, 5, "diag_logspaced_cond100"))
    eigenvalues = np.diag(token_covariance(rng, 4, "diag_logspaced", 30.0))
    assert np.isclose(eigenvalues.sum(), 4) and np.isclose(eigenvalues.max() / eigenvalues.min(), 30.0)
    plan = STUDY.plan(_batching_settings())
    lrs = {(c.coords["optimizer"], c.coords["baseline_lr"]): c.settings.optimizer.lr for c in plan.experiments["apart"]}
    assert lrs[("sgd", 0.3)] == 0.3 and lrs[("alg_random", 0.3)] == lrs[("alg_random", 0.01)] == 0.2
    assert all(c.settings.log.extra_steps == (10,) for c in plan.experiments["apart"])   # 2 x 20 / 4 examples: step 10


MAP_COND = {"axes": {"sigma_cond": [1, 10]}, "fixed": {"sweep": {"baseline_lr": [1e-2, 1e-1]}}}


@pytest.mark.parametrize("override,key", [
    ({"maps": {"c1_cond": {"fixed": {"data": {"sigma_spec": "wishart_plus_0.3I"}}}}}, "sigma_cond"),
    ({"maps": {"c1_cond": {"fixed": {"overrides": {"sgd": {"steps": 300}}}}}},
     "precond.maps.c1_cond.fixed.overrides.sgd.steps"),
    ({"maps": {"c1_cond": {"fixed": {"batch": ["n"]}}}}, "precond.maps.c1_cond.fixed.batch"),
    ({"maps": {"c1_cond": {"fixed": {"sweep": {"optimizer.lr": [0.1]}}}}}, "baseline_lr"),
    ({"data": {"sigma_cond": 0.5}}, "precond.data.sigma_cond"),
])
def test_map_config_errors_are_one_line_naming_the_key(override, key):
    config = default_config()
    config["precond"] = deep_merge(config.get("precond") or {}, override)
    with pytest.raises(ConfigError) as err:
        validate(config)
    assert key in str(err.value) and "\n" not in str(err.value)


def _floor_map(E_by_n_d: dict, drift=1.0) -> xr.Dataset:
    """The floor map's experiment: E_inf (seed, step) per (n, d), E(T/2) = drift x E(T)."""
    steps = np.array([0, 600, 1200])
    cells = [_cell(steps, {"n": n, "d": d, "optimizer": "alg_random"},
                   E_inf=np.stack([np.full(3, 1.0), drift * np.asarray(E, float), np.asarray(E, float)], 1))
             for (n, d), E in E_by_n_d.items()]
    return _combine(cells).assign_attrs(experiment="map_floor_n_d")


def test_floor_map_statistic_is_the_local_slope_and_blanks_a_seed_without_a_floor():
    from attndyn.studies.precond.maps import STATISTICS, local_slopes

    settings, stat = _settings({}), STATISTICS["floor_local_slope"]
    ns = (100, 200, 400, 800)
    seeds_E = lambda n: [1.0 / n, 1.0 / n, 1.0 / n]
    ds = _floor_map({**{(n, 3): seeds_E(n) for n in ns}, **{(n, 5): [1e-3, 1.0 / n, 1.0 / n ** 2] for n in ns}})
    assert np.allclose(local_slopes(ds, {"n": 200, "d": 3}, settings), -1.0)
    assert np.allclose(stat.compute(ds, {"n": 800, "d": 3}, settings), 0.0)            # 1/n: distance 0 from -1
    flat = stat.compute(ds, {"n": 400, "d": 5}, settings).values                         # seeds: flat, 1/n, 1/n^2
    assert np.allclose(flat, [1.0, 0.0, 1.0]) and (flat <= stat.threshold(settings)).tolist() == [False, True, False]
    drifting = _floor_map({(n, 3): seeds_E(n) for n in ns}, drift=1.3)
    assert np.isnan(stat.compute(drifting, {"n": 200, "d": 3}, settings)).all()         # C4: E(T/2)/E(T) > 1.1


def _cond_map(alg: float, sgd_by_lr: dict, diverged_lrs=()) -> xr.Dataset:
    """The C1/C2 maps' experiment (default settings: n 250, C1_C2_time 100, SGD batch 64: matched step 391)."""
    steps = np.array([0, 100, 391, 400])
    cells = []
    for cond in (1, 10):
        for lr in sgd_by_lr:
            for name in ("alg_spectral", "alg_random"):
                cells.append(_cell(steps, {"sigma_cond": cond, "baseline_lr": lr, "optimizer": name},
                                   E_inf=np.where(steps == 0, 50.0, alg), train_loss=np.where(steps == 0, 50.0, alg)))
            bad = lr in diverged_lrs
            E = np.where(steps == 0, 50.0, np.nan if bad else sgd_by_lr[lr])
            cells.append(_cell(steps, {"sigma_cond": cond, "baseline_lr": lr, "optimizer": "sgd"}, diverged=[bad] * 3,
                               E_inf=E, train_loss=E))
    return _combine(cells).assign_attrs(experiment="map_c1_cond")


def test_cond_map_statistic_compares_with_the_tuned_sgd_and_the_trivial_predictor():
    from attndyn.studies.precond.maps import STATISTICS

    settings = _settings({})
    c1, c2 = STATISTICS["c1_ratio"], STATISTICS["c2_ratio"]
    ds = _cond_map(1e-3, {1e-2: 0.5, 1e-1: 0.05, 3e-1: 1e-4}, diverged_lrs=(3e-1,))     # best stable: 0.1
    ratio = c1.compute(ds, {"sigma_cond": 10}, settings)
    assert np.allclose(ratio, 1e-3 / 0.05) and np.allclose(c2.compute(ds, {"sigma_cond": 1}, settings), 0.02)
    close = _cond_map(1e-3, {1e-2: 5e-3})                                               # SGD 5x worse only: fails
    assert (c1.compute(close, {"sigma_cond": 10}, settings) > c1.threshold(settings)).all()
    trivial = _cond_map(0.05, {1e-2: 1.0})                      # 20x below a stuck SGD, not 10x below A = B = 0
    assert (c1.compute(trivial, {"sigma_cond": 1}, settings) > 0.1).all()
    none = _cond_map(1e-3, {1e-2: 0.5}, diverged_lrs=(1e-2,))
    assert np.isnan(c1.compute(none, {"sigma_cond": 1}, settings)).all()                # no stable rate: no verdict
