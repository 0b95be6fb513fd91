"""Each optimizer's update against its formula; the registry rejects unknown names and bad steps."""
from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import torch

from attndyn.errors import ConfigError
from attndyn.optim.build import build_optimizer
from attndyn.optim.elementwise import GD, Adam, HeavyBall
from attndyn.optim.signgd import SignGD


def _one_step(rule: str, settings: dict, w0: torch.Tensor, grads: list[torch.Tensor]) -> torch.Tensor:
    w = w0.clone().requires_grad_(True)
    opt = build_optimizer(rule, [w], settings)
    for g in grads:
        w.grad = g.clone()
        opt.step()
    return w.detach()


W0 = torch.tensor([0.5, -1.0, 2.0, 0.0], dtype=torch.float64)
G1 = torch.tensor([0.3, -2.0, 0.0, 1e-12], dtype=torch.float64)
G2 = torch.tensor([-0.1, 0.5, 0.2, -3.0], dtype=torch.float64)


def test_signgd_formula_and_sign_zero():
    w = _one_step("signgd", {"lr": 0.1}, W0, [G1])
    assert torch.equal(w, W0 - 0.1 * torch.tensor([1.0, -1.0, 0.0, 1.0], dtype=torch.float64))


def test_signgd_outside_pipeline_with_closure():
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    opt = SignGD([w], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (w ** 2).sum()
        loss.backward()
        return loss
    opt.step(closure)
    assert torch.allclose(w.detach(), torch.tensor([0.5, -1.5]))


def test_gd_formula():
    assert torch.allclose(_one_step("gd", {"lr": 0.2}, W0, [G1, G2]), W0 - 0.2 * G1 - 0.2 * G2)


def test_heavy_ball_formula():
    beta, lr = 0.9, 0.1
    v1 = G1
    v2 = beta * v1 + G2
    expected = W0 - lr * v1 - lr * v2
    assert torch.allclose(_one_step("momentum", {"lr": lr, "beta": beta}, W0, [G1, G2]), expected)


def test_adam_formula():
    lr, (b1, b2), eps = 0.01, (0.9, 0.999), 1e-8
    m = v = torch.zeros_like(W0)
    w = W0.clone()
    for t, g in enumerate([G1, G2], start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * (m / (1 - b1 ** t)) / ((v / (1 - b2 ** t)).sqrt() + eps)
    got = _one_step("adam", {"lr": lr, "betas": [b1, b2], "eps": eps}, W0, [G1, G2])
    assert torch.allclose(got, w, atol=1e-15, rtol=1e-12)


def test_unknown_optimizer_and_bad_lr():
    with pytest.raises(ConfigError, match="unknown optimizer 'lion'"):
        build_optimizer("lion", [W0.clone().requires_grad_(True)], {"lr": 0.1})
    with pytest.raises(ConfigError, match="lr must be > 0"):
        build_optimizer("gd", [W0.clone().requires_grad_(True)], {"lr": -0.1})


@pytest.mark.parametrize("rule, settings, reference", [
    ("gd", {"lr": 0.2, "weight_decay": 0.1}, lambda p: torch.optim.SGD(p, lr=0.2, weight_decay=0.1)),
    ("momentum", {"lr": 0.1, "beta": 0.9}, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    ("adam", {"lr": 0.01, "weight_decay": 0.1}, lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1)),
    ("adamw", {"lr": 0.01}, lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.01)),
])
def test_registry_matches_torch_optim(rule, settings, reference):
    """The registry's own element-wise classes follow torch.optim's formulas step for step."""
    ours, theirs = W0.clone().requires_grad_(True), W0.clone().requires_grad_(True)
    opt_ours, opt_theirs = build_optimizer(rule, [ours], settings), reference([theirs])
    for g in [G1, G2, G1 * 3, G2]:
        ours.grad, theirs.grad = g.clone(), g.clone()
        opt_ours.step()
        opt_theirs.step()
    assert torch.allclose(ours, theirs, rtol=0, atol=1e-15)


def test_state_dict_round_trip_resumes_identically():
    w = W0.clone().requires_grad_(True)
    opt = build_optimizer("adam", [w], {"lr": 0.01})
    w.grad = G1.clone()
    opt.step()
    saved, w_saved = copy.deepcopy(opt.state_dict()), w.detach().clone()   # as torch.save does
    w2 = w_saved.clone().requires_grad_(True)
    opt2 = build_optimizer("adam", [w2], {"lr": 0.01})
    opt2.load_state_dict(saved)
    for p, o in ((w, opt), (w2, opt2)):
        p.grad = G2.clone()
        o.step()
    assert torch.equal(w, w2)


def test_train_jobs_do_not_import_dynamo():
    """torch.optim's wrappers import torch._dynamo (2.4 s per job) unless runtime.skip_dynamo_import ran."""
    import subprocess
    import sys

    code = ("import sys, torch\n"
            "from attndyn.runtime import skip_dynamo_import\n"
            "skip_dynamo_import()\n"
            "from attndyn.optim import OPTIMIZERS\nfrom attndyn.optim.build import build_optimizer\n"
            "from attndyn.optim.structure_aware import StructureAwareGD\n"
            "for rule in [name for name, r in OPTIMIZERS.items() if not r.needs]:\n"
            "    w = torch.ones(3, dtype=torch.float64, requires_grad=True)\n"
            "    opt = build_optimizer(rule, [w], {'lr': 0.1})\n"
            "    (w ** 2).sum().backward(); opt.step(); opt.zero_grad()\n"
            "    opt.load_state_dict(opt.state_dict())\n"
            "A, B = torch.zeros(1, 2, 2, dtype=torch.float64), torch.eye(2, dtype=torch.float64)[None]\n"
            "alg = StructureAwareGD([A.requires_grad_(), B.requires_grad_()], "
            "torch.eye(2, dtype=torch.float64)[None])\n"
            "alg.zero_grad(); alg.load_state_dict(alg.state_dict())\n"
            "print('torch._dynamo' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("build_bad, argument", [
    (lambda p: GD(p, lr=-1.0), "learning rate"),
    (lambda p: Adam(p, lr=-1.0), "learning rate"),
    (lambda p: Adam(p, lr=0.1, betas=(1.2, 0.9)), "beta parameter at index 0"),
    (lambda p: Adam(p, lr=0.1, betas=(0.9, -0.1)), "beta parameter at index 1"),
    (lambda p: Adam(p, lr=0.1, eps=-1e-8), "epsilon"),
    (lambda p: HeavyBall(p, lr=0.1, beta=1.5), "momentum"),
    (lambda p: SignGD(p, lr=-0.1), "learning rate"),
    (lambda p: GD(p, lr=0.1, weight_decay=-1.0), "weight_decay"),
])
def test_bad_arguments_raise_value_error_naming_them(build_bad, argument):
    """Validated as torch.optim validates (ValueError naming the argument), not at the first step."""
    with pytest.raises(ValueError, match=argument):
        build_bad([W0.clone().requires_grad_(True)])


def test_torch_adam_state_dict_loads_and_continues_step_for_step():
    """Adam's state keys are torch.optim.Adam's: a torch state dict loads and training goes on identically."""
    theirs = W0.clone().requires_grad_(True)
    torch_adam = torch.optim.Adam([theirs], lr=0.01)
    for g in (G1, G2):
        theirs.grad = g.clone()
        torch_adam.step()
    ours = theirs.detach().clone().requires_grad_(True)
    our_adam = Adam([ours], lr=0.01)
    our_adam.load_state_dict(copy.deepcopy(torch_adam.state_dict()))
    for g in (G1 * 3, G2, G1):
        theirs.grad, ours.grad = g.clone(), g.clone()
        torch_adam.step()
        our_adam.step()
        assert torch.allclose(ours, theirs, rtol=0, atol=1e-15)
    assert set(our_adam.state[ours]) == set(torch_adam.state[theirs])


def test_foreign_adam_state_is_rejected_at_load():
    w = W0.clone().requires_grad_(True)
    opt = Adam([w], lr=0.01)
    w.grad = G1.clone()
    opt.step()
    state = opt.state_dict()
    state["state"][0] = {"m": torch.zeros(4), "v": torch.zeros(4), "step": 1}
    with pytest.raises(ValueError, match=re.escape("expected torch.optim.Adam's")):
        Adam([W0.clone().requires_grad_(True)], lr=0.01).load_state_dict(state)


@pytest.mark.parametrize("make, per_run_settings", [
    (GD, {"lr": [0.1, 0.3, 0.05]}),
    (HeavyBall, {"lr": [0.1, 0.2, 0.05], "beta": [0.9, 0.5, 0.0]}),
    (SignGD, {"lr": [0.1, 0.01, 0.3]}),
    (Adam, {"lr": [0.01, 0.1, 0.001], "betas": [(0.9, 0.999), (0.5, 0.9), (0.0, 0.99)], "eps": [1e-8, 1e-3, 1.0]}),
])
def test_per_run_hyperparameters_equal_separate_runs(make, per_run_settings):
    """A sweep of hyperparameters trained as one ensemble (per-run tensors) equals each run on its own."""
    runs = 3
    w0 = torch.stack([W0 * (r + 1) for r in range(runs)])                                  # (R, 4)
    grads = [torch.stack([g * (r - 1) for r in range(runs)]) for g in (G1, G2, G1 * 3)]

    def tensor(values):
        return tuple(torch.tensor(v, dtype=torch.float64) for v in zip(*values)) if isinstance(values[0], tuple) \
            else torch.tensor(values, dtype=torch.float64)
    batched = w0.clone().requires_grad_(True)
    opt = make([batched], **{k: tensor(v) for k, v in per_run_settings.items()})
    singles = [w0[r].clone().requires_grad_(True) for r in range(runs)]
    alone = [make([singles[r]], **{k: v[r] for k, v in per_run_settings.items()}) for r in range(runs)]
    for g in grads:
        batched.grad = g.clone()
        opt.step()
        for r in range(runs):
            singles[r].grad = g[r].clone()
            alone[r].step()
    assert torch.allclose(batched.detach(), torch.stack([s.detach() for s in singles]), rtol=1e-12, atol=1e-14)


def test_a_per_run_step_needs_an_elementwise_rule():
    from dataclasses import replace

    from attndyn.optim.spec import optimizer_spec
    from attndyn.optim.step_size import check_step_rule

    spec = replace(optimizer_spec("alg", {"rule": "algorithm1", "lr": 0.1}, "x"), lr_rule="inverse_smoothness")
    with pytest.raises(ConfigError, match="not element-wise"):
        check_step_rule(spec, "x")
    check_step_rule(replace(spec, rule="adam", settings={"betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0}), "x")


def test_a_whole_train_job_does_not_import_dynamo(tmp_path):
    """A real train job (run_train, as the workflow's script calls it) of a smoke-config Adam cell, start to its
    result file, in a fresh interpreter: torch._dynamo stays unimported (it costs ~2.4 s of start-up)."""
    import json
    import subprocess
    import sys

    from attndyn.config import deep_merge, load_yaml
    from attndyn.jobs.data import run_data
    from attndyn.workflow import validated_plan

    repo = Path(__file__).resolve().parents[1]
    config = deep_merge(load_yaml(repo / "config" / "config.yaml"), load_yaml(repo / "config" / "smoke.yaml"))
    config.update(studies=["multihead"], threads=1, checkpoint_every=0, device="cpu")
    plan = validated_plan(config)
    cell = plan.cell("multihead", "planted", "heads-1__optimizer-adam")
    data, out = tmp_path / "data.npz", tmp_path / "cells" / "planted" / "cell.nc"
    run_data("multihead", plan.dataset_params("multihead", cell.dataset), str(data))
    job = [config, "multihead", cell.to_json(), "test", str(data), str(out)]
    code = ("import json, sys\nfrom attndyn.jobs.train import run_train\n"
            "run_train(*json.loads(sys.argv[1]))\nprint('torch._dynamo' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code, json.dumps(job)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert out.exists() and result.stdout.strip().splitlines()[-1] == "False"
