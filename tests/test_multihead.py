"""Tests of the multihead study (spec Sec. 1, 1.1, 5, 9): invariants at zero init, the single-head
equivalence of Sec. 1.1, gradients, batched == looped, config errors, and the new vocabulary (legacy keys,
lr_scaling, any registry optimizer, the cross-study dm1_optimizers experiment)."""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path

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
])
def test_legacy_keys_name_their_replacement(legacy, replacement):
    with pytest.raises(ConfigError) as info:
        normalize_section(legacy, STUDY.schema(), "multihead.")
    message = str(info.value)
    assert "is no longer a key" in message and replacement in message and "\n" not in message


def test_step_size_is_lr_times_sqrt_heads_as_before():
    """The effective step of lr_scaling: sqrt_heads is float(lr) * math.sqrt(H), bit for bit (old lr0 rule)."""
    for H in (1, 2, 5, 10, 20, 40):
        assert step_size(0.1, "sqrt_heads", H) == float(0.1) * math.sqrt(H)
        assert step_size(1e-2, "constant", H) == 1e-2


@pytest.mark.parametrize("rule", ["signgd", "adamw", "sgd", "momentum"])
def test_any_registry_optimizer_trains_by_yaml(rule):
    """A registry rule added to an experiment by YAML alone trains (sqrt_heads scaling too)."""
    new = {"rule": rule, "lr": 1e-2, "lr_scaling": "sqrt_heads"}
    s, p = tiny_plan(optimizers={"extra": new}, experiments={"planted": {"optimizers": ["extra"]}})
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
