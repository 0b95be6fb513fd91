"""Tests of the multihead study (spec Sec. 1, 1.1, 5, 9): invariants at zero init, the single-head
equivalence of Sec. 1.1, gradients, batched == looped, and config errors."""
from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from attndyn.config import deep_merge, load_yaml, validate
from attndyn.errors import ConfigError
from attndyn.studies.base import RunContext
from attndyn.studies.multihead.data import make_dataset
from attndyn.studies.multihead.model import attention, forward, logistic_loss, zero_params
from attndyn.studies.multihead.plan import plan
from attndyn.studies.multihead.probes import attention_score
from attndyn.studies.multihead.runner import build_problem
from attndyn.train import train

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]
F64 = torch.float64


def config(**overrides) -> dict:
    cfg = deep_merge(load_yaml(ROOT / "config/config.yaml"), load_yaml(ROOT / "config/smoke.yaml"))
    cfg["studies"] = ["multihead"]
    cfg["multihead"] = deep_merge(cfg["multihead"], overrides)
    return cfg


def tiny_plan(**overrides):
    small = {"trials": [0, 1, 2], "heads": [3], "dm1": {"n_train": 12, "n_test": 10, "iters": 6},
             "planted": {"n_train": 12, "n_test": 10, "iters": 6}}
    cfg = config(**deep_merge(small, overrides))
    return cfg, plan(cfg["multihead"], cfg)


def dm1_tensors(seed: int = 0, n: int = 12):
    cfg, p = tiny_plan(trials=[seed], dm1={"n_train": n})
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
    settings = copy.deepcopy(cell.settings)
    settings["data"]["seeds"] = seeds
    data = make_dataset(settings["data"])
    cell = type(cell)(cell.experiment, cell.coords, cell.dataset, settings)
    problem, _ = build_problem(cell, data, RunContext(torch.device("cpu"), F64))
    return train(problem).metrics


@pytest.mark.parametrize("init", ["zero", "one_step"])
def test_batched_equals_looped(init):
    _, p = tiny_plan(init=init)
    for index in range(len(p.experiments["dm1"])):                           # gd, gd_sqrtH, adam
        batched = run_cell(p, index, [0, 1, 2])
        for r, seed in enumerate([0, 1, 2]):
            alone = run_cell(p, index, [seed])
            for name, values in batched.items():
                np.testing.assert_allclose(values[:, r], alone[name][:, 0], rtol=0, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("kind", ["dm1", "planted"])
def test_tied_heads_equal_untied_heads(kind):
    """One stored head standing for H identical heads (zero init) logs the same metrics as H heads."""
    _, tied = tiny_plan(heads=[5], model={"tied_heads": True})
    _, untied = tiny_plan(heads=[5], model={"tied_heads": False})
    for index in range(len(tied.experiments[kind])):                          # every optimizer
        a = run_cell(tied, index, [0, 1], kind)
        b = run_cell(untied, index, [0, 1], kind)
        for name in a:
            np.testing.assert_allclose(a[name], b[name], rtol=1e-9, atol=1e-12, err_msg=f"{kind} {name}")


def test_planted_alignment_and_lr_scaling():
    _, p = tiny_plan()
    cells = {c.coords["optimizer"]: c for c in p.experiments["planted"]}
    assert cells["gd_sqrtH"].settings["optimizer"]["lr"] == pytest.approx(math.sqrt(3))
    assert cells["momentum"].settings["optimizer"]["lr"] == pytest.approx(0.1 * math.sqrt(3))
    data = make_dataset(p.datasets["planted"].settings)
    problem, _ = build_problem(cells["gd_sqrtH"], data, RunContext(torch.device("cpu"), F64))
    metrics = train(problem).metrics
    assert np.isnan(metrics["align_U"][0]).all() and np.isfinite(metrics["align_U"][1:]).all()


@pytest.mark.parametrize("override, key", [
    ({"opt": {"gd": {"rule": "nope"}}}, "multihead.opt.gd.rule"),
    ({"opt": {"gd": {"lr": -1.0}}}, "multihead.opt.gd.lr"),
    ({"dm1": {"optimizers": ["gd", "lion"]}}, "multihead.dm1.optimizers"),
    ({"model": {"pooling": "max"}}, "multihead.model.pooling"),
    ({"dm1": {"iters_by_optimizer": {"momentum": 10}}}, "multihead.dm1.iters_by_optimizer"),
    ({"dm1": {"iters_by_optimizer": {"gd": 0}}}, "multihead.dm1.iters_by_optimizer.gd"),
])
def test_config_errors_name_the_key(override, key):
    with pytest.raises(ConfigError) as info:
        validate(config(**override))
    message = str(info.value)
    assert key in message and "\n" not in message


def test_iters_by_optimizer_sets_each_cells_steps():
    section = config(dm1={"iters": 30, "iters_by_optimizer": {"gd": 70}})["multihead"]
    steps = {c.coords["optimizer"]: c.settings["steps"] for c in plan(section, {"dtype": "float64"}).experiments["dm1"]}
    assert steps == {"gd": 70, "gd_sqrtH": 30, "adam": 30}
