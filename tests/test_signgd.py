"""signgd study: data statistics, model, gradients, batched == looped, probes."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

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
    assert all(torch.equal(sub.full()[k], init[k]) for k in init)
    with torch.no_grad():
        assert torch.allclose(sub.X.project(sub.params["WQ"]), X.project(init["WQ"]), atol=1e-14)


@pytest.mark.parametrize("optimizer", ["signgd", "adam", "gd"])
def test_training_active_coordinates_equals_training_all(smoke_config, optimizer):
    """Weight decay 1e-300 changes no number but forces the full-coordinate path (active.py)."""
    section = smoke_config["signgd"]
    compact = _run_cell(section, [0, 1], optimizer, 40)
    full = _run_cell(deep_merge(section, {"optimizers": {optimizer: {"weight_decay": 1e-300}}}), [0, 1], optimizer, 40)
    for name in ("train_loss", "test_loss", "query_noise", "key_signal", "norm_WQ", "mean_value_noise"):
        np.testing.assert_array_equal(compact[name], full[name])
