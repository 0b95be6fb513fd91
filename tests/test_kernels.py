"""Tests of the kernels study: kernels vs formulas, Pathfinder labels, IMDb loader, gradients, config errors,
the experiment registry, any registry optimizer by YAML, the minibatch trainer's resume."""
from __future__ import annotations

import ast
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from attndyn.config import deep_merge, load_yaml, validate
from attndyn.errors import ConfigError
from attndyn.studies import get_study
from attndyn.studies.base import RunContext
from attndyn.studies.kernels.attention import attention_weights
from attndyn.studies.kernels.lra import imdb, pathfinder
from attndyn.studies.kernels.metrics import slice_roughness
from attndyn.studies.kernels.settings import experiment_optimizer_spec
from attndyn.workflow import Plan

ROOT = Path(__file__).resolve().parents[1]
CPU = torch.device("cpu")
STUDY = get_study("kernels")
torch.set_num_threads(1)


def _config(**kernels_override) -> dict:
    """config.yaml + smoke.yaml's top-level keys and kernels section (other studies' sections left out)."""
    smoke = load_yaml(ROOT / "config/smoke.yaml")
    cfg = {**load_yaml(ROOT / "config/config.yaml"), **{k: v for k, v in smoke.items() if not isinstance(v, dict)}}
    cfg["studies"] = ["kernels"]
    cfg["kernels"] = deep_merge(smoke["kernels"], kernels_override)
    removed = {name for name, entry in kernels_override.get("experiments", {}).items() if entry is None}
    default_maps = STUDY.schema()["properties"]["maps"]["default"]
    for name, entry in default_maps.items():                 # a map over a removed experiment goes with it
        if entry["experiment"] in removed:
            cfg["kernels"].setdefault("maps", {})[name] = None
    return cfg


def _settings(**kernels_override):
    """Typed settings through the pipeline's own constructors (schema defaults, smoke.yaml, the given keys)."""
    cfg = validate(_config(**kernels_override))
    return STUDY.settings(cfg["kernels"], cfg)


def _plan(**kernels_override):
    return Plan(validate(_config(**kernels_override))).studies["kernels"]


def _ctx(cell) -> RunContext:
    """A CPU run context as the train job makes it: the cell's own dtype, provenance saying so."""
    from attndyn.runtime import provenance, resolve_dtype

    dtype = resolve_dtype(cell.settings.dtype)
    return RunContext(CPU, dtype, provenance=provenance(CPU, dtype))


def _data(study_plan, name: str) -> dict:
    return STUDY.make_dataset(study_plan.datasets[name].settings)


@pytest.mark.parametrize("kernel", ["softmax", "gaussian", "gaussian_rownorm"])
def test_kernel_matches_direct_formula(kernel):
    g = torch.Generator().manual_seed(0)
    q, k = (torch.randn(3, 5, 4, generator=g, dtype=torch.float64),
            torch.randn(3, 6, 4, generator=g, dtype=torch.float64))
    S = attention_weights(q, k, kernel.split("_")[0], rownorm=kernel.endswith("rownorm"))
    d = q.shape[-1]
    for b in range(3):
        for i in range(5):
            if kernel == "softmax":
                logits = torch.tensor([float(q[b, i] @ k[b, j]) / math.sqrt(d) for j in range(6)], dtype=torch.float64)
                row = torch.exp(logits) / torch.exp(logits).sum()
            else:
                row = torch.tensor([math.exp(-float(((q[b, i] - k[b, j]) ** 2).sum()) / (2 * math.sqrt(d)))
                                    for j in range(6)], dtype=torch.float64)
                row = row / row.sum() if kernel.endswith("rownorm") else row
            assert torch.allclose(S[b, i], row.to(S.dtype), rtol=1e-10, atol=1e-12)


def test_gaussian_key_mask_zeroes_padding():
    q = torch.randn(2, 3, 4, dtype=torch.float64)
    mask = torch.tensor([[True, True, False], [True, False, False]])
    S = attention_weights(q, q, "gaussian", key_mask=mask[:, None, :].expand(2, 1, 3)[:, 0])
    assert torch.all(S[0, :, 2] == 0) and torch.all(S[1, :, 1:] == 0)


@pytest.mark.parametrize("size,length,distractors", [(8, 4, 1), (16, 8, 1), (32, 14, 3)])
def test_pathfinder_labels_match_connectivity(size, length, distractors):
    cfg = replace(_settings().data.pathfinder, size=size, path_length=length, distractors=distractors,
                  curvature=0.4, dash_on=2, min_separation=4, max_tries=200)
    images, labels = pathfinder.generate(cfg, 10 if size == 32 else 40, seed=3)
    assert set(np.unique(images)) <= {0, pathfinder.PATH_VALUE, pathfinder.MARKER_VALUE}
    assert all((img == pathfinder.MARKER_VALUE).sum() == 2 for img in images)
    assert [pathfinder.connected_markers(img) for img in images] == [bool(y) for y in labels]
    counts = [(img > 0).sum() for img in images]        # no pixel-count shortcut beyond dash/rounding noise
    pos = np.mean([c for c, y in zip(counts, labels) if y]), np.mean([c for c, y in zip(counts, labels) if not y])
    assert abs(pos[0] - pos[1]) < 0.25 * max(pos)


def _write_imdb(root: Path) -> Path:
    texts = {"pos": [b"great film, loved it", b"wonderful \xc3\xa9 acting"], "neg": [b"awful", b"boring plot " * 20]}
    for split in ("train", "test"):
        for label, docs in texts.items():
            folder = root / "aclImdb" / split / label
            folder.mkdir(parents=True)
            for i, doc in enumerate(docs):
                (folder / f"{i}_7.txt").write_bytes(doc)
    return root / "aclImdb"


def test_imdb_loader_on_fixture(tmp_path):
    root = _write_imdb(tmp_path)
    x, y = imdb.load_split(root, "train", max_len=16)
    assert x.shape == (4, 16) and list(y) == [0, 0, 1, 1]           # neg files first, then pos
    assert list(x[0, :5]) == [b + 1 for b in b"awful"] and x[0, 5:].sum() == 0
    assert list(x[1]) == [b + 1 for b in (b"boring plot " * 20)[:16]]
    assert x[3, 10] == 0xC3 + 1
    data = imdb.text_dataset(replace(_settings().data.text, path=str(root), max_len=8, subsample=3))
    assert data["x_train"].shape == (3, 8) and data["x_test"].shape == (3, 8)


def test_text_task_trains_on_fixture(tmp_path):
    root = _write_imdb(tmp_path)
    cfg = _config(data={"text": {"path": str(root), "max_len": 16}}, optimizers={"sgd": {"batch_size": 2, "epochs": 2}},
                  experiments={"text": {"log": {"every": 1}}})
    cfg = validate(cfg)
    study_plan = Plan(cfg).studies["kernels"]
    assert "text" in study_plan.experiments and "fig_text" in study_plan.figures
    data = _data(study_plan, "text")
    assert all(c.settings.dtype == "float32" for c in study_plan.experiments["text"])   # the experiment's dtype
    cells = [STUDY.train_cell(cell, data, _ctx(cell)) for cell in study_plan.experiments["text"]]
    assert all(ds["test_acc"].dims == ("seed", "step") and np.isfinite(ds["test_loss"].values).all() for ds in cells)
    assert cells[0].attrs["dtype"] == "float32"                          # the LRA model's dtype, not the top-level one
    assert cells[0]["final_params"].dtype == np.float32
    import xarray as xr
    experiment = xr.concat([ds.expand_dims("kernel") for ds in cells], "kernel")
    png = tmp_path / "fig_text.png"
    settings = STUDY.settings(cfg["kernels"], cfg)
    STUDY.make_figure("fig_text", {"text": experiment}, settings, png, tmp_path / "fig_text.pdf",
                      STUDY.caption("fig_text", settings))
    assert png.stat().st_size > 0


def test_text_off_without_path(capsys):
    import attndyn.studies.kernels.plan as plan_module

    plan_module._TEXT_NOTICE_SHOWN = False
    cfg = validate(_config())
    assert "text" not in Plan(cfg).studies["kernels"].experiments
    assert "data.text.path is null" in capsys.readouterr().err
    Plan(validate(_config())).studies["kernels"]
    assert "data.text.path is null" not in capsys.readouterr().err           # at most once per process


@pytest.mark.parametrize("override,key", [
    ({"data": {"text": {"path": "/no/such/aclImdb"}}}, "kernels.data.text.path"),
    ({"kernels": ["cosine"]}, "kernels.kernels"),
    ({"data": {"s2": {"sigma_Q_grid": [-1.0]}}}, "kernels.data.s2.sigma_Q_grid"),
    ({"data": {"pathfinder": {"min_separation": 2}}}, "kernels.data.pathfinder.min_separation"),
    ({"experiments": {"pathfinder_landscape": {"range": [1.0, -1.0]}}},
     "kernels.experiments.pathfinder_landscape.range"),
    ({"experiments": {"pathfinder_landscape": {"stage2_params": "wo"}}},
     "kernels.experiments.pathfinder_landscape.stage2_params"),
    ({"experiments": {"pathfinder_landscape": {"task": "images"}}}, "kernels.experiments.pathfinder_landscape.task"),
])
def test_bad_config_names_the_key(override, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        validate(_config(**override))


@pytest.mark.parametrize("kernel", ["softmax", "gaussian"])
def test_synthetic_gradients_match_finite_differences(kernel):
    from attndyn.studies.kernels.synthetic.data import init_weights, tokens
    from attndyn.studies.kernels.synthetic.model import forward, squared_loss

    rng = np.random.default_rng(0)
    W = {k: torch.tensor(v[None]) for k, v in init_weights(rng, 5, 3, 4, 2, 1.0).items()}
    X, y = torch.tensor(tokens(rng, 3, 4, 5)[None]), torch.randn(1, 3, 4, dtype=torch.float64)

    def f(wq, wk, wv):
        return squared_loss(forward({**W, "W_Q": wq, "W_K": wk, "W_V": wv}, X, kernel), y)

    inputs = tuple(W[k].clone().requires_grad_(True) for k in ("W_Q", "W_K", "W_V"))
    assert torch.autograd.gradcheck(f, inputs)


def _tiny_lra_model(kernel: str, init_std: float, seq_len: int = 6):
    """A float64 two-layer LRA classifier small enough for finite differences (seeded)."""
    from attndyn.studies.kernels.lra.model import LRAClassifier

    model = _settings().model
    cfg = replace(model.lra, vocab_size=260, dim=8, ffn_dim=8, heads=2, head_dim=4, num_layers=2, dropout=0.0,
                  attn_dropout=0.0, init_std=init_std)
    torch.manual_seed(0)
    return LRAClassifier(cfg, kernel, model.kernel_options(), seq_len).double()


@pytest.mark.parametrize("kernel", ["softmax", "gaussian"])
def test_lra_model_gradients_match_finite_differences(kernel):
    model = _tiny_lra_model(kernel, init_std=0.5)
    tokens = torch.randint(1, 260, (3, 6))
    mask = torch.tensor([[True] * 6, [True] * 4 + [False] * 2, [True] * 6])
    Wq = model.layers[0].attn.W_q.weight

    def f(w):
        with torch.no_grad():
            Wq.copy_(w)
        return model(tokens, mask)

    # gradcheck through the module: compare autograd of the loss wrt W_q with central differences
    y = torch.tensor([0, 1, 1])
    loss = torch.nn.functional.cross_entropy(model(tokens, mask), y)
    (grad,) = torch.autograd.grad(loss, Wq)
    w0, eps, numeric = Wq.detach().clone(), 1e-6, torch.zeros_like(Wq)
    for idx in np.ndindex(*Wq.shape):
        for sign in (1, -1):
            w = w0.clone()
            w[idx] += sign * eps
            numeric[idx] += sign * torch.nn.functional.cross_entropy(f(w), y).item() / (2 * eps)
    f(w0)
    assert torch.allclose(grad, numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("kernel", ["softmax", "gaussian"])
def test_lra_model_without_mask_equals_all_true_mask(kernel):
    """Pathfinder has no padding token: mask None (no masking work) must give the all-True mask's logits."""
    model = _tiny_lra_model(kernel, init_std=1.0)
    tokens = torch.randint(0, 260, (3, 6))
    assert torch.allclose(model(tokens, None), model(tokens, torch.ones(3, 6, dtype=torch.bool)),
                          rtol=1e-13, atol=1e-15)


def test_roughness_is_zero_for_planes_and_bowls_of_any_curvature_and_bumps_are_rough():
    """The C6 measure scores ripples, not the window's shape: the earlier mean |Laplacian| / range was 2 h^2 for
    every centred bowl (the negative control it failed)."""
    a = np.linspace(-1, 1, 11)
    A, B = np.meshgrid(a, a, indexing="ij")
    for smooth in (A + 2 * B, A ** 2 + B ** 2, 40 * A ** 2 + 0.1 * B ** 2 - A * B):
        assert slice_roughness(smooth, a) == pytest.approx(0.0, abs=1e-12)
    small, large = (slice_roughness(A ** 2 + B ** 2 + r * np.cos(9 * A), a) for r in (0.03, 0.3))
    assert 0.01 < small < large


def _experiments(study_plan, names) -> dict:
    """Train the plan's cells of `names` and stack them on the experiments' axes, as the aggregate job does."""
    import xarray as xr

    out = {}
    for name in names:
        data = _data(study_plan, study_plan.experiments[name][0].dataset)
        cells = [STUDY.train_cell(c, data, _ctx(c)).expand_dims(list(study_plan.axes[name]))
                 for c in study_plan.experiments[name]]
        out[name] = xr.combine_by_coords(cells, combine_attrs="drop_conflicts")
    return out


def test_smoke_cells_run_end_to_end():
    from attndyn.studies.kernels.registry import KINDS

    study_plan = _plan()
    experiments = _experiments(study_plan, ("s1", "s2", "s3"))
    for name, ds in experiments.items():                               # each kind logs its registry's variables
        assert set(KINDS[name].variables()) <= set(ds.data_vars)
    rows = STUDY.claims(experiments, study_plan.settings)
    assert [r.claim[:2] for r in rows] == ["C1", "C2", "C3", "C4", "C6"]
    assert all(r.fails_if and r.source.startswith("docs/papers/kernels.md") and r.depends_on for r in rows)
    s3 = experiments["s3"]
    assert s3["landscape"].dims[-4:] == ("seed", "pair", "a", "b") and s3.sizes["pair"] == 3
    assert s3["roughness"].dims[-2:] == ("seed", "pair") and np.isfinite(s3["curvature"]).all()
    s1 = experiments["s1"].sel(train="wv")            # W_V-only GD ends on its least-squares floor below Nn = 4
    rel_floor = s1["wv_floor"] / s1["train_loss"].isel(step=0)
    assert (rel_floor.sel(D=[2, 3]) > 1e-3).all() and (rel_floor.sel(D=[4, 8]) < 1e-20).all()


@pytest.mark.parametrize("kernel", ["softmax", "gaussian"])
def test_s1_zero_padding_is_exact(kernel):
    """S1 runs every D as one zero-padded batch: losses and feature sigma_Nn equal the unpadded ones."""
    from attndyn.studies.kernels.synthetic.data import s1_data
    from attndyn.studies.kernels.synthetic.model import feature_singular_values, forward, squared_loss
    from attndyn.studies.kernels.synthetic.trainer import s1_padded

    dataset = _plan().datasets["s1"].settings
    dataset = replace(dataset, seeds=(0, 1), params=replace(dataset.params, N=2, n=2, D_grid=(2, 4, 8), d=2, d_v=None,
                                                            heads=1, init_std=1.5, tie_qk_init=True))
    data = s1_data(dataset)
    P = {k: torch.tensor(v) for k, v in s1_padded(data, dataset.params.D_grid).items()}
    X, y = P.pop("X"), P.pop("y")
    padded = squared_loss(forward(P, X, kernel), y)
    smin = feature_singular_values(P, X, kernel)[1]
    for i, D in enumerate(dataset.params.D_grid):
        W = {k: torch.tensor(data[f"{k}_D{D}"]) for k in ("W_Q", "W_K", "W_V", "W_O")}
        Xd, yd = torch.tensor(data[f"X_D{D}"]), torch.tensor(data[f"y_D{D}"])
        assert torch.allclose(padded[2 * i:2 * i + 2], squared_loss(forward(W, Xd, kernel), yd), rtol=1e-12)
        if D >= 4:
            assert torch.allclose(smin[2 * i:2 * i + 2], feature_singular_values(W, Xd, kernel)[1], rtol=1e-8)


def _gd_spec(**over):
    """The `gd` optimizer as experiment s1 runs it, with some settings replaced."""
    settings = _settings()
    return replace(experiment_optimizer_spec(settings, settings.experiments["s1"], "gd"), **over)


def test_inverse_smoothness_step_is_one_over_L_for_wv():
    """W_V-only least squares: lambda_max of the Hessian = ||F||_2^2 ||w_O||^2 (single head)."""
    from attndyn.optim.step_size import per_run_step_size
    from attndyn.studies.kernels.synthetic.data import init_weights, tokens
    from attndyn.studies.kernels.synthetic.model import forward, head_features, squared_loss

    rng = np.random.default_rng(1)
    W = {k: torch.tensor(np.stack([v, v * 0.5])) for k, v in init_weights(rng, 6, 3, 4, 1, 1.0).items()}
    X = torch.tensor(np.stack([tokens(rng, 2, 3, 6)] * 2))
    y = torch.randn(2, 2, 3, dtype=torch.float64)
    W["W_V"].requires_grad_(True)
    eta = per_run_step_size(lambda: squared_loss(forward(W, X, "softmax"), y), [W["W_V"]],
                            _gd_spec(lr_rule="inverse_smoothness", lr_scale=1.0, power_iters=200))
    F = head_features(W, X, "softmax")[:, 0].reshape(2, 6, 6)
    L = torch.linalg.svdvals(F)[:, 0] ** 2 * (W["W_O"][:, 0] ** 2).sum(-1)
    assert torch.allclose(eta, 1.0 / L, rtol=1e-6)


def test_c3_counts_diverged_runs_as_failures():
    import xarray as xr

    from attndyn.studies.kernels.claims import c3_plateau

    loss = np.ones((1, 1, 2, 2, 2))                                    # train, kernel, D, seed, step
    loss[..., 1] = 0.5
    loss[0, 0, 0, 1, 1] = np.nan                                       # one diverged run (NaN after divergence)
    ds = xr.Dataset({"train_loss": (("train", "kernel", "D", "seed", "step"), loss),
                     "diverged": (("train", "kernel", "D", "seed"), np.isnan(loss[..., 1])), "final_step": ((), 10),
                     "wv_floor": (("train", "kernel", "D", "seed"), np.full((1, 1, 2, 2), 0.5))},
                    coords={"train": ["wv"], "kernel": ["softmax"], "D": [2, 4], "seed": [0, 1], "step": [0, 10]})
    syn, spec = replace(_settings().data.s1, N=4, n=2), _gd_spec()
    assert not c3_plateau(ds, syn, spec, _settings().checks).passed
    ds["train_loss"][0, 0, 0, 1, 1] = 0.5
    ds["diverged"][:] = False
    assert c3_plateau(ds, syn, spec, _settings().checks).passed


@pytest.mark.parametrize("kernel", ["softmax", "gaussian"])
def test_wv_gd_obeys_the_linear_rate_bound_of_c1(kernel):
    """W_V-only GD with the 1/L step: loss_t / loss_0 <= (1 - kappa^-2)^(2t), kappa from the feature probe, and
    wv_steps_needed inverts that bound; a square (D = Nn) problem has a large kappa."""
    from attndyn.optim.step_size import per_run_step_size
    from attndyn.studies.kernels.claims import wv_steps_needed
    from attndyn.studies.kernels.synthetic.data import init_weights, tokens
    from attndyn.studies.kernels.synthetic.model import feature_singular_values, forward, squared_loss

    rng = np.random.default_rng(2)
    W = {k: torch.tensor(v[None]) for k, v in init_weights(rng, 6, 3, 6, 1, 1.0).items()}
    X, y = torch.tensor(tokens(rng, 3, 2, 6)[None]), torch.randn(1, 3, 2, dtype=torch.float64)
    smax, smin = feature_singular_values(W, X, kernel)
    kappa = float(smax / smin)
    W["W_V"].requires_grad_(True)
    loss = lambda: squared_loss(forward(W, X, kernel), y)
    eta = per_run_step_size(loss, [W["W_V"]], _gd_spec(lr_rule="inverse_smoothness", lr_scale=1.0, power_iters=300))
    f0, steps = float(loss().detach()), 200
    for t in range(1, steps + 1):
        (g,) = torch.autograd.grad(loss().sum(), W["W_V"])
        with torch.no_grad():
            W["W_V"] -= eta * g
        assert float(loss().detach()) / f0 <= (1 - kappa ** -2) ** (2 * t) * (1 + 1e-6)
    assert float(wv_steps_needed(np.float64(kappa), (1 - kappa ** -2) ** (2 * steps), 1.0)) == pytest.approx(steps)
    assert kappa > 3


def _s2_dataset(rel_final: dict, grad_final: dict, ynorm: dict):
    """Tiny S2-shaped dataset: per kernel one sigma_Q, 2 seeds, steps [0, 10]."""
    import xarray as xr

    kernels = ["softmax", "gaussian"]
    loss = np.ones((2, 1, 2, 2))                                       # kernel, sigma_Q, seed, step
    grad = np.ones((2, 1, 2, 2))
    for i, k in enumerate(kernels):
        loss[i, 0, :, 1], grad[i, 0, :, 1] = rel_final[k], grad_final[k]
    yn = np.array([[[ynorm[k]] * 2] for k in kernels])
    dims = ("kernel", "sigma_Q", "seed", "step")
    return xr.Dataset({"train_loss": (dims, loss), "grad_norm": (dims, grad), "target_norm": (dims[:3], yn),
                       "final_step": ((), 10)},
                      coords={"kernel": kernels, "sigma_Q": [5.0], "seed": [0, 1], "step": [0, 10]})


def test_c4_needs_a_margin_and_a_softmax_stall_and_flags_a_vanishing_gaussian():
    from attndyn.studies.kernels.claims import c4_softmax_pitfall

    checks = replace(_settings().checks, C4_margin_min=0.3, C4_grad_ratio_max=1e-3, C4_success_rel_loss=1e-4)
    stalled = _s2_dataset({"softmax": 0.1, "gaussian": 1e-9}, {"softmax": 1e-5, "gaussian": 1e-6},
                          {"softmax": 3.0, "gaussian": 2.0})
    assert c4_softmax_pitfall(stalled, checks).passed
    slow = _s2_dataset({"softmax": 0.1, "gaussian": 1e-9}, {"softmax": 1e-1, "gaussian": 1e-6},
                       {"softmax": 3.0, "gaussian": 2.0})
    assert not c4_softmax_pitfall(slow, checks).passed                 # slow progress is not a stall
    vanishing = _s2_dataset({"softmax": 0.1, "gaussian": 1e-9}, {"softmax": 1e-5, "gaussian": 1e-6},
                            {"softmax": 3.0, "gaussian": 1e-3})
    claim = c4_softmax_pitfall(vanishing, replace(checks, C4_vanishing_target_ratio=0.01))
    assert not claim.passed and "vanishes" in claim.measured              # a degenerate Gaussian problem cannot pass
    assert "vanishes" not in c4_softmax_pitfall(stalled, checks).measured
    no_margin = _s2_dataset({"softmax": 1e-9, "gaussian": 1e-9}, {"softmax": 1e-5, "gaussian": 1e-6},
                            {"softmax": 3.0, "gaussian": 2.0})
    assert not c4_softmax_pitfall(no_margin, checks).passed             # Softmax succeeds as often: no pitfall


def _lra_curves(acc_softmax: float, gaussian_gain: float = 0.1, noise: float = 0.01):
    """Task-shaped curves (kernel, seed, step), 3 seeds, steps [0, 64], both arms at chance at step 0; at 64
    Gaussian's accuracy is Softmax's + gaussian_gain and its loss Softmax's - gaussian_gain, plus per-seed noise."""
    import xarray as xr

    jitter = noise * np.array([1.0, -1.0, 0.5])                           # per seed
    acc = np.zeros((2, 3, 2))                                             # gaussian, softmax
    loss = np.zeros((2, 3, 2))
    acc[..., 0], loss[..., 0] = 0.5, 0.69
    acc[1, :, 1], loss[1, :, 1] = acc_softmax, 0.6
    acc[0, :, 1], loss[0, :, 1] = acc_softmax + gaussian_gain + jitter, 0.6 - gaussian_gain + jitter
    dims = ("kernel", "seed", "step")
    return xr.Dataset({"test_acc": (dims, acc), "test_loss": (dims, loss), "final_step": ((), 64)},
                      coords={"kernel": ["gaussian", "softmax"], "seed": [0, 1, 2], "step": [0, 64]})


@pytest.mark.parametrize("acc_softmax,gain,noise,passed", [
    (0.7, 0.1, 0.01, True),           # Gaussian better in every seed, beyond the noise
    (0.5, 0.1, 0.01, False),          # Softmax did not learn: the comparison is uninformative
    (0.7, 0.01, 0.05, False),         # Gaussian better on average by less than the seed noise
    (0.7, -0.1, 0.01, False),         # Softmax better
])
def test_c5_needs_a_paired_margin_and_every_seed_learned(acc_softmax, gain, noise, passed):
    from attndyn.studies.kernels.claims import c5_lra

    claim = c5_lra(_lra_curves(acc_softmax, gain, noise), "pathfinder", _settings().checks)
    assert claim.passed == passed
    assert ("kernel=softmax seeds [0, 1, 2]" in claim.measured) == (acc_softmax <= 0.55)
    assert f"per seed g=[64, 64, 64] s={'[64, 64, 64]' if acc_softmax > 0.55 else '[never, never, never]'}" \
        in claim.measured


@pytest.mark.parametrize("model,note", [
    ({}, None),
    ({"gaussian_rownorm": True}, "rows normalized (model.gaussian_rownorm)"),
    ({"gaussian_temperature": 3.0}, "temperature 3 (model.gaussian_temperature)"),
])
def test_claims_name_a_non_default_gaussian_kernel(model, note):
    from attndyn.studies.kernels.claims import claims

    (row,) = claims({"pathfinder": _lra_curves(0.7)}, _settings(model=model))
    assert ("Gaussian kernel of this run" in row.measured) == (note is not None)
    assert note is None or row.measured.endswith(f"[Gaussian kernel of this run: {note}]")
    assert note is None or row.depends_on.endswith(f"[Gaussian kernel of this run: {note}]")


# ---- negative controls of the claim functions: synthetic datasets shaped like the aggregated ones -------------------
S1_STEPS = np.concatenate([[0.0], np.unique(np.round(np.logspace(0, np.log10(2000), 50)))])


def _s1_dataset(curve, floor_rel: float = 0.3, plateau_rel: float | None = None):
    """S1-shaped: train x kernel x D [2, 3, 4, 8] (Nn = 4) x 3 seeds x log-spaced steps; runs with D >= Nn follow
    the relative-loss curve(t), runs below it fall from 1 to plateau_rel (default: their floor floor_rel)."""
    import xarray as xr

    plateau = floor_rel if plateau_rel is None else plateau_rel
    loss = np.empty((2, 2, 4, 3, len(S1_STEPS)))
    loss[:, :, 2:] = curve(S1_STEPS)
    loss[:, :, :2] = plateau + (1 - plateau) * np.exp(-0.05 * S1_STEPS)
    dims = ("train", "kernel", "D", "seed")
    return xr.Dataset({"train_loss": (dims + ("step",), loss), "diverged": (dims, np.zeros((2, 2, 4, 3), bool)),
                       "final_step": ((), 2000), "wv_floor": (dims, np.full((2, 2, 4, 3), floor_rel)),
                       "feat_sigma_min": (dims + ("step",), np.ones_like(loss)),
                       "feat_cond": (dims + ("step",), np.full_like(loss, 3.0))},
                      coords={"train": ["wv", "attention"], "kernel": ["softmax", "gaussian"], "D": [2, 3, 4, 8],
                              "seed": [0, 1, 2], "step": S1_STEPS})


def _two_modes(t):
    return 0.5 * np.exp(-0.05 * t) + 0.5 * np.exp(-0.02 * t)             # linear rate, bent log-loss line


def _s1_checks():
    settings = _settings()
    return replace(settings.data.s1, N=2, n=2, D_grid=(2, 3, 4, 8)), _gd_spec(), settings.checks


def test_c1_and_c2_pass_for_geometric_decay_with_several_modes():
    from attndyn.studies.kernels.claims import c1_global_convergence, c2_linear_rate

    syn, spec, checks = _s1_checks()
    ds = _s1_dataset(_two_modes)
    assert c1_global_convergence(ds, syn, spec, checks.C1_rel_loss_max).passed
    assert c2_linear_rate(ds, syn, spec).passed


def test_c1_fails_when_one_seed_above_the_threshold_does_not_converge():
    from attndyn.studies.kernels.claims import c1_global_convergence

    syn, spec, checks = _s1_checks()
    ds = _s1_dataset(_two_modes)
    ds["train_loss"].loc[dict(train="attention", kernel="gaussian", D=8, seed=1)] = np.maximum(
        _two_modes(S1_STEPS), 1e-3)
    claim = c1_global_convergence(ds, syn, spec, checks.C1_rel_loss_max)
    assert not claim.passed and "train=attention kernel=gaussian D=8 seeds [1]" in claim.measured
    ds = _s1_dataset(_two_modes)
    ds["diverged"].loc[dict(train="wv", kernel="softmax", D=4, seed=0)] = True
    assert not c1_global_convergence(ds, syn, spec, checks.C1_rel_loss_max).passed


def test_c2_fails_for_a_power_law_that_still_reaches_the_c1_level():
    """(1 + t)^-3.5 ends at 3e-12 (C1 passes) but its rate is sublinear: C2 must fail and name the run."""
    from attndyn.studies.kernels.claims import c1_global_convergence, c2_linear_rate

    syn, spec, checks = _s1_checks()
    ds = _s1_dataset(_two_modes)
    ds["train_loss"].loc[dict(train="wv", kernel="softmax", D=8, seed=2)] = (1 + S1_STEPS) ** -3.5
    assert c1_global_convergence(ds, syn, spec, checks.C1_rel_loss_max).passed
    claim = c2_linear_rate(ds, syn, spec)
    assert not claim.passed and "train=wv kernel=softmax D=8 seeds [2]" in claim.measured
    flat = _s1_dataset(lambda t: np.ones_like(t))                          # no decay at all
    assert not c2_linear_rate(flat, syn, spec).passed


@pytest.mark.parametrize("floor_rel,plateau_rel,passed", [
    (0.3, None, True),                # GD sits on its least-squares floor, well above 0
    (0.3, 0.45, False),               # a plateau 50 % above the floor: a stall, not the floor
    (1e-6, None, False),              # the floor is ~0: the targets are fittable below the threshold
])
def test_c3_needs_a_positive_floor_that_gd_reaches(floor_rel, plateau_rel, passed):
    from attndyn.studies.kernels.claims import c3_plateau

    syn, spec, checks = _s1_checks()
    claim = c3_plateau(_s1_dataset(_two_modes, floor_rel, plateau_rel), syn, spec, checks)
    assert claim.passed == passed
    assert ("failing runs: none" in claim.measured) == passed


def _landscape_dataset(softmax, gaussian, pairs: int = 3):
    """Landscape-shaped roughness (kernel, seed, pair) from per-seed values (each pair = the seed's value +- 10 %)
    and a curvature (kernel, seed)."""
    import xarray as xr

    spread = np.linspace(0.9, 1.1, pairs)
    r = np.stack([np.outer(softmax, spread), np.outer(gaussian, spread)])
    return xr.Dataset({"roughness": (("kernel", "seed", "pair"), r),
                       "curvature": (("kernel", "seed"), np.ones((2, len(softmax))))},
                      coords={"kernel": ["softmax", "gaussian"], "seed": np.arange(len(softmax)),
                              "pair": np.arange(pairs)})


@pytest.mark.parametrize("softmax,gaussian,passed", [
    ([0.10, 0.12, 0.11], [0.02, 0.03, 0.025], True),     # Gaussian smoother in every seed
    ([0.10, 0.12, 0.11], [0.11, 0.11, 0.10], False),      # no difference beyond the seed noise
    ([0.02, 0.03, 0.025], [0.10, 0.12, 0.11], False),     # Softmax smoother
    ([0.30, 0.10, 0.20], [0.10, 0.25, 0.10], False),      # lower on average (0.05), but a seed reversed by 0.15
])
def test_c6_needs_gaussian_smoother_beyond_seed_noise(softmax, gaussian, passed):
    from attndyn.studies.kernels.claims import c6_landscape

    claim = c6_landscape(_landscape_dataset(softmax, gaussian), "S3", 2.0, "deps")
    assert claim.passed == passed
    assert "top Hessian eigenvalue" in claim.measured


def test_wv_floor_is_the_least_squares_residual_of_the_stacked_features():
    from attndyn.studies.kernels.synthetic.data import init_weights, tokens
    from attndyn.studies.kernels.synthetic.model import head_features, wv_floor

    rng = np.random.default_rng(4)
    for D, positive in ((3, True), (8, False)):                              # Nn = 6
        W = {k: torch.tensor(v[None]) for k, v in init_weights(rng, D, 2, D, 1, 1.0).items()}
        X, y = torch.tensor(tokens(rng, 3, 2, D)[None]), torch.randn(1, 3, 2, dtype=torch.float64)
        F = head_features(W, X, "softmax")[0, 0].reshape(6, D).numpy()
        v, *_ = np.linalg.lstsq(F, y.reshape(6).numpy(), rcond=None)
        expected = 0.5 * np.sum((F @ v - y.reshape(6).numpy()) ** 2)
        assert float(wv_floor(W, X, y, "softmax")[0]) == pytest.approx(expected, rel=1e-8, abs=1e-20)
        assert (expected > 1e-3) == positive


def test_power_iteration_finds_the_largest_magnitude_eigenvalue():
    from attndyn.studies.kernels.slices import hessian_vector_product, top_hessian_eigenvalue

    x = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    a = torch.tensor([3.0, -5.0, 1.0], dtype=torch.float64)
    loss = lambda: 0.5 * (a * x ** 2).sum() + (x ** 3).sum()                 # Hessian diag(a) at 0
    lam = top_hessian_eigenvalue(lambda v: hessian_vector_product(loss, [x], v), [x], 80)
    assert lam == pytest.approx(-5.0, rel=1e-6)


def test_direction_pairs_start_with_the_one_pair_draw():
    from attndyn.studies.kernels.slices import direction_pairs, filter_normalized_direction

    W = [torch.randn(2, 1, 4, 3, dtype=torch.float64), torch.randn(2, 1, 4, 3, dtype=torch.float64)]
    pairs = direction_pairs(W, 3, seed=5)
    gen = torch.Generator().manual_seed(5)
    d1, d2 = ([filter_normalized_direction(w, gen) for w in W] for _ in range(2))
    assert all(torch.equal(u, v) for u, v in zip(pairs[0][0] + pairs[0][1], d1 + d2))
    assert len(pairs) == 3 and not torch.allclose(pairs[1][0][0], pairs[0][0][0])


SOFTMAX_CELL = "kernel-softmax__optimizer-adam"          # the pathfinder Softmax cell (stage 1 of the landscape)


def _pathfinder_landscape_run(tmp_path, **landscape):
    """Train the smoke Pathfinder cells, write the softmax cell, run the landscape cell that reads it."""
    from attndyn.results import write_netcdf

    cfg = validate(_config(experiments={"s1": None, "s2": None, "s3": None, "pathfinder_landscape": landscape}))
    study_plan = Plan(cfg).studies["kernels"]
    data = _data(study_plan, "pathfinder")
    arms = {c.coords["kernel"]: STUDY.train_cell(c, data, _ctx(c)) for c in study_plan.experiments["pathfinder"]}
    (cell,) = study_plan.experiments["pathfinder_landscape"]
    assert cell.needs == (("pathfinder", SOFTMAX_CELL),) and cell.dataset == "pathfinder"
    write_netcdf(arms["softmax"], tmp_path / "softmax.nc")
    ctx = _ctx(cell)
    ctx.needed = {cell.needs[0]: tmp_path / "softmax.nc"}
    ds = STUDY.train_cell(cell, data, ctx)
    return cfg, study_plan, data, arms, ds


def _cell_settings(study_plan, experiment: str, kernel: str | None = None):
    return next(c.settings for c in study_plan.experiments[experiment] if c.coords.get("kernel") == kernel)


def test_stored_final_weights_reproduce_the_last_evaluation():
    from attndyn.studies.kernels.lra.model import build_model, load_params
    from attndyn.studies.kernels.lra.probes import evaluate, split
    from attndyn.studies.kernels.lra.task import train_one_seed

    study_plan = _plan()
    s = _cell_settings(study_plan, "pathfinder", "gaussian")
    data = _data(study_plan, "pathfinder")
    run = train_one_seed(3, s, "gaussian", data, CPU, torch.float32)
    xt, mt, yt = split(data, "test", None, CPU)
    model = load_params(build_model("gaussian", s.network, s.attention, xt.shape[1], CPU, torch.float32),
                        run["final_params"])
    assert evaluate(model, xt, mt, yt, 256) == (run["test_loss"][-1], run["test_acc"][-1])
    with pytest.raises(ValueError, match="parameters"):
        load_params(model, run["final_params"][:-1])


def test_filter_normalized_rows_have_the_weight_row_norms():
    from attndyn.studies.kernels.slices import filter_normalized_direction

    W = torch.randn(6, 4, dtype=torch.float64)
    d = filter_normalized_direction(W, torch.Generator().manual_seed(1), filter_dim=-1)
    torch.testing.assert_close(d.norm(dim=-1), W.norm(dim=-1))
    assert not torch.allclose(d, W)


def test_pathfinder_landscape_centre_is_the_stage2_point(tmp_path):
    _cfg, study_plan, _, arms, ds = _pathfinder_landscape_run(tmp_path, grid=3, n_examples=16, stage2_steps=3)
    assert ds["landscape"].dims == ("kernel", "seed", "pair", "a", "b") and ds.sizes["a"] == 3
    assert ds.sizes["pair"] == 3 and ds["roughness"].dims == ("kernel", "seed", "pair")
    centre = ds["landscape"].sel(a=0.0, b=0.0)                                         # every pair: theta*
    np.testing.assert_allclose(centre, ds["train_loss"].isel(step=-1).broadcast_like(centre), rtol=1e-6)
    assert not np.allclose(ds["landscape"].isel(pair=0), ds["landscape"].isel(pair=1))    # other directions
    assert np.isfinite(ds["curvature"]).all() and ds["curvature"].dims == ("kernel", "seed")
    np.testing.assert_array_equal(ds["stage1_test_acc"], arms["softmax"]["test_acc"].isel(step=-1))
    # stage 2 starts every kernel at the softmax arm's end: softmax's first stage-2 test loss is its final one
    np.testing.assert_allclose(ds["test_loss"].sel(kernel="softmax").isel(step=0),
                               arms["softmax"]["test_loss"].isel(step=-1), rtol=1e-6)
    assert np.isfinite(ds["roughness"]).all()
    rows = STUDY.claims({"pathfinder_landscape": ds}, study_plan.settings)
    assert [r.claim for r in rows] == ["C6 Gaussian landscape smoother (pathfinder, Fig. 4)"]
    assert "after stage 1 (softmax)" in rows[0].measured


def test_stage2_moves_only_the_query_projections():
    from attndyn.studies.kernels.lra.landscape import centre_curvature, loss_slices, projections, train_stage2
    from attndyn.studies.kernels.lra.model import build_model
    from attndyn.studies.kernels.lra.probes import split

    study_plan = _plan(experiments={"pathfinder_landscape": {"stage2_steps": 4, "grid": 3, "n_examples": 8}})
    s = _cell_settings(study_plan, "pathfinder_landscape")
    data = _data(study_plan, "pathfinder")
    train, test = (split(data, part, None, CPU) for part in ("train", "test"))
    model = build_model("gaussian", s.network, s.attention, train[0].shape[1], CPU, torch.float32)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    subset = (train[0][:8], None, train[2][:8])
    train_stage2(model, s, train, subset, test, torch.Generator().manual_seed(0))
    moved = {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    assert moved == {f"layers.{i}.attn.W_q.{w}" for i in range(s.network.num_layers) for w in ("weight", "bias")}
    after = {n: p.detach().clone() for n, p in model.named_parameters()}
    loss_slices(model, s, subset)                                      # evaluates around theta*, then restores it
    centre_curvature(model, s, subset)
    assert all(torch.equal(p, after[n]) for n, p in model.named_parameters())
    assert len(projections(model, "attention")) == 3 * s.network.num_layers


def test_landscape_settings_do_not_rerun_the_task_cells():
    base = _plan()
    other = _plan(experiments={"pathfinder_landscape": {"grid": 5}})
    assert [c.settings for c in base.experiments["pathfinder"]] == [c.settings for c in other.experiments["pathfinder"]]
    assert base.experiments["pathfinder_landscape"][0].settings != other.experiments["pathfinder_landscape"][0].settings
    no_softmax = _plan(kernels=["gaussian"])
    assert "pathfinder_landscape" not in no_softmax.experiments
    no_task = _plan(experiments={"pathfinder_landscape": None})
    assert "pathfinder_landscape" not in no_task.experiments and "fig_pathfinder_landscape" not in no_task.figures


def test_landscape_cell_reads_the_softmax_cell_which_starts_first():
    plan = Plan(validate(_config()))
    assert plan.needed_cell_paths("kernels", "pathfinder_landscape", "optimizer-adam", "out") == [
        f"out/kernels/cells/pathfinder/{SOFTMAX_CELL}.nc"]
    assert plan.cell_priority("kernels", "pathfinder", SOFTMAX_CELL) == 2
    assert plan.cell_priority("kernels", "pathfinder", "kernel-gaussian__optimizer-adam") == 1   # a long task cell
    assert plan.cell_priority("kernels", "s3", "optimizer-gd_s3") == 0
    assert plan.cell_priority("kernels", "pathfinder_landscape", "optimizer-adam") == 1     # the reader, next
    assert plan.needed_cell_paths("kernels", "s3", "optimizer-gd_s3") == []


def test_pathfinder_seed_resumes_bit_identically_after_a_kill(tmp_path):
    from attndyn.checkpoint import save_checkpoint
    from attndyn.studies.kernels.lra.task import train_one_seed
    from attndyn.train import Checkpointing

    study_plan = _plan(model={"lra": {"dropout": 0.1, "attn_dropout": 0.1}},   # dropout: its RNG must resume too
                       optimizers={"adam": {"epochs": 3}})                   # 4 steps per epoch, 12 steps
    s, data = _cell_settings(study_plan, "pathfinder", "softmax"), _data(study_plan, "pathfinder")
    args = (2, s, "softmax", data, CPU, torch.float32)
    whole = train_one_seed(*args)
    ckpt = Checkpointing(tmp_path / "seed.pt", every=3, fingerprint="f", stop_after=4)   # 3 -> one epoch (4)
    with pytest.raises(KeyboardInterrupt):
        train_one_seed(*args, ckpt)
    saved = torch.load(ckpt.path, weights_only=False)
    assert saved["step"] == 4
    tampered = replace(ckpt, path=tmp_path / "tampered.pt", stop_after=None)
    saved["logs"]["test_acc"][0] = -1.0
    save_checkpoint(tampered.path, saved)
    assert train_one_seed(*args, tampered)["test_acc"][0] == -1.0                      # really resumed
    resumed = train_one_seed(*args, replace(ckpt, stop_after=None))
    for key in whole:
        np.testing.assert_array_equal(resumed[key], whole[key])
    assert "result" in torch.load(ckpt.path, weights_only=False)           # a finished seed is not retrained
    again = train_one_seed(*args, replace(ckpt, stop_after=None))
    np.testing.assert_array_equal(again["final_params"], whole["final_params"])


# ---- the new vocabulary, the registry, any optimizer by YAML ------------------------------------------------------
@pytest.mark.parametrize("section,replacement", [
    ({"synthetic": {"steps": 10}}, "kernels.synthetic.steps is no longer a key: the run length is `steps`: "
                                   "kernels.optimizers.gd.steps"),
    ({"s2": {"seeds": 4}}, "kernels.s2.seeds is no longer a key: seeds are a list: kernels.experiments.s2.seeds"),
    ({"lra": {"pathfinder": {"eval_every": 8}}}, "kernels.lra.pathfinder.eval_every is no longer a key: the logging "
                                                "grid is kernels.experiments.pathfinder.log.every"),
    ({"lra": {"dim": 8}}, "kernels.lra.dim is no longer a key: the LRA model moved to kernels.model.lra"),
    ({"landscape": {"grid": 5}}, "kernels.landscape.grid is no longer a key: kernels.experiments.s3.grid"),
    ({"synthetic_experiments": ["s1"]}, "kernels.synthetic_experiments is no longer a key"),
    ({"lra": {"landscape": {"tasks": []}}}, "kernels.lra.landscape.tasks is no longer a key: each LRA landscape is"),
    ({"checks": {"C2_r2_min": 0.9}}, "kernels.checks.C2_r2_min is no longer a key: C2 no longer asks for a single "
                                     "exponential"),
])
def test_an_old_key_names_its_replacement(section, replacement):
    with pytest.raises(ConfigError) as info:
        validate({"studies": ["kernels"], "kernels": section})
    assert replacement in str(info.value) and "\n" not in str(info.value)


def test_cell_settings_read_back_as_their_kind():
    from attndyn.studies.base import CellSpec

    for cells in _plan().experiments.values():
        for cell in cells:
            back = CellSpec.from_json(cell.to_json(), STUDY.cell_type())
            assert back.settings == cell.settings and type(back.settings) is type(cell.settings)
    assert {c.settings.dtype for c in _plan().experiments["pathfinder"]} == {"float32"}
    assert {c.settings.dtype for c in _plan().experiments["s1"]} == {"float64"}


def test_any_registry_optimizer_runs_s1_by_yaml_and_figures_and_claims_draw_each(tmp_path):
    """adam and signgd beside gd on S1 (config only): one cell per optimizer, claims per optimizer, one figure row
    each."""
    study_plan = _plan(optimizers={"signgd": {"rule": "signgd", "lr": 1e-3, "steps": 30}},
                       experiments={"s1": {"optimizers": ["gd", "adam", "signgd"], "overrides": {
                           "gd": {"steps": 30}, "adam": {"lr": 1e-2, "steps": 30, "epochs": None, "batch_size": None}}},
                                    "s2": None, "s3": None, "pathfinder": None, "pathfinder_landscape": None})
    assert [c.coords["optimizer"] for c in study_plan.experiments["s1"]] == ["gd", "adam", "signgd"]
    experiments = _experiments(study_plan, ("s1",))
    assert set(experiments["s1"]["optimizer"].values) == {"gd", "adam", "signgd"}
    rows = STUDY.claims(experiments, study_plan.settings)
    assert [r.claim[:2] for r in rows] == ["C1", "C2", "C3"] * 3
    assert rows[3].claim.endswith("[optimizer adam]") and rows[6].claim.endswith("[optimizer signgd]")
    png = tmp_path / "fig.png"
    STUDY.make_figure("fig_s1_width_threshold", experiments, study_plan.settings, png, tmp_path / "fig.pdf", "caption")
    assert png.stat().st_size > 0


def test_adam_runs_the_pathfinder_landscape_stage2_by_yaml():
    study_plan = _plan(optimizers={"sgd": {"epochs": 1, "batch_size": 16}},
                       experiments={"pathfinder": {"optimizers": ["adam", "sgd"]},
                                    "pathfinder_landscape": {"optimizers": ["sgd"]}})
    (cell,) = study_plan.experiments["pathfinder_landscape"]
    assert cell.needs == (("pathfinder", "kernel-softmax__optimizer-sgd"),)
    assert cell.settings.optimizer.rule == "momentum"
    with pytest.raises(ConfigError, match=r"pathfinder_landscape\.optimizers: 'sgd' trains no Softmax cell"):
        _plan(optimizers={"sgd": {"epochs": 1, "batch_size": 16}},
              experiments={"pathfinder_landscape": {"optimizers": ["sgd"]}})


@pytest.mark.parametrize("entry,message", [
    ({"rule": "algorithm1", "lr_rule": "inverse_smoothness"}, "rule 'algorithm1' needs a covariance, which the "
                                                              "kernels experiments do not provide"),
    ({"epochs": 2}, "kernels.experiments.s1.optimizers.gd: a s1 experiment is full batch; give the optimizer "
                    "`steps` and null batch_size and epochs (an entry of its own, or "
                    "kernels.experiments.s1.overrides.gd"),
])
def test_rules_the_study_cannot_run_are_one_line_errors(entry, message):
    with pytest.raises(ConfigError) as info:
        _plan(optimizers={"gd": entry})
    assert message in str(info.value)


def test_a_per_run_step_is_adams_per_run_learning_rate():
    """Adam (not linear in the gradient) takes eta_r = c / lambda_max,r as a per-run learning rate, not via the loss."""
    from attndyn.studies.kernels.synthetic.data import init_weights, tokens
    from attndyn.studies.kernels.synthetic.problem import synthetic_problem

    rng = np.random.default_rng(3)
    W = {k: torch.tensor(np.stack([v, 0.5 * v, 2.0 * v])) for k, v in init_weights(rng, 4, 2, 4, 1, 1.0).items()}
    X, y = torch.tensor(np.stack([tokens(rng, 2, 2, 4)] * 3)), torch.randn(3, 2, 2, dtype=torch.float64)
    spec = _gd_spec(rule="adam", settings={"betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.0},
                    lr_rule="inverse_smoothness", lr_scale=1.0, power_iters=50)
    settings = _settings()
    problem, eta = synthetic_problem(W, X, y, ("W_V",), "softmax", settings.model.kernel_options(), spec,
                                     settings.log, 5)
    lr = problem.optimizer.param_groups[0]["lr"]
    assert isinstance(lr, torch.Tensor) and np.allclose(lr.numpy(), eta) and len(set(np.round(eta, 10))) == 3
    assert torch.equal(problem.loss(0, None), problem.probe()["train_loss"])          # the loss is not scaled


def test_step_size_rules_scale_the_loss_only_where_exact():
    from attndyn.optim.step_size import scales_loss

    assert scales_loss(_gd_spec()) and scales_loss(_gd_spec(rule="momentum", settings={"beta": 0.9}))
    assert not scales_loss(_gd_spec(rule="adam", settings={"betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.0}))
    assert not scales_loss(_gd_spec(settings={"weight_decay": 0.1}))


def test_synthetic_and_lra_import_no_private_helper_of_each_other():
    """The two sub-packages share the study's core modules only, and no module imports another's private name."""
    package = ROOT / "lib/attndyn/studies/kernels"
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [a.name for a in node.names]
                assert not [n for n in names if n.startswith("_") and n != "__future__"], (path, names)
                module = node.module or ""
                side = path.parent.name
                other = {"synthetic": "lra", "lra": "synthetic"}.get(side)
                assert other is None or not (node.level >= 2 and module.startswith(other)), (path, module)


# ---- claim maps (issue #15): batched members, inner grids, the statistics ------------------------------------------
ONLY = {"s1": None, "s2": None, "s3": None, "pathfinder": None, "pathfinder_landscape": None}
NO_MAPS = {name: None for name in load_yaml(ROOT / "lib/attndyn/studies/kernels/schema.yaml")["properties"]["maps"]
           ["default"]}


def _trained(study_plan, name: str) -> dict:
    """cell id -> the trained dataset of every cell of `name` (a batched cell reads its members' data by name)."""
    from attndyn.batching import Batch, data_files

    out = {}
    for cell in study_plan.experiments[name]:
        datas = {f: _data(study_plan, f) for f in data_files(cell)}
        batch = isinstance(cell.settings, Batch)
        first = cell.settings.members[0] if batch else cell.settings
        ctx = RunContext(CPU, torch.float64 if first.dtype == "float64" else torch.float32)
        out[cell.id] = STUDY.train_cell(cell, datas if batch else datas[cell.dataset], ctx)
    return out


def _together_apart(kind: str, sweep: dict, batch: list, **experiment) -> tuple:
    """The plan's cells of one sweep trained as batched members ('together') and as separate cells ('apart')."""
    entry = {"kind": kind, "optimizers": [experiment.pop("optimizer", "gd")], "sweep": sweep, **experiment}
    study_plan = _plan(experiments={**ONLY, "together": {**entry, "batch": batch}, "apart": entry}, maps=NO_MAPS)
    return study_plan, _trained(study_plan, "together"), _trained(study_plan, "apart")


@pytest.mark.parametrize("kind,sweep,batch,names", [
    ("s1", {"train": ["wv", "attention"], "init_std": [0.5, 1.5]}, ["init_std"], ("train_loss", "grad_norm")),
    ("s2", {"gaussian_rownorm": [False, True]}, ["gaussian_rownorm"], ("train_loss", "grad_norm", "target_norm")),
    ("s2", {"gaussian_temperature": ["two_sqrt_d", "scale_matched"]}, ["gaussian_temperature"],
     ("train_loss", "grad_norm", "target_norm")),
])
def test_batched_sweep_values_equal_separate_cells(kind, sweep, batch, names):
    """Members of a batched cell (S1 init scales; S2 Gaussian-kernel options as per-run tensors) in one ensemble
    give their separate cells' numbers to 1e-10 (step sizes per member, runs independent)."""
    study_plan, together, apart = _together_apart(kind, sweep, batch, steps=60)
    assert len(study_plan.experiments["together"]) < len(study_plan.experiments["apart"])
    for cell in study_plan.experiments["apart"]:
        outer = {k: v for k, v in cell.coords.items() if k not in batch}
        point = together[next(c.id for c in study_plan.experiments["together"] if c.coords == outer)]
        point = point.sel({k: cell.coords[k] for k in batch})
        for name in names:
            np.testing.assert_allclose(point[name].values, apart[cell.id][name].values, rtol=1e-10, atol=1e-14)


def test_batched_pathfinder_members_equal_their_cells_and_softmax_trains_once(monkeypatch):
    from attndyn.studies.kernels.lra import task

    calls = []
    original = task._train_member
    monkeypatch.setattr(task, "_train_member", lambda m, *a: calls.append(m) or original(m, *a))
    sweep = {"gaussian_rownorm": [False, True], "model.lra.init_std": [0.5, 2.0]}
    study_plan, together, apart = _together_apart("pathfinder", sweep, list(sweep), optimizer="adam",
                                                  dtype="float32", log={"every": 2})
    softmax = [m for m in calls if m.settings.kernel == "softmax"]
    assert len(softmax) == 2 + 4 and len(calls) == 2 + 4 + 4 + 4    # together: 2 (Softmax once per init), 4; apart
    for cell in study_plan.experiments["apart"]:
        outer = {k: v for k, v in cell.coords.items() if k not in sweep}
        point = together[next(c.id for c in study_plan.experiments["together"] if c.coords == outer)]
        point = point.sel({k: cell.coords[k] for k in sweep})
        for name in ("train_loss", "test_acc", "final_params"):
            np.testing.assert_array_equal(point[name].values, apart[cell.id][name].values)


def test_sweeping_an_inner_grid_sets_it_and_batching_it_is_a_one_line_error():
    study_plan = _plan(experiments={**ONLY, "s1": {"sweep": {"train": ["wv"], "D": [3, 6]}}}, maps=NO_MAPS)
    (cell,) = study_plan.experiments["s1"]
    assert cell.settings.data.params.D_grid == (3, 6) and study_plan.axes["s1"] == ("train", "optimizer")
    with pytest.raises(ConfigError, match=r"s1\.batch: 'D' is inside every s1 cell already") as info:
        _plan(experiments={**ONLY, "s1": {"sweep": {"train": ["wv"], "D": [3, 6]}, "batch": ["D"]}}, maps=NO_MAPS)
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match=r"s3\.batch: a s3 experiment trains one cell per sweep point"):
        _plan(experiments={"s3": {"sweep": {"init_std": [0.5, 1.0]}, "batch": ["init_std"]}}, maps=NO_MAPS)


def test_scale_matched_temperature_fixes_the_mean_exponent_and_runs_only_where_defined():
    from attndyn.studies.kernels.synthetic.model import scale_matched_temperature

    X = torch.randn(2, 3, 4, 16, dtype=torch.float64) / 4
    for sigma in (0.3, 5.0):
        W = {"W_Q": sigma * torch.randn(2, 1, 16, 8, dtype=torch.float64),
             "W_K": torch.randn(2, 1, 16, 8, dtype=torch.float64)}
        q, k = (torch.einsum("rnkd,rhde->rhnke", X, W[w]) for w in ("W_Q", "W_K"))
        exponent = torch.cdist(q, k) ** 2 / scale_matched_temperature(W, X)
        torch.testing.assert_close(exponent.mean((2, 3, 4)), torch.full((2, 1), 8 ** 0.5, dtype=torch.float64))
    with pytest.raises(ConfigError, match="scale_matched is defined for the kinds s1, s2"):
        _plan(model={"gaussian_temperature": "scale_matched"}, maps=NO_MAPS)


def test_map_experiments_draw_no_study_figure_and_maps_over_the_same_runs_share_their_cells():
    plan = Plan(validate(_config()))
    study_plan = plan.studies["kernels"]
    assert not [f for f in study_plan.figures if "map" in f]
    shared = plan.cell_path(("kernels", "map_c2_rate", "train-wv__optimizer-gd"))
    assert shared.endswith("map_c1_width_wv/train-wv__optimizer-gd.nc")


def _s2_point(success: dict, stalled: bool = True, vanishing: bool = False):
    """An aggregated S2-like dataset at one sigma_Q (4 seeds): final/initial loss 1e-6 (success) or 0.1."""
    import xarray as xr

    kernels, seeds = ["softmax", "gaussian"], [0, 1, 2, 3]
    rel = np.array([[1e-6 if s < success[k] else 0.1 for s in range(4)] for k in kernels])
    grad = np.where(rel > 1e-4, 1e-5 if stalled else 1e-1, 1e-7)
    loss = np.stack([np.ones_like(rel), rel], -1)
    return xr.Dataset({"train_loss": (("kernel", "seed", "step"), loss),
                       "grad_norm": (("kernel", "seed", "step"), np.stack([np.ones_like(rel), grad], -1)),
                       "target_norm": (("kernel", "seed"), np.array([[1.0] * 4, [1e-3 if vanishing else 1.0] * 4])),
                       "diverged": (("kernel", "seed"), np.zeros((2, 4), bool)), "final_step": 1},
                      coords={"kernel": kernels, "seed": seeds, "step": [0, 1]}).expand_dims(sigma_Q=[3.0])


@pytest.mark.parametrize("success,stalled,vanishing,value", [
    ({"softmax": 1, "gaussian": 4}, True, False, 0.75),
    ({"softmax": 1, "gaussian": 4}, False, False, np.nan),     # a failed Softmax run still moving: not C4
    ({"softmax": 1, "gaussian": 4}, True, True, np.nan),       # the Gaussian teacher vanishes: degenerate
    ({"softmax": 3, "gaussian": 4}, True, False, 0.25),
])
def test_c4_map_statistic_is_c4s_fraction_difference_and_its_conditions(success, stalled, vanishing, value):
    from attndyn.studies.kernels.maps import STATISTICS

    out = STATISTICS["c4_success_margin"].compute(_s2_point(success, stalled, vanishing), {"sigma_Q": 3.0},
                                                  _settings())
    assert out.dims == ("seed",) and out.size == 1
    np.testing.assert_allclose(out.values, [value])


def test_smoke_maps_compute_every_statistic_and_boundary(tmp_path):
    """Every default map on the smoke grid: its cells trained, its map dataset, heatmap and claims.csv row."""
    import xarray as xr

    from attndyn.figures.maps import draw_map
    from attndyn.jobs.claims import map_row
    from attndyn.mapdata import map_dataset

    study_plan = _plan()
    statistics, boundaries = STUDY.map_registry()
    for name, m in study_plan.settings.maps.items():
        cells = _trained(study_plan, m.experiment_name)
        ds = xr.combine_by_coords([c.expand_dims(list(study_plan.axes[m.experiment_name])) for c in cells.values()],
                                  combine_attrs="drop_conflicts")
        result = map_dataset(ds, m, statistics[m.statistic], study_plan.settings)
        assert result["statistic"].dims[:len(m.axes)] == tuple(m.axes)
        draw_map(result, boundaries[m.boundary](study_plan.settings, m) if m.boundary else None,
                 tmp_path / f"{name}.png", tmp_path / f"{name}.pdf", "caption")
        assert map_row(result).claim.startswith(f"map {name}: C")
