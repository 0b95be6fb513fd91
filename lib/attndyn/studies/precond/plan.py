"""What the precond study runs and produces (torch-free: the Snakefile imports it to build the DAG).

Experiments (spec Sec. 7): `compare` (Figs. 1-2: Algorithm 1 from spectral and from N(0, 1) init, SGD from the
same N(0, 1) point, optional extra baselines), `scaling` (S1: Algorithm 1 over n_grid, also logging the
spectral init's E_inf for C6), `ablations` (S2: Algorithm 1 with one component off at a time). All runs of a cell are batched.
"""
from __future__ import annotations

from pathlib import Path

from ...config import load_yaml
from ...errors import ConfigError
from ..base import CellSpec, DatasetSpec, FigureSpec, StudyPlan, label

RECON = "[Algorithm 1 formulas RECONSTRUCTED/PROPOSED; see papers/precond.md]"

FIGURES = {
    "fig1_spectral_vs_sgd": FigureSpec(
        "fig1_spectral_vs_sgd", ("compare",),
        "Fig. 1: linear regression through one softmax self-attention layer; Algorithm 1 with the spectral "
        "initialization vs SGD initialized with every parameter i.i.d. N(0, 1). Panels: E_inf (Theorem 1), training "
        "loss, finite-context test risk vs iteration (log y); mean +- 1 sd over seeds. " + RECON),
    "fig2_same_random_init": FigureSpec(
        "fig2_same_random_init", ("compare",),
        "Fig. 2: Algorithm 1 and SGD both started at the same random point, every parameter i.i.d. N(0, 1). "
        "Same panels as Fig. 1 (extra baselines, if enabled, are dashed). " + RECON),
    "figS1_scaling": FigureSpec(
        "figS1_scaling", ("scaling",),
        "S1 (not a paper figure): data-compute scaling (Theorem 2). (a) E_inf vs iteration of Algorithm 1 for each n "
        "(geometric fall, then a floor); (b) final E_inf vs n on log-log axes with a slope -1 reference, and the "
        "spectral init alone. " + RECON),
    "figS2_ablations": FigureSpec(
        "figS2_ablations", ("ablations",),
        "S2 (not a paper figure): Algorithm 1 with one component off at a time (identity preconditioner, "
        "lambda = 0, no renormalization) vs the full algorithm; E_inf and ||B||_op vs iteration. " + RECON),
}

ABLATIONS = {"no_precond": {"preconditioner": "identity"}, "no_reg": {"lambda_reg": 0.0},
             "no_renorm": {"renorm": "none"}}
ALG_KEYS = ("lambda_reg", "reg_form", "preconditioner", "renorm", "renorm_cap_tau", "spectral_rank_k", "batch_size")


def _alg(section: dict, init: str, **override) -> dict:
    """Settings of one Algorithm 1 run; the N(0, 1) init uses alg.lr_random_init (the lr_grid sweep)."""
    alg = section["alg"]
    lr = alg["lr"] if init == "spectral" else alg["lr_random_init"]
    out = {"rule": "algorithm1", "lr": lr, "init": init, "init_std": alg["init_std"],
           "iters": alg["iters"], **{k: alg[k] for k in ALG_KEYS}}
    return {**out, **override}


def _baseline(section: dict, name: str) -> dict:
    """SGD (minibatch, N(0, 1) init) or an extra full-batch baseline (gd, adam) from the same point."""
    if name == "sgd":
        sgd = section["sgd"]
        return {"rule": "momentum" if sgd["momentum"] > 0 else "sgd", "lr": sgd["lr"], "beta": sgd["momentum"],
                "weight_decay": sgd["weight_decay"], "init": "normal", "init_std": sgd["init_std"],
                "iters": sgd["iters"], "batch_size": sgd["batch_size"]}
    extra = section["baselines"][name]
    return {"rule": name, "lr": extra["lr"], "init": "normal", "init_std": section["sgd"]["init_std"],
            "iters": extra["iters"], "batch_size": None}


def compare_methods(section: dict) -> dict[str, dict]:
    methods = {"alg_spectral": _alg(section, "spectral"), "alg_random": _alg(section, "normal"),
               "sgd": _baseline(section, "sgd")}
    methods.update({name: _baseline(section, name) for name in section["extra_baselines"]})
    return methods


def _data(section: dict, **override) -> dict:
    data = {**section["data"], **override}
    data.pop("n_grid")
    data["n_test"] = section["eval"]["n_test_queries"]
    return {**data, "instance_seeds": list(section["seeds"]["instance"]), "data_seeds": list(section["seeds"]["data"])}


def _cell(section, experiment, coords, data, method, spectral_reference=False) -> CellSpec:
    """One train job; spectral_reference also logs E_inf of the spectral init of the same data (C6)."""
    name = "__".join(f"{k}-{label(v)}" for k, v in data.items() if k in ("n", "sigma_spec"))
    settings = {"data": data, "model": section["model"], "method": method, "log": section["log"],
                "dtype": section["dtype"], "generator_seed": 0, "spectral_reference": spectral_reference}
    return CellSpec(experiment, coords, name, settings)


def plan(section: dict, top: dict) -> StudyPlan:
    cells = {"compare": [], "scaling": [], "ablations": []}
    base = _data(section)
    for name, method in compare_methods(section).items():
        cells["compare"].append(_cell(section, "compare", {"optimizer": name}, base, method))
    for n in section["data"]["n_grid"]:
        data = _data(section, n=n)
        scaling = section["alg"]["scaling_iters"] or section["alg"]["iters"]      # S1 runs to its floor (C4)
        cells["scaling"].append(_cell(section, "scaling", {"n": n}, data,
                                      _alg(section, section["alg"]["init"], iters=scaling), spectral_reference=True))
    for spec in section["ablation_sigma_specs"]:
        data = _data(section, sigma_spec=spec)
        for name in ["full"] + list(section["ablations"]):
            method = _alg(section, section["alg"]["init"], **ABLATIONS.get(name, {}))
            cells["ablations"].append(_cell(section, "ablations", {"sigma_spec": spec, "variant": name}, data, method))
    experiments = {k: v for k, v in cells.items() if v}
    datasets = {c.dataset: DatasetSpec(c.dataset, c.settings["data"]) for v in experiments.values() for c in v}
    axes = {"compare": ("optimizer",), "scaling": ("n",), "ablations": ("sigma_spec", "variant")}
    figures = {n: f for n, f in FIGURES.items() if set(f.experiments) <= set(experiments)}
    return StudyPlan(datasets, experiments, {k: axes[k] for k in experiments}, figures)


def schema() -> dict:
    return load_yaml(Path(__file__).with_name("schema.yaml"))


def _fail(key: str, message: str) -> None:
    raise ConfigError(f"config error: precond.{key}: {message}")


def check_config(section: dict) -> None:
    """Cross-key checks the schema cannot express."""
    if len(section["seeds"]["instance"]) != len(section["seeds"]["data"]):
        _fail("seeds", "instance and data seed lists must have the same length (run r uses the r-th of each)")
    alg = section["alg"]
    if alg["renorm"] == "cap_op" and alg["renorm_cap_tau"] is None:
        _fail("alg.renorm_cap_tau", "must be a positive number when alg.renorm is cap_op")
    d = section["data"]["d"]
    if alg["spectral_rank_k"] is not None and alg["spectral_rank_k"] > d:
        _fail("alg.spectral_rank_k", f"{alg['spectral_rank_k']} exceeds data.d = {d}")
    for name in section["extra_baselines"]:
        if name not in section["baselines"]:
            _fail("extra_baselines", f"{name!r} has no entry in precond.baselines")
    if section["checks"]["C1_C2_time"] > min(alg["iters"], section["sgd"]["iters"]):
        _fail("checks.C1_C2_time", "must not exceed alg.iters or sgd.iters")
