"""signgd study: data statistics, model, gradients, batched == looped, probes."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
import xarray as xr

from attndyn.config import deep_merge, normalize_section
from attndyn.studies import get_study
from attndyn.studies.base import RunContext
from attndyn.studies.signgd.data import make_dataset
from attndyn.studies.signgd.model import forward, init_params, logistic_loss
from attndyn.studies.signgd.plan import dataset_for, plan, sigma_p_for_snr
from attndyn.studies.signgd.runner import build_problem
from attndyn.studies.signgd.tokens import tokens
from attndyn.train import train

F64 = torch.float64
CPU = torch.device("cpu")
STUDY = get_study("signgd")


def _settings(section: dict):
    """Typed settings through the pipeline's own constructors (schema defaults, then the given keys)."""
    return STUDY.settings(normalize_section(copy.deepcopy(section), STUDY.schema(), "signgd."), {"dtype": "float64"})


def _dataset(kind: str, seeds: list[int], **data):
    settings = _settings({"seeds": seeds, "data": {kind: data}})
    experiment = next(e for e in settings.experiments.values() if e.kind == kind)
    return dataset_for(settings, experiment, {})


def _synthetic(seeds=(0, 1), **over) -> dict:
    values = {"n": 400, "d": 3000, "s": 40, "sigma_p": 1.0, "mu_norm": 1.0, "n_test": 10,
              "noise_support_excludes_signal": True, "label_flip_prob": 0.0, **over}
    return make_dataset(_dataset("synthetic", list(seeds), **values))


def test_synthetic_data_statistics():
    data = _synthetic()
    y, idx, val = data["train_y"], data["train_noise_idx"], data["train_noise_val"]
    assert set(np.unique(y)) == {-1.0, 1.0} and abs(y.mean()) < 0.1
    assert idx.min() >= 1 and idx.max() < 3000                          # support excludes the signal axis
    assert all(len(set(row)) == 40 for row in idx.reshape(-1, 40))        # s distinct coordinates
    assert abs(val.std() - 1.0) < 0.02 and abs(val.mean()) < 0.02
    l1 = np.abs(val).sum(-1).mean()
    assert abs(l1 - 40 * math.sqrt(2 / math.pi)) < 0.5                   # ||xi||_1 ~ sigma_p s sqrt(2/pi)
    assert np.array_equal(data["train_signal"][..., 0], y)               # x1 = y mu, ||mu|| = 1


def test_snr_definition_and_seed_reproducibility():
    assert sigma_p_for_snr(0.5, 1.0, 40) == pytest.approx(0.316, abs=1e-3)
    a, b = _synthetic(seeds=[3]), _synthetic(seeds=[3])
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_digits_data_has_unit_norm_images_and_noise_outside_pixels():
    data = make_dataset(_dataset("digits", [0], classes_pos=[0], classes_neg=[1], n_train=50, sigma_p=1.0,
                                 noise_dim=100, noise_sparsity_s=10))
    assert data["train_signal"].shape == (1, 50, 64) and int(data["d"]) == 164
    assert np.allclose(np.linalg.norm(data["train_signal"], axis=-1), 1.0)
    assert data["train_noise_idx"].min() >= 64


def test_sparse_tokens_match_dense_forward():
    data = _synthetic(n=6, d=50, s=5, seeds=[0, 1])
    X, y = tokens(data, "train", F64, CPU)
    params = init_params(2, 50, 3, 4, 0.3, [0, 1], F64, CPU)
    dense = X.dense()                                                     # (R, n, 2, d)
    assert dense.shape == (2, 6, 2, 50)
    Q = torch.einsum("rnld,rkd->rnlk", dense, params["WQ"])
    assert torch.allclose(X.project(params["WQ"]), Q, atol=1e-14)
    grad_sparse, = torch.autograd.grad(X.project(params["WQ"]).square().sum(), params["WQ"])
    grad_dense, = torch.autograd.grad(Q.square().sum(), params["WQ"])
    assert torch.allclose(grad_sparse, grad_dense, atol=1e-13)              # backward through S^T
    f = forward(params, X)
    assert f.shape == (2, 6) and logistic_loss(f, y).shape == (2,)


def test_gradients_match_finite_differences():
    data = _synthetic(n=4, d=12, s=3, seeds=[0])
    X, y = tokens(data, "train", F64, CPU)
    params = init_params(1, 12, 2, 3, 0.5, [0], F64, CPU)
    names = list(params)

    def loss(*tensors):
        return logistic_loss(forward(dict(zip(names, tensors)), X), y).sum()
    assert torch.autograd.gradcheck(loss, tuple(params.values()), eps=1e-6, atol=1e-8)


def test_zero_init_gives_log2_loss():
    data = _synthetic(n=5, d=20, s=3, seeds=[0])
    X, y = tokens(data, "train", F64, CPU)
    params = {k: torch.zeros_like(v) for k, v in init_params(1, 20, 2, 2, 0.1, [0], F64, CPU).items()}
    assert logistic_loss(forward(params, X), y).item() == pytest.approx(math.log(2), abs=1e-15)


def _run_cell(section: dict, seeds: list[int], optimizer: str, steps: int) -> dict:
    section = deep_merge(section, {"seeds": seeds, "optimizers": {optimizer: {"steps": steps}}})
    cell = next(c for c in plan(_settings(section)).experiments["dynamics"] if c.coords["optimizer"] == optimizer)
    problem, _ = build_problem(cell, make_dataset(cell.settings.data), RunContext(CPU, F64))
    return train(problem).metrics


@pytest.mark.parametrize("optimizer", ["signgd", "adam", "gd"])
def test_batched_ensemble_equals_looped_single_runs(smoke_config, optimizer):
    section = smoke_config["signgd"]
    batched = _run_cell(section, [0, 1, 2], optimizer, 60)
    for r, seed in enumerate([0, 1, 2]):
        single = _run_cell(section, [seed], optimizer, 60)
        for name in ("train_loss", "test_loss", "query_noise", "s21", "mean_value_noise"):
            np.testing.assert_allclose(batched[name][:, r], single[name][:, 0], rtol=0, atol=1e-10)


def test_stage_one_value_noise_grows_by_two_eta_l1(smoke_config):
    """Stage I (spec Sec. 6): after step 1 the mean value noise grows ~ 2 eta ||xi_i||_1 per step."""
    section = deep_merge(smoke_config["signgd"], {"data": {"synthetic": {"d": 2000}}})   # nearly disjoint supports
    metrics = _run_cell(section, [0], "signgd", 5)
    data = make_dataset(next(iter(plan(_settings(section)).datasets.values())).settings)
    idx = data["train_noise_idx"][0]                                       # (n, s)
    counts = np.bincount(idx.ravel(), minlength=int(data["d"]))
    disjoint = (counts[idx] == 1).all(-1)                                  # samples sharing no coordinate
    assert disjoint.sum() >= 3
    l1 = np.abs(data["train_noise_val"][0]).sum(-1)                        # (n,)
    growth = np.diff(metrics["mean_value_noise"][:, 0], axis=0)[1:]        # steps 1->2, 2->3, ...
    lr = next(c for c in plan(_settings(section)).experiments["dynamics"]
              if c.coords["optimizer"] == "signgd").settings.optimizer.lr
    expected = np.broadcast_to(2 * lr * l1, growth.shape)
    np.testing.assert_allclose(growth[:, disjoint], expected[:, disjoint], rtol=1e-9)


def test_majority_vote_ignores_tied_neurons():
    """Stage III statistic: a neuron whose sample votes split evenly has no majority to agree with."""
    from attndyn.studies.signgd.probes import stage_statistics

    qsig = torch.tensor([[0.5, -0.2, 0.1]], dtype=F64)                    # (R=1, m_k=3)
    qn = torch.tensor([[[1.0, 2.0], [-1.0, -3.0], [1.0, -1.0]]], dtype=F64)   # neuron 2 ties 1:1
    stats = stage_statistics(qsig, -qsig, qn, qn)
    assert stats["query_signal_majority"].item() == 1.0
    stats = stage_statistics(-qsig, qsig, qn, qn)
    assert stats["query_signal_majority"].item() == 0.0


def test_active_coordinates_cover_every_token_and_round_trip():
    from attndyn.studies.signgd.active import ActiveCoordinates

    data = _synthetic(n=6, d=200, s=5, seeds=[0, 1, 2])
    X, _ = tokens(data, "train", F64, CPU)
    init = init_params(3, 200, 3, 4, 0.3, [0, 1, 2], F64, CPU)
    sub = ActiveCoordinates(X, init)
    for r in range(3):
        touched = set(X._idx[r].flatten().tolist())
        assert touched <= set(sub.active[r].tolist()) and len(set(sub.active[r].tolist())) == sub.active.shape[1]
    assert sub.active.shape[1] < 200
    assert all(torch.equal(sub.full(sub.compact)[k], init[k]) for k in init)
    with torch.no_grad():
        assert torch.allclose(sub.X.project(sub.compact["WQ"]), X.project(init["WQ"]), atol=1e-14)


@pytest.mark.parametrize("optimizer", ["signgd", "adam", "gd"])
def test_training_active_coordinates_equals_training_all(smoke_config, optimizer):
    """Weight decay 1e-300 changes no number but forces the full-coordinate path (active.py)."""
    section = smoke_config["signgd"]
    compact = _run_cell(section, [0, 1], optimizer, 40)
    full = _run_cell(deep_merge(section, {"optimizers": {optimizer: {"weight_decay": 1e-300}}}), [0, 1], optimizer, 40)
    for name in ("train_loss", "test_loss", "query_noise", "key_signal", "norm_WQ", "mean_value_noise"):
        np.testing.assert_array_equal(compact[name], full[name])


# ---- negative controls of the claims: synthetic datasets shaped like dynamics.nc --------------------------------
from attndyn.studies.signgd import claims as sc

STEPS = np.unique(np.r_[np.arange(0, 21), np.geomspace(20, 3000, 60).round().astype(int), 100, 150, 300, 900])


def _dynamics(curves: dict | None = None) -> xr.Dataset:
    """A dynamics-like dataset (optimizer, seed, step, neuron, sample) where SignGD, Adam and GD behave as the paper
    says; `curves` replaces any (optimizer, variable) -> function of t (array) -> values."""
    t = STEPS.astype(float)
    base = {
        ("signgd", "train_loss"): lambda t: 0.7 * np.exp(-0.012 * t),
        ("adam", "train_loss"): lambda t: 0.7 / (1 + t / 50),
        ("gd", "train_loss"): lambda t: 0.7 / (1 + t / 10),
        ("signgd", "test_loss"): lambda t: 0.69 - 0.02 * (t > 50), ("adam", "test_loss"): lambda t: 0.69 + 0 * t,
        ("gd", "test_loss"): lambda t: 0.69 * np.exp(-t / 200) + 0.05,
        ("signgd", "test_acc"): lambda t: 0.6 + 0 * t, ("adam", "test_acc"): lambda t: 0.58 + 0 * t,
        ("gd", "test_acc"): lambda t: np.minimum(1.0, 0.5 + t / 100),
        ("signgd", "mean_value_noise"): lambda t: 0.006 * t,
        ("signgd", "qk_noise_sign_agreement"): lambda t: 0.5 + 0.5 * np.minimum(1, t / 40),
        ("signgd", "key_signal_opposite"): lambda t: 0.5 + 0.5 * np.clip((t - 30) / 100, 0, 1),
        ("signgd", "query_signal_majority"): lambda t: 0.5 + 0.5 * np.clip((t - 30) / 100, 0, 1),
        ("signgd", "s21"): lambda t: 0.5 * np.exp(-np.clip(t - 60, 0, None) / 30),
        ("signgd", "s11"): lambda t: 0.5 + 0 * t,
        ("signgd", "key_noise_alignment"): lambda t: np.minimum(1, 0.5 + t / 1000),
        ("signgd", "query_noise_alignment"): lambda t: np.minimum(1, 0.5 + t / 1000),
        ("adam", "query_noise_alignment"): lambda t: 0.6 + 0 * t,
    }
    base.update(curves or {})
    opts, shape = ["signgd", "adam", "gd"], (3, 3, len(t))
    data = {}
    for var in {v for _, v in base}:
        arr = np.full(shape, np.nan)
        for i, o in enumerate(opts):
            if (o, var) in base:
                arr[i] = base[o, var](t)[None, :] * (1 + 1e-3 * np.arange(3)[:, None])
        data[var] = (("optimizer", "seed", "step"), arr)
    noise = 0.05 * np.ones((3, 3, len(t), 2, 4))
    data["key_noise"] = data["query_noise"] = (("optimizer", "seed", "step", "neuron", "sample"), noise)
    data["mean_value_noise"] = (("optimizer", "seed", "step", "sample"),
                                np.repeat(data["mean_value_noise"][1][..., None], 4, -1))
    for var in ("s21", "s11"):
        data[var] = (("optimizer", "seed", "step", "sample"), np.repeat(data[var][1][..., None], 4, -1))
    data["final_step"] = (("optimizer",), np.full(3, STEPS[-1]))
    return xr.Dataset(data, coords={"optimizer": opts, "seed": [0, 1, 2], "step": STEPS})


@pytest.fixture(scope="module")
def checks():
    return _settings({}).checks


def test_claims_pass_on_a_run_that_behaves_as_the_paper_says(checks):
    ds = _dynamics()
    sg = ds.sel(optimizer="signgd")
    rows = [sc.c1_linear_rate(ds, checks), sc.c2_signgd_poor_generalization(ds, checks),
            sc.c3_gd_generalizes(ds, checks), sc.c4_stage_one(sg, checks, 2), *sc.c4_threshold_rows(sg, checks),
            sc.c4_stages_in_order(sg, checks), sc.c5_adam_like_signgd(ds, checks)]
    assert all(r.passed for r in rows), [r.claim for r in rows if not r.passed]
    assert all(r.fails_if and r.source and r.depends_on for r in rows)


@pytest.mark.parametrize("row, curves", [
    ("c1", {("signgd", "train_loss"): lambda t: 0.7 * (1 + t) ** -1.5}),                 # a power law, not linear
    ("c2", {("signgd", "test_loss"): lambda t: 0.69 * np.exp(-t / 500)}),                 # test loss falls after t=300
    ("c3", {("gd", "test_acc"): lambda t: 0.7 + 0 * t}),                                   # GD does not generalize
    ("order", {("signgd", "s21"): lambda t: 0.5 * np.exp(-t / 30)}),                       # s21 falls before stage III
    ("c5", {("adam", "query_noise_alignment"): lambda t: np.minimum(1, 0.5 + t / 500)}),   # Adam flips too
    ("c5", {("adam", "train_loss"): lambda t: 0.7 * np.exp(-0.02 * t)}),                   # Adam as fast as SignGD
])
def test_each_claim_fails_where_the_paper_is_wrong(checks, row, curves):
    ds = _dynamics(curves)
    sg = ds.sel(optimizer="signgd")
    check = {"c1": lambda: sc.c1_linear_rate(ds, checks), "c2": lambda: sc.c2_signgd_poor_generalization(ds, checks),
             "c3": lambda: sc.c3_gd_generalizes(ds, checks), "order": lambda: sc.c4_stages_in_order(sg, checks),
             "c5": lambda: sc.c5_adam_like_signgd(ds, checks)}[row]
    assert not check().passed


def test_stage_one_fails_when_key_noise_moves_early(checks):
    ds = _dynamics()
    moving = ds.key_noise.copy()
    moving[dict(step=slice(1, None))] = 0.05 * 1.5                                         # 50 % move by t = 1
    sg = ds.assign(key_noise=moving).sel(optimizer="signgd")
    assert not sc.c4_stage_one(sg, checks, 2).passed


def test_one_failing_seed_fails_the_row(checks):
    """Per-seed verdicts: a mean over seeds would hide this seed."""
    ds = _dynamics()
    acc = ds.test_acc.copy()
    acc.loc[dict(optimizer="gd", seed=2)] = 0.6
    assert not sc.c3_gd_generalizes(ds.assign(test_acc=acc), checks).passed


def test_snr_and_digits_rows_fail_when_gd_is_no_better():
    c = _settings({}).checks
    t = STEPS
    def ds_for(axis, values, gd_loss, drop_gd):
        shape = (len(values), 3, 3, len(t))
        test_loss = np.full(shape, 0.5)
        test_loss[:, 2] = gd_loss
        acc = np.full(shape, 1.0)
        acc[-1, :2] = 0.5
        acc[-1, 2] = 1.0 - drop_gd
        return xr.Dataset({"test_loss": ((axis, "optimizer", "seed", "step"), test_loss),
                           "test_acc": ((axis, "optimizer", "seed", "step"), acc),
                           "train_loss": ((axis, "optimizer", "seed", "step"), np.full(shape, 1e-3)),
                           "final_step": ((axis, "optimizer"), np.full((len(values), 3), t[-1]))},
                          coords={axis: values, "optimizer": ["signgd", "adam", "gd"], "seed": [0, 1, 2], "step": t})
    assert all(r.passed for r in sc.c6_not_only_noise(ds_for("snr", [0.5, 1.0], 0.01, 0.0), c))
    assert not any(r.passed for r in sc.c6_not_only_noise(ds_for("snr", [0.5, 1.0], 0.3, 0.0), c))
    digits = sc.c7_noisy_digits(ds_for("sigma_p", [0.0, 0.5], 0.01, 0.0), c)
    assert all(r.passed for r in digits)
    assert not sc.c7_noisy_digits(ds_for("sigma_p", [0.0, 0.5], 0.01, 0.5), c)[1].passed


@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_fused_loss_and_its_backward_equal_autograd_through_the_model(temperature):
    """The train step's fused loss (one sparse product, hand-written backward) against model.forward + autograd."""
    from attndyn.studies.signgd.fused import fused_loss, pack, unpack, value_weights

    data = _synthetic(n=5, d=12, s=3, seeds=[0, 1])
    X, y = tokens(data, "train", F64, CPU)
    params = init_params(2, 12, 3, 4, 0.5, [0, 1], F64, CPU)
    W = pack(params).requires_grad_(True)
    c = value_weights(4, F64, CPU)
    assert c.dtype == F64 and c[0].item() == 1 / 4 and c[-1].item() == -1 / 4
    ours = fused_loss(W, X, y, 3, c, temperature)
    reference = logistic_loss(forward(params, X, temperature), y)
    assert torch.allclose(ours, reference, rtol=1e-13, atol=0)
    grad_ours, = torch.autograd.grad(ours.sum(), W)
    grads = torch.autograd.grad(reference.sum(), list(params.values()))
    grad_ref = pack(dict(zip(params, grads)))
    assert torch.allclose(grad_ours, grad_ref, rtol=1e-12, atol=1e-15)
    assert all(torch.equal(unpack(W, 3, 4)[k], params[k]) for k in params)
    loss = lambda w: fused_loss(w, X, y, 3, c, temperature).sum()
    assert torch.autograd.gradcheck(loss, (W.detach().clone().requires_grad_(True),), eps=1e-6, atol=1e-8)


def test_batched_sweep_values_equal_separate_cells():
    """SNR and learning rate batched into one ensemble per optimizer (data stacked on the run dimension, per-run
    learning rates) give the separate cells' numbers to 1e-10."""
    from attndyn.runtime import skip_dynamo_import
    from attndyn.studies.signgd.runner import train_cell
    from attndyn.workflow import batched

    skip_dynamo_import()
    sweep = {"snr": [0.5, 2.0], "optimizer.lr": [1e-3, 3e-3]}
    section = {"seeds": [0, 1], "data": {"synthetic": {"n": 6, "d": 120, "s": 5, "n_test": 20}},
               "model": {"m_k": 3, "m_v": 3}, "optimizers": {"signgd": {"steps": 30}, "adam": {"steps": 30}},
               "log": {"points_per_decade": 5, "dense_until": 3, "extra_steps": []},
               "experiments": {"together": {"optimizers": ["signgd", "adam"], "sweep": sweep, "batch": list(sweep)},
                               "apart": {"optimizers": ["signgd", "adam"], "sweep": sweep}}, "maps": None}
    settings = _settings(section)
    study_plan = batched(plan(settings), "signgd")
    datas = {name: make_dataset(spec.settings) for name, spec in study_plan.datasets.items()}
    ctx = RunContext(CPU, F64)
    for cell in study_plan.experiments["together"]:
        together = train_cell(cell, datas, ctx)
        assert together.sizes["snr"] == 2 and together.sizes["optimizer.lr"] == 2
        for apart in (c for c in study_plan.experiments["apart"] if c.coords["optimizer"] == cell.coords["optimizer"]):
            alone = train_cell(apart, datas[apart.dataset], ctx)
            point = together.sel({"snr": apart.coords["snr"], "optimizer.lr": apart.coords["optimizer.lr"]})
            for name in ("train_loss", "test_loss", "query_noise", "s21"):
                np.testing.assert_allclose(point[name].values, alone[name].values, rtol=1e-10, atol=1e-12)
