"""Tests of the multihead study (spec Sec. 1, 1.1, 5, 9): invariants at zero init, the single-head
equivalence of Sec. 1.1, gradients, batched == looped, config errors, and the new vocabulary (legacy keys,
lr_scaling, any registry optimizer, the cross-study dm1_optimizers experiment)."""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
import torch

from attndyn.config import deep_merge, load_yaml, normalize_section
from attndyn.errors import ConfigError
from attndyn.studies import get_study
from attndyn.studies.base import RunContext
from attndyn.studies.multihead.data import make_dataset
from attndyn.studies.multihead.model import attention, forward, logistic_loss, zero_params
from attndyn.studies.multihead.plan import plan, step_size
from attndyn.studies.multihead.probes import attention_score
from attndyn.studies.multihead.runner import build_problem
from attndyn.train import train

if TYPE_CHECKING:
    import xarray as xr

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]
F64 = torch.float64
STUDY = get_study("multihead")
TOP = {"dtype": "float64"}


def section(**overrides) -> dict:
    """The smoke config's multihead section with `overrides` merged in, normalized (schema defaults)."""
    smoke = load_yaml(ROOT / "config/smoke.yaml")["multihead"]
    return normalize_section(deep_merge(smoke, overrides), STUDY.schema(), "multihead.")


def settings(**overrides):
    return STUDY.settings(section(**overrides), TOP)


def check(**overrides) -> None:
    """What config.validate does for this study: normalize the section, then build its settings and plan."""
    STUDY.check_config(section(**overrides), TOP)


def heads_sweep(heads: list[int]) -> dict:
    return {"experiments": {name: {"sweep": {"heads": heads}} for name in ("dm1", "planted", "dm1_optimizers")}}


def tiny_plan(**overrides):
    small = deep_merge(heads_sweep([3]), {
        "seeds": [0, 1, 2], "data": {"dm1": {"n_train": 12, "n_test": 10}, "planted": {"n_train": 12, "n_test": 10}},
        "experiments": {"dm1": {"steps": 6}, "planted": {"steps": 6}, "dm1_optimizers": {"steps": 6}}})
    s = settings(**deep_merge(small, overrides))
    return s, plan(s)


def dm1_tensors(seed: int = 0, n: int = 12):
    _, p = tiny_plan(seeds=[seed], data={"dm1": {"n_train": n}})
    data = make_dataset(p.datasets["dm1"].settings)
    return torch.as_tensor(data["X_train"]), torch.as_tensor(data["y_train"]), torch.as_tensor(data["relevant_train"])


def test_zero_init_loss_is_log2_and_attention_is_zeta():
    X, y, rel = dm1_tensors()                                                 # (1, n, T, d)
    for H in (1, 4):
        params = zero_params(1, H, X.shape[-1], F64, "cpu")
        assert torch.allclose(logistic_loss(forward(params, X), y), torch.tensor([math.log(2)], dtype=F64))
        score = attention_score(attention(params["W"], X), rel)
        assert torch.allclose(score, torch.tensor([0.2], dtype=F64), atol=1e-12)


def gd_run(params: dict, X, y, lrs: dict, steps: int, head_scaling: str = "1/sqrt(H)") -> dict:
    """Plain GD with a step per parameter block."""
    for _ in range(steps):
        loss = logistic_loss(forward(params, X, head_scaling=head_scaling), y).sum()
        grads = torch.autograd.grad(loss, list(params.values()))
        with torch.no_grad():
            for (name, p), g in zip(params.items(), grads):
                p -= lrs[name] * g
    return params


def test_heads_stay_identical_under_zero_init():
    X, y, _ = dm1_tensors()
    params = gd_run(zero_params(1, 5, X.shape[-1], F64, "cpu"), X, y, {"W": 1.0, "U": 1.0}, 8)
    assert params["W"].abs().max() > 0
    for P in params.values():                    # identical up to float64 rounding of the head reductions
        assert torch.allclose(P, P[:, :1].expand_as(P), rtol=0, atol=1e-14)


@pytest.mark.parametrize("eta", [1.0, 1.0 * math.sqrt(5)])
def test_h_heads_equal_single_head_with_block_steps(eta):
    """Spec Sec. 1.1: H-head GD with eta <=> one head (W, U' = sqrt(H) U_h) with eta on U' and eta/H on W."""
    X, y, _ = dm1_tensors()
    H, d = 5, X.shape[-1]
    multi = gd_run(zero_params(1, H, d, F64, "cpu"), X, y, {"W": eta, "U": eta}, 15)
    single = gd_run(zero_params(1, 1, d, F64, "cpu"), X, y, {"W": eta / H, "U": eta}, 15)
    assert single["W"].abs().max() > 1e-3
    assert torch.allclose(multi["W"], single["W"].expand_as(multi["W"]), rtol=0, atol=1e-10)
    assert torch.allclose(math.sqrt(H) * multi["U"], single["U"].expand_as(multi["U"]), rtol=0, atol=1e-10)


@pytest.mark.parametrize("pooling", ["mean", "first"])
def test_gradients_match_finite_differences(pooling):
    X, y, _ = dm1_tensors(n=4)
    gen = torch.Generator().manual_seed(0)
    W = (0.3 * torch.randn(1, 3, X.shape[-1], X.shape[-1], generator=gen, dtype=F64)).requires_grad_()
    U = torch.randn(1, 3, X.shape[-1], generator=gen, dtype=F64).requires_grad_()
    loss = lambda W, U: logistic_loss(forward({"W": W, "U": U}, X, pooling=pooling), y)
    assert torch.autograd.gradcheck(loss, (W, U), eps=1e-6, atol=1e-7)


def run_cell(p, cell_index: int, seeds: list[int], kind: str = "dm1"):
    cell = p.experiments[kind][cell_index]
    data_settings = dataclasses.replace(cell.settings.data, seeds=tuple(seeds))
    cell = dataclasses.replace(cell, settings=dataclasses.replace(cell.settings, data=data_settings))
    problem, _ = build_problem(cell, make_dataset(data_settings), RunContext(torch.device("cpu"), F64))
    return train(problem).metrics


@pytest.mark.parametrize("init", ["zero", "one_step"])
def test_batched_equals_looped(init):
    _, p = tiny_plan(model={"init": init})
    for index in range(len(p.experiments["dm1"])):                           # gd, gd_sqrtH, adam
        batched = run_cell(p, index, [0, 1, 2])
        for r, seed in enumerate([0, 1, 2]):
            alone = run_cell(p, index, [seed])
            for name, values in batched.items():
                np.testing.assert_allclose(values[:, r], alone[name][:, 0], rtol=0, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("kind", ["dm1", "planted"])
def test_tied_heads_equal_untied_heads(kind):
    """One stored head standing for H identical heads (zero init) logs the same metrics as H heads."""
    _, tied = tiny_plan(**deep_merge(heads_sweep([5]), {"model": {"tied_heads": True}}))
    _, untied = tiny_plan(**deep_merge(heads_sweep([5]), {"model": {"tied_heads": False}}))
    for index in range(len(tied.experiments[kind])):                          # every optimizer
        a = run_cell(tied, index, [0, 1], kind)
        b = run_cell(untied, index, [0, 1], kind)
        for name in a:
            np.testing.assert_allclose(a[name], b[name], rtol=1e-9, atol=1e-12, err_msg=f"{kind} {name}")


def test_planted_alignment_and_lr_scaling():
    _, p = tiny_plan()
    cells = {c.coords["optimizer"]: c for c in p.experiments["planted"]}
    assert cells["gd_sqrtH"].settings.step_size == pytest.approx(math.sqrt(3))
    assert cells["momentum"].settings.step_size == pytest.approx(0.1 * math.sqrt(3))
    assert cells["momentum"].settings.optimizer.lr == 0.1 and cells["momentum"].settings.lr_scaling == "sqrt_heads"
    assert cells["adam"].settings.step_size == cells["adam"].settings.optimizer.lr == 1e-2
    data = make_dataset(p.datasets["planted"].settings)
    problem, _ = build_problem(cells["gd_sqrtH"], data, RunContext(torch.device("cpu"), F64))
    metrics = train(problem).metrics
    assert np.isnan(metrics["align_U"][0]).all() and np.isfinite(metrics["align_U"][1:]).all()


@pytest.mark.parametrize("override, key", [
    ({"optimizers": {"gd": {"rule": "nope"}}}, "multihead.optimizers.gd.rule"),
    ({"optimizers": {"gd": {"lr": -1.0}}}, "multihead.optimizers.gd.lr"),
    ({"experiments": {"dm1": {"optimizers": ["gd", "lion"]}}}, "multihead.experiments.dm1.optimizers"),
    ({"model": {"pooling": "max"}}, "multihead.model.pooling"),
    ({"experiments": {"dm1": {"overrides": {"momentum": {"steps": 10}}}}}, "multihead.experiments.dm1.overrides"),
    ({"experiments": {"dm1": {"overrides": {"gd": {"steps": -1}}}}}, "multihead.experiments.dm1.overrides.gd.steps"),
    ({"optimizers": {"gd": {"lr_scaling": "linear"}}}, "multihead.optimizers.gd.lr_scaling"),
    ({"experiments": {"dm1": {"sweep": {"heads": [0]}}}}, "multihead.experiments.dm1.sweep.heads"),
    ({"experiments": {"dm1": {"sweep": {"width": [3]}}}}, "unknown key 'width'"),
    ({"data": {"dm1": {"d": 5}}}, "must be >= M + 2"),
])
def test_config_errors_name_the_key(override, key):
    with pytest.raises(ConfigError) as info:
        check(**override)
    message = str(info.value)
    assert key in message and "\n" not in message


def test_iters_by_optimizer_sets_each_cells_steps():
    s = settings(experiments={"dm1": {"steps": 30, "overrides": {"gd": {"steps": 70}}}})
    steps = {c.coords["optimizer"]: c.settings.optimizer.steps for c in plan(s).experiments["dm1"]}
    assert steps == {"gd": 70, "gd_sqrtH": 30, "adam": 30}


@pytest.mark.parametrize("legacy, replacement", [
    ({"trials": [0, 1]}, "multihead.seeds"),
    ({"heads": [1, 2]}, "sweep.heads"),
    ({"init": "zero"}, "multihead.model.init"),
    ({"opt": {"gd": {"lr0": 1.0}}}, "multihead.optimizers"),
    ({"optimizers": {"gd": {"lr0": 1.0}}}, "lr_scaling: sqrt_heads"),
    ({"dm1": {"iters": 100}}, "multihead.experiments.dm1.steps"),
    ({"dm1": {"iters_by_optimizer": {"gd": 100}}}, "overrides.<optimizer>.steps"),
    ({"planted": {"n_train": 100}}, "multihead.data.planted"),
    ({"plot": {"reference_slope": -1}}, "multihead.figures"),
    ({"checks": {"tie_tolerance_std": 1.0}}, "multihead.checks.order_margin_se"),
    ({"checks": {"C3_slope_range": [-1.3, -0.7]}}, "multihead.checks.C3_slope_max"),
])
def test_legacy_keys_name_their_replacement(legacy, replacement):
    with pytest.raises(ConfigError) as info:
        normalize_section(legacy, STUDY.schema(), "multihead.")
    message = str(info.value)
    assert "is no longer a key" in message and replacement in message and "\n" not in message


def test_step_size_is_lr_times_sqrt_heads_as_before():
    """The effective step of lr_scaling: sqrt_heads is float(lr) * math.sqrt(H), bit for bit (old lr0 rule)."""
    for H in (1, 2, 5, 10, 20, 40):
        assert step_size(0.1, "sqrt_heads", H) == 0.1 * math.sqrt(H)
        assert step_size(1e-2, "constant", H) == 1e-2


@pytest.mark.parametrize("rule", ["signgd", "adamw", "sgd", "momentum"])
def test_any_registry_optimizer_trains_by_yaml(rule):
    """A registry rule added to an experiment by YAML alone trains (sqrt_heads scaling too)."""
    new = {"rule": rule, "lr": 1e-2, "lr_scaling": "sqrt_heads"}
    _s, p = tiny_plan(optimizers={"extra": new}, experiments={"planted": {"optimizers": ["extra"]}})
    (cell,) = p.experiments["planted"]
    assert cell.settings.optimizer.rule == rule and cell.settings.step_size == pytest.approx(1e-2 * math.sqrt(3))
    metrics = run_cell(p, 0, [0, 1], "planted")
    assert np.isfinite(metrics["train_loss"]).all() and (metrics["train_loss"][-1] < math.log(2)).all()


def test_dm1_optimizers_shares_gd_and_adam_cells_with_dm1():
    """The Plan trains the identical gd and adam cells of dm1_optimizers once; only signgd cells are new."""
    from attndyn.workflow import Plan

    config = {"studies": ["multihead"], "dtype": "float64", "multihead": normalize_section(None, STUDY.schema(),
                                                                                          "multihead.")}
    plan_ = Plan(config)
    paths = plan_.cell_paths("multihead", "dm1_optimizers")
    assert len(paths) == 18
    for path in paths:
        expected = "dm1_optimizers" if path.endswith("signgd.nc") else "dm1"
        assert path.split("/")[-2] == expected, path
    assert set(plan_.studies["multihead"].figures) >= {"fig2_dm1_gd_constant", "fig_dm1_optimizers"}


def test_comparison_figure_colours_any_optimizer(tmp_path):
    """The cross-study figure draws every optimizer of its experiment; unknown names get a free colour."""
    import xarray as xr

    from attndyn.studies.multihead.figures import OPT_COLORS, make_figure, optimizer_colors

    colors = optimizer_colors(["gd", "lion", "adam", "sophia"])
    assert colors["gd"] == OPT_COLORS["gd"] and len(set(colors.values())) == 4
    steps, opts, heads = np.array([0, 1, 10, 100]), ["gd", "lion"], [1, 4]
    shape = (len(heads), len(opts), 2, len(steps))
    values = np.random.default_rng(0).uniform(0.1, 0.6, shape)
    dims = ("heads", "optimizer", "seed", "step")
    ds = xr.Dataset({v: (dims, values) for v in ("train_loss", "test_loss", "attn_score")},
                    coords={"heads": heads, "optimizer": opts, "seed": [0, 1], "step": steps})
    png, pdf = tmp_path / "f.png", tmp_path / "f.pdf"
    make_figure("fig_dm1_optimizers", {"dm1_optimizers": ds}, settings(), png, pdf, "caption")
    assert png.stat().st_size > 0 and pdf.stat().st_size > 0


# ---- claims: negative controls on synthetic datasets shaped like the aggregated ones -------------------------
from attndyn.studies.multihead import claims as mc
from attndyn.studies.multihead.settings import Checks

HEADS = (1, 2, 5, 10, 20, 40)
STEPS = np.unique(np.r_[0, np.geomspace(1, 1000, 31).round(), 100]).astype(int)           # 100 and 1000 on it
CHECKS = Checks(C1_times=(100, 1000), C2_C6_time=100, C1_C2_init_time=100, C3_slope_max=-0.7, C4_gap_max=0.02,
                C5_rise_fraction=0.5, order_margin_se=2.0)


def synth(curves: dict, optimizers=("gd", "gd_sqrtH", "adam"), seeds: int = 5, noise: float = 1e-3) -> "xr.Dataset":
    """A dataset (heads, optimizer, seed, step) with var = fn(H, trial, t) + trial noise (shared across H, like a
    data seed, plus a small independent part), and final_step (heads, optimizer) = the last step."""
    import xarray as xr

    H = np.array(HEADS, float)[:, None, None, None]
    s = np.arange(seeds)[None, None, :, None]
    t = STEPS[None, None, None, :].astype(float)
    shape = (len(HEADS), len(optimizers), seeds, len(STEPS))
    rng = np.random.default_rng(0)
    data = {}
    for name, fn in curves.items():
        shared = noise * rng.standard_normal((1, 1, seeds, len(STEPS)))
        own = 0.2 * noise * rng.standard_normal(shape)
        data[name] = (("heads", "optimizer", "seed", "step"), np.broadcast_to(fn(H, s, t), shape) + shared + own)
    data["final_step"] = (("heads", "optimizer"), np.full(shape[:2], int(STEPS[-1])))
    return xr.Dataset(data, coords={"heads": list(HEADS), "optimizer": list(optimizers), "seed": np.arange(seeds),
                                    "step": STEPS})


def rising(H, s, t):                    # slower with more heads: loss at fixed t rises with H
    return 0.1 + 0.05 * np.log(H) + 0 * t


def falling(H, s, t):
    return 0.4 - 0.05 * np.log(H) + 0 * t


def flat(H, s, t):                      # no effect of H
    return 0.3 + 0 * H + 0 * t


def losses(fn, gap: float = 0.005) -> dict:
    return {"train_loss": fn, "test_loss": lambda H, s, t: fn(H, s, t) + gap}


def test_c1_a_flat_or_falling_h_curve_fails_and_a_rising_one_passes():
    assert mc.c1_constant_step_slower(synth(losses(rising)), (100, 1000), 2.0, "x").passed
    for fn in (flat, falling):
        assert not mc.c1_constant_step_slower(synth(losses(fn)), (100, 1000), 2.0, "x").passed
    ds = synth(losses(rising))
    ds["test_loss"].loc[{"heads": 20}] = ds.test_loss.sel(heads=1)            # one clear reversal in test loss
    claim = mc.c1_constant_step_slower(ds, (100, 1000), 2.0, "x")
    assert not claim.passed and "FAILS" in claim.measured and claim.fails_if and claim.source


def test_c1_a_rise_within_trial_noise_fails():
    """The old check (ties within 1 std of the means) let this pass; paired per trial it is noise."""
    tiny = lambda H, s, t: 0.3 + 2e-5 * np.log(H) + 0 * t
    assert not mc.c1_constant_step_slower(synth(losses(tiny), noise=1e-2), (100,), 2.0, "x").passed


def test_c1b_attention_must_fall_with_heads():
    grows_slower = {"attn_score": lambda H, s, t: 0.2 + 0.6 / H + 0 * t, "avg_W_norm": lambda H, s, t: 8 / H + 0 * t}
    assert mc.c1_attention_slower(synth(grows_slower), CHECKS, "x").passed
    same = {"attn_score": lambda H, s, t: 0.8 + 0 * H + 0 * t, "avg_W_norm": grows_slower["avg_W_norm"]}
    assert not mc.c1_attention_slower(synth(same), CHECKS, "x").passed


def test_c2_every_optimizer_and_loss_must_fall_with_heads():
    assert mc.c2_scaled_step_faster(synth(losses(falling)), 100, 2.0, "x").passed
    assert not mc.c2_scaled_step_faster(synth(losses(flat)), 100, 2.0, "x").passed
    ds = synth(losses(falling))
    ds["test_loss"].loc[{"optimizer": "adam"}] = synth(losses(flat)).test_loss.sel(optimizer="adam")
    assert not mc.c2_scaled_step_faster(ds, 100, 2.0, "x").passed            # Adam's test loss flat in H
    assert not mc.c2_scaled_step_faster(synth(losses(falling), optimizers=("gd",)), 100, 2.0, "x").passed
    diverged = synth(losses(falling))
    diverged["train_loss"].loc[{"heads": 10, "seed": 0, "optimizer": "adam"}] = np.nan
    claim = mc.c2_scaled_step_faster(diverged, 100, 2.0, "x")
    assert not claim.passed and "nan" in claim.measured                       # a diverged run fails the row


def power(k):
    return lambda H, s, t: np.where(t > 0, 0.5 * np.maximum(t, 1) ** -k, np.log(2)) * (1 + 0.01 * s) + 0 * H


def test_c3_a_decay_slower_than_one_over_t_fails_in_any_trial():
    for k in (1.0, 1.4, 3.0):                     # O(1/t) or faster agrees with the O(1/t) bound
        assert mc.c3_one_over_t(synth({"train_loss": power(k)}, noise=0), CHECKS, "x").passed, k
    assert not mc.c3_one_over_t(synth({"train_loss": power(0.5)}, noise=0), CHECKS, "x").passed
    ds = synth({"train_loss": power(1.0)}, noise=0)
    ds["train_loss"].loc[{"seed": 3, "heads": 40}] = synth({"train_loss": power(0.4)}, noise=0).train_loss.sel(
        seed=3, heads=40)                           # one trial at one H stalls; the mean slope is still ~ -0.9
    assert not mc.c3_one_over_t(ds, CHECKS, "x").passed


def test_c4_the_gap_is_checked_at_every_step_not_only_the_last():
    assert mc.c4_generalization_gap(synth(losses(falling, 0.01)), CHECKS, "x").passed
    early_gap = lambda H, s, t: falling(H, s, t) + np.where((t > 10) & (t < 300), 0.05, 0.005)
    ds = synth({"train_loss": falling, "test_loss": early_gap})
    claim = mc.c4_generalization_gap(ds, CHECKS, "x")
    assert not claim.passed and "up to t = 251" in claim.measured                # last step small: 0.005
    one_trial = synth(losses(falling, 0.01))
    one_trial["test_loss"].loc[{"seed": 2, "heads": 5, "optimizer": "adam"}] += 0.03
    assert not mc.c4_generalization_gap(one_trial, CHECKS, "x").passed


def test_c5_a_drift_off_zeta_fails_and_a_rise_toward_one_passes():
    towards = lambda H, s, t: 0.2 + 0.7 * (1 - np.exp(-t / 100)) + 0 * H
    drift = lambda H, s, t: 0.2 + 0.02 * (1 - np.exp(-t / 100)) + 0 * H
    assert mc.c5_attention_relevant(synth({"attn_score": towards}), 0.2, CHECKS, "x").passed
    assert not mc.c5_attention_relevant(synth({"attn_score": drift}), 0.2, CHECKS, "x").passed
    ds = synth({"attn_score": towards})
    ds["attn_score"].loc[{"seed": 4, "heads": 40, "optimizer": "gd"}] = 0.45   # one run: only 0.31 of the way
    assert not mc.c5_attention_relevant(ds, 0.2, CHECKS, "x").passed


def test_c6_planted_losses_must_fall_with_heads():
    opts = ("gd_sqrtH", "momentum", "adam")
    assert mc.c6_planted_faster(synth({"train_loss": falling}, opts), CHECKS, "x").passed
    assert not mc.c6_planted_faster(synth({"train_loss": flat}, opts), CHECKS, "x").passed


def alignment(end: float):
    """NaN at t = 0 (and at t = 1 for W, still zero), then from 0.1 towards `end`."""
    def fn(H, s, t):
        return np.where(t >= 1, 0.1 + (end - 0.1) * (1 - np.exp(-t / 50)), np.nan) + 0 * H
    return fn


def test_c7_alignment_must_grow_in_every_trial():
    opts = ("gd_sqrtH", "momentum", "adam")
    grows = synth({"align_W": alignment(0.6), "align_U": alignment(0.9)}, opts, noise=1e-4)
    grows["align_W"].loc[{"step": 1}] = np.nan
    assert mc.c7_alignment_grows(grows, "x").passed
    assert "k = [2]" in mc.c7_alignment_grows(grows, "x").measured
    shrinks = grows.copy(deep=True)
    shrinks["align_U"].loc[{"seed": 1, "heads": 10, "optimizer": "adam"}] = synth(
        {"align_U": alignment(0.05)}, opts, noise=0).align_U.sel(seed=1, heads=10, optimizer="adam")
    assert not mc.c7_alignment_grows(shrinks, "x").passed                        # one trial falls; the mean rises


def test_init_rows_read_each_swept_init():
    import xarray as xr

    s = settings()
    good = synth({**losses(rising)}, ("gd",)).expand_dims(init=["random"])
    bad = synth({**losses(flat)}, ("gd",)).expand_dims(init=["one_step"])
    ds = xr.concat([good, bad], "init")
    rows = mc.init_rows(ds, s, mc.deps(s))
    assert [(r.claim.split()[0], "init random" in r.claim, r.passed) for r in rows] == [("C1", True, True),
                                                                                      ("C1", False, False)]
    assert "differ only in their initialization" in rows[0].claim and "model.init" in rows[0].depends_on


def test_every_row_says_how_it_fails_where_it_comes_from_and_what_it_depends_on():
    dm1 = synth({**losses(rising), "attn_score": lambda H, s, t: 0.2 + 0.7 * t / 1000 + 0 * H,
                 "avg_W_norm": lambda H, s, t: t / H})
    planted = synth({"train_loss": falling, "align_W": alignment(0.6), "align_U": alignment(0.9)},
                    ("gd_sqrtH", "momentum", "adam"))
    rows = mc.claims({"dm1": dm1, "planted": planted}, settings())
    assert [r.claim.split()[0] for r in rows] == ["C1", "C1b", "C2", "C3", "C4", "C5", "C6", "C7"]
    for row in rows:
        assert row.fails_if and "papers/multihead.md" in row.source and "[RECONSTRUCTED]" in row.depends_on
    assert {r.claim.split()[0]: r.passed for r in rows}["C2"] is False            # dm1 losses rise for every optimizer


@pytest.mark.parametrize("stored, heads, pooling, temperature", [(1, 10, "mean", 1.0), (3, 3, "first", 0.7),
                                                                   (2, 2, "mean", 1.0)])
def test_fused_loss_and_its_backward_equal_autograd_through_the_model(stored, heads, pooling, temperature):
    """The train step's fused loss (two batched products each way, hand-written backward) against model.forward."""
    from attndyn.studies.multihead.fused import fused_loss
    from attndyn.studies.multihead.model import forward, logistic_loss

    gen = torch.Generator().manual_seed(0)
    R, n, T, d = 2, 5, 4, 3
    X = torch.randn(R, n, T, d, generator=gen, dtype=torch.float64)
    y = torch.sign(torch.randn(R, n, generator=gen, dtype=torch.float64))
    W = (0.5 * torch.randn(R, stored, d, d, generator=gen, dtype=torch.float64)).requires_grad_()
    U = torch.randn(R, stored, d, generator=gen, dtype=torch.float64).requires_grad_()
    ours = fused_loss(W, U, X, y, heads, pooling, "1/sqrt(H)", temperature)
    reference = logistic_loss(forward({"W": W, "U": U}, X, pooling, "1/sqrt(H)", temperature, heads), y)
    assert torch.allclose(ours, reference, rtol=1e-14, atol=0)
    for a, b in zip(torch.autograd.grad(ours.sum(), [W, U]), torch.autograd.grad(reference.sum(), [W, U])):
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-15)
    loss = lambda w, u: fused_loss(w, u, X, y, heads, pooling, "1/sqrt(H)", temperature).sum()
    assert torch.autograd.gradcheck(loss, (W.detach().clone().requires_grad_(), U.detach().clone().requires_grad_()))


# ---- batched sweep values and claim maps ---------------------------------------------------------------------
def batched_pair(kind: str, optimizers: list[str], sweep: dict):
    """Settings with the same sweep twice: `together` batched over every sweep key, `apart` one cell per point."""
    together = {"kind": kind, "optimizers": optimizers, "sweep": sweep, "batch": list(sweep), "steps": 12}
    _s, p = tiny_plan(experiments={"together": together, "apart": {**together, "batch": []}})
    from attndyn.workflow import batched

    return batched(p, "multihead")


@pytest.mark.parametrize("kind, optimizers", [("dm1", ["gd", "gd_sqrtH", "adam"]), ("planted", ["momentum"])])
def test_batched_heads_and_step_sizes_equal_separate_cells(kind, optimizers):
    """H and the step size batched into one ensemble per optimizer (tied heads: per-run step size, logit scale
    kappa = c(H) H and gradient division by H) give the separate cells' numbers to 1e-10."""
    from attndyn.runtime import skip_dynamo_import
    from attndyn.studies.multihead.runner import train_cell

    skip_dynamo_import()
    p = batched_pair(kind, optimizers, {"heads": [1, 3, 8], "optimizer.lr": [0.05, 0.2]})
    datas = {name: make_dataset(spec.settings) for name, spec in p.datasets.items()}
    ctx = RunContext(torch.device("cpu"), F64)
    for cell in p.experiments["together"]:
        together = train_cell(cell, datas, ctx)
        assert together.sizes["heads"] == 3 and together.sizes["optimizer.lr"] == 2
        for apart in (c for c in p.experiments["apart"] if c.coords["optimizer"] == cell.coords["optimizer"]):
            alone = train_cell(apart, datas[apart.dataset], ctx)
            point = together.sel({"heads": apart.coords["heads"], "optimizer.lr": apart.coords["optimizer.lr"]})
            for name in alone.data_vars:
                np.testing.assert_allclose(point[name].values, alone[name].values, rtol=1e-10, atol=1e-12,
                                           err_msg=f"{cell.coords} {apart.coords} {name}")


def test_heads_batch_needs_tied_heads():
    sweep = {"heads": [1, 3], "optimizer.lr": [0.1]}
    with pytest.raises(ConfigError) as info:
        tiny_plan(model={"tied_heads": False}, experiments={"b": {"optimizers": ["gd"], "sweep": sweep,
                                                                  "batch": ["heads"]}})
    assert "multihead.experiments.b.batch" in str(info.value) and "tied heads" in str(info.value)


def test_reference_heads_join_the_sweep_and_the_c1_and_c3_maps_train_the_same_runs():
    from attndyn.workflow import Plan

    _s, p = tiny_plan(experiments={"r": {"optimizers": ["gd"], "sweep": {"heads": [5, 2]}, "steps": 3,
                                         "reference_heads": 1}})
    assert sorted(c.coords["heads"] for c in p.experiments["r"]) == [1, 2, 5]
    config = {"studies": ["multihead"], "dtype": "float64", "multihead": section()}
    paths = Plan(config).cell_paths
    assert paths("multihead", "map_gd_heads_step") == paths("multihead", "map_late_slope_collapse")
    (cell,) = Plan(config).cells("multihead", "map_gd_heads_step")
    assert sorted({h for h, _ in cell.settings.points}) == [1, 4]                  # H = 1 off the axis, trained


def map_synth(fn, experiment: str, heads=(1, 10, 40), lrs=(0.5, 2.0), optimizer: str = "gd", seeds: int = 3):
    """A map experiment's aggregated dataset (heads, optimizer.lr, optimizer, seed, step): loss = fn(H, eta, s, t)."""
    import xarray as xr

    H, lr = np.array(heads, float)[:, None, None, None], np.array(lrs)[None, :, None, None]
    s, t = np.arange(seeds)[None, None, :, None], STEPS[None, None, None, :].astype(float)
    loss = np.broadcast_to(fn(H, lr, s, t), (len(heads), len(lrs), seeds, len(STEPS)))[:, :, None]
    dims = ("heads", "optimizer.lr", "optimizer", "seed", "step")
    return xr.Dataset({"train_loss": (dims, loss), "test_loss": (dims, 1.01 * loss),
                       "final_step": (dims[:3], np.full((len(heads), len(lrs), 1), int(STEPS[-1])))},
                      coords={"heads": list(heads), "optimizer.lr": list(lrs), "optimizer": [optimizer],
                              "seed": np.arange(seeds), "step": STEPS}, attrs={"experiment": experiment})


def c1_c2_map(name: str, fn, optimizer: str):
    from attndyn.mapdata import map_dataset, summary
    from attndyn.studies.multihead.maps import STATISTICS

    s = settings(checks={"C1_times": [100, 1000]})
    m = dataclasses.replace(s.maps[name], axes={"heads": (10, 40), "optimizer.lr": (0.5, 2.0)})
    result = map_dataset(map_synth(fn, m.experiment_name, optimizer=optimizer), m, STATISTICS[m.statistic], s)
    return result, summary(result)


def test_c1_and_c2_maps_compare_every_h_with_one_head_per_trial():
    slower = lambda H, lr, s, t: 0.69 / (1 + lr * t / H ** 0.5) * (1 + 0.01 * s)
    faster = lambda H, lr, s, t: 0.69 / (1 + lr * t * H ** 0.5) * (1 + 0.01 * s)
    result, (everywhere, some, nowhere, failing) = c1_c2_map("gd_heads_step", slower, "gd")
    assert (everywhere, some, nowhere) == (4, 0, 0) and list(result.heads.values) == [10, 40]
    ratio = (1 + 2.0 * 100) / (1 + 2.0 * 100 / 40 ** 0.5)                              # min over t: t = 100
    assert float(result.statistic.sel(heads=40, **{"optimizer.lr": 2.0}, seed=0)) == pytest.approx(ratio)
    assert c1_c2_map("gd_heads_step", faster, "gd")[1][:3] == (0, 0, 4)
    assert c1_c2_map("gd_sqrtH_heads_step", faster, "gd_sqrtH")[1][:3] == (4, 0, 0)
    result, (_, _, nowhere, failing) = c1_c2_map("gd_sqrtH_heads_step", slower, "gd_sqrtH")
    assert nowhere == 4 and "heads=10, optimizer.lr=0.5" in failing and (result.margin < 0).all()


def test_c3_map_slope_is_the_c3_rows_slope_at_the_end_and_a_curve_in_eta_t_over_h():
    from attndyn.mapdata import map_dataset, summary
    from attndyn.studies.multihead.maps import STATISTICS, eta_t_over_heads

    s = settings()
    m = dataclasses.replace(s.maps["late_slope_collapse"], axes={"heads": (1, 10, 40), "optimizer.lr": (0.5, 2.0)})
    decay = lambda k: lambda H, lr, s_, t: 0.5 * np.maximum(lr * t / H, 1e-3) ** -k * (1 + 0.01 * s_)
    for k, passes in ((1.0, 6), (0.5, 0)):
        ds = map_synth(decay(k), m.experiment_name)
        result = map_dataset(ds, m, STATISTICS["late_slope"], s)
        assert summary(result)[0] == passes
        row = mc.late_slopes(ds.train_loss.sel(optimizer="gd", **{"optimizer.lr": 2.0}), ds.final_step.sel(
            optimizer="gd", **{"optimizer.lr": 2.0}))                                      # C3's own (H, trial)
        np.testing.assert_allclose(result.statistic.sel(**{"optimizer.lr": 2.0}).isel(step=-1).values, row, rtol=1e-12)
        assert np.isnan(result.statistic.sel(step=5)).all()                             # no full decade yet
    assert eta_t_over_heads({"heads": 10, "optimizer.lr": 2.0}, np.array([0, 50])).tolist() == [0.0, 10.0]


def test_fused_loss_with_one_head_count_per_run_equals_each_run_alone():
    """Tied heads, H per run (R,): the loss and its gradient per run equal the run's own scalar-H loss (kappa =
    c(H) H computed as the number would be; to rounding of the batched products)."""
    from attndyn.studies.multihead.fused import fused_loss

    gen = torch.Generator().manual_seed(1)
    heads = [1, 4, 40]
    X = torch.randn(3, 5, 4, 3, generator=gen, dtype=F64)
    y = torch.sign(torch.randn(3, 5, generator=gen, dtype=F64))
    W = (0.5 * torch.randn(3, 1, 3, 3, generator=gen, dtype=F64)).requires_grad_()
    U = torch.randn(3, 1, 3, generator=gen, dtype=F64).requires_grad_()
    together = fused_loss(W, U, X, y, torch.tensor(heads))
    grads = torch.autograd.grad(together.sum(), [W, U])
    for r, H in enumerate(heads):
        alone = fused_loss(W[r:r + 1], U[r:r + 1], X[r:r + 1], y[r:r + 1], H)
        assert torch.allclose(together[r:r + 1], alone, rtol=1e-13, atol=0)
        for a, b in zip(grads, torch.autograd.grad(alone.sum(), [W, U])):
            assert torch.allclose(a[r], b[r], rtol=1e-12, atol=1e-15)
